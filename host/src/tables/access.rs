//! access(5) key expansion: which keys a query tries, in order.

use super::{AccessStyle, Query};

/// The keys to try for `query`, first to last. Pattern tables
/// (`whole_only`) get the whole string, as in Postfix.
pub fn keys(query: &Query, whole_only: bool, style: &AccessStyle) -> Vec<String> {
    match query {
        Query::Exact(k) => vec![k.clone()],
        Query::Address(a) if a.is_empty() => {
            let null = if style.null_key.is_empty() {
                "<>"
            } else {
                &style.null_key
            };
            vec![null.to_string()]
        }
        Query::Address(a) if whole_only => vec![a.clone()],
        Query::Address(a) => address_keys(a, style),
        Query::Domain(d) if whole_only => vec![d.clone()],
        Query::Domain(d) => domain_keys(d, style),
        Query::Client { name, address } => {
            let mut out = Vec::new();
            // Postfix looks the name up even when it is `unknown` (checked
            // against Postfix 3.7: a key `unknown` matches clients without
            // a verified name).
            let known = !name.is_empty();
            if whole_only {
                if known {
                    out.push(name.clone());
                }
                out.push(address.clone());
                return out;
            }
            if known {
                out.extend(domain_keys(name, style));
            }
            out.extend(ip_keys(address));
            out
        }
    }
}

/// `user@domain`, (`user@domain` without the extension), the domain and
/// its parents, then `user@` (and `user@` without the extension).
fn address_keys(address: &str, style: &AccessStyle) -> Vec<String> {
    let (user, domain) = match address.rsplit_once('@') {
        Some((u, d)) => (u, Some(d)),
        None => (address, None),
    };
    let base_user = strip_extension(user, &style.recipient_delimiter);
    let mut out = Vec::new();
    let mut push = |k: String| {
        if !out.contains(&k) {
            out.push(k);
        }
    };
    match domain {
        Some(d) => {
            push(format!("{user}@{d}"));
            if let Some(b) = base_user {
                push(format!("{b}@{d}"));
            }
            for k in domain_keys(d, style) {
                push(k);
            }
        }
        // A bare local part is looked up as is.
        None => push(user.to_string()),
    }
    push(format!("{user}@"));
    if let Some(b) = base_user {
        push(format!("{b}@"));
    }
    out
}

/// `user+ext` -> `user` for the first delimiter character found.
fn strip_extension<'a>(user: &'a str, delimiters: &str) -> Option<&'a str> {
    if delimiters.is_empty() {
        return None;
    }
    let pos = user.find(|c: char| delimiters.contains(c))?;
    (pos > 0).then(|| &user[..pos])
}

/// `a.b.c` then parents: `b.c`, `c` when `domain` keys match subdomains,
/// else `.b.c`, `.c` (Postfix's `parent_domain_matches_subdomains`).
fn domain_keys(domain: &str, style: &AccessStyle) -> Vec<String> {
    let domain = domain.trim_end_matches('.');
    let mut out = vec![domain.to_string()];
    if domain.starts_with('[') {
        return out;
    }
    let mut rest = domain;
    while let Some((_, parent)) = rest.split_once('.') {
        if parent.is_empty() {
            break;
        }
        if style.parent_matches_subdomains {
            out.push(parent.to_string());
        } else {
            out.push(format!(".{parent}"));
        }
        rest = parent;
    }
    out
}

/// `1.2.3.4`, `1.2.3`, `1.2`, `1`; IPv6 by `:`-groups, cutting at each
/// colon from the right as Postfix does (`2001:db8::1`, `2001:db8:`,
/// `2001:db8`, `2001`).
fn ip_keys(address: &str) -> Vec<String> {
    let a = address.trim_start_matches('[').trim_end_matches(']');
    let a = a.strip_prefix("ipv6:").unwrap_or(a);
    if a.is_empty() {
        return Vec::new();
    }
    let sep = if a.contains(':') { ':' } else { '.' };
    let mut out = vec![a.to_string()];
    let mut rest = a;
    while let Some((shorter, _)) = rest.rsplit_once(sep) {
        if shorter.is_empty() {
            break;
        }
        out.push(shorter.to_string());
        rest = shorter;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style(parent: bool) -> AccessStyle {
        AccessStyle {
            parent_matches_subdomains: parent,
            recipient_delimiter: "+".into(),
            null_key: "<>".into(),
        }
    }

    #[test]
    fn address_order() {
        assert_eq!(
            keys(
                &Query::Address("Joe+list@mail.example.com".into()),
                false,
                &style(true)
            ),
            vec![
                "Joe+list@mail.example.com",
                "Joe@mail.example.com",
                "mail.example.com",
                "example.com",
                "com",
                "Joe+list@",
                "Joe@"
            ]
        );
        assert_eq!(
            keys(&Query::Address("u@a.b".into()), false, &style(false)),
            vec!["u@a.b", "a.b", ".b", "u@"]
        );
        assert_eq!(
            keys(&Query::Address(String::new()), false, &style(true)),
            vec!["<>"]
        );
        assert_eq!(
            keys(&Query::Address("u@a.b".into()), true, &style(true)),
            vec!["u@a.b"]
        );
    }

    #[test]
    fn client_order() {
        assert_eq!(
            keys(
                &Query::Client {
                    name: "mx.example.com".into(),
                    address: "192.0.2.10".into()
                },
                false,
                &style(true)
            ),
            vec![
                "mx.example.com",
                "example.com",
                "com",
                "192.0.2.10",
                "192.0.2",
                "192.0",
                "192"
            ]
        );
        assert_eq!(
            keys(
                &Query::Client {
                    name: "unknown".into(),
                    address: "2001:db8::1".into()
                },
                false,
                &style(true)
            ),
            vec!["unknown", "2001:db8::1", "2001:db8:", "2001:db8", "2001"]
        );
        assert_eq!(
            keys(
                &Query::Client {
                    name: "h.example".into(),
                    address: "1.2.3.4".into()
                },
                true,
                &style(true)
            ),
            vec!["h.example", "1.2.3.4"]
        );
    }
}
