//! Content inspection: all headers to the content plugins at once, then the
//! body in line-aligned chunks (only up to the largest `body_limit` a plugin
//! declared), then end-of-message — and the header_checks(5)/body_checks(5)
//! actions applied here, natively, to the message being queued.

use super::headers::{HeaderLine, Message};
use super::Actions;
use crate::smtpd::reply::{from_verdict_reply, Reply};
use crate::stages::{BodyChunk, Context, Header, PluginVerdict, StageRunner, Verdict};

/// Largest body chunk handed to a plugin in one call.
const CHUNK_BYTES: usize = 64 * 1024;

pub struct LogCtx<'a> {
    pub queue_id: &'a str,
    pub client: &'a str,
    pub suffix: &'a str,
}

/// What one header or body line becomes.
enum Edit {
    Keep,
    Drop,
    Replace(String),
}

/// Apply one verdict about `what` (`header Subject: x` / `body line`).
/// Returns the edit, and lines to insert before it (PREPEND); a refusal
/// comes back as `Err`.
/// Postfix's cleanup logs a content reject with the status and text
/// only (`...: 5.7.1 message content rejected`), not the SMTP code.
fn cleanup_log_text(reply: &Reply) -> String {
    let text = reply.text.replace('\n', " ");
    match &reply.enhanced {
        Some(e) => format!("{e} {text}"),
        None => text,
    }
}

fn apply(
    v: &PluginVerdict,
    what: &str,
    actions: &mut Actions,
    prepend: &mut Vec<String>,
    log: &LogCtx<'_>,
) -> Result<Edit, Reply> {
    let q = log.queue_id;
    let p = &v.plugin;
    match &v.verdict {
        Verdict::Reject(r) => {
            let reply = from_verdict_reply(r, 550, "message content rejected");
            tracing::info!(
                "{q}: reject: {what} from {}; {}: {}",
                log.client,
                log.suffix,
                cleanup_log_text(&reply)
            );
            Err(reply)
        }
        Verdict::Defer(r) | Verdict::DeferIfPermit(r) | Verdict::DeferIfReject(r) => {
            let reply = from_verdict_reply(r, 450, "message content deferred");
            tracing::info!(
                "{q}: reject: {what} from {}; {}: {}",
                log.client,
                log.suffix,
                cleanup_log_text(&reply)
            );
            Err(reply)
        }
        Verdict::Warn(t) => {
            tracing::info!(
                "{q}: warning: {what} from {}; {}: {t}",
                log.client,
                log.suffix
            );
            Ok(Edit::Keep)
        }
        Verdict::Info(t) => {
            tracing::info!("{q}: info: {what} from {}; {}: {t}", log.client, log.suffix);
            Ok(Edit::Keep)
        }
        Verdict::Ignore | Verdict::Strip(_) => {
            tracing::debug!("{q}: {p}: {what}: removed");
            Ok(Edit::Drop)
        }
        Verdict::Replace(t) => {
            tracing::info!(
                "{q}: replace: {what} from {}; {}: {t}",
                log.client,
                log.suffix
            );
            Ok(Edit::Replace(t.clone()))
        }
        Verdict::Prepend(t) => {
            tracing::info!(
                "{q}: prepend: {what} from {}; {}: {t}",
                log.client,
                log.suffix
            );
            prepend.push(t.clone());
            Ok(Edit::Keep)
        }
        other => {
            let a = actions.absorb(other);
            if a {
                let (name, text) = match other {
                    Verdict::Discard(t) | Verdict::Hold(t) => (
                        if matches!(other, Verdict::Discard(_)) {
                            "discard"
                        } else {
                            "hold"
                        },
                        t.clone().unwrap_or_default(),
                    ),
                    Verdict::Redirect(t) => ("redirect", t.clone()),
                    Verdict::Bcc(t) => ("bcc", t.clone()),
                    Verdict::Filter(t) => ("filter", t.clone()),
                    _ => ("", String::new()),
                };
                tracing::info!(
                    "{q}: {name}: {what} from {}; {}: {text}",
                    log.client,
                    log.suffix
                );
            }
            Ok(Edit::Keep)
        }
    }
}

