//! DATA: the message content. Only `<CR><LF>.<CR><LF>` ends it, whoever the
//! client is; a bare LF is normalised to CRLF or refused
//! (`smtpd_forbid_bare_newline`); a bare CR is data and never ends a line;
//! dots are unstuffed; `message_size_limit` is enforced while reading. The
//! message goes to cleanup, and the 250 comes only after the queue said the
//! message is durable.

use super::conn::LineEnd;
use super::limits::BareNewline;
use super::reply::{refusal, Reply};
use super::session::{Next, Session};
use crate::cleanup::{self, Outcome};
use crate::stages::Stage;

impl Session {
    pub(super) async fn cmd_data(&mut self, args: &str) -> Next {
        if self.need_tls().await {
            return Next::Continue;
        }
        if !args.is_empty() {
            self.reply(Reply::new(501, "5.5.4", "Syntax: DATA")).await;
            return Next::Continue;
        }
        if self.txn.sender.is_none() {
            self.reply(Reply::new(503, "5.5.1", "Error: need RCPT command"))
                .await;
            return Next::Continue;
        }
        if self.txn.recipients.is_empty() {
            self.reply(Reply::new(554, "5.5.1", "Error: no valid recipients"))
                .await;
            return Next::Continue;
        }
        let d = self.shared.runner.check(&self.ctx(Stage::Data)).await;
        if let Some(r) = refusal(&d.verdict) {
            let first = self.txn.recipients.first().map(|r| r.address.clone());
            self.refuse("DATA", r, first.as_deref()).await;
            return Next::Continue;
        }
        self.absorb("DATA", &d, None);
        self.conn
            .queue(&Reply::bare(354, "End data with <CR><LF>.<CR><LF>").to_wire());
        let content = match self.read_content().await {
            Ok(c) => c,
            Err(next) => return next,
        };
        let Some(data) = content else {
            tracing::info!(
                "{}: reject: END-OF-MESSAGE from {}: 552 5.3.4 Message size exceeds fixed limit; {}",
                self.txn.queue_id.clone().unwrap_or_default(),
                self.client(),
                self.log_suffix(None)
            );
            self.reply(Reply::new(552, "5.3.4", "Message size exceeds fixed limit"))
                .await;
            self.reset_txn();
            return Next::Continue;
        };
        let first = self.txn.recipients.first().map(|r| r.address.clone());
        let req = cleanup::Request {
            ctx: self.ctx(Stage::EndOfMessage),
            data,
            actions: self.txn.actions.clone(),
            rewrite_headers: self.shared.rewrite_headers_for(&self.facts),
            myhostname: self.limits().myhostname.clone(),
            mail_name: self.limits().mail_name.clone(),
            client: self.client(),
            log_suffix: self.log_suffix(first.as_deref()),
            header_size_limit: self.limits().header_size_limit,
            submitted_by: None,
            sasl_header: self.limits().sasl.authenticated_header,
        };
        let outcome = cleanup::cleanup(
            req,
            &self.shared.runner,
            &self.shared.queue,
            &self.shared.maps,
        )
        .await;
        let r = match outcome {
            Outcome::Queued(id) => Reply::new(250, "2.0.0", format!("Ok: queued as {id}")),
            Outcome::Discarded(id) => Reply::new(250, "2.0.0", format!("Ok: queued as {id}")),
            Outcome::Refused(r) => r,
        };
        if r.is_positive() {
            // A delivered message forgives earlier mistakes, as in Postfix.
            self.error_count = 0;
        }
        self.reply(r).await;
        self.reset_txn();
        Next::Continue
    }

    /// Read up to the end-of-data line. `Ok(Some(bytes))`: the message with
    /// CRLF line ends, unstuffed; `Ok(None)`: it was too big (read to the end
    /// and dropped); `Err(Close)`: the client went away, timed out or sent a
    /// bare LF under `reject` — nothing of it is kept.
    async fn read_content(&mut self) -> Result<Option<Vec<u8>>, Next> {
        let limit = self.limits().line_length_limit;
        let timeout = self.limits().timeout;
        let max = self.limits().message_size_limit;
        let bare = self.limits().bare_newline;
        // Most messages fit the first allocation (smtp-source and typical
        // mail are a few KiB); larger ones grow it geometrically.
        let mut data = Vec::with_capacity(8192);
        let mut size: u64 = 0;
        let mut too_big = false;
        let mut at_line_start = true;
        // The previous line ended in CRLF: the end-of-data dot must follow
        // a CRLF and be followed by one.
        let mut prev_crlf = true;
        loop {
            let (range, end) = match tokio::time::timeout(timeout, self.conn.next_line(limit)).await
            {
                Err(_) => {
                    tracing::info!("timeout after DATA ({size} bytes) from {}", self.client());
                    let r = Reply::new(
                        421,
                        "4.4.2",
                        format!("{} Error: timeout exceeded", self.limits().myhostname),
                    );
                    self.conn.queue(&r.to_wire());
                    return Err(Next::Close);
                }
                Ok(Ok(Some(found))) => found,
                Ok(_) => {
                    tracing::info!(
                        "lost connection after DATA ({size} bytes) from {}",
                        self.client()
                    );
                    return Err(Next::Close);
                }
            };
            // The line is copied once, from the read buffer into the message.
            let mut bytes = self.conn.line(range.clone());
            if at_line_start && prev_crlf && end == LineEnd::CrLf && bytes == b"." {
                break;
            }
            if end == LineEnd::Lf && bare == BareNewline::Reject {
                tracing::info!(
                    "{}: reject: bare <LF> received from {}; {}",
                    self.txn
                        .queue_id
                        .clone()
                        .unwrap_or_else(|| "NOQUEUE".into()),
                    self.client(),
                    self.log_suffix(None)
                );
                self.reply(Reply::new(550, "5.5.2", "Error: bare <LF> received"))
                    .await;
                return Err(Next::Close);
            }
            if at_line_start && bytes.len() > 1 && bytes[0] == b'.' {
                bytes = &bytes[1..];
            }
            let ends = end != LineEnd::Truncated;
            size += bytes.len() as u64 + if ends { 2 } else { 0 };
            if max > 0 && size > max {
                too_big = true;
            }
            if !too_big {
                data.extend_from_slice(bytes);
                if ends {
                    data.extend_from_slice(b"\r\n");
                }
            } else if !data.is_empty() {
                data = Vec::new();
            }
            at_line_start = ends;
            prev_crlf = end == LineEnd::CrLf;
        }
        Ok(if too_big { None } else { Some(data) })
    }
}
