//! Address rewriting inside headers, only for clients in
//! `local_header_rewrite_clients` (Postfix 3.x: mail from outside keeps its
//! headers as sent). Sender headers (From, Sender, Reply-To, Resent-From,
//! …) and recipient headers (To, Cc, Bcc, Resent-To, …) get canonical
//! mapping and masquerading; an unqualified address gets `@$myorigin`
//! (`append_at_myorigin`).
//!
//! As Postfix's cleanup, only the first `header_address_token_limit`
//! address tokens of a header are parsed: addresses past the limit are not
//! rewritten, and a header that is rewritten is rebuilt from the parsed
//! part only (the excess is discarded). A header with nothing to rewrite
//! is kept as it came, whatever its length.

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

/// The start of `v` holding its first `limit` RFC 822 tokens (atoms,
/// quoted strings, comments, domain literals and specials each count one,
/// white space none), as Postfix's tok822 parser counts them; all of `v`
/// when it has no more (or `limit` is 0).
pub fn token_prefix(v: &str, limit: usize) -> &str {
    if limit == 0 {
        return v;
    }
    let b = v.as_bytes();
    let (mut i, mut tokens, mut end) = (0usize, 0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if tokens == limit {
            return &v[..end];
        }
        tokens += 1;
        i = match c {
            b'"' => skip_delimited(b, i, b'"', b'"'),
            b'(' => skip_delimited(b, i, b'(', b')'),
            b'[' => skip_delimited(b, i, b'[', b']'),
            c if is_special(c) => i + 1,
            _ => {
                let mut j = i;
                while j < b.len() && !b[j].is_ascii_whitespace() && !is_special(b[j]) {
                    j += 1;
                }
                j
            }
        };
        end = i;
    }
    v
}

/// RFC 822 specials: each is a token of its own.
fn is_special(c: u8) -> bool {
    b"()<>@,;:\\\".[]".contains(&c)
}

/// The index after a quoted string, comment (nested) or domain literal
/// starting at `start`; backslash quotes the next byte; an unclosed one
/// runs to the end.
fn skip_delimited(b: &[u8], start: usize, open: u8, close: u8) -> usize {
    let (mut i, mut depth) = (start + 1, 1u32);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            c if c == open && open != close => depth += 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

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
    let whole = &raw[colon + 1..];
    let mut value = token_prefix(whole, maps.header_token_limit);
    if value.len() < whole.len() {
        // Cut after a separator: no empty element at the end.
        value = value.trim_end().trim_end_matches(',');
    }
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
        // Nothing rewritten: the header stays whole, past the limit too.
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

    #[test]
    fn tokens_counted_as_postfix_does() {
        let v = " A <a@h.example.com>, \"x, y\" (c (d)) b@[1.2.3.4],c";
        // A < a @ h . example . com > = 10 tokens, the comma 11.
        assert_eq!(token_prefix(v, 10), " A <a@h.example.com>");
        assert_eq!(token_prefix(v, 11), " A <a@h.example.com>,");
        assert_eq!(token_prefix(v, 12), " A <a@h.example.com>, \"x, y\"");
        assert_eq!(
            token_prefix(v, 13),
            " A <a@h.example.com>, \"x, y\" (c (d))"
        );
        assert_eq!(
            token_prefix(v, 16),
            " A <a@h.example.com>, \"x, y\" (c (d)) b@[1.2.3.4]"
        );
        assert_eq!(token_prefix(v, 0), v);
        assert_eq!(token_prefix(v, 100), v);
        assert_eq!(token_prefix("\"unclosed", 1), "\"unclosed");
    }

    #[test]
    fn header_address_token_limit_bounds_what_is_rewritten() {
        let maps = Maps {
            masquerade_domains: vec!["example.com".into()],
            header_token_limit: 16,
            ..Maps::default()
        };
        // 8 tokens per address: u N @ h . example . com , -> the first two.
        let list: Vec<String> = (0..5).map(|i| format!("u{i}@h.example.com")).collect();
        let h = HeaderLine::from_text(&format!("To: {}", list.join(", ")));
        let new = rewrite(&h, &maps, "example.com").expect("rewritten");
        assert_eq!(
            String::from_utf8(new.raw).unwrap(),
            "To: u0@example.com, u1@example.com"
        );
        // Nothing to rewrite in the parsed part: the header stays whole.
        let list: Vec<String> = (0..5).map(|i| format!("u{i}@other.org")).collect();
        let text = format!("To: {}", list.join(", "));
        assert!(rewrite(&HeaderLine::from_text(&text), &maps, "example.com").is_none());
    }
}
