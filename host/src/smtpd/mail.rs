//! MAIL FROM: sender syntax, SIZE and BODY parameters, the mail stage.

use super::address::{parse_path, AddrError};
use super::reply::{refusal, Reply};
use super::session::Session;
use crate::stages::{Address, Stage};

impl Session {
    pub(super) async fn cmd_mail(&mut self, args: &str) {
        if self.need_tls().await {
            return;
        }
        // Before any syntax check, as Postfix's mail_cmd(): even a malformed
        // MAIL gets this answer.
        if self.limits().helo_required && self.facts.helo_name.is_none() {
            self.reply(Reply::new(503, "5.5.1", "Error: send HELO/EHLO first"))
                .await;
            return;
        }
        if self.txn.sender.is_some() {
            self.reply(Reply::new(503, "5.5.1", "Error: nested MAIL command"))
                .await;
            return;
        }
        let (addr, params) = match parse_path(args, "FROM") {
            Ok(x) => x,
            Err(AddrError::Syntax) => {
                self.reply(Reply::new(501, "5.5.4", "Syntax: MAIL FROM:<address>"))
                    .await;
                return;
            }
            Err(AddrError::Address) => {
                self.reply(Reply::new(501, "5.1.7", "Bad sender address syntax"))
                    .await;
                return;
            }
            Err(AddrError::Param(p)) => {
                self.reply(Reply::new(555, "5.5.4", format!("Unsupported option: {p}")))
                    .await;
                return;
            }
        };
        let mut size = None;
        for p in &params {
            match (p.name.as_str(), p.value.as_deref()) {
                ("SIZE", Some(v)) if v.bytes().all(|b| b.is_ascii_digit()) && v.len() <= 19 => {
                    size = v.parse::<u64>().ok();
                    if size.is_none() {
                        self.reply(Reply::new(501, "5.5.4", "Bad message size syntax"))
                            .await;
                        return;
                    }
                }
                ("SIZE", _) => {
                    self.reply(Reply::new(501, "5.5.4", "Bad message size syntax"))
                        .await;
                    return;
                }
                ("BODY", Some(v))
                    if v.eq_ignore_ascii_case("7BIT") || v.eq_ignore_ascii_case("8BITMIME") => {}
                _ => {
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
            }
        }
        let limit = self.limits().message_size_limit;
        if let Some(s) = size {
            if limit > 0 && s > limit {
                self.reply(Reply::new(552, "5.3.4", "Message size exceeds fixed limit"))
                    .await;
                return;
            }
        }
        if let Some(r) = self.over_rate(super::anvil::Event::Mail) {
            self.reply(r).await;
            return;
        }
        self.txn.sender = Some(Address {
            address: addr.clone(),
            params,
        });
        self.txn.size = size;
        let d = self.shared.runner.check(&self.ctx(Stage::Mail)).await;
        if let Some(r) = refusal(&d.verdict) {
            self.refuse("MAIL", r, None).await;
            self.reset_txn();
            return;
        }
        self.absorb("MAIL", &d, None);
        self.reply(Reply::new(250, "2.1.0", "Ok")).await;
    }
}
