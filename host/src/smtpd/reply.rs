//! SMTP replies: a code, an enhanced status code and text, written exactly as
//! Postfix writes them, and the mapping from a stage `Decision` to a reply.

use crate::stages::{Reply as VerdictReply, Verdict};

/// One SMTP reply. `enhanced` is `None` only for the few replies Postfix
/// itself sends without an enhanced code (HELO/EHLO/ETRN syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub enhanced: Option<String>,
    pub text: String,
}

impl Reply {
    /// A reply with an enhanced status code.
    pub fn new(code: u16, enhanced: &str, text: impl Into<String>) -> Reply {
        Reply {
            code,
            enhanced: Some(enhanced.to_string()),
            text: text.into(),
        }
    }

    /// A reply without an enhanced status code (as Postfix sends for a few commands).
    pub fn bare(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            enhanced: None,
            text: text.into(),
        }
    }

    /// 2xx or 3xx: the command was accepted.
    pub fn is_positive(&self) -> bool {
        self.code < 400
    }

    /// The reply as it goes on the wire, CRLF-terminated; text holding
    /// several lines becomes a multi-line reply. Control characters in the
    /// text (which may come from a plugin) are replaced so a reply can never
    /// inject a second reply line.
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let lines: Vec<&str> = self.text.split('\n').collect();
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            let clean: String = line
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            let s = match &self.enhanced {
                Some(e) => format!("{}{}{} {}\r\n", self.code, sep, e, clean),
                None => format!("{}{}{}\r\n", self.code, sep, clean),
            };
            out.extend_from_slice(s.as_bytes());
        }
        out
    }

    /// The reply as a log fragment (`554 5.7.1 text`), one line.
    pub fn to_log(&self) -> String {
        match &self.enhanced {
            Some(e) => format!("{} {} {}", self.code, e, self.text.replace('\n', " ")),
            None => format!("{} {}", self.code, self.text.replace('\n', " ")),
        }
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_log())
    }
}

/// What a reject/defer verdict becomes, filling in Postfix's defaults:
/// access(5) REJECT is `554 5.7.1`, DEFER `450 4.7.1`; an explicit code
/// keeps its class, and an enhanced code of the wrong class is corrected the
/// way Postfix does (first digit follows the reply code).
pub fn from_verdict_reply(r: &VerdictReply, default_code: u16, default_text: &str) -> Reply {
    let code = match r.code {
        Some(c) if (400..600).contains(&c) => c,
        _ => default_code,
    };
    let class = if code >= 500 { '5' } else { '4' };
    let enhanced = match &r.enhanced {
        Some(e) if valid_enhanced(e) => format!("{class}{}", &e[1..]),
        _ => format!("{class}.7.1"),
    };
    let text = match &r.text {
        Some(t) if !t.trim().is_empty() => t.clone(),
        _ => default_text.to_string(),
    };
    Reply {
        code,
        enhanced: Some(enhanced),
        text,
    }
}

/// `X.Y.Z` with digits; X is 2, 4 or 5.
fn valid_enhanced(e: &str) -> bool {
    let parts: Vec<&str> = e.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The reply a refusing verdict asks for, or `None` when the verdict lets the
/// command through (`Dunno`, `Ok` and the non-refusing actions).
pub fn refusal(verdict: &Verdict) -> Option<Reply> {
    match verdict {
        Verdict::Reject(r) => Some(from_verdict_reply(r, 554, "Access denied")),
        Verdict::Defer(r) | Verdict::DeferIfPermit(r) | Verdict::DeferIfReject(r) => {
            Some(from_verdict_reply(r, 450, "Service unavailable"))
        }
        _ => None,
    }
}

/// Text a peer chose (a HELO name, what the auth server says) on its way
/// into replies, plugin facts and log lines: control characters become `?`,
/// as Postfix's `printable()` makes them (a CR/LF would forge a reply line,
/// an ESC a terminal escape in the log).
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_and_injection() {
        let r = Reply::new(250, "2.0.0", "a\nb");
        assert_eq!(r.to_wire(), b"250-2.0.0 a\r\n250 2.0.0 b\r\n");
        let r = Reply::new(550, "5.7.1", "x\r250 ok");
        assert_eq!(r.to_wire(), b"550 5.7.1 x 250 ok\r\n");
        assert_eq!(
            Reply::bare(501, "Syntax: HELO hostname").to_wire(),
            b"501 Syntax: HELO hostname\r\n"
        );
    }

    #[test]
    fn verdict_defaults() {
        let r = refusal(&Verdict::Reject(VerdictReply::default())).unwrap();
        assert_eq!(r.to_log(), "554 5.7.1 Access denied");
        let r = refusal(&Verdict::Defer(VerdictReply {
            text: Some("later".into()),
            ..Default::default()
        }))
        .unwrap();
        assert_eq!(r.to_log(), "450 4.7.1 later");
        let r = refusal(&Verdict::Reject(VerdictReply {
            code: Some(450),
            enhanced: Some("5.1.1".into()),
            text: Some("t".into()),
        }))
        .unwrap();
        assert_eq!(r.to_log(), "450 4.1.1 t");
        assert!(refusal(&Verdict::Ok).is_none());
    }
}
