//! One SMTP session: the command loop, error accounting, timeouts and the
//! per-transaction state. Each verb lives in its own file (`ehlo.rs`,
//! `mail.rs`, `rcpt.rs`, `data.rs`, `misc.rs`, `tls.rs`) as methods on
//! `Session`. The session runs over any byte stream (`conn::Io`), so tests
//! drive it over `tokio::io::duplex` without sockets.

use super::conn::{Conn, Io, LineEnd};
use super::limits::{BareNewline, Limits};
use super::reply::Reply;
use super::Shared;
use crate::stages::{self, Address, Context, Decision, Envelope, Stage, Verdict};
use std::sync::Arc;
use tokio::sync::watch;

pub use crate::cleanup::Actions;

/// The mail transaction (MAIL .. end of DATA); reset by RSET, HELO/EHLO and
/// after each message.
#[derive(Debug, Clone, Default)]
pub struct Txn {
    pub sender: Option<Address>,
    pub recipients: Vec<Address>,
    pub queue_id: Option<String>,
    pub size: Option<u64>,
    pub actions: Actions,
}

/// What a command handler tells the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Continue,
    Close,
}

pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) conn: Conn,
    /// Facts about the client handed to every stage.
    pub(super) facts: stages::Session,
    pub(super) txn: Txn,
    /// The client said EHLO (and so knows about PIPELINING).
    pub(super) esmtp: bool,
    pub(super) tls_active: bool,
    pub(super) error_count: u32,
    pub(super) junk_count: u32,
    /// The last command verb, for "lost connection after X" logs.
    pub(super) last_cmd: String,
    /// The connect stage refused the client: it got that reply instead of
    /// the greeting, and every command but QUIT now gets Postfix's
    /// `503 5.7.0 Error: access denied for name[addr]`.
    pub(super) access_denied: bool,
    pub(super) shutdown: watch::Receiver<bool>,
    /// The Dovecot auth connection, opened at the first EHLO or AUTH when
    /// `smtpd_sasl_auth_enable = yes`.
    pub(super) sasl_client: Option<super::sasl::dovecot::Client>,
    /// Per-command counters for the disconnect log line.
    counts: super::counts::Counts,
    /// The command being answered has not been refused (yet).
    cmd_ok: bool,
    /// Set when this client already had `smtpd_client_connection_count_limit`
    /// sessions: how many it has with this one.
    concurrency_over: Option<usize>,
    /// `smtpd_client_event_limit_exceptions` spares this client.
    pub(super) limits_exempt: bool,
}

impl Session {
    pub fn new(
        shared: Arc<Shared>,
        io: Box<dyn Io>,
        facts: stages::Session,
        shutdown: watch::Receiver<bool>,
    ) -> Session {
        Session {
            shared,
            conn: Conn::new(io),
            facts,
            txn: Txn::default(),
            esmtp: false,
            tls_active: false,
            error_count: 0,
            junk_count: 0,
            last_cmd: "CONNECT".into(),
            access_denied: false,
            shutdown,
            sasl_client: None,
            counts: Default::default(),
            cmd_ok: true,
            concurrency_over: None,
            limits_exempt: false,
        }
    }

    /// The listener counted this client over its concurrency limit.
    pub fn with_concurrency(mut self, over: Option<usize>) -> Session {
        self.concurrency_over = over;
        self
    }

    /// The anvil rate check for `event`: `Some(reply)` when this client is
    /// over its limit (logged as Postfix logs it), `None` to carry on.
    pub(super) fn over_rate(&self, event: super::anvil::Event) -> Option<Reply> {
        use super::anvil::Event;
        let l = self.limits();
        let limit = match event {
            Event::Connect => l.connection_rate_limit,
            Event::Mail => l.message_rate_limit,
            Event::Rcpt => l.recipient_rate_limit,
        };
        if limit == 0 || self.limits_exempt {
            return None;
        }
        let ip = self.facts.client_address.parse().ok()?;
        let n = self
            .shared
            .anvil
            .count(&self.shared.listener, ip, event, l.rate_time_unit);
        if n <= limit {
            return None;
        }
        let (log, reply) = super::anvil::exceeded(event);
        tracing::warn!(
            "warning: {log}: {n} from {} for service {}",
            self.client(),
            self.shared.listener
        );
        let text = format!("Error: {reply} {}", self.facts.client_address);
        Some(match event {
            Event::Connect => self.reply_421("4.7.0", &text),
            Event::Mail | Event::Rcpt => Reply::new(450, "4.7.1", text),
        })
    }

