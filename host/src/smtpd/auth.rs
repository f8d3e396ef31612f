//! AUTH (RFC 4954): the SMTP side of SASL. The exchange itself is relayed
//! to the Dovecot auth server (`sasl::dovecot`); smtpd only checks the
//! dialogue's shape and records who authenticated, so that
//! `permit_sasl_authenticated` in the restriction plugins can see it.
//! Replies, their order and log lines are Postfix 3.7's with
//! `smtpd_sasl_type = dovecot`, compared against it on the same Dovecot.

use super::conn::LineEnd;
use super::reply::{printable, Reply};
use super::sasl::{base64, dovecot};
use super::session::{Next, Session};
use crate::stages::SaslInfo;
use std::net::SocketAddr;

/// Postfix's `smtpd_sasl_response_limit` default: the longest client
/// response line in the AUTH dialogue.
const RESPONSE_LIMIT: usize = 12288;

impl Session {
    /// The connection to the auth server, opened (and its mechanisms
    /// learned) on first use; `None` after logging why it is unreachable.
    async fn sasl_client(&mut self) -> Option<&mut dovecot::Client> {
        if self.sasl_client.is_none() {
            let path = self.limits().sasl.path.clone();
            match dovecot::Client::connect(&path, self.limits().timeout).await {
                Ok(c) => self.sasl_client = Some(c),
                Err(e) => {
                    tracing::warn!("SASL: Connect to {} failed: {e}", path.display());
                    return None;
                }
            }
        }
        self.sasl_client.as_mut()
    }

    /// The mechanisms to offer now (empty when AUTH is off, must wait for
    /// TLS, or the auth server is unreachable).
    pub(super) async fn sasl_mechs(&mut self) -> Vec<String> {
        let s = &self.limits().sasl;
        if !s.enabled || (s.tls_auth_only && !self.tls_active) {
            return Vec::new();
        }
        let tls = self.tls_active;
        let settings = s.clone();
        match self.sasl_client().await {
            Some(c) => c
                .mechs
                .iter()
                .filter(|m| settings.allows(m, tls))
                .map(|m| m.name.clone())
                .collect(),
            None => Vec::new(),
        }
    }

    fn sasl_peer(&self) -> dovecot::Peer {
        let f = &self.facts;
        let addr = |ip: &str, port: u16| ip.parse().ok().map(|ip| SocketAddr::new(ip, port));
        dovecot::Peer {
            service: self.limits().sasl.service.clone(),
            local: addr(&f.server_address, f.server_port),
            remote: addr(&f.client_address, f.client_port),
            secured: self.tls_active,
        }
    }

