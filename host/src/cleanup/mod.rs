//! cleanup: where a message is shaped once on its way into the queue: header
//! and body check actions applied, missing headers added, the Received
//! header stamped, recipients redirected or copied — then handed to the
//! queue, and only a durable enqueue becomes `250`.
//!
//! Files: `headers` (split and rebuild the message), `scan` (run the content
//! plugins and apply their actions), `stamp` (Received, Date, Message-ID).

pub mod header_rewrite;
pub mod headers;
pub mod rewrite;
pub mod scan;
pub mod stamp;

use crate::queue::{NewMessage, NewRecipient, Queue, QueueError};
use crate::smtpd::reply::Reply;
use crate::stages::{Context, StageRunner, Verdict};
use headers::{HeaderLine, Message};
use std::time::SystemTime;

/// Actions a stage asked for that shape the message rather than refuse it
/// (access(5) / header_checks(5) DISCARD, HOLD, REDIRECT, BCC, FILTER).
#[derive(Debug, Clone, Default)]
pub struct Actions {
    pub discard: Option<String>,
    pub hold: Option<String>,
    pub redirect: Option<String>,
    pub bcc: Vec<String>,
    pub filter: Option<String>,
}

impl Actions {
    /// Record a non-refusing verdict; returns true when it was one of these.
    pub fn absorb(&mut self, v: &Verdict) -> bool {
        match v {
            Verdict::Discard(t) => self.discard = Some(t.clone().unwrap_or_default()),
            Verdict::Hold(t) => self.hold = Some(t.clone().unwrap_or_default()),
            Verdict::Redirect(a) => self.redirect = Some(a.clone()),
            Verdict::Bcc(a) => self.bcc.push(a.clone()),
            Verdict::Filter(f) => self.filter = Some(f.clone()),
            _ => return false,
        }
        true
    }
}

/// One message from smtpd.
pub struct Request {
    /// Context at end-of-message (envelope complete, queue id set).
    pub ctx: Context,
    /// Header + body, CRLF line ends, already dot-unstuffed.
    pub data: Vec<u8>,
    /// Actions decided at the SMTP stages.
    pub actions: Actions,
    /// The client is in `local_header_rewrite_clients`.
    pub rewrite_headers: bool,
    pub myhostname: String,
    pub mail_name: String,
    /// `name[addr]` for log lines.
    pub client: String,
    /// `from=<..> to=<..> proto=.. helo=<..>` for log lines.
    pub log_suffix: String,
    /// `header_size_limit`: the most bytes kept of one logical header.
    pub header_size_limit: usize,
    /// Submitted locally (`mta sendmail`) by this uid; None for smtpd mail.
    pub submitted_by: Option<u32>,
    /// `smtpd_sasl_authenticated_header`: Received names the SASL user.
    pub sasl_header: bool,
}

/// How the message left cleanup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durably queued under this id.
    Queued(String),
    /// Accepted and thrown away (DISCARD); the id is the one it would have had.
    Discarded(String),
    /// Not accepted: reject, defer, or a queue failure.
    Refused(Reply),
}

