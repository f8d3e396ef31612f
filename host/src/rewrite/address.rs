//! RFC 5321/822 envelope address pieces: source routes, quoted local
//! parts, the `@` that separates the domain.

/// Strip a source route (`@a,@b:user@c` -> `user@c`). Returns the rest and
/// whether a route was present.
pub fn strip_source_route(addr: &str) -> (&str, bool) {
    if !addr.starts_with('@') {
        return (addr, false);
    }
    match addr.find(':') {
        Some(colon) => (&addr[colon + 1..], true),
        None => (addr, false),
    }
}

/// Split at the last `@` outside quotes: (local part as written, domain).
pub fn split(addr: &str) -> Result<(&str, Option<&str>), String> {
    let mut in_quote = false;
    let mut escaped = false;
    let mut at = None;
    for (i, c) in addr.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => in_quote = !in_quote,
            '@' if !in_quote => at = Some(i),
            _ => {}
        }
    }
    if in_quote {
        return Err(format!("<{addr}>: unbalanced quote"));
    }
    Ok(match at {
        Some(i) => (&addr[..i], Some(&addr[i + 1..])),
        None => (addr, None),
    })
}

/// The internal (unquoted) form of a local part: `"u@h"` -> `u@h`,
/// `a\"b` -> `a"b`.
pub fn dequote(local: &str) -> String {
    let mut out = String::with_capacity(local.len());
    let mut escaped = false;
    for c in local.chars() {
        if escaped {
            out.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => {}
            c => out.push(c),
        }
    }
    out
}

/// The external form of a local part: quoted when it contains characters
/// that are special in an address.
pub fn quote(local: &str) -> String {
    let special = |c: char| c.is_whitespace() || "@\"\\,;:<>()[]".contains(c) || c.is_control();
    let dots_ok = !local.starts_with('.') && !local.ends_with('.') && !local.contains("..");
    if !local.is_empty() && dots_ok && !local.chars().any(special) {
        return local.to_string();
    }
    let mut out = String::from("\"");
    for c in local.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces() {
        assert_eq!(strip_source_route("@a,@b:u@c"), ("u@c", true));
        assert_eq!(strip_source_route("u@c"), ("u@c", false));
        assert_eq!(split("\"u@h\"@d").unwrap(), ("\"u@h\"", Some("d")));
        assert_eq!(split("u").unwrap(), ("u", None));
        assert!(split("\"u@d").is_err());
        assert_eq!(dequote("\"u@h\""), "u@h");
        assert_eq!(quote("u@h"), "\"u@h\"");
        assert_eq!(quote("john.doe"), "john.doe");
        assert_eq!(quote("a b"), "\"a b\"");
    }
}
