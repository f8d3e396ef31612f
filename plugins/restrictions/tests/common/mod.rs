//! Shared helpers: start the plugin through the SDK harness and render
//! verdicts as the SMTP reply lines Postfix would send.
#![allow(dead_code)]

use mta_sdk::testing::{addr, start, ContextBuilder};
use mta_sdk::{Config, Plugin, Verdict};
use restrictions::Restrictions;

/// Start the plugin with these main.cf settings, as the host does.
pub fn plugin(settings: &[(&str, &str)]) -> Restrictions {
    try_plugin(settings).unwrap_or_else(|e| panic!("init failed: {e}"))
}

/// Start the plugin, keeping the init error.
pub fn try_plugin(settings: &[(&str, &str)]) -> Result<Restrictions, String> {
    let config = settings
        .iter()
        .fold(Config::empty(), |c, (k, v)| c.with_setting(*k, *v));
    start::<Restrictions>(&config)
}

/// A verdict as one line: `DUNNO`, `OK`, `554 5.7.1 text`, or
/// `DEFER_IF_PERMIT 450 4.7.1 text` for the conditional ones.
pub fn line(verdict: &Verdict) -> String {
    let reply = |r: &mta_sdk::Reply| {
        format!(
            "{} {} {}",
            r.code.map(|c| c.to_string()).unwrap_or_default(),
            r.enhanced.clone().unwrap_or_default(),
            r.text.clone().unwrap_or_default()
        )
    };
    match verdict {
        Verdict::Dunno => "DUNNO".into(),
        Verdict::Ok => "OK".into(),
        Verdict::Reject(r) | Verdict::Defer(r) => reply(r),
        Verdict::DeferIfPermit(r) => format!("DEFER_IF_PERMIT {}", reply(r)),
        Verdict::DeferIfReject(r) => format!("DEFER_IF_REJECT {}", reply(r)),
        Verdict::Hold(t) => format!("HOLD {}", t.clone().unwrap_or_default()),
        Verdict::Discard(t) => format!("DISCARD {}", t.clone().unwrap_or_default()),
        Verdict::Filter(t) => format!("FILTER {t}"),
        Verdict::Redirect(t) => format!("REDIRECT {t}"),
        Verdict::Bcc(t) => format!("BCC {t}"),
        Verdict::Prepend(t) => format!("PREPEND {t}"),
        other => format!("{other:?}"),
    }
}

/// RCPT TO:<rcpt> in this session, as a reply line.
pub fn rcpt(p: &mut Restrictions, ctx: &ContextBuilder, rcpt: &str) -> String {
    let ctx = ctx.clone().stage(mta_sdk::Stage::Rcpt);
    line(&p.rcpt(&ctx, &addr(rcpt)))
}

/// MAIL FROM in this session (sender set on the context), as a reply line.
pub fn mail(p: &mut Restrictions, ctx: &ContextBuilder) -> String {
    let ctx = ctx.clone().stage(mta_sdk::Stage::Mail);
    line(&p.mail(&ctx))
}

/// A relay list that lets every request through yet satisfies Postfix's
/// "at least one working instance of reject_unauth_destination, ..., reject"
/// start-up check, so a test can focus on the recipient list alone.
pub const NO_RELAY_CHECK: &str = "permit, reject";