/// Shape the message, run content inspection, enqueue.
pub async fn cleanup(
    req: Request,
    runner: &StageRunner,
    queue: &Queue,
    maps: &rewrite::Maps,
) -> Outcome {
    let now = SystemTime::now();
    let queue_id = req
        .ctx
        .envelope
        .queue_id
        .clone()
        .unwrap_or_else(|| queue.new_id());
    let mut ctx = req.ctx.clone();
    ctx.envelope.queue_id = Some(queue_id.clone());
    let mut msg = Message::parse_limited(&req.data, req.header_size_limit);
    if msg.truncated {
        tracing::warn!("{queue_id}: message header length exceeds header_size_limit ({}) from {}; excess discarded", req.header_size_limit, req.client);
    }
    let mut actions = req.actions.clone();

    let log = scan::LogCtx {
        queue_id: &queue_id,
        client: &req.client,
        suffix: &req.log_suffix,
    };
    if let Err(r) = scan::run(runner, &ctx, &mut msg, &mut actions, &log).await {
        return Outcome::Refused(r);
    }

    // The envelope sender after canonical mapping and masquerading: the
    // queued sender, and the From: added to a message that has none (as
    // Postfix's cleanup uses its rewritten sender there).
    let raw_sender = ctx
        .envelope
        .sender
        .as_ref()
        .map(|s| s.address.clone())
        .unwrap_or_default();
    let sender = match maps.sender(&raw_sender) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("{queue_id}: sender: {e}");
            return Outcome::Refused(Reply::new(451, "4.3.0", "Error: address rewriting failed"));
        }
    };

    if req.rewrite_headers {
        let origin = if maps.myorigin.is_empty() {
            req.myhostname.clone()
        } else {
            maps.myorigin.clone()
        };
        for h in msg.headers.iter_mut() {
            if let Some(new) = header_rewrite::rewrite(h, maps, &origin) {
                *h = new;
            }
        }
        if !msg.has("Message-ID") {
            msg.headers.push(HeaderLine::from_text(&format!(
                "Message-Id: <{}.{}@{}>",
                stamp::compact_date(now),
                queue_id,
                req.myhostname
            )));
        }
        if !msg.has("Date") {
            msg.headers.push(HeaderLine::from_text(&format!(
                "Date: {}",
                stamp::rfc5322_date(now)
            )));
        }
        if !msg.has("From") {
            let from = if sender.is_empty() {
                format!("MAILER-DAEMON@{}", req.myhostname)
            } else {
                sender.clone()
            };
            msg.headers
                .push(HeaderLine::from_text(&format!("From: {from}")));
        }
    }
    let received = match req.submitted_by {
        Some(uid) => stamp::received_local(uid, &req.myhostname, &req.mail_name, &queue_id, now),
        None => stamp::received(
            &ctx,
            &req.myhostname,
            &req.mail_name,
            &queue_id,
            now,
            req.sasl_header,
        ),
    };
    msg.headers.insert(0, HeaderLine::from_text(&received));

    if let Some(text) = &actions.discard {
        tracing::info!(
            "{queue_id}: discard: END-OF-MESSAGE from {}: {text}; {}",
            req.client,
            req.log_suffix
        );
        return Outcome::Discarded(queue_id);
    }

    // Envelope rewriting, for every client: canonical, virtual, masquerade.
    let rewrite = |what: &str, e: String| {
        tracing::warn!("{queue_id}: {what}: {e}");
        Outcome::Refused(Reply::new(451, "4.3.0", "Error: address rewriting failed"))
    };
    let wanted: Vec<String> = match &actions.redirect {
        Some(to) => vec![to.clone()],
        None => ctx
            .envelope
            .recipients
            .iter()
            .map(|r| r.address.clone())
            .collect(),
    };
    let mut recipients: Vec<NewRecipient> = Vec::new();
    for orig in wanted.iter().chain(actions.bcc.iter()) {
        let expanded = match maps.recipient(orig) {
            Ok(x) => x,
            Err(e) => return rewrite("recipient", e),
        };
        for address in expanded {
            if !recipients.iter().any(|r| r.address == address) {
                recipients.push(NewRecipient {
                    address,
                    original: orig.clone(),
                });
            }
        }
    }
    if let Some(id) = msg
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Message-ID"))
    {
        tracing::info!(
            "{queue_id}: message-id={}",
            String::from_utf8_lossy(&id.value()).trim()
        );
    }
    let data = msg.to_bytes();
    let size = data.len();
    let nrcpt = recipients.len();
    let new = NewMessage {
        queue_id: queue_id.clone(),
        sender: sender.clone(),
        recipients,
        data,
        arrival: now,
        hold: actions.hold.is_some(),
        filter: actions.filter.clone(),
        client: req.client.clone(),
    };
    match queue.enqueue(new).await {
        Ok(()) => {
            // qmgr logs `(queue active)` when it picks the message up, as
            // Postfix does; only a held message (which qmgr never sees) is
            // logged here.
            if actions.hold.is_some() {
                tracing::info!(
                    "{queue_id}: from=<{sender}>, size={size}, nrcpt={nrcpt} (queue hold)"
                );
            }
            Outcome::Queued(queue_id)
        }
        Err(QueueError::NoSpace) => {
            tracing::warn!("{queue_id}: queue file write error: insufficient system storage");
            Outcome::Refused(Reply::new(452, "4.3.1", "Insufficient system storage"))
        }
        Err(e) => {
            tracing::warn!("{queue_id}: {e}");
            Outcome::Refused(Reply::new(451, "4.3.0", "Error: queue file write error"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::{Address, Envelope, Session, Stage};

    fn spool(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("mta-cleanup-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn request(actions: Actions) -> Request {
        let addr = |a: &str| Address {
            address: a.into(),
            params: vec![],
        };
        Request {
            ctx: Context {
                stage: Stage::EndOfMessage,
                session: Session {
                    client_address: "192.0.2.1".into(),
                    client_name: "unknown".into(),
                    helo_name: Some("h.example".into()),
                    protocol: "ESMTP".into(),
                    ..Default::default()
                },
                envelope: Envelope {
                    sender: Some(addr("a@x.example")),
                    recipients: vec![addr("b@y.example")],
                    queue_id: Some("QID1".into()),
                    size: None,
                },
            },
            data: b"Subject: s\r\n\r\nbody\r\n".to_vec(),
            actions,
            rewrite_headers: false,
            myhostname: "mx.example".into(),
            mail_name: "mta".into(),
            client: "unknown[192.0.2.1]".into(),
            log_suffix: "from=<a@x.example> to=<b@y.example> proto=ESMTP helo=<h.example>".into(),
            header_size_limit: 102_400,
            submitted_by: None,
            sasl_header: false,
        }
    }

    /// A request carrying a queue id the real queue accepts.
    fn request_for(q: &Queue, actions: Actions) -> (Request, String) {
        let mut req = request(actions);
        let id = q.new_id();
        req.ctx.envelope.queue_id = Some(id.clone());
        (req, id)
    }

    /// The queued message: its record and its content, read back through
    /// the queue's own API.
    async fn queued(q: &Queue, id: &str) -> (crate::queue::QueueRecord, String) {
        let rec = q.get(id).expect("queue read").expect("message queued");
        let body = q.body(&rec).await.expect("queue body");
        (rec, String::from_utf8_lossy(&body).to_string())
    }

    fn rcpts(rec: &crate::queue::QueueRecord) -> Vec<&str> {
        rec.recipients.iter().map(|r| r.address.as_str()).collect()
    }

    #[tokio::test]
    async fn discard_accepts_but_queues_nothing() {
        let sp = spool("discard");
        let q = Queue::open(&sp).unwrap();
        let a = Actions {
            discard: Some("spam".into()),
            ..Default::default()
        };
        let (req, id) = request_for(&q, a);
        let out = cleanup(req, &StageRunner::empty(), &q, &rewrite::Maps::default()).await;
        assert_eq!(out, Outcome::Discarded(id));
        assert!(q.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn redirect_bcc_hold_filter_shape_the_queued_message() {
        let sp = spool("redirect");
        let q = Queue::open(&sp).unwrap();
        let a = Actions {
            redirect: Some("trap@z.example".into()),
            bcc: vec!["copy@z.example".into()],
            hold: Some(String::new()),
            filter: Some("smtp:[127.0.0.1]:10025".into()),
            ..Default::default()
        };
        let (req, id) = request_for(&q, a);
        let out = cleanup(req, &StageRunner::empty(), &q, &rewrite::Maps::default()).await;
        assert_eq!(out, Outcome::Queued(id.clone()));
        assert_eq!(q.list().await.unwrap().len(), 1);
        let (rec, body) = queued(&q, &id).await;
        assert_eq!(rec.sender, "a@x.example");
        assert_eq!(rcpts(&rec), ["trap@z.example", "copy@z.example"]);
        assert_eq!(rec.queue, crate::queue::QueueName::Hold);
        assert_eq!(rec.filter.as_deref(), Some("smtp:[127.0.0.1]:10025"));
        assert!(body.contains(&format!("Received: from h.example (unknown [192.0.2.1])\r\n\tby mx.example (mta) with ESMTP id {id}\r\n\tfor <b@y.example>; ")), "{body}");
    }

    #[tokio::test]
    async fn failed_enqueue_answers_451() {
        let sp = spool("fail");
        let q = Queue::open(&sp).unwrap();
        // A queue id the queue refuses to store makes the write fail.
        let out = cleanup(
            request(Actions::default()),
            &StageRunner::empty(),
            &q,
            &rewrite::Maps::default(),
        )
        .await;
        assert_eq!(
            out,
            Outcome::Refused(Reply::new(451, "4.3.0", "Error: queue file write error"))
        );
        assert!(q.list().await.unwrap().is_empty());
    }

    #[derive(Debug)]
    struct Alias;

    impl crate::tables::Table for Alias {
        fn name(&self) -> &str {
            "test:alias"
        }
        fn get(&self, key: &str) -> Result<Option<String>, crate::tables::TableError> {
            Ok((key == "b@y.example").then(|| "c@y.example, d@y.example".to_string()))
        }
    }

    #[tokio::test]
    async fn envelope_rewritten_for_every_client() {
        let sp = spool("virtual");
        let q = Queue::open(&sp).unwrap();
        let maps = rewrite::Maps {
            virtual_alias: vec![std::sync::Arc::new(Alias)],
            masquerade_domains: vec!["x.example".into()],
            recursion_limit: 10,
            expansion_limit: 10,
            ..Default::default()
        };
        let (mut req, id) = request_for(&q, Actions::default());
        req.ctx.envelope.sender.as_mut().unwrap().address = "a@host.x.example".into();
        let out = cleanup(req, &StageRunner::empty(), &q, &maps).await;
        assert_eq!(out, Outcome::Queued(id.clone()));
        let (rec, _) = queued(&q, &id).await;
        assert_eq!(rec.sender, "a@x.example");
        assert_eq!(rcpts(&rec), ["c@y.example", "d@y.example"]);
    }
}
