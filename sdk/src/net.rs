//! Network blocks as Postfix writes them (`192.0.2.0/24`, `[2001:db8::]/32`,
//! a bare address): the one parser behind `mynetworks`, `cidr:` tables,
//! the DNS-list plugin's client lists and `mta check`'s open-relay judgement,
//! and a helper for plugin authors who match client addresses.
//!
//! Pure arithmetic with no host calls, so a guest can use it on its hot path.

use std::net::IpAddr;

/// A network block: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parse `1.2.3.0/24`, `[::1]/128`, `::1`, `[::ffff:1.2.3.4]` or a bare
    /// address (a whole-length prefix). A block with host bits set is refused,
    /// as Postfix refuses it: it is almost always a typo.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let cidr = Cidr::parse_as_written(text)?;
        if cidr.network() != cidr.addr {
            return Err(format!(
                "\"{text}\" has host bits set (did you mean {}/{}?)",
                cidr.network(),
                cidr.prefix
            ));
        }
        Ok(cidr)
    }

    /// Parse as [`Cidr::parse`] does but keep an address with host bits set
    /// as written (for judging what a value covers whatever its form).
    pub fn parse_as_written(text: &str) -> Result<Cidr, String> {
        let (addr_part, prefix_part) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr_part = addr_part
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr_part);
        let addr: IpAddr = addr_part
            .parse()
            .map_err(|_| format!("bad address \"{addr_part}\" in \"{text}\""))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_part {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix length \"{p}\" in \"{text}\""))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// The address as written.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// The block's first address (the written address with host bits cleared).
    pub fn network(&self) -> IpAddr {
        network(self.addr, self.prefix)
    }

    /// Whether `ip` is inside this block, same address family only (as
    /// Postfix's `cidr:` tables match).
    pub fn contains_same_family(&self, ip: IpAddr) -> bool {
        self.addr.is_ipv4() == ip.is_ipv4() && network(ip, self.prefix) == self.network()
    }

    /// Whether `ip` is inside this block. An IPv4-mapped IPv6 client
    /// (`::ffff:1.2.3.4`) matches IPv4 blocks, and an IPv4 client matches
    /// blocks written in the mapped form.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let other = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4),
            IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
        };
        self.contains_same_family(ip) || other.is_some_and(|o| self.contains_same_family(o))
    }

    /// Whether this block covers every address of its family, or every
    /// IPv4-mapped IPv6 address (`::ffff:0:0/96` or wider around it): an
    /// open relay when used as mynetworks.
    pub fn is_everything(&self) -> bool {
        if self.prefix == 0 {
            return true;
        }
        let mapped_any = IpAddr::V6(std::net::Ipv4Addr::UNSPECIFIED.to_ipv6_mapped());
        self.addr.is_ipv6() && self.prefix <= 96 && self.contains_same_family(mapped_any)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}/{}", self.prefix),
            IpAddr::V6(a) => write!(f, "[{a}]/{}", self.prefix),
        }
    }
}

/// `addr` with every bit past `prefix` cleared.
pub fn network(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let p = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - p).unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let p = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - p).unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_postfix_forms() {
        let c = Cidr::parse("192.0.2.0/24").unwrap();
        assert_eq!((c.addr(), c.prefix()), (ip("192.0.2.0"), 24));
        assert_eq!(Cidr::parse("[2001:db8::]/32").unwrap().prefix(), 32);
        assert_eq!(Cidr::parse("::1").unwrap().prefix(), 128);
        assert_eq!(Cidr::parse("[::ffff:1.2.3.4]").unwrap().prefix(), 128);
        assert_eq!(Cidr::parse("10.1.2.3").unwrap().prefix(), 32);
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("hash:/etc/postfix/network_table").is_err());
        assert!(Cidr::parse("mx.example.com").is_err());
        let e = Cidr::parse("10.1.2.3/8").unwrap_err();
        assert!(e.contains("did you mean 10.0.0.0/8"), "{e}");
        let c = Cidr::parse_as_written("10.1.2.3/8").unwrap();
        assert_eq!((c.addr(), c.network()), (ip("10.1.2.3"), ip("10.0.0.0")));
        assert_eq!(c.to_string(), "10.1.2.3/8");
        assert_eq!(Cidr::parse("::/0").unwrap().to_string(), "[::]/0");
    }

    #[test]
    fn contains_and_mapped_clients() {
        let c = Cidr::parse("192.0.2.0/24").unwrap();
        assert!(c.contains(ip("192.0.2.77")));
        assert!(!c.contains(ip("192.0.3.1")));
        assert!(c.contains(ip("::ffff:192.0.2.77")));
        assert!(!c.contains_same_family(ip("::ffff:192.0.2.77")));
        let mapped = Cidr::parse("::ffff:0:0/96").unwrap();
        assert!(mapped.contains(ip("8.8.8.8")));
        assert!(!mapped.contains_same_family(ip("8.8.8.8")));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("203.0.113.1")));
        assert!(!Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("2001:db8::1")));
    }

    #[test]
    fn everything() {
        assert!(Cidr::parse("0.0.0.0/0").unwrap().is_everything());
        assert!(Cidr::parse("[::]/0").unwrap().is_everything());
        assert!(Cidr::parse("[::ffff:0:0]/96").unwrap().is_everything());
        assert!(Cidr::parse("::/80").unwrap().is_everything());
        assert!(!Cidr::parse("[::ffff:0:0]/104").unwrap().is_everything());
        assert!(!Cidr::parse("127.0.0.0/8").unwrap().is_everything());
    }
}