    pub(super) fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// `name[addr]` as Postfix logs the client.
    pub fn client(&self) -> String {
        format!("{}[{}]", self.facts.client_name, self.facts.client_address)
    }

    /// Queue a reply, counting errors as Postfix does and pausing after
    /// `smtpd_soft_error_limit` errors (tarpitting a misbehaving client).
    pub(super) async fn reply(&mut self, r: Reply) {
        self.conn.queue(&r.to_wire());
        if r.code >= 400 {
            self.cmd_ok = false;
            self.error_count += 1;
            if self.error_count > self.limits().soft_error_limit
                && !self.limits().error_sleep_time.is_zero()
            {
                let t = self.limits().timeout;
                let _ = tokio::time::timeout(t, self.conn.flush()).await;
                tokio::time::sleep(self.limits().error_sleep_time).await;
            }
        }
    }

    /// NOOP, VRFY, ETRN and RSET beyond `smtpd_junk_command_limit` count as errors.
    pub(super) fn junk(&mut self) {
        self.junk_count += 1;
        if self.junk_count > self.limits().junk_command_limit {
            self.error_count += 1;
        }
    }

    /// The context handed to plugins at `stage`.
    pub(super) fn ctx(&self, stage: Stage) -> Context {
        Context {
            stage,
            session: self.facts.clone(),
            envelope: Envelope {
                sender: self.txn.sender.clone(),
                recipients: self.txn.recipients.clone(),
                queue_id: self.txn.queue_id.clone(),
                size: self.txn.size,
            },
        }
    }

    /// `from=<a> to=<b> proto=ESMTP helo=<h>`, Postfix's reject-log suffix.
    pub(super) fn log_suffix(&self, rcpt: Option<&str>) -> String {
        let mut s = String::new();
        if let Some(f) = &self.txn.sender {
            s.push_str(&format!("from=<{}> ", f.address));
        }
        if let Some(r) = rcpt {
            s.push_str(&format!("to=<{r}> "));
        }
        s.push_str(&format!("proto={}", self.facts.protocol));
        if let Some(h) = &self.facts.helo_name {
            s.push_str(&format!(" helo=<{h}>"));
        }
        s
    }

    /// Log a refusal in Postfix's format and queue its reply.
    pub(super) async fn refuse(&mut self, what: &str, r: Reply, rcpt: Option<&str>) {
        let qid = self
            .txn
            .queue_id
            .clone()
            .unwrap_or_else(|| "NOQUEUE".into());
        // Postfix logs 4xx and 5xx refusals alike as "reject".
        let action = "reject";
        tracing::info!(
            "{qid}: {action}: {what} from {}: {}; {}",
            self.client(),
            r.to_log(),
            self.log_suffix(rcpt)
        );
        self.reply(r).await;
    }

    /// Record a stage decision's non-refusing actions and log them.
    pub(super) fn absorb(&mut self, what: &str, d: &Decision, rcpt: Option<&str>) {
        if self.txn.actions.absorb(&d.verdict) {
            let qid = self
                .txn
                .queue_id
                .clone()
                .unwrap_or_else(|| "NOQUEUE".into());
            let (name, text) = match &d.verdict {
                Verdict::Discard(t) => ("discard", t.clone().unwrap_or_default()),
                Verdict::Hold(t) => ("hold", t.clone().unwrap_or_default()),
                Verdict::Redirect(a) => ("redirect", a.clone()),
                Verdict::Bcc(a) => ("bcc", a.clone()),
                Verdict::Filter(f) => ("filter", f.clone()),
                _ => ("", String::new()),
            };
            tracing::info!(
                "{qid}: {name}: {what} from {}: {text}; {}",
                self.client(),
                self.log_suffix(rcpt)
            );
        }
    }

