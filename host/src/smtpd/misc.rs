//! The small commands: RSET, NOOP, VRFY, ETRN, HELP.

use super::reply::{refusal, Reply};
use super::session::Session;
use crate::stages::{Address, Stage};

impl Session {
    pub(super) async fn cmd_rset(&mut self, args: &str) {
        self.junk();
        if !args.is_empty() {
            self.reply(Reply::new(501, "5.5.4", "Syntax: RSET")).await;
            return;
        }
        self.reset_txn();
        self.reply(Reply::new(250, "2.0.0", "Ok")).await;
    }

    pub(super) async fn cmd_noop(&mut self) {
        self.junk();
        self.reply(Reply::new(250, "2.0.0", "Ok")).await;
    }

    pub(super) async fn cmd_help(&mut self) {
        self.junk();
        self.reply(Reply::new(
            214,
            "2.0.0",
            "Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY ETRN STARTTLS HELP",
        ))
        .await;
    }

    /// VRFY asks the rcpt stage (with stage = vrfy) about the address and
    /// never confirms more than Postfix does: `252` (cannot verify, will try).
    pub(super) async fn cmd_vrfy(&mut self, args: &str) {
        self.junk();
        if self.limits().disable_vrfy_command {
            self.reply(Reply::new(502, "5.5.1", "VRFY command is disabled"))
                .await;
            return;
        }
        if self.need_tls().await {
            return;
        }
        if args.is_empty() {
            self.reply(Reply::new(501, "5.5.4", "Syntax: VRFY address"))
                .await;
            return;
        }
        let addr = args
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        if addr.is_empty()
            || addr.contains(['<', '>', ' '])
            || !addr.bytes().all(|b| (0x21..0x7f).contains(&b))
        {
            self.reply(Reply::new(501, "5.1.3", "Bad recipient address syntax"))
                .await;
            return;
        }
        let rcpt = Address {
            address: addr.clone(),
            params: Vec::new(),
        };
        let d = self.shared.runner.rcpt(&self.ctx(Stage::Vrfy), &rcpt).await;
        if let Some(r) = refusal(&d.verdict) {
            self.refuse("VRFY", r, Some(&addr)).await;
            return;
        }
        self.reply(Reply::new(252, "2.0.0", addr)).await;
    }

    /// ETRN asks the queue manager to try a destination now. Replies carry
    /// no enhanced code, as Postfix's.
    pub(super) async fn cmd_etrn(&mut self, args: &str) {
        self.junk();
        if self.facts.helo_name.is_none() {
            self.reply(Reply::bare(503, "Error: send HELO/EHLO first"))
                .await;
            return;
        }
        if self.need_tls().await {
            return;
        }
        if args.is_empty() {
            self.reply(Reply::bare(500, "Syntax: ETRN domain")).await;
            return;
        }
        if self.txn.sender.is_some() {
            self.reply(Reply::bare(503, "Error: MAIL transaction in progress"))
                .await;
            return;
        }
        let dest = args.trim_start_matches(['@', '#']);
        if dest.is_empty()
            || !dest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b))
        {
            self.reply(Reply::bare(501, "Error: invalid parameter syntax"))
                .await;
            return;
        }
        let d = self.shared.runner.etrn(&self.ctx(Stage::Etrn), dest).await;
        if let Some(r) = refusal(&d.verdict) {
            self.refuse("ETRN", r, None).await;
            return;
        }
        if let Some(q) = &self.shared.qmgr {
            q.kick();
        }
        self.reply(Reply::bare(250, "Queuing started")).await;
    }
}
