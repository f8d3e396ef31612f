//! Drop-in plugins named in restriction lists, e.g.
//! `smtpd_recipient_restrictions = permit_mynetworks, greylist,
//! reject_unauth_destination`.
//!
//! The restrictions built-in evaluates the lists. When it reaches a drop-in
//! whose answer it lacks, it answers `info "mta.call-plugin NAME"`; the
//! runner then calls that drop-in's hook for the same stage, turns its
//! verdict into an access(5) action (`OK`, `DUNNO`, `REJECT text`,
//! `450 4.2.0 text`, ...) and calls the restrictions plugin again with the
//! answers so far in the session attributes (`mta.plugin_answer`, one
//! `NAME ACTION` per drop-in met, in order). The guest replays the lists over
//! the same facts and applies each answer at its position, so Postfix's
//! first-decisive-answer semantics (a permit ends its own list;
//! warn_if_reject, defer_if_permit, defer_if_reject, smtpd_delay_reject) hold
//! across the drop-in without any state leaving the guest. See
//! `plugins/restrictions/src/eval/plugins.rs` for the guest's half.
//!
//! WHY this shape: the WIT contract lets a hook return one verdict and gives
//! guests no way to call each other; a replay keeps every list semantic in
//! one place (the guest) and costs one more warm call per drop-in met.
//!
//! A drop-in named anywhere in the lists (or in a restriction class) runs
//! only from there at the SMTP stages; it keeps its default place for its
//! content hooks (headers, body). At a stage whose hook it does not declare,
//! its entry answers DUNNO, as Postfix skips a restriction whose information
//! is not available yet.

use super::runner::{call_lent, Lent};
use super::types::*;
use crate::sandbox::plugin::{Answer, Hook};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

// The built-in's side of this exchange, taken from its own crate so the two
// cannot drift apart: the attribute carrying drop-ins' answers, the `info`
// text asking for a call, and the setting that lists the loaded drop-ins.
pub use restrictions::settings::DROP_INS_SETTING;
pub use restrictions::{ANSWER_ATTRIBUTE, CALL_MARKER};

/// A bound on calls of one stage, so a guest that kept asking could not
/// hold a session (each call is also under the stage deadline).
const MAX_CALLS: usize = 64;

/// The restriction lists a drop-in can be named in.
const LISTS: &[&str] = &[
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
];

/// Which of `drop_ins` the configuration names in a restriction list or a
/// restriction class.
pub fn placed(config: &crate::config::Config, drop_ins: &[String]) -> BTreeSet<String> {
    let mut params: Vec<String> = LISTS.iter().map(|s| s.to_string()).collect();
    params.extend(config.get_list("smtpd_restriction_classes"));
    params
        .iter()
        .flat_map(|p| crate::sandbox::load::words(&config.get(p)))
        .filter(|w| drop_ins.contains(w))
        .collect()
}

/// The SMTP stages at which a restriction list is evaluated (Postfix's
/// smtpd_delay_reject decides for the client, HELO and sender lists).
fn list_stages(list: &str, delay_reject: bool) -> &'static [Stage] {
    use Stage::*;
    match (list, delay_reject) {
        ("smtpd_client_restrictions", true) | ("smtpd_helo_restrictions", true) => {
            &[Rcpt, Vrfy, Etrn]
        }
        ("smtpd_client_restrictions", false) => &[Connect],
        ("smtpd_helo_restrictions", false) => &[Helo],
        ("smtpd_sender_restrictions", true) => &[Rcpt, Vrfy],
        ("smtpd_sender_restrictions", false) => &[Mail],
        ("smtpd_relay_restrictions", _) | ("smtpd_recipient_restrictions", _) => &[Rcpt, Vrfy],
        ("smtpd_etrn_restrictions", _) => &[Etrn],
        ("smtpd_data_restrictions", _) => &[Data],
        ("smtpd_end_of_data_restrictions", _) => &[EndOfMessage],
        _ => &[],
    }
}