    /// The 421 that ends a session on our side (`host Error: ...`).
    fn reply_421(&self, enhanced: &str, text: &str) -> Reply {
        Reply::new(
            421,
            enhanced,
            format!("{} {}", self.limits().myhostname, text),
        )
    }

    /// Drive the session to its end. Never returns an error: every way a
    /// session can end is logged here.
    pub async fn run(mut self) {
        tracing::info!("connect from {}", self.client());
        if let Ok(ip) = self.facts.client_address.parse() {
            self.limits_exempt = self
                .limits()
                .exempt_from_client_limits(ip, &self.facts.client_name);
        }
        let refused = match self.concurrency_over {
            Some(n) if !self.limits_exempt => {
                tracing::warn!(
                    "warning: Connection concurrency limit exceeded: {n} from {} for service {}",
                    self.client(),
                    self.shared.listener
                );
                Some(self.reply_421(
                    "4.7.0",
                    &format!(
                        "Error: too many connections from {}",
                        self.facts.client_address
                    ),
                ))
            }
            _ => self.over_rate(super::anvil::Event::Connect),
        };
        if let Some(r) = refused {
            self.conn.queue(&r.to_wire());
            let t = self.limits().timeout;
            let _ = tokio::time::timeout(t, self.conn.shutdown()).await;
            tracing::info!("disconnect from {}{}", self.client(), self.counts.summary());
            return;
        }
        let d = self.shared.runner.check(&self.ctx(Stage::Connect)).await;
        if let Some(r) = super::reply::refusal(&d.verdict) {
            let qid = "NOQUEUE";
            tracing::info!(
                "{qid}: reject: CONNECT from {}: {}; proto=SMTP",
                self.client(),
                r.to_log()
            );
            self.conn.queue(&r.to_wire());
            self.error_count += 1;
            self.access_denied = true;
        } else {
            let banner = format!(
                "220 {}\r\n",
                self.limits().banner.replace(['\r', '\n'], " ")
            );
            self.conn.queue(banner.as_bytes());
        }
        loop {
            if self.error_count >= self.limits().hard_error_limit {
                let r = self.reply_421("4.7.0", "Error: too many errors");
                self.conn.queue(&r.to_wire());
                tracing::warn!("hard error limit exceeded from {}", self.client());
                break;
            }
            match self.next_command().await {
                Next::Continue => {}
                Next::Close => break,
            }
        }
        // A client that stopped reading must not hold the session forever.
        let t = self.limits().timeout;
        let _ = tokio::time::timeout(t, self.conn.shutdown()).await;
        tracing::info!("disconnect from {}{}", self.client(), self.counts.summary());
    }

