//! The names a DNS list is asked about: reversed client addresses (IPv4
//! octets, IPv6 nibbles) and domains (client name, HELO, sender/recipient
//! domain) under the list's zone.

use std::net::IpAddr;

/// `d.c.b.a.zone` for IPv4, 32 reversed nibbles + `.zone` for IPv6.
/// IPv4-mapped IPv6 addresses are asked as IPv4, like Postfix.
pub fn reversed_address(addr: &str, zone: &str) -> Option<String> {
    let ip: IpAddr = addr.trim().parse().ok()?;
    let ip = match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let mut out = String::with_capacity(72 + zone.len());
    match ip {
        IpAddr::V4(v4) => {
            for o in v4.octets().iter().rev() {
                out.push_str(&o.to_string());
                out.push('.');
            }
        }
        IpAddr::V6(v6) => {
            for b in v6.octets().iter().rev() {
                for nibble in [b & 0x0f, b >> 4] {
                    out.push(char::from_digit(u32::from(nibble), 16)?);
                    out.push('.');
                }
            }
        }
    }
    out.push_str(zone);
    Some(out)
}

/// `domain.zone` when `domain` is a plausible host name (not `unknown`, not
/// an address literal, not empty); Postfix skips the check otherwise.
pub fn domain_under(domain: &str, zone: &str) -> Option<String> {
    let d = domain.trim().trim_end_matches('.');
    if !valid_hostname(d) {
        return None;
    }
    let name = format!("{d}.{zone}");
    (name.len() <= 253).then_some(name)
}

/// A syntactically valid DNS host name with at least one label, none
/// empty or over 63 octets, letters/digits/hyphen/underscore only.
fn valid_hostname(d: &str) -> bool {
    if d.is_empty() || d.eq_ignore_ascii_case("unknown") || d.parse::<IpAddr>().is_ok() {
        return false;
    }
    d.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The domain of an envelope address (after the last `@`), if any.
pub fn address_domain(address: &str) -> Option<&str> {
    let (_, d) = address.rsplit_once('@')?;
    let d = d.trim_start_matches('[').trim_end_matches(']');
    (!d.is_empty()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_reversed() {
        assert_eq!(
            reversed_address("192.0.2.1", "zen.example").as_deref(),
            Some("1.2.0.192.zen.example")
        );
        assert_eq!(
            reversed_address("::ffff:192.0.2.1", "zen.example").as_deref(),
            Some("1.2.0.192.zen.example")
        );
        assert_eq!(reversed_address("not an ip", "zen.example"), None);
    }

    #[test]
    fn ipv6_nibbles() {
        let n = reversed_address("2001:db8::1", "zen.example").unwrap();
        assert_eq!(
            n,
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example"
        );
    }

    #[test]
    fn domains() {
        assert_eq!(
            domain_under("mail.bad.example.", "dbl.example").as_deref(),
            Some("mail.bad.example.dbl.example")
        );
        assert_eq!(domain_under("unknown", "dbl.example"), None);
        assert_eq!(domain_under("192.0.2.1", "dbl.example"), None);
        assert_eq!(domain_under("[192.0.2.1]", "dbl.example"), None);
        assert_eq!(domain_under("a..b", "dbl.example"), None);
        assert_eq!(address_domain("u@Bad.Example"), Some("Bad.Example"));
        assert_eq!(address_domain(""), None);
        assert_eq!(address_domain("user"), None);
    }
}
