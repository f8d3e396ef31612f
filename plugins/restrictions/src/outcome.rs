//! The engine's answer for one hook call, before it becomes a WIT verdict.

/// A complete SMTP reply: code, enhanced status code and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Three-digit code.
    pub code: u16,
    /// RFC 3463 enhanced status code, its class matching `code`.
    pub enhanced: String,
    /// One line of text.
    pub text: String,
}

impl Reply {
    /// A reply whose enhanced code is `detail` (e.g. `7.1`) under the class of
    /// `code`, as Postfix fixes up a configured 4xx/5xx code.
    pub fn new(code: u16, detail: &str, text: String) -> Reply {
        Reply {
            code,
            enhanced: format!("{}.{}", code / 100, detail),
            text,
        }
    }

    /// Whether this is a permanent (5xx) reply.
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }

    /// `554 5.7.1 text`, for logs and test messages.
    pub fn line(&self) -> String {
        format!("{} {} {}", self.code, self.enhanced, self.text)
    }
}

/// What the restriction lists decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No decision (every list fell through, or it is not this plugin's stage).
    Dunno,
    /// Explicitly permitted.
    Permit,
    /// Permanent refusal.
    Reject(Reply),
    /// Temporary refusal.
    Defer(Reply),
    /// Defer unless something later rejects (a pending `defer_if_permit`).
    DeferIfPermit(Reply),
    /// Defer if something later rejects (a pending `defer_if_reject`).
    DeferIfReject(Reply),
    /// Access action HOLD.
    Hold(Option<String>),
    /// Access action DISCARD.
    Discard(Option<String>),
    /// Access action FILTER transport:destination.
    Filter(String),
    /// Access action REDIRECT address.
    Redirect(String),
    /// Access action BCC address.
    Bcc(String),
    /// Access action PREPEND header.
    Prepend(String),
    /// The evaluation reached a drop-in plugin named in a list whose answer
    /// the host has not given yet: the host calls that plugin and asks again
    /// with the answer added (see `eval::plugins`).
    Call(String),
}