/// Apply verdicts about header lines (`index` = position in
/// `msg.headers`), editing the headers in place.
pub fn apply_headers(
    msg: &mut Message,
    verdicts: &[PluginVerdict],
    actions: &mut Actions,
    log: &LogCtx<'_>,
) -> Result<(), Reply> {
    let mut edits: Vec<(Edit, Vec<String>)> = (0..msg.headers.len())
        .map(|_| (Edit::Keep, Vec::new()))
        .collect();
    for v in verdicts {
        let i = v.index as usize;
        let Some(h) = msg.headers.get(i) else {
            tracing::warn!(
                "{}: plugin {} returned a verdict for header {} of {}",
                log.queue_id,
                v.plugin,
                i,
                msg.headers.len()
            );
            continue;
        };
        let what = format!("header {}", h.for_log());
        let (edit, pre) = &mut edits[i];
        let e = apply(v, &what, actions, pre, log)?;
        if !matches!(e, Edit::Keep) {
            *edit = e;
        }
    }
    let old = std::mem::take(&mut msg.headers);
    for (h, (edit, pre)) in old.into_iter().zip(edits) {
        for p in pre {
            msg.headers.push(HeaderLine::from_text(&p));
        }
        match edit {
            Edit::Keep => msg.headers.push(h),
            Edit::Drop => {}
            Edit::Replace(t) => msg.headers.push(HeaderLine::from_text(&t)),
        }
    }
    Ok(())
}

/// Apply verdicts about body lines (`index` = line number in `msg.body`).
pub fn apply_body(
    msg: &mut Message,
    verdicts: &[PluginVerdict],
    actions: &mut Actions,
    log: &LogCtx<'_>,
) -> Result<(), Reply> {
    if verdicts.is_empty() {
        return Ok(());
    }
    let mut edits: Vec<(Edit, Vec<String>)> = (0..msg.body.len())
        .map(|_| (Edit::Keep, Vec::new()))
        .collect();
    for v in verdicts {
        let i = v.index as usize;
        let Some(line) = msg.body.get(i) else {
            tracing::warn!(
                "{}: plugin {} returned a verdict for body line {i} outside the body",
                log.queue_id,
                v.plugin
            );
            continue;
        };
        let text: String = String::from_utf8_lossy(line)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let what = format!("body {text}");
        let (edit, pre) = &mut edits[i];
        let e = apply(v, &what, actions, pre, log)?;
        if !matches!(e, Edit::Keep) {
            *edit = e;
        }
    }
    let old = std::mem::take(&mut msg.body);
    for (line, (edit, pre)) in old.into_iter().zip(edits) {
        for p in pre {
            msg.body.push(p.into_bytes());
        }
        match edit {
            Edit::Keep => msg.body.push(line),
            Edit::Drop => {}
            Edit::Replace(t) => msg.body.push(t.into_bytes()),
        }
    }
    Ok(())
}

