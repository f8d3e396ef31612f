//! Host-name and address syntax checks, after Postfix's valid_hostname(),
//! valid_hostaddr() and the FQDN rules of reject_non_fqdn_*.

use std::net::{IpAddr, Ipv6Addr};

/// Whether `name` is an address literal (`[1.2.3.4]`, `[IPv6:...]`).
pub fn is_literal(name: &str) -> bool {
    name.starts_with('[') && name.ends_with(']')
}

/// Whether an address literal holds a valid address.
pub fn valid_literal(name: &str) -> bool {
    let inner = &name[1..name.len().saturating_sub(1).max(1)];
    if let Some(v6) = inner
        .strip_prefix("IPv6:")
        .or_else(|| inner.strip_prefix("ipv6:"))
    {
        return v6.parse::<Ipv6Addr>().is_ok();
    }
    inner.parse::<IpAddr>().is_ok()
}

/// valid_hostname(): labels of letters, digits, `-` and `_`, no label
/// starting or ending with `-`, at most 63 bytes a label and 255 in all, and
/// not all-numeric (that would be an address, not a name).
pub fn valid_hostname(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 255 {
        return false;
    }
    let mut all_numeric = true;
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return false;
        }
        if label.starts_with('-') || label.ends_with('-') {
            return false;
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return false;
        }
        if !label.bytes().all(|b| b.is_ascii_digit()) {
            all_numeric = false;
        }
    }
    !all_numeric
}

/// What reject_invalid_helo_hostname accepts: a valid name, a bare address,
/// or a valid address literal.
pub fn valid_helo(name: &str) -> bool {
    invalid_helo_reason(name).is_none()
}

/// Why reject_invalid_helo_hostname refuses a name, in Postfix's words:
/// `invalid ip address` for a bad literal, `Invalid name` otherwise.
pub fn invalid_helo_reason(name: &str) -> Option<&'static str> {
    if is_literal(name) {
        return (!valid_literal(name)).then_some("invalid ip address");
    }
    (!valid_hostname(name) && name.parse::<IpAddr>().is_err()).then_some("Invalid name")
}

/// reject_non_fqdn_helo_hostname: a literal passes, otherwise a valid name
/// with at least one dot; a bare address is not a name (the reference
/// Postfix answered 504 to `HELO 1.2.3.4`).
pub fn fqdn_helo(name: &str) -> bool {
    if is_literal(name) {
        return true;
    }
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    trimmed.contains('.') && valid_hostname(trimmed)
}

/// The domain of an address, if it has one.
pub fn domain_of(address: &str) -> Option<&str> {
    address
        .rsplit_once('@')
        .map(|(_, d)| d)
        .filter(|d| !d.is_empty())
}

/// reject_non_fqdn_sender/recipient: the address has a domain that is a
/// literal, a dotted valid name, or (as the reference Postfix accepted for
/// `a@1.2.3.4`) a bare address.
pub fn fqdn_address(address: &str) -> bool {
    match domain_of(address) {
        None => false,
        Some(d) if is_literal(d) => true,
        Some(d) => {
            let trimmed = d.strip_suffix('.').unwrap_or(d);
            fqdn_helo(d) || trimmed.parse::<std::net::Ipv4Addr>().is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helo_names() {
        assert!(valid_helo("mail.example.com"));
        assert!(valid_helo("nodots"));
        assert!(valid_helo("[192.0.2.1]"));
        assert!(valid_helo("[IPv6:2001:db8::1]"));
        assert!(valid_helo("192.0.2.1"));
        assert!(valid_helo("under_score.example"));
        assert!(!valid_helo("bad_helo!"));
        assert!(!valid_helo("-lead.example"));
        assert!(!valid_helo("[300.1.1.1]"));
        assert!(!valid_helo("a..b"));
        assert!(!valid_helo(&format!("{}.com", "a".repeat(64))));
        assert!(fqdn_helo("mail.example.com"));
        assert!(fqdn_helo("mail.example.com."));
        assert!(fqdn_helo("[192.0.2.1]"));
        assert!(!fqdn_helo("nodots"));
        assert!(!fqdn_helo("bad!.example"));
        assert!(!fqdn_helo("1.2.3.4"), "a bare address is not a name");
        assert!(fqdn_helo("mail.123"));
        assert_eq!(
            invalid_helo_reason("[300.1.1.1]"),
            Some("invalid ip address")
        );
        assert_eq!(
            invalid_helo_reason("-lead.example.com"),
            Some("Invalid name")
        );
        assert_eq!(invalid_helo_reason("1.2.3.4"), None);
    }

    #[test]
    fn addresses() {
        assert!(fqdn_address("a@b.example"));
        assert!(fqdn_address("a@[192.0.2.1]"));
        assert!(!fqdn_address("nofqdn"));
        assert!(!fqdn_address("x@nofqdn"));
        assert!(!fqdn_address("x@"));
        assert!(fqdn_address("a@1.2.3.4"));
        assert!(fqdn_address("a@b.c."));
        assert!(!fqdn_address("a@b."));
        assert_eq!(domain_of("a@b@c.example"), Some("c.example"));
    }
}