/// Drop-ins named in a stage list whose hooks include none of the stages
/// that list is evaluated at: their entry could only ever answer DUNNO, so
/// the operator is told (at start and by `mta check`) rather than left to
/// believe the check runs. (Restriction classes are reached from tables at
/// any stage, so they are not judged here.)
pub fn never_called(
    config: &crate::config::Config,
    drop_ins: &[(String, Vec<Stage>)],
) -> Vec<String> {
    let delay = config.get_bool("smtpd_delay_reject");
    let mut out = Vec::new();
    for list in LISTS {
        let stages = list_stages(list, delay);
        for word in crate::sandbox::load::words(&config.get(list)) {
            let Some((name, hooks)) = drop_ins.iter().find(|(n, _)| *n == word) else {
                continue;
            };
            let hooked = |s: &Stage| {
                hooks.contains(s) || (*s == Stage::Vrfy && hooks.contains(&Stage::Rcpt))
            };
            if !stages.iter().any(hooked) {
                let at: Vec<&str> = stages.iter().map(|s| s.as_str()).collect();
                out.push(format!(
                    "{list}: drop-in plugin {name} hooks none of the stages this list is evaluated at ({}); its entry always answers DUNNO",
                    at.join(", ")
                ));
            }
        }
    }
    out
}

/// What a stage hook is called with besides the context.
#[derive(Clone, Copy)]
pub enum Call<'a> {
    /// connect, helo, mail, data, end-of-message.
    Check,
    Rcpt(&'a Address),
    Etrn(&'a str),
}

impl<'a> Call<'a> {
    pub fn hook<'c>(self, ctx: &'c Arc<Context>) -> Hook<'c>
    where
        'a: 'c,
    {
        match self {
            Call::Check => Hook::Check(ctx),
            Call::Rcpt(a) => Hook::Rcpt(ctx, a),
            Call::Etrn(d) => Hook::Etrn(ctx, d),
        }
    }
}

fn verdict_of(answer: Answer) -> Verdict {
    match answer {
        Answer::Verdict(v) => v,
        Answer::Indexed(_) => Verdict::Dunno,
    }
}

/// One line, so an answer cannot smuggle a second attribute or reply line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn with_reply(keyword: &str, r: &Reply) -> String {
    let text = one_line(r.text.as_deref().unwrap_or(""));
    let enhanced = r.enhanced.as_deref().map(one_line).unwrap_or_default();
    let head = match r.code {
        Some(code) if (400..600).contains(&code) => code.to_string(),
        _ => keyword.to_string(),
    };
    [head, enhanced, text]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A drop-in's verdict as the access(5) action the lists apply in its place.
pub fn access_action(v: &Verdict) -> String {
    let opt = |kw: &str, t: &Option<String>| match t {
        Some(t) if !t.trim().is_empty() => format!("{kw} {}", one_line(t)),
        _ => kw.to_string(),
    };
    match v {
        Verdict::Ok => "OK".into(),
        Verdict::Reject(r) => with_reply("REJECT", r),
        Verdict::Defer(r) => with_reply("DEFER", r),
        Verdict::DeferIfPermit(r) => opt("DEFER_IF_PERMIT", &r.text),
        Verdict::DeferIfReject(r) => opt("DEFER_IF_REJECT", &r.text),
        Verdict::Discard(t) => opt("DISCARD", t),
        Verdict::Hold(t) => opt("HOLD", t),
        Verdict::Warn(t) => format!("WARN {}", one_line(t)),
        Verdict::Info(t) => format!("INFO {}", one_line(t)),
        Verdict::Prepend(h) => format!("PREPEND {}", one_line(h)),
        Verdict::Redirect(a) => format!("REDIRECT {}", one_line(a)),
        Verdict::Bcc(a) => format!("BCC {}", one_line(a)),
        Verdict::Filter(t) => format!("FILTER {}", one_line(t)),
        Verdict::Dunno
        | Verdict::Ignore
        | Verdict::Pass
        | Verdict::Strip(_)
        | Verdict::Replace(_) => "DUNNO".into(),
    }
}

