//! header_checks(5) actions: the result text of a matching rule, turned into
//! the verdict the host applies.

use mta_sdk::{Reply, Verdict};

/// What a rule's result asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A verdict for the host to apply to this header or line.
    Verdict(Verdict),
    /// DUNNO (and OK, which header_checks always treated as DUNNO): stop
    /// searching the tables for this line and inspect the next.
    Dunno,
    /// Not a header_checks action (the whole result text); Postfix logs
    /// `unknown command in body_checks map: ...` and the line passes.
    Unknown(String),
    /// An action that needs text given none (its name).
    MissingText(String),
}

/// Parse a result such as `REJECT 5.7.1 No thanks`, `PREPEND X-Tag: yes`,
/// `WARN`. Action names are case-insensitive.
pub fn parse(result: &str) -> Action {
    let result = result.trim();
    let (word, rest) = match result.find(char::is_whitespace) {
        Some(i) => (&result[..i], result[i..].trim_start()),
        None => (result, ""),
    };
    let text = (!rest.is_empty()).then(|| rest.to_string());
    let need = |make: fn(String) -> Verdict| match &text {
        Some(t) => Action::Verdict(make(t.clone())),
        None => Action::MissingText(word.to_ascii_uppercase()),
    };
    match word.to_ascii_uppercase().as_str() {
        "REJECT" => Action::Verdict(Verdict::Reject(reply(rest))),
        "DISCARD" => Action::Verdict(Verdict::Discard(text)),
        "HOLD" => Action::Verdict(Verdict::Hold(text)),
        "STRIP" => Action::Verdict(Verdict::Strip(text)),
        "WARN" => Action::Verdict(Verdict::Warn(rest.to_string())),
        "INFO" => Action::Verdict(Verdict::Info(rest.to_string())),
        "PASS" => Action::Verdict(Verdict::Pass),
        "IGNORE" => Action::Verdict(Verdict::Ignore),
        "DUNNO" | "OK" => Action::Dunno,
        "PREPEND" => need(Verdict::Prepend),
        "REPLACE" => need(Verdict::Replace),
        "REDIRECT" => need(Verdict::Redirect),
        "BCC" => need(Verdict::Bcc),
        "FILTER" => need(Verdict::Filter),
        _ => Action::Unknown(result.to_string()),
    }
}

/// REJECT's optional text, which may start with an enhanced status code
/// (Postfix inserts 5.7.1 when it does not; the host does that for us).
fn reply(text: &str) -> Reply {
    let (enhanced, text) = match text.split_once(char::is_whitespace) {
        Some((code, rest)) if is_enhanced(code) => (Some(code.to_string()), rest.trim_start()),
        _ if is_enhanced(text) => (Some(text.to_string()), ""),
        _ => (None, text),
    };
    Reply {
        code: None,
        enhanced,
        text: (!text.is_empty()).then(|| text.to_string()),
    }
}

/// `d.ddd.ddd` with class 4 or 5 (RFC 3463).
fn is_enhanced(s: &str) -> bool {
    let mut parts = s.split('.');
    let class = parts.next().unwrap_or("");
    let rest: Vec<&str> = parts.collect();
    (class == "4" || class == "5")
        && rest.len() == 2
        && rest
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_header_checks_action() {
        let v = |s| match parse(s) {
            Action::Verdict(v) => v,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(
            v("REJECT"),
            Verdict::Reject(Reply {
                code: None,
                enhanced: None,
                text: None
            })
        );
        assert_eq!(v("reject No spam"), Verdict::reject("No spam"));
        assert_eq!(
            v("REJECT 5.7.0 Worm"),
            Verdict::Reject(Reply {
                code: None,
                enhanced: Some("5.7.0".into()),
                text: Some("Worm".into())
            })
        );
        assert_eq!(v("DISCARD"), Verdict::Discard(None));
        assert_eq!(v("DISCARD bye"), Verdict::discard("bye"));
        assert_eq!(v("HOLD check me"), Verdict::hold("check me"));
        assert_eq!(v("STRIP"), Verdict::Strip(None));
        assert_eq!(v("WARN  spaced  text"), Verdict::warn("spaced  text"));
        assert_eq!(v("INFO"), Verdict::info(""));
        assert_eq!(v("PASS trusted"), Verdict::Pass);
        assert_eq!(v("IGNORE"), Verdict::Ignore);
        assert_eq!(v("PREPEND X-Seen: yes"), Verdict::prepend("X-Seen: yes"));
        assert_eq!(
            v("REPLACE Subject: clean"),
            Verdict::replace("Subject: clean")
        );
        assert_eq!(
            v("REDIRECT abuse@example.com"),
            Verdict::redirect("abuse@example.com")
        );
        assert_eq!(
            v("BCC archive@example.com"),
            Verdict::bcc("archive@example.com")
        );
        assert_eq!(
            v("FILTER scan:[127.0.0.1]:10025"),
            Verdict::filter("scan:[127.0.0.1]:10025")
        );
        assert_eq!(parse("DUNNO"), Action::Dunno);
        assert_eq!(parse("ok"), Action::Dunno);
    }

    #[test]
    fn unknown_or_incomplete_actions() {
        assert_eq!(parse("DEFER later"), Action::Unknown("DEFER later".into()));
        assert_eq!(parse("prepend"), Action::MissingText("PREPEND".into()));
        assert_eq!(parse("REDIRECT"), Action::MissingText("REDIRECT".into()));
    }

    #[test]
    fn enhanced_codes() {
        assert!(is_enhanced("5.7.1"));
        assert!(is_enhanced("4.2.100"));
        assert!(!is_enhanced("2.0.0"));
        assert!(!is_enhanced("5.7"));
        assert!(!is_enhanced("5.x.1"));
    }
}