    /// Read and answer one command.
    async fn next_command(&mut self) -> Next {
        let limit = self.limits().line_length_limit;
        let timeout = self.limits().timeout;
        let mut shutdown = self.shutdown.clone();
        let read = tokio::select! {
            r = tokio::time::timeout(timeout, self.conn.read_line(limit)) => r,
            _ = shutdown.wait_for(|s| *s) => {
                let r = self.reply_421("4.3.2", "Service shutting down");
                // A shutdown reply is not a client error; queue it directly.
                self.conn.queue(&r.to_wire());
                return Next::Close;
            }
        };
        let line = match read {
            Err(_) => {
                tracing::info!("timeout after {} from {}", self.last_cmd, self.client());
                let r = self.reply_421("4.4.2", "Error: timeout exceeded");
                self.conn.queue(&r.to_wire());
                return Next::Close;
            }
            Ok(Err(e)) => {
                tracing::info!(
                    "lost connection after {} from {}: {e}",
                    self.last_cmd,
                    self.client()
                );
                return Next::Close;
            }
            Ok(Ok(None)) => {
                tracing::info!(
                    "lost connection after {} from {}",
                    self.last_cmd,
                    self.client()
                );
                return Next::Close;
            }
            Ok(Ok(Some(l))) => l,
        };
        let mut end = line.end;
        // An over-long command: keep its first line_length_limit bytes (as
        // Postfix does) and skip the rest of the line.
        while end == LineEnd::Truncated {
            match tokio::time::timeout(timeout, self.conn.read_line(limit)).await {
                Ok(Ok(Some(l))) => end = l.end,
                _ => return Next::Close,
            }
        }
        if end == LineEnd::Lf && self.limits().bare_newline == BareNewline::Reject {
            tracing::info!("disconnect: bare <LF> received from {}", self.client());
            self.reply(Reply::new(550, "5.5.2", "Error: bare <LF> received"))
                .await;
            return Next::Close;
        }
        let text = match String::from_utf8(line.bytes) {
            Ok(t) => t,
            Err(_) => {
                self.last_cmd = "UNKNOWN".into();
                self.counts.record("unknown", false);
                self.reply(Reply::new(500, "5.5.2", "Error: bad UTF-8 syntax"))
                    .await;
                return Next::Continue;
            }
        };
        let (verb, args) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim().to_string()),
            None => (text.trim().to_ascii_uppercase(), String::new()),
        };
        let known = matches!(
            verb.as_str(),
            "HELO"
                | "EHLO"
                | "MAIL"
                | "RCPT"
                | "DATA"
                | "RSET"
                | "NOOP"
                | "QUIT"
                | "VRFY"
                | "ETRN"
                | "HELP"
                | "STARTTLS"
                | "AUTH"
        );
        self.last_cmd = if known {
            verb.clone()
        } else {
            "UNKNOWN".into()
        };
        // Input already waiting after a command that must end a pipelined
        // group, or from a client that never learned we pipeline.
        if self.conn.pending_input()
            && (!self.esmtp
                || matches!(
                    verb.as_str(),
                    "EHLO" | "HELO" | "DATA" | "STARTTLS" | "QUIT"
                ))
            && !self.facts.improper_pipelining
        {
            self.facts.improper_pipelining = true;
            tracing::info!(
                "improper command pipelining after {} from {}",
                self.last_cmd,
                self.client()
            );
        }
        self.cmd_ok = true;
        let next = self.dispatch(&verb, &args).await;
        // A command that ended the session (other than QUIT) did not succeed:
        // a lost connection in DATA, a failed TLS handshake.
        let ok = self.cmd_ok && (next == Next::Continue || verb == "QUIT");
        self.counts.record(&verb, ok);
        next
    }

    /// Answer one parsed command.
    async fn dispatch(&mut self, verb: &str, args: &str) -> Next {
        if self.access_denied && verb != "QUIT" {
            let r = Reply::new(
                503,
                "5.7.0",
                format!("Error: access denied for {}", self.client()),
            );
            self.reply(r).await;
            return Next::Continue;
        }
        match verb {
            "HELO" => self.cmd_helo(args, false).await,
            "EHLO" => self.cmd_helo(args, true).await,
            "MAIL" => self.cmd_mail(args).await,
            "RCPT" => self.cmd_rcpt(args).await,
            "DATA" => return self.cmd_data(args).await,
            "RSET" => self.cmd_rset(args).await,
            "NOOP" => self.cmd_noop().await,
            "QUIT" => {
                self.conn.queue(&Reply::new(221, "2.0.0", "Bye").to_wire());
                return Next::Close;
            }
            "VRFY" => self.cmd_vrfy(args).await,
            "ETRN" => self.cmd_etrn(args).await,
            "HELP" => self.cmd_help().await,
            "STARTTLS" => return self.cmd_starttls(args).await,
            "AUTH" => return self.cmd_auth(args).await,
            _ => {
                self.reply(Reply::new(500, "5.5.2", "Error: command not recognized"))
                    .await
            }
        }
        Next::Continue
    }

    /// `smtpd_tls_security_level = encrypt` and no TLS yet: refuse.
    pub(super) async fn need_tls(&mut self) -> bool {
        if self.limits().tls_level == super::limits::TlsLevel::Encrypt && !self.tls_active {
            self.reply(Reply::new(
                530,
                "5.7.0",
                "Must issue a STARTTLS command first",
            ))
            .await;
            return true;
        }
        false
    }

    pub(super) fn reset_txn(&mut self) {
        self.txn = Txn::default();
    }
}
