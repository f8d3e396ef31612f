//! `default_rbl_reply` / `rbl_reply_maps` templates: one level of `$name`
//! expansion with Postfix's conditionals, then the leading SMTP code and
//! optional enhanced status code split off.

/// A finished SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    pub code: u16,
    pub enhanced: String,
    pub text: String,
}

/// Longest text kept: an SMTP reply line is at most 512 octets with the code.
const MAX_TEXT: usize = 450;

/// Expand `$name`, `${name}`, `$(name)`, `${name?value}`, `${name:value}`,
/// `${name?{a}:{b}}` with `vars`. Unknown names expand to nothing, as in
/// Postfix. Values are inserted as given (never expanded again), so text
/// from DNS cannot inject further expansions.
pub fn expand(template: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let b = template.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            let ch_len = utf8_len(b[i]);
            out.push_str(&template[i..(i + ch_len).min(b.len())]);
            i += ch_len;
            continue;
        }
        // `$$` is a literal dollar.
        if b.get(i + 1) == Some(&b'$') {
            out.push('$');
            i += 2;
            continue;
        }
        match b.get(i + 1) {
            Some(&open @ (b'{' | b'(')) => {
                let close = if open == b'{' { b'}' } else { b')' };
                let Some(end) = matching(b, i + 1, open, close) else {
                    out.push_str(&template[i..]);
                    break;
                };
                let inner = &template[i + 2..end];
                out.push_str(&expand_braced(inner, vars));
                i = end + 1;
            }
            _ => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if j == start {
                    out.push('$');
                    i += 1;
                    continue;
                }
                out.push_str(&vars(&template[start..j]).unwrap_or_default());
                i = j;
            }
        }
    }
    out
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

/// Index of the bracket closing the one at `open_at`, counting nesting.
fn matching(b: &[u8], open_at: usize, open: u8, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().skip(open_at) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// The inside of `${...}`: a name, optionally `?value`, `:value`, or
/// `?{a}:{b}`.
fn expand_braced(inner: &str, vars: &dyn Fn(&str) -> Option<String>) -> String {
    let name_end = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let name = &inner[..name_end];
    let value = vars(name).unwrap_or_default();
    let rest = &inner[name_end..];
    let Some(op) = rest.chars().next() else {
        return value;
    };
    let arg = &rest[1..];
    let (when_set, when_empty) = match op {
        '?' => match split_alternatives(arg) {
            Some((a, b)) => (a, Some(b)),
            None => (unbrace(arg), None),
        },
        ':' => {
            return if value.is_empty() {
                expand(unbrace(arg), vars)
            } else {
                String::new()
            }
        }
        _ => return value,
    };
    if !value.is_empty() {
        expand(when_set, vars)
    } else {
        when_empty.map(|e| expand(e, vars)).unwrap_or_default()
    }
}

/// `{a}:{b}` → (a, b).
fn split_alternatives(arg: &str) -> Option<(&str, &str)> {
    let b = arg.as_bytes();
    if b.first() != Some(&b'{') {
        return None;
    }
    let end = matching(b, 0, b'{', b'}')?;
    let rest = arg[end + 1..].strip_prefix(':')?;
    if !rest.starts_with('{') || !rest.ends_with('}') {
        return None;
    }
    Some((&arg[1..end], &rest[1..rest.len() - 1]))
}

fn unbrace(s: &str) -> &str {
    s.strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(s)
}

/// Text from the network made safe for a reply line: control characters
/// (CR and LF above all) become `?`, like Postfix's printable().
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Split `554 5.7.1 text` (enhanced code optional). The enhanced code's
/// class follows the reply code's, and a missing one becomes `X.7.1`, as
/// Postfix does for DNS-list rejects.
pub fn parse(expanded: &str) -> Result<SmtpReply, String> {
    let s = expanded.trim();
    let code_str = s
        .get(..3)
        .ok_or_else(|| format!("reply {s:?} has no SMTP code"))?;
    let code: u16 = code_str
        .parse()
        .ok()
        .filter(|c| (400..600).contains(c))
        .ok_or_else(|| format!("reply {s:?} does not start with a 4xx or 5xx code"))?;
    let rest = &s[3..];
    if !rest.is_empty() && !rest.starts_with([' ', '-']) {
        return Err(format!("reply {s:?} does not start with a 3-digit code"));
    }
    let rest = rest.trim_start_matches(['-', ' ']);
    let class = if code >= 500 { '5' } else { '4' };
    let (enhanced, text) = match rest.split_once(' ').unwrap_or((rest, "")) {
        (first, tail) if is_enhanced(first) => (format!("{class}{}", &first[1..]), tail),
        _ => (format!("{class}.7.1"), rest),
    };
    let mut text = text.trim().to_string();
    if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    Ok(SmtpReply {
        code,
        enhanced,
        text,
    })
}

fn is_enhanced(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && matches!(parts[0], "2" | "4" | "5")
        && parts[1..]
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str =
        "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}";

    fn vars(reason: &'static str) -> impl Fn(&str) -> Option<String> {
        move |n| {
            Some(
                match n {
                    "rbl_code" => "554",
                    "rbl_class" => "Client host",
                    "rbl_what" => "192.0.2.1",
                    "rbl_domain" => "zen.example",
                    "rbl_reason" => reason,
                    _ => return None,
                }
                .to_string(),
            )
        }
    }

    #[test]
    fn default_template_with_and_without_reason() {
        let v = vars("see http://zen.example/?192.0.2.1");
        let r = parse(&expand(DEFAULT, &v)).unwrap();
        assert_eq!(r.code, 554);
        assert_eq!(r.enhanced, "5.7.1");
        assert_eq!(
            r.text,
            "Service unavailable; Client host [192.0.2.1] blocked using zen.example; see http://zen.example/?192.0.2.1"
        );
        let v = vars("");
        let r = parse(&expand(DEFAULT, &v)).unwrap();
        assert_eq!(
            r.text,
            "Service unavailable; Client host [192.0.2.1] blocked using zen.example"
        );
    }

    #[test]
    fn conditionals_and_forms() {
        let v = vars("");
        assert_eq!(expand("${rbl_reason:none}", &v), "none");
        assert_eq!(expand("${rbl_domain?{yes}:{no}}", &v), "yes");
        assert_eq!(expand("${rbl_reason?{yes}:{no}}", &v), "no");
        assert_eq!(
            expand("$(rbl_domain)/${rbl_domain}/$$/$unknown.", &v),
            "zen.example/zen.example/$/."
        );
        // A value is never expanded again.
        let v = |n: &str| (n == "rbl_reason").then(|| "$rbl_domain".to_string());
        assert_eq!(expand("$rbl_reason", &v), "$rbl_domain");
    }

    #[test]
    fn codes() {
        let r = parse("450 4.7.1 try later").unwrap();
        assert_eq!(
            (r.code, r.enhanced.as_str(), r.text.as_str()),
            (450, "4.7.1", "try later")
        );
        // class follows the code
        let r = parse("450 5.7.1 x").unwrap();
        assert_eq!(r.enhanced, "4.7.1");
        assert!(parse("Service unavailable").is_err());
        assert!(parse("250 ok").is_err());
        assert!(parse("5541 x").is_err());
        assert_eq!(printable("a\r\nb\u{7}"), "a??b?");
    }
}
