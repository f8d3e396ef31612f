//! Address rewriting inside headers, only for clients in
//! `local_header_rewrite_clients` (Postfix 3.x: mail from outside keeps its
//! headers as sent). Sender headers (From, Sender, Reply-To, Resent-From,
//! …) and recipient headers (To, Cc, Bcc, Resent-To, …) get canonical
//! mapping and masquerading; an unqualified address gets `@$myorigin`
//! (`append_at_myorigin`).

use super::headers::HeaderLine;
use super::rewrite::Maps;

const SENDER: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "errors-to",
    "resent-from",
    "resent-sender",
    "resent-reply-to",
];
const RECIPIENT: &[&str] = &[
    "to",
    "cc",
    "bcc",
    "apparently-to",
    "resent-to",
    "resent-cc",
    "resent-bcc",
];

/// Split a header value at commas outside quotes, angle brackets and comments.
fn split_list(v: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut quoted, mut angle, mut paren, mut esc) = (false, false, 0u32, false);
    let mut start = 0;
    for (i, c) in v.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' => esc = true,
            '"' if paren == 0 => quoted = !quoted,
            '<' if !quoted && paren == 0 => angle = true,
            '>' if !quoted && paren == 0 => angle = false,
            '(' if !quoted => paren += 1,
            ')' if !quoted && paren > 0 => paren -= 1,
            ',' if !quoted && !angle && paren == 0 => {
                out.push(&v[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&v[start..]);
    out
}

/// Rewrite the address in one list element, keeping phrase and comments.
fn rewrite_element(el: &str, f: &dyn Fn(&str) -> String) -> String {
    if let (Some(a), Some(b)) = (el.rfind('<'), el.rfind('>')) {
        if a < b {
            let inner = &el[a + 1..b];
            if inner.is_empty() {
                return el.to_string();
            }
            return format!("{}<{}>{}", &el[..a], f(inner), &el[b + 1..]);
        }
        return el.to_string();
    }
    // A bare addr-spec, possibly followed by a (comment).
    let lead = el.len() - el.trim_start().len();
    let body = el.trim_start();
    let end = body
        .find([' ', '\t', '(', '\r', '\n'])
        .unwrap_or(body.len());
    let addr = &body[..end];
    if addr.is_empty() || addr.contains([':', ';', '"', '<', '>']) {
        return el.to_string();
    }
    format!("{}{}{}", &el[..lead], f(addr), &body[end..])
}

/// The header with its addresses rewritten, or `None` when it is not an
/// address header or nothing changed.
pub fn rewrite(h: &HeaderLine, maps: &Maps, myorigin: &str) -> Option<HeaderLine> {
    let lname = h.name.to_ascii_lowercase();
    let sender = SENDER.contains(&lname.as_str());
    if !sender && !RECIPIENT.contains(&lname.as_str()) {
        return None;
    }
    let raw = std::str::from_utf8(&h.raw).ok()?;
    let colon = raw.find(':')?;
    let value = &raw[colon + 1..];
    let f = |a: &str| -> String {
        let qualified = if a.contains('@') || myorigin.is_empty() {
            a.to_string()
        } else {
            format!("{a}@{myorigin}")
        };
        let r = if sender {
            maps.header_sender(&qualified)
        } else {
            maps.header_recipient(&qualified)
        };
        r.unwrap_or(qualified)
    };
    let new_value: Vec<String> = split_list(value)
        .into_iter()
        .map(|el| rewrite_element(el, &f))
        .collect();
    let new_value = new_value.join(",");
    if new_value == value {
        return None;
    }
    Some(HeaderLine {
        name: h.name.clone(),
        raw: format!("{}:{new_value}", &raw[..colon]).into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> Maps {
        Maps {
            masquerade_domains: vec!["example.com".into()],
            ..Maps::default()
        }
    }

    fn rw(text: &str) -> String {
        let h = HeaderLine::from_text(text);
        rewrite(&h, &maps(), "origin.example.com")
            .map(|h| String::from_utf8(h.raw).unwrap())
            .unwrap_or_else(|| text.to_string())
    }

    #[test]
    fn headers() {
        assert_eq!(
            rw("From: Joe <joe@host.example.com>"),
            "From: Joe <joe@example.com>"
        );
        assert_eq!(
            rw("To: a@h.example.com (Ann), \"Doe, Bob\" <bob@x.example.org>, carol"),
            "To: a@example.com (Ann), \"Doe, Bob\" <bob@x.example.org>, carol@example.com"
        );
        assert_eq!(
            rw("Subject: joe@host.example.com"),
            "Subject: joe@host.example.com"
        );
        assert_eq!(
            rw("To: undisclosed-recipients:;"),
            "To: undisclosed-recipients:;"
        );
        assert_eq!(rw("From: <>"), "From: <>");
    }
}
