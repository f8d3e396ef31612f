//! HELO and EHLO: record the name, ask the helo stage, announce extensions.

use super::limits::TlsLevel;
use super::reply::{printable, refusal, Reply};
use super::session::Session;
use crate::stages::Stage;

impl Session {
    pub(super) async fn cmd_helo(&mut self, args: &str, ehlo: bool) {
        let verb = if ehlo { "EHLO" } else { "HELO" };
        if args.is_empty() {
            self.reply(Reply::bare(501, format!("Syntax: {verb} hostname")))
                .await;
            return;
        }
        // A new greeting starts over (RFC 5321 4.1.4).
        self.reset_txn();
        // Postfix keeps the previous greeting when this one is refused: a
        // refused EHLO does not satisfy smtpd_helo_required, and the reject
        // log line carries the new name but the old protocol.
        let before = (
            // Stored as Postfix stores it: `a?b` for `a<ESC>b`.
            self.facts.helo_name.replace(printable(args)),
            self.facts.protocol.clone(),
            self.esmtp,
        );
        self.esmtp = ehlo;
        self.facts.protocol = match (ehlo, self.tls_active) {
            (false, _) => "SMTP",
            (true, false) => "ESMTP",
            (true, true) => "ESMTPS",
        }
        .into();
        let d = self.shared.runner.check(&self.ctx(Stage::Helo)).await;
        if let Some(r) = refusal(&d.verdict) {
            self.facts.protocol = before.1;
            self.esmtp = before.2;
            self.refuse(verb, r, None).await;
            self.facts.helo_name = before.0;
            return;
        }
        let host = self.limits().myhostname.clone();
        if !ehlo {
            self.reply(Reply::bare(250, host)).await;
            return;
        }
        let mut lines = vec![host, "PIPELINING".to_string()];
        lines.push(format!("SIZE {}", self.limits().message_size_limit));
        if !self.limits().disable_vrfy_command {
            lines.push("VRFY".into());
        }
        lines.push("ETRN".into());
        if self.shared.tls.is_some()
            && !self.tls_active
            && self.limits().tls_level != TlsLevel::None
        {
            lines.push("STARTTLS".into());
        }
        let mechs = self.sasl_mechs().await;
        if !mechs.is_empty() {
            lines.push(format!("AUTH {}", mechs.join(" ")));
            if self.limits().sasl.broken_clients {
                lines.push(format!("AUTH={}", mechs.join(" ")));
            }
        }
        lines.push("ENHANCEDSTATUSCODES".into());
        lines.push("8BITMIME".into());
        self.reply(Reply::bare(250, lines.join("\n"))).await;
    }
}
