//! Parsing of the `MAIL FROM:` / `RCPT TO:` argument: the address in angle
//! brackets (quotes and backslash escapes honoured, brackets balanced) and
//! the ESMTP parameters after it. Anything we cannot parse unambiguously is
//! refused: an address the gateway misreads is an address it may misroute.

use crate::stages::EsmtpParam;

/// Why an argument did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddrError {
    /// Not even `FROM:`/`TO:` followed by something.
    Syntax,
    /// The address itself is malformed.
    Address,
    /// A malformed ESMTP parameter (the text is the parameter).
    Param(String),
}

/// Split `FROM:<addr> PARAMS` (`keyword` = `FROM` or `TO`) into the address
/// (without brackets) and its parameters.
pub fn parse_path(arg: &str, keyword: &str) -> Result<(String, Vec<EsmtpParam>), AddrError> {
    let arg = arg.trim_start();
    let kw_len = keyword.len() + 1;
    if arg.len() < kw_len
        || !arg.is_char_boundary(kw_len)
        || !arg[..kw_len].eq_ignore_ascii_case(&format!("{keyword}:"))
    {
        return Err(AddrError::Syntax);
    }
    let rest = arg[kw_len..].trim_start();
    if rest.is_empty() {
        return Err(AddrError::Syntax);
    }
    let (addr, rest) = if let Some(inner) = rest.strip_prefix('<') {
        let close = find_close(inner).ok_or(AddrError::Address)?;
        let after = &inner[close + 1..];
        if !after.is_empty() && !after.starts_with(' ') {
            return Err(AddrError::Address);
        }
        (&inner[..close], after)
    } else {
        // Postfix accepts an address without brackets.
        let end = rest.find(' ').unwrap_or(rest.len());
        let a = &rest[..end];
        if a.contains('<') || a.contains('>') {
            return Err(AddrError::Address);
        }
        (a, &rest[end..])
    };
    let addr = strip_source_route(addr)?;
    if !addr.is_empty() {
        validate(addr)?;
    }
    let mut params = Vec::new();
    for p in rest.split(' ').filter(|s| !s.is_empty()) {
        params.push(parse_param(p)?);
    }
    Ok((addr.to_string(), params))
}

/// Index of the `>` closing the address, skipping quoted strings and
/// escapes; `None` when unbalanced or when a second `<` appears.
fn find_close(s: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => return None,
            '>' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `@a,@b:user@c` → `user@c` (RFC 5321 says to accept and ignore the route).
fn strip_source_route(a: &str) -> Result<&str, AddrError> {
    if let Some(route) = a.strip_prefix('@') {
        let colon = route.find(':').ok_or(AddrError::Address)?;
        let r = &route[colon + 1..];
        if r.is_empty() {
            return Err(AddrError::Address);
        }
        return Ok(r);
    }
    Ok(a)
}

/// The address: printable ASCII, no unquoted spaces, controls or specials,
/// exactly one unquoted `@` with a non-empty domain after it (or none, a bare
/// local part such as `postmaster`).
fn validate(a: &str) -> Result<(), AddrError> {
    if a.len() > 1000 || !a.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(AddrError::Address);
    }
    let mut quoted = false;
    let mut escaped = false;
    let mut at = None;
    for (i, c) in a.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            _ if quoted => {}
            '@' => {
                if at.is_some() {
                    return Err(AddrError::Address);
                }
                at = Some(i);
            }
            ' ' | '<' | '>' | '(' | ')' | ',' | ';' | ':' | '[' | ']' if at.is_none() => {
                return Err(AddrError::Address);
            }
            _ => {}
        }
    }
    if quoted || escaped {
        return Err(AddrError::Address);
    }
    if let Some(i) = at {
        let (local, domain) = (&a[..i], &a[i + 1..]);
        if local.is_empty() || !valid_domain(domain) {
            return Err(AddrError::Address);
        }
    }
    Ok(())
}

fn valid_domain(d: &str) -> bool {
    if let Some(lit) = d.strip_prefix('[') {
        return lit.ends_with(']') && lit.len() > 1 && !lit[..lit.len() - 1].contains(['[', ']']);
    }
    !d.is_empty()
        && !d.starts_with('.')
        && !d.contains("..")
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
}

/// `NAME[=VALUE]` with an esmtp-keyword name and a printable value.
fn parse_param(p: &str) -> Result<EsmtpParam, AddrError> {
    let (name, value) = match p.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (p, None),
    };
    let name_ok = !name.is_empty()
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let value_ok = value
        .is_none_or(|v| !v.is_empty() && v.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'='));
    if !name_ok || !value_ok {
        return Err(AddrError::Param(p.to_string()));
    }
    Ok(EsmtpParam {
        name: name.to_ascii_uppercase(),
        value: value.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        parse_path(s, "FROM").unwrap().0
    }

    #[test]
    fn good() {
        assert_eq!(ok("FROM:<a@b.c>"), "a@b.c");
        assert_eq!(ok("from: <a@b>"), "a@b");
        assert_eq!(ok("FROM:<>"), "");
        assert_eq!(ok("FROM:a@b"), "a@b");
        assert_eq!(ok("FROM:<\"x y\"@b>"), "\"x y\"@b");
        assert_eq!(ok("FROM:<@r1,@r2:u@d>"), "u@d");
        assert_eq!(ok("FROM:<postmaster>"), "postmaster");
        assert_eq!(ok("FROM:<u@[192.0.2.1]>"), "u@[192.0.2.1]");
        let (_, p) = parse_path("FROM:<a@b> SIZE=10 BODY=8BITMIME", "FROM").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "SIZE");
    }

    #[test]
    fn bad() {
        for s in [
            "FROM:<a@b",
            "FROM:<<a@b>>",
            "FROM:<a@@b>",
            "FROM:<a b@c>",
            "FROM:<a@b>x",
            "FROM:<a@>",
            "FROM:<@b>",
            "FROM:<\"a@b>",
            "FROM:<a@b..c>",
            "FROM:<a\u{e9}@b>",
            "FROM:<a\0@b>",
            "FROM:a@b>",
        ] {
            assert_eq!(parse_path(s, "FROM"), Err(AddrError::Address), "{s}");
        }
        assert_eq!(parse_path("FROM:", "FROM"), Err(AddrError::Syntax));
        assert_eq!(parse_path("TO:<a@b>", "FROM"), Err(AddrError::Syntax));
        assert!(matches!(
            parse_path("FROM:<a@b> =x", "FROM"),
            Err(AddrError::Param(_))
        ));
    }
}
