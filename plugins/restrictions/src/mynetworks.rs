//! `mynetworks` as a Postfix match list: CIDR blocks and addresses matched
//! here, `type:name` tables through `lookup`, host and domain names against
//! the client name, `!` negating an entry.
//!
//! WHY match CIDRs in the guest: it is pure arithmetic on data we already
//! hold, and it keeps `permit_mynetworks` free of host calls on the hot path.

use std::net::IpAddr;

/// A network block (the SDK's one parser, shared with the host).
pub use mta_sdk::net::Cidr;

/// One mynetworks entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// An address block.
    Cidr(Cidr),
    /// A lookup table queried with the client.
    Table(String),
    /// A host name, or a domain whose subdomains match too.
    Name(String),
}

/// The parsed match list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mynetworks {
    /// Entries in order, each with its negation flag.
    pub entries: Vec<(bool, Entry)>,
}

impl Mynetworks {
    /// Parse the expanded value of `mynetworks`.
    pub fn parse(value: &str) -> Result<Mynetworks, String> {
        let mut entries = Vec::new();
        for token in crate::restriction::tokenize(value).map_err(|e| format!("mynetworks: {e}"))? {
            let (negated, body) = match token.strip_prefix('!') {
                Some(rest) => (true, rest.to_string()),
                None => (false, token.clone()),
            };
            let entry = if body.starts_with('/') {
                return Err(format!(
                    "mynetworks: file \"{body}\" cannot be read inside the sandbox; \
                     use a cidr:{body} table instead"
                ));
            } else if body.contains(':') && !looks_like_address(&body) {
                Entry::Table(body)
            } else if looks_like_address(&body) {
                Entry::Cidr(Cidr::parse(&body).map_err(|e| format!("mynetworks: {e}"))?)
            } else {
                Entry::Name(body.trim_start_matches('.').to_ascii_lowercase())
            };
            entries.push((negated, entry));
        }
        Ok(Mynetworks { entries })
    }

    /// The tables this list needs granted.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|(_, e)| match e {
            Entry::Table(t) => Some(t.as_str()),
            _ => None,
        })
    }

    /// Whether any entry covers all addresses of a family.
    pub fn covers_everything(&self) -> bool {
        self.entries
            .iter()
            .any(|(neg, e)| !neg && matches!(e, Entry::Cidr(c) if c.is_everything()))
    }
}

/// Bracketed, contains a digit-dot-digit IPv4 shape, or parses as IPv6.
fn looks_like_address(text: &str) -> bool {
    if text.starts_with('[') {
        return true;
    }
    let head = text.split('/').next().unwrap_or(text);
    head.parse::<IpAddr>().is_ok()
}

/// Does `name` equal `domain` or sit below it (parent_domain_matches_subdomains
/// includes mynetworks by default)?
pub fn name_matches(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == domain || name.ends_with(&format!(".{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn cidr_matching() {
        let net = Cidr::parse("192.168.1.0/24").expect("valid");
        assert!(net.contains(ip("192.168.1.77")));
        assert!(!net.contains(ip("192.168.2.1")));
        assert!(
            net.contains(ip("::ffff:192.168.1.5")),
            "mapped v4 matches v4 blocks"
        );
        let v6 = Cidr::parse("[2001:db8::]/32").expect("valid");
        assert!(v6.contains(ip("2001:db8:1::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("127.0.0.1")
            .expect("host")
            .contains(ip("127.0.0.1")));
        assert!(!Cidr::parse("127.0.0.1")
            .expect("host")
            .contains(ip("127.0.0.2")));
    }

    #[test]
    fn bad_entries_are_named() {
        assert!(Cidr::parse("10.0.0.1/8").unwrap_err().contains("host bits"));
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("prefix"));
        // The seed howtos lost the address inside the brackets: refuse it clearly.
        let err = Mynetworks::parse("[::ffff:]/104 [::1]/128").unwrap_err();
        assert!(err.contains("[::ffff:]/104"), "{err}");
        assert!(Mynetworks::parse("/etc/postfix/network")
            .unwrap_err()
            .contains("cidr:"));
    }

    #[test]
    fn mixed_list() {
        let m = Mynetworks::parse("!192.168.1.13, 192.168.1.0/24 127.0.0.0/8, [::1]/128, cidr:/etc/postfix/nets, .example.net")
            .expect("valid list");
        assert_eq!(m.entries.len(), 6);
        assert!(m.entries[0].0, "first entry negated");
        assert_eq!(
            m.tables().collect::<Vec<_>>(),
            vec!["cidr:/etc/postfix/nets"]
        );
        assert!(!m.covers_everything());
        assert!(Mynetworks::parse("0.0.0.0/0")
            .expect("valid")
            .covers_everything());
        assert!(Mynetworks::parse("[::ffff:0:0]/96")
            .expect("valid")
            .covers_everything());
        assert!(!Mynetworks::parse("[::ffff:127.0.0.0]/104")
            .expect("valid")
            .covers_everything());
        assert!(name_matches("mx.mail.example.net", "example.net"));
        assert!(!name_matches("badexample.net", "example.net"));
    }
}
