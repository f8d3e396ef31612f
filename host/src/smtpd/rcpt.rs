//! RCPT TO: recipient syntax, the recipient limit, the rcpt stage, and the
//! queue id assigned at the first accepted recipient (as Postfix does).

use super::address::{parse_path, AddrError};
use super::reply::{refusal, Reply};
use super::session::Session;
use crate::stages::{Address, Stage};

impl Session {
    pub(super) async fn cmd_rcpt(&mut self, args: &str) {
        if self.need_tls().await {
            return;
        }
        if self.txn.sender.is_none() {
            self.reply(Reply::new(503, "5.5.1", "Error: need MAIL command"))
                .await;
            return;
        }
        let (addr, params) = match parse_path(args, "TO") {
            Ok((a, _)) if a.is_empty() => {
                self.reply(Reply::new(501, "5.1.3", "Bad recipient address syntax"))
                    .await;
                return;
            }
            Ok(x) => x,
            Err(AddrError::Syntax) => {
                self.reply(Reply::new(501, "5.5.4", "Syntax: RCPT TO:<address>"))
                    .await;
                return;
            }
            Err(AddrError::Address) => {
                self.reply(Reply::new(501, "5.1.3", "Bad recipient address syntax"))
                    .await;
                return;
            }
            Err(AddrError::Param(p)) => {
                self.reply(Reply::new(555, "5.5.4", format!("Unsupported option: {p}")))
                    .await;
                return;
            }
        };
        if let Some(p) = params.first() {
            let shown = match &p.value {
                Some(v) => format!("{}={v}", p.name),
                None => p.name.clone(),
            };
            self.reply(Reply::new(
                555,
                "5.5.4",
                format!("Unsupported option: {shown}"),
            ))
            .await;
            return;
        }
        if self.txn.recipients.len() >= self.limits().recipient_limit {
            self.reply(Reply::new(452, "4.5.3", "Error: too many recipients"))
                .await;
            return;
        }
        if let Some(r) = self.over_rate(super::anvil::Event::Rcpt) {
            self.reply(r).await;
            return;
        }
        let rcpt = Address {
            address: addr.clone(),
            params,
        };
        let d = self.shared.runner.rcpt(&self.ctx(Stage::Rcpt), &rcpt).await;
        if let Some(r) = refusal(&d.verdict) {
            self.refuse("RCPT", r, Some(&addr)).await;
            return;
        }
        if self.txn.queue_id.is_none() {
            let id = self.shared.queue.new_id();
            match &self.facts.sasl {
                Some(a) => tracing::info!(
                    "{id}: client={}, sasl_method={}, sasl_username={}",
                    self.client(),
                    a.method,
                    a.username
                ),
                None => tracing::info!("{id}: client={}", self.client()),
            }
            self.txn.queue_id = Some(id);
        }
        self.absorb("RCPT", &d, Some(&addr));
        self.txn.recipients.push(rcpt);
        self.reply(Reply::new(250, "2.1.5", "Ok")).await;
    }
}
