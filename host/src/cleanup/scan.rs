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
                reply.to_log()
            );
            Err(reply)
        }
        Verdict::Defer(r) | Verdict::DeferIfPermit(r) | Verdict::DeferIfReject(r) => {
            let reply = from_verdict_reply(r, 450, "message content deferred");
            tracing::info!(
                "{q}: reject: {what} from {}; {}: {}",
                log.client,
                log.suffix,
                reply.to_log()
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
    let mut edits: Vec<(Edit, Vec<String>)> = (0..msg.headers.len())
        .map(|_| (Edit::Keep, Vec::new()))
        .collect();
    for v in &verdicts {
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

    // Body: line-aligned chunks up to the plugins' limit.
    let limit = scan.body_limit() as usize;
    if limit > 0 && !msg.body.is_empty() {
        let mut edits: Vec<(Edit, Vec<String>)> = Vec::new();
        let mut start = 0usize;
        let mut offset = 0u64;
        let mut sent = 0usize;
        while start < msg.body.len() && sent < limit {
            let mut end = start;
            let mut bytes = 0usize;
            while end < msg.body.len() && bytes < CHUNK_BYTES && sent + bytes < limit {
                bytes += msg.body[end].len() + 2;
                end += 1;
            }
            let last = end >= msg.body.len() || sent + bytes >= limit;
            let chunk = BodyChunk {
                offset,
                lines: msg.body[start..end].to_vec(),
                last,
            };
            for v in scan.body(ctx, &chunk).await {
                let i = start + v.index as usize;
                if i >= end {
                    tracing::warn!(
                        "{}: plugin {} returned a verdict for body line {} outside its chunk",
                        log.queue_id,
                        v.plugin,
                        v.index
                    );
                    continue;
                }
                if edits.len() < msg.body.len() {
                    edits.resize_with(msg.body.len(), || (Edit::Keep, Vec::new()));
                }
                let what = format!(
                    "body {}",
                    String::from_utf8_lossy(&msg.body[i])
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect::<String>()
                );
                let (edit, pre) = &mut edits[i];
                let e = apply(&v, &what, actions, pre, log)?;
                if !matches!(e, Edit::Keep) {
                    *edit = e;
                }
            }
            offset += bytes as u64;
            sent += bytes;
            start = end;
        }
        if !edits.is_empty() {
            let old = std::mem::take(&mut msg.body);
            let mut edits = edits.into_iter();
            for line in old {
                let (edit, pre) = edits.next().unwrap_or((Edit::Keep, Vec::new()));
                for p in pre {
                    msg.body.push(p.into_bytes());
                }
                match edit {
                    Edit::Keep => msg.body.push(line),
                    Edit::Drop => {}
                    Edit::Replace(t) => msg.body.push(t.into_bytes()),
                }
            }
        }
    }

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