/// Run the restrictions built-in (`r`) for one stage, calling the drop-ins
/// its lists name as it reaches them. Returns the stage's verdict and the
/// plugin to name in logs: `restrictions`, or a drop-in whose fault decided.
pub(super) async fn restrictions_with_drop_ins(
    r: &mut Lent,
    drop_ins: &mut [Lent],
    ctx: &Arc<Context>,
    call: Call<'_>,
    deadline: Instant,
) -> (Verdict, String) {
    let mut asked: Context = (**ctx).clone();
    // Only the answers given here may be replayed.
    asked
        .session
        .attributes
        .retain(|(k, _)| k != ANSWER_ATTRIBUTE);
    for _ in 0..=MAX_CALLS {
        let shared = Arc::new(asked.clone());
        let v = verdict_of(call_lent(r, call.hook(&shared), ctx.stage, deadline).await);
        let wanted = match &v {
            Verdict::Info(t) => t.strip_prefix(CALL_MARKER).map(str::to_string),
            _ => None,
        };
        let Some(name) = wanted else {
            return (v, r.plugin.name.clone());
        };
        let action = match drop_ins.iter_mut().find(|l| l.plugin.name == name) {
            // A fault earlier in this message already applied its failure
            // action; a plugin without this stage's hook has nothing to say.
            Some(l) if !l.faulted && l.plugin.hooks(ctx.stage) => {
                let v = verdict_of(call_lent(l, call.hook(ctx), ctx.stage, deadline).await);
                if l.faulted && v != Verdict::Dunno {
                    // Its failure action decides, as in its default place.
                    return (v, name);
                }
                access_action(&v)
            }
            // Faulted earlier, or no hook at this stage (a content scan
            // holds only the plugins with content or end-of-message hooks).
            _ => "DUNNO".to_string(),
        };
        asked
            .session
            .attributes
            .push((ANSWER_ATTRIBUTE.to_string(), format!("{name} {action}")));
    }
    tracing::error!(
        "error: restriction lists named more than {MAX_CALLS} drop-in plugins at {}",
        ctx.stage.as_str()
    );
    (
        Verdict::Defer(Reply {
            code: Some(451),
            enhanced: Some("4.3.5".into()),
            text: Some("Server configuration error".into()),
        }),
        r.plugin.name.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: Option<u16>, enhanced: Option<&str>, text: Option<&str>) -> Reply {
        Reply {
            code,
            enhanced: enhanced.map(String::from),
            text: text.map(String::from),
        }
    }

    #[test]
    fn placed_drop_ins_are_found_in_lists_and_classes_only() {
        let dir = crate::config::testdir::TempDir::new("placed").with(&[(
            "main.cf",
            "smtpd_recipient_restrictions = permit_mynetworks, greylist, reject_unauth_destination\n\
             smtpd_restriction_classes = checked\nchecked = scripted, permit\n\
             header_checks = regexp:/etc/tagger\n",
        )]);
        let config = crate::config::Config::load(&dir).expect("main.cf");
        let drop_ins = ["greylist", "scripted", "tagger", "unused"].map(String::from);
        let placed = placed(&config, &drop_ins);
        assert_eq!(
            placed.into_iter().collect::<Vec<_>>(),
            ["greylist", "scripted"]
        );
    }

    #[test]
    fn a_drop_in_that_can_never_run_where_named_is_reported() {
        let dir = crate::config::testdir::TempDir::new("never").with(&[(
            "main.cf",
            "smtpd_sender_restrictions = greylist\nsmtpd_recipient_restrictions = greylist, scripted, reject_unauth_destination\n",
        )]);
        let config = crate::config::Config::load(&dir).expect("main.cf");
        let drop_ins = vec![
            ("greylist".to_string(), vec![Stage::Rcpt]),
            ("scripted".to_string(), vec![Stage::Mail]),
        ];
        // Delayed (the default): the sender list runs at RCPT, where
        // greylist hooks; scripted hooks only MAIL, never reached at RCPT.
        let w = never_called(&config, &drop_ins);
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].starts_with("smtpd_recipient_restrictions: drop-in plugin scripted hooks none of the stages this list is evaluated at (rcpt, vrfy)"), "{w:?}");
    }

    #[test]
    fn verdicts_become_access_actions() {
        assert_eq!(access_action(&Verdict::Ok), "OK");
        assert_eq!(access_action(&Verdict::Dunno), "DUNNO");
        assert_eq!(
            access_action(&Verdict::Reject(reply(None, None, None))),
            "REJECT"
        );
        assert_eq!(
            access_action(&Verdict::Defer(reply(
                Some(450),
                Some("4.2.0"),
                Some("Greylisted\r\n250 ok")
            ))),
            "450 4.2.0 Greylisted  250 ok"
        );
        assert_eq!(
            access_action(&Verdict::Reject(reply(None, Some("5.7.0"), Some("no")))),
            "REJECT 5.7.0 no"
        );
        assert_eq!(
            access_action(&Verdict::DeferIfPermit(reply(
                Some(450),
                None,
                Some("later")
            ))),
            "DEFER_IF_PERMIT later"
        );
        assert_eq!(access_action(&Verdict::Hold(None)), "HOLD");
    }
}