/// Run the content scan over `msg`, editing it in place.
pub async fn run(
    runner: &StageRunner,
    ctx: &Context,
    msg: &mut Message,
    actions: &mut Actions,
    log: &LogCtx<'_>,
) -> Result<(), Reply> {
    let mut scan = runner.content().await;

    // Headers: one call with all of them.
    let hs: Vec<Header> = msg
        .headers
        .iter()
        .map(|h| Header {
            name: h.name.clone(),
            value: h.value(),
        })
        .collect();
    let verdicts = scan.headers(ctx, &hs).await;
    apply_headers(msg, &verdicts, actions, log)?;

    // Body: line-aligned chunks up to the plugins' limit; verdict indexes
    // are per chunk and become body line numbers here.
    let limit = scan.body_limit() as usize;
    let mut body_verdicts = Vec::new();
    let mut start = 0usize;
    let mut offset = 0u64;
    while limit > 0 && start < msg.body.len() && (offset as usize) < limit {
        let mut end = start;
        let mut bytes = 0usize;
        while end < msg.body.len() && bytes < CHUNK_BYTES && offset as usize + bytes < limit {
            bytes += msg.body[end].len() + 2;
            end += 1;
        }
        let last = end >= msg.body.len() || offset as usize + bytes >= limit;
        // The lines move into the chunk and back: no copy of the body.
        let chunk = BodyChunk {
            offset,
            lines: msg.body[start..end]
                .iter_mut()
                .map(std::mem::take)
                .collect(),
            last,
        };
        let verdicts = scan.body(ctx, &chunk).await;
        for (slot, line) in msg.body[start..end].iter_mut().zip(chunk.lines) {
            *slot = line;
        }
        for mut v in verdicts {
            if v.index as usize >= end - start {
                tracing::warn!(
                    "{}: plugin {} returned a verdict for body line {} outside its chunk",
                    log.queue_id,
                    v.plugin,
                    v.index
                );
                continue;
            }
            v.index += start as u32;
            body_verdicts.push(v);
        }
        offset += bytes as u64;
        start = end;
    }
    apply_body(msg, &body_verdicts, actions, log)?;

    // End of message: one more decision for the whole message.
    let d = scan.end(ctx).await;
    let pv = PluginVerdict {
        plugin: d.plugin.clone().unwrap_or_default(),
        index: 0,
        verdict: d.verdict,
    };
    let mut pre = Vec::new();
    apply(&pv, "END-OF-MESSAGE", actions, &mut pre, log)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::Reply as VReply;

    fn pv(index: u32, verdict: Verdict) -> PluginVerdict {
        PluginVerdict {
            plugin: "header-checks".into(),
            index,
            verdict,
        }
    }

    const LOG: LogCtx<'static> = LogCtx {
        queue_id: "Q1",
        client: "c[192.0.2.1]",
        suffix: "proto=ESMTP",
    };

    #[test]
    fn header_actions() {
        let mut m =
            Message::parse(b"Subject: hot\r\nX-Spam: yes\r\nX-Old: 1\r\nTo: b@y\r\n\r\nbody\r\n");
        let mut a = Actions::default();
        let vs = vec![
            pv(0, Verdict::Prepend("X-Tag: tagged".into())),
            pv(0, Verdict::Warn("hot hot hot".into())),
            pv(1, Verdict::Ignore),
            pv(2, Verdict::Replace("X-New: 2".into())),
            pv(3, Verdict::Redirect("trap@z".into())),
            pv(3, Verdict::Bcc("copy@z".into())),
            pv(3, Verdict::Hold(Some("look".into()))),
            pv(9, Verdict::Ignore),
        ];
        apply_headers(&mut m, &vs, &mut a, &LOG).unwrap();
        assert_eq!(
            String::from_utf8(m.to_bytes()).unwrap(),
            "X-Tag: tagged\r\nSubject: hot\r\nX-New: 2\r\nTo: b@y\r\n\r\nbody\r\n"
        );
        assert_eq!(a.redirect.as_deref(), Some("trap@z"));
        assert_eq!(a.bcc, vec!["copy@z".to_string()]);
        assert_eq!(a.hold.as_deref(), Some("look"));
    }

    #[test]
    fn header_reject_defaults_to_550() {
        let mut m = Message::parse(b"Subject: bad\r\n\r\nx\r\n");
        let mut a = Actions::default();
        let r = apply_headers(
            &mut m,
            &[pv(0, Verdict::Reject(VReply::default()))],
            &mut a,
            &LOG,
        )
        .unwrap_err();
        assert_eq!(r.to_log(), "550 5.7.1 message content rejected");
        let r = apply_headers(
            &mut m,
            &[pv(
                0,
                Verdict::Defer(VReply {
                    text: Some("later".into()),
                    ..Default::default()
                }),
            )],
            &mut a,
            &LOG,
        )
        .unwrap_err();
        assert_eq!(r.to_log(), "450 4.7.1 later");
    }

    #[test]
    fn body_actions() {
        let mut m = Message::parse(b"S: x\r\n\r\none\r\ntwo\r\nthree\r\n");
        let mut a = Actions::default();
        let vs = vec![
            pv(0, Verdict::Replace("ONE".into())),
            pv(1, Verdict::Ignore),
            pv(2, Verdict::Prepend("before three".into())),
            pv(2, Verdict::Discard(None)),
        ];
        apply_body(&mut m, &vs, &mut a, &LOG).unwrap();
        assert_eq!(
            m.body,
            vec![b"ONE".to_vec(), b"before three".to_vec(), b"three".to_vec()]
        );
        assert_eq!(a.discard.as_deref(), Some(""));
    }
}
