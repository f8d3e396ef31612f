//! `$name` expansion in parameter values, as Postfix's mac_expand().
//!
//! Forms: `$name`, `${name}`, `$(name)`, `${name?text}` (text when name is
//! non-empty), `${name:text}` (text when name is empty), `${name?{a}:{b}}`,
//! and `$$` for a literal `$`. Unknown names expand to nothing.

/// How deep `$a` -> `$b` -> ... may go before expansion stops (loops).
const MAX_DEPTH: usize = 30;

/// Expand `value`, reading other parameters' raw values through `raw`.
pub fn expand(value: &str, raw: &dyn Fn(&str) -> Option<String>) -> String {
    expand_depth(value, raw, 0)
}

fn expand_depth(value: &str, raw: &dyn Fn(&str) -> Option<String>, depth: usize) -> String {
    if depth > MAX_DEPTH || !value.contains('$') {
        return value.to_string();
    }
    let lookup = |name: &str| -> String {
        raw(name)
            .map(|v| expand_depth(&v, raw, depth + 1))
            .unwrap_or_default()
    };
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        if let Some((inner, used)) = bracketed(after) {
            out.push_str(&conditional(inner, &lookup, raw, depth));
            rest = &after[used..];
            continue;
        }
        let n = name_len(after);
        if n == 0 {
            out.push('$');
            rest = after;
            continue;
        }
        out.push_str(&lookup(&after[..n]));
        rest = &after[n..];
    }
    out.push_str(rest);
    out
}

/// `name`, `name?text`, `name:text`, `name?{a}:{b}` inside `${...}`.
fn conditional(
    inner: &str,
    lookup: &dyn Fn(&str) -> String,
    raw: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> String {
    let n = name_len(inner);
    let (name, op) = inner.split_at(n);
    let op = op.trim_start();
    let value = lookup(name);
    let text = |t: &str| expand_depth(strip_braces(t.trim()), raw, depth + 1);
    if let Some(t) = op.strip_prefix('?') {
        let t = t.trim_start();
        // `{a}:{b}`: both branches.
        if t.starts_with('{') {
            if let Some(close) = matching(t, 0) {
                let a = &t[..=close];
                let b = t[close + 1..].trim_start().strip_prefix(':');
                return match (value.is_empty(), b) {
                    (false, _) => text(a),
                    (true, Some(b)) => text(b),
                    (true, None) => String::new(),
                };
            }
        }
        if value.is_empty() {
            String::new()
        } else {
            text(t)
        }
    } else if let Some(t) = op.strip_prefix(':') {
        if value.is_empty() {
            text(t)
        } else {
            String::new()
        }
    } else {
        value
    }
}

fn strip_braces(t: &str) -> &str {
    t.strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(t)
}

fn name_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// `{...}` or `(...)` at the start: the inside and the bytes consumed.
fn bracketed(s: &str) -> Option<(&str, usize)> {
    match s.as_bytes().first()? {
        b'{' | b'(' => {
            let close = matching(s, 0)?;
            Some((&s[1..close], close + 1))
        }
        _ => None,
    }
}

/// Index of the bracket closing the one at `open`, honouring nesting.
fn matching(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let (o, c) = match b.get(open)? {
        b'{' => (b'{', b'}'),
        b'(' => (b'(', b')'),
        _ => return None,
    };
    let mut depth = 0usize;
    for (i, &ch) in b.iter().enumerate().skip(open) {
        if ch == o {
            depth += 1;
        } else if ch == c {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Names a value refers to with `$name`/`${name}`/`$(name)` (for accepting
/// user-defined parameters that something uses).
pub fn references(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(pos) = rest.find('$') {
        let after = &rest[pos + 1..];
        if let Some(r) = after.strip_prefix('$') {
            rest = r;
            continue;
        }
        let body = after.strip_prefix(['{', '(']).unwrap_or(after);
        let n = name_len(body);
        if n > 0 {
            out.push(body[..n].to_string());
        }
        rest = &body[n..];
    }
    out
}

/// Postfix list syntax, shared with the plugins (see `mta_sdk::params`).
pub use mta_sdk::params::split_list;

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str) -> Option<String> {
        match name {
            "myhostname" => Some("mx.example.com".into()),
            "mydomain" => Some("example.com".into()),
            "mydestination" => Some("$myhostname, localhost.$mydomain, localhost".into()),
            "empty" => Some(String::new()),
            "loop" => Some("x$loop".into()),
            _ => None,
        }
    }

    #[test]
    fn forms() {
        assert_eq!(
            expand("$mydestination", &raw),
            "mx.example.com, localhost.example.com, localhost"
        );
        assert_eq!(
            expand("${mydomain}x $(mydomain)", &raw),
            "example.comx example.com"
        );
        assert_eq!(expand("a${mydomain?yes}b", &raw), "ayesb");
        assert_eq!(expand("a${empty?yes}b", &raw), "ab");
        assert_eq!(
            expand("${empty:fallback $mydomain}", &raw),
            "fallback example.com"
        );
        assert_eq!(expand("${mydomain:fallback}", &raw), "");
        assert_eq!(expand("${mydomain?{a}:{b}} ${empty?{a}:{b}}", &raw), "a b");
        assert_eq!(expand("$$1 $nosuch. $", &raw), "$1 . $");
        assert!(expand("$loop", &raw).starts_with("xxxx"));
    }

    #[test]
    fn lists_keep_braces() {
        assert_eq!(
            split_list("permit_mynetworks,check_client_access inline:{ 1.2.3.4=OK, {5.6.7.8 = REJECT x} }\n reject"),
            vec![
                "permit_mynetworks",
                "check_client_access",
                "inline:{ 1.2.3.4=OK, {5.6.7.8 = REJECT x} }",
                "reject"
            ]
        );
        assert_eq!(references("$a ${b} $(c) $$d"), vec!["a", "b", "c"]);
    }
}
