//! Sending notifications and forwarded copies back into the queue.
//!
//! Who gets a DSN (as Postfix): the sender; never the null sender — a
//! bounce that fails goes to the postmaster (`2bounce_notice_recipient`)
//! from `double_bounce_sender`, and a failed postmaster notification is
//! discarded, so notifications can never loop.

use super::deliver::Ctx;
use crate::delivery::bounce::{self, Entry, Kind, Report};
use crate::queue::{NewMessage, NewRecipient, QueueRecord};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

async fn submit(ctx: &Ctx, sender: &str, to: &[String], data: Vec<u8>) -> Result<String, String> {
    let qid = ctx.queue.new_id();
    let msg = NewMessage {
        queue_id: qid.clone(),
        sender: sender.to_string(),
        recipients: to
            .iter()
            .map(|a| NewRecipient {
                address: a.clone(),
                original: a.clone(),
            })
            .collect(),
        data,
        arrival: SystemTime::now(),
        hold: false,
        filter: None,
        client: "local".into(),
    };
    ctx.queue
        .enqueue(msg)
        .await
        .map(|()| qid)
        .map_err(|e| e.to_string())
}

/// Send a failure or delay notification about `entries` of `rec`.
pub async fn send(ctx: &Ctx, rec: &QueueRecord, entries: &[Entry], kind: Kind, body: &[u8]) {
    let p = &ctx.params;
    let id = &rec.queue_id;
    let (to, env_sender, what) =
        if rec.sender.is_empty() || rec.sender.eq_ignore_ascii_case(&p.double_bounce_sender) {
            if kind == Kind::Delay {
                return;
            }
            if rec.sender.eq_ignore_ascii_case(&p.double_bounce_sender) {
                tracing::info!("{id}: discarding undeliverable postmaster notification");
                return;
            }
            (
                p.double_bounce_recipient.clone(),
                p.double_bounce_sender.clone(),
                "postmaster non-delivery notification",
            )
        } else {
            let what = match kind {
                Kind::Failure => "sender non-delivery notification",
                Kind::Delay => "sender delay notification",
            };
            (rec.sender.clone(), String::new(), what)
        };
    let report = Report {
        kind,
        queue_id: id,
        myhostname: &p.myhostname,
        sender: &rec.sender,
        to: &to,
        arrival: UNIX_EPOCH + Duration::from_millis(rec.arrival_ms),
        entries,
        original: body,
    };
    let data = bounce::build(&report);
    match submit(ctx, &env_sender, std::slice::from_ref(&to), data.clone()).await {
        Ok(nid) => tracing::info!("{id}: {what}: {nid}"),
        Err(e) => tracing::error!("warning: {id}: cannot queue {what}: {e}"),
    }
    // notify_classes = bounce: the postmaster gets a copy of every bounce.
    if kind == Kind::Failure
        && !rec.sender.is_empty()
        && p.notify_classes.iter().any(|c| c == "bounce")
    {
        match submit(
            ctx,
            &p.double_bounce_sender,
            std::slice::from_ref(&p.bounce_notice_recipient),
            data,
        )
        .await
        {
            Ok(nid) => tracing::info!("{id}: postmaster non-delivery notification: {nid}"),
            Err(e) => tracing::error!("warning: {id}: cannot queue postmaster notification: {e}"),
        }
    }
}
