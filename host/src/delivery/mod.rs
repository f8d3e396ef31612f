//! Delivery agents: smtp (MX, STARTTLS), local (Maildir, mbox, aliases) and
//! bounce (RFC 3464 DSNs). Each agent reports one result per recipient so
//! the queue manager can finish, retry or bounce recipients independently.

pub mod bounce;
pub mod local;

pub mod smtp;
pub mod tls;
pub mod wire;

/// What happened to one recipient (Postfix's `status=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Sent,
    Deferred,
    Bounced,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Deferred => "deferred",
            Status::Bounced => "bounced",
        }
    }

    /// The class of an SMTP reply code: 2xx sent, 5xx bounced, else deferred.
    pub fn from_code(code: u16) -> Status {
        match code / 100 {
            2 => Status::Sent,
            5 => Status::Bounced,
            _ => Status::Deferred,
        }
    }
}

/// One recipient's result from a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcptResult {
    pub status: Status,
    /// Enhanced status code, e.g. `2.0.0`, `5.1.1`.
    pub dsn: String,
    /// `host[addr]:port`, `local` or `none` (Postfix's `relay=`).
    pub relay: String,
    /// Human text for the log's parenthesis and for the DSN.
    pub reason: String,
    /// The remote server's reply, when one exists (for the DSN's
    /// Diagnostic-Code: smtp; ...).
    pub remote_reply: Option<String>,
}

impl RcptResult {
    pub fn new(status: Status, dsn: &str, relay: &str, reason: impl Into<String>) -> RcptResult {
        RcptResult {
            status,
            dsn: dsn.into(),
            relay: relay.into(),
            reason: reason.into(),
            remote_reply: None,
        }
    }
}

/// The enhanced status code at the start of a reply text (`5.1.1 ...`), if any.
pub fn enhanced_code(text: &str) -> Option<String> {
    let tok = text.split_whitespace().next()?;
    let parts: Vec<&str> = tok.split('.').collect();
    let ok = parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    ok.then(|| tok.to_string())
}
