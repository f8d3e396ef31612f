//! The right-hand side of an access(5) table: an action, a reply, or a list
//! of restrictions.

/// A parsed access(5) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// OK (and numeric-free `PERMIT`-like acceptance).
    Ok,
    /// DUNNO: as if not found.
    Dunno,
    /// REJECT [text]
    Reject(Option<String>),
    /// DEFER [text]
    Defer(Option<String>),
    /// DEFER_IF_PERMIT [text]
    DeferIfPermit(Option<String>),
    /// DEFER_IF_REJECT [text]
    DeferIfReject(Option<String>),
    /// `4NN text` / `5NN text`
    Code(u16, Option<String>),
    /// HOLD [text]
    Hold(Option<String>),
    /// DISCARD [text]
    Discard(Option<String>),
    /// WARN text
    Warn(String),
    /// INFO text
    Info(String),
    /// FILTER transport:destination
    Filter(String),
    /// REDIRECT address
    Redirect(String),
    /// BCC address
    Bcc(String),
    /// PREPEND header: value
    Prepend(String),
    /// Anything else: a restriction list (or a class name).
    Restrictions(String),
}

fn rest(value: &str, keyword_len: usize) -> Option<String> {
    let text = value[keyword_len..].trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// Parse one value. Keywords are case-insensitive as in Postfix.
pub fn parse(value: &str) -> Action {
    let value = value.trim();
    let word = value
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("");
    let upper = word.to_ascii_uppercase();
    let tail = || rest(value, word.len());
    let bytes = word.as_bytes();
    if bytes.len() == 3
        && (bytes[0] == b'4' || bytes[0] == b'5')
        && bytes[1].is_ascii_digit()
        && bytes[2].is_ascii_digit()
    {
        let code = word.parse().unwrap_or(451);
        return Action::Code(code, tail());
    }
    match upper.as_str() {
        "OK" => Action::Ok,
        "DUNNO" => Action::Dunno,
        "REJECT" if word == "REJECT" || tail().is_some() => Action::Reject(tail()),
        "DEFER" if word == "DEFER" || tail().is_some() => Action::Defer(tail()),
        "DEFER_IF_PERMIT" if word == "DEFER_IF_PERMIT" || tail().is_some() => {
            Action::DeferIfPermit(tail())
        }
        "DEFER_IF_REJECT" if word == "DEFER_IF_REJECT" || tail().is_some() => {
            Action::DeferIfReject(tail())
        }
        "HOLD" => Action::Hold(tail()),
        "DISCARD" => Action::Discard(tail()),
        "WARN" => Action::Warn(tail().unwrap_or_default()),
        "INFO" => Action::Info(tail().unwrap_or_default()),
        "FILTER" => Action::Filter(tail().unwrap_or_default()),
        "REDIRECT" => Action::Redirect(tail().unwrap_or_default()),
        "BCC" => Action::Bcc(tail().unwrap_or_default()),
        "PREPEND" => Action::Prepend(tail().unwrap_or_default()),
        // Lower-case `reject`, `defer`... alone are restriction names: the
        // value is a restriction list, evaluated in place (Postfix does the same).
        _ => Action::Restrictions(value.to_string()),
    }
}

/// Split a leading RFC 3463 code (`5.7.0 text`) off reply text.
pub fn split_enhanced(text: &str) -> (Option<&str>, &str) {
    let mut parts = text.splitn(2, char::is_whitespace);
    let head = parts.next().unwrap_or("");
    let pieces: Vec<&str> = head.split('.').collect();
    let is_code = pieces.len() == 3
        && (pieces[0] == "4" || pieces[0] == "5" || pieces[0] == "2")
        && pieces[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    if is_code {
        (Some(head), parts.next().unwrap_or("").trim_start())
    } else {
        (None, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions() {
        assert_eq!(parse("OK"), Action::Ok);
        assert_eq!(parse("ok"), Action::Ok);
        assert_eq!(parse("REJECT"), Action::Reject(None));
        assert_eq!(
            parse("REJECT go away"),
            Action::Reject(Some("go away".into()))
        );
        assert_eq!(
            parse("450 try later"),
            Action::Code(450, Some("try later".into()))
        );
        assert_eq!(
            parse("550 5.7.0 custom"),
            Action::Code(550, Some("5.7.0 custom".into()))
        );
        assert_eq!(parse("DUNNO"), Action::Dunno);
        assert_eq!(parse("HOLD"), Action::Hold(None));
        assert_eq!(parse("WARN hello"), Action::Warn("hello".into()));
        assert_eq!(parse("reject"), Action::Restrictions("reject".into()));
        assert_eq!(
            parse("permit_mynetworks, reject"),
            Action::Restrictions("permit_mynetworks, reject".into())
        );
        assert_eq!(
            parse("friends_only"),
            Action::Restrictions("friends_only".into())
        );
    }

    #[test]
    fn enhanced_codes() {
        assert_eq!(
            split_enhanced("5.7.0 custom text"),
            (Some("5.7.0"), "custom text")
        );
        assert_eq!(split_enhanced("custom text"), (None, "custom text"));
        assert_eq!(split_enhanced("5.7 x"), (None, "5.7 x"));
    }
}