    pub(super) async fn cmd_auth(&mut self, args: &str) -> Next {
        let s = self.limits().sasl.clone();
        let refuse = |code, enh: &str, text: &str| Reply::new(code, enh, text.to_string());
        let early = if !s.enabled {
            Some(refuse(503, "5.5.1", "Error: authentication not enabled"))
        } else if self.limits().helo_required && self.facts.helo_name.is_none() {
            Some(refuse(503, "5.5.1", "Error: send HELO/EHLO first"))
        } else if self.txn.sender.is_some() {
            Some(refuse(503, "5.5.1", "Error: MAIL transaction in progress"))
        } else if s.tls_auth_only && !self.tls_active {
            Some(refuse(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism",
            ))
        } else if self.facts.sasl.is_some() {
            Some(refuse(503, "5.5.1", "Error: already authenticated"))
        } else {
            None
        };
        if let Some(r) = early {
            self.reply(r).await;
            return Next::Continue;
        }
        let words: Vec<&str> = args.split_whitespace().collect();
        if words.is_empty() || words.len() > 2 {
            self.reply(refuse(501, "5.5.4", "Syntax: AUTH mechanism"))
                .await;
            return Next::Continue;
        }
        let mech = words[0].to_ascii_uppercase();
        let offered = self.sasl_mechs().await;
        if self.sasl_client.is_none() {
            self.reply(refuse(454, "4.7.0", "Temporary authentication failure"))
                .await;
            return Next::Continue;
        }
        // Postfix's Dovecot client answers these itself, in these words.
        if !offered.contains(&mech) {
            return self
                .auth_failed(&mech, "Invalid authentication mechanism", None)
                .await;
        }
        let initial = match words.get(1) {
            None => None,
            Some(&"=") => Some(String::new()),
            Some(r) if base64::decode(r).is_some() => Some(r.to_string()),
            Some(_) => {
                return self
                    .auth_failed(&mech, "Invalid base64 data in initial response", None)
                    .await;
            }
        };
        let peer = self.sasl_peer();
        let Some(client) = self.sasl_client().await else {
            return Next::Continue;
        };
        let mut step = client.start(&mech, &peer, initial.as_deref()).await;
        if step.is_err() {
            // The connection opened at EHLO may have gone stale (Dovecot
            // restarted): one fresh connection before giving up.
            self.sasl_client = None;
            if let Some(client) = self.sasl_client().await {
                step = client.start(&mech, &peer, initial.as_deref()).await;
            }
        }
        let mut id = match &step {
            Ok((id, _)) => *id,
            Err(_) => 0,
        };
        loop {
            let answer = match step {
                Err(e) => {
                    tracing::warn!(
                        "SASL: auth server {} failed: {e}",
                        self.limits().sasl.path.display()
                    );
                    self.sasl_client = None;
                    self.reply(refuse(454, "4.7.0", "Temporary authentication failure"))
                        .await;
                    return Next::Continue;
                }
                Ok((_, a)) => a,
            };
            match answer {
                dovecot::Step::Ok { user } => {
                    self.facts.sasl = Some(SaslInfo {
                        method: mech,
                        // It goes into log lines and Received headers.
                        username: printable(&user),
                    });
                    self.reply(refuse(235, "2.7.0", "Authentication successful"))
                        .await;
                    return Next::Continue;
                }
                dovecot::Step::Fail { reason, temp, user } => {
                    let reason = printable(reason.as_deref().unwrap_or("(reason unavailable)"));
                    if temp {
                        tracing::warn!(
                            "{}: SASL {mech} authentication failed: {reason}",
                            self.client()
                        );
                        let r = Reply::new(
                            454,
                            "4.7.0",
                            format!("Temporary authentication failure: {reason}"),
                        );
                        self.reply(r).await;
                        return Next::Continue;
                    }
                    return self.auth_failed(&mech, &reason, user.as_deref()).await;
                }
                dovecot::Step::Continue(challenge) => {
                    self.conn.queue(format!("334 {challenge}\r\n").as_bytes());
                    let response = match self.auth_response(&mech).await {
                        Ok(r) => r,
                        Err(next) => {
                            // The request is still open at Dovecot: start
                            // afresh with a new connection next time.
                            self.sasl_client = None;
                            return next;
                        }
                    };
                    let Some(client) = self.sasl_client.as_mut() else {
                        return Next::Continue;
                    };
                    step = client.cont(id, &response).await.map(|a| (id, a));
                    if let Ok((i, _)) = &step {
                        id = *i;
                    }
                }
            }
        }
    }

    /// Read the client's answer to a 334 challenge: base64 text, or what
    /// the session does next after an abort (`*`), garbage or an over-long
    /// line (replied to) or a lost connection (close).
    async fn auth_response(&mut self, mech: &str) -> Result<String, Next> {
        let limit = RESPONSE_LIMIT.max(self.limits().line_length_limit);
        let t = self.limits().timeout;
        let line = match tokio::time::timeout(t, self.conn.read_line(limit)).await {
            Ok(Ok(Some(l))) => l,
            Ok(Ok(None)) | Ok(Err(_)) => {
                tracing::info!("lost connection after AUTH from {}", self.client());
                return Err(Next::Close);
            }
            Err(_) => {
                tracing::info!("timeout after AUTH from {}", self.client());
                return Err(Next::Close);
            }
        };
        if line.end == LineEnd::Truncated {
            let mut end = line.end;
            while end == LineEnd::Truncated {
                match tokio::time::timeout(t, self.conn.read_line(limit)).await {
                    Ok(Ok(Some(l))) => end = l.end,
                    _ => return Err(Next::Close),
                }
            }
            self.reply(Reply::new(
                500,
                "5.5.6",
                "Authentication exchange line is too long",
            ))
            .await;
            return Err(Next::Continue);
        }
        let text = String::from_utf8_lossy(&line.bytes).trim().to_string();
        if text == "*" {
            tracing::warn!("{}: SASL {mech} authentication aborted", self.client());
            self.reply(Reply::new(501, "5.7.0", "Authentication aborted"))
                .await;
            return Err(Next::Continue);
        }
        if base64::decode(&text).is_none() {
            return Err(self
                .auth_failed(mech, "Invalid base64 data in continued response", None)
                .await);
        }
        Ok(text)
    }
}

impl Session {
    /// Postfix's 535 and its warning, which names the user Dovecot saw.
    async fn auth_failed(&mut self, mech: &str, reason: &str, user: Option<&str>) -> Next {
        tracing::warn!(
            "{}: SASL {mech} authentication failed: {reason}, sasl_username={}",
            self.client(),
            printable(user.unwrap_or("(unavailable)"))
        );
        self.reply(Reply::new(
            535,
            "5.7.8",
            format!("Error: authentication failed: {reason}"),
        ))
        .await;
        Next::Continue
    }
}
