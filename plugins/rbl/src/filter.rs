//! Result filters of DNS-list entries: `zone=127.0.0.2`,
//! `zone=127.0.0.[2..11]`, `zone=127.0.[0;1].[2;4..6]` (Postfix 2.8+).
//!
//! Lists answer with codes in 127.0.0.0/8 that say *why* an address is
//! listed; a filter keeps only the codes the operator wants to act on.

use std::net::Ipv4Addr;

/// One octet's pattern: a set of inclusive ranges.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Octet(Vec<(u8, u8)>);

impl Octet {
    fn parse(s: &str) -> Result<Octet, String> {
        let inner = match s.strip_prefix('[') {
            Some(rest) => rest
                .strip_suffix(']')
                .ok_or_else(|| format!("missing ']' in {s:?}"))?,
            None => s,
        };
        let mut ranges = Vec::new();
        for part in inner.split(';') {
            let (lo, hi) = match part.split_once("..") {
                Some((a, b)) => (num(a)?, num(b)?),
                None => (num(part)?, num(part)?),
            };
            if lo > hi {
                return Err(format!("empty range {part:?}"));
            }
            ranges.push((lo, hi));
        }
        if s.starts_with('[') || ranges.len() == 1 {
            Ok(Octet(ranges))
        } else {
            Err(format!("patterns must be inside [] in {s:?}"))
        }
    }

    fn matches(&self, v: u8) -> bool {
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&v))
    }
}

fn num(s: &str) -> Result<u8, String> {
    s.trim()
        .parse::<u8>()
        .map_err(|_| format!("{s:?} is not a number 0..255"))
}

/// A `d.d.d.d` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter([Octet; 4]);

impl Filter {
    /// Parse the text after `=`.
    pub fn parse(s: &str) -> Result<Filter, String> {
        // Split on dots outside brackets: `[2..11]` contains dots itself.
        let mut parts = Vec::new();
        let mut depth = 0usize;
        let mut cur = String::new();
        for c in s.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if c == '.' && depth == 0 {
                parts.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        parts.push(cur);
        if parts.len() != 4 {
            return Err(format!("bad result filter {s:?}: want d.d.d.d"));
        }
        let mut octets = Vec::with_capacity(4);
        for p in &parts {
            octets.push(Octet::parse(p).map_err(|e| format!("bad result filter {s:?}: {e}"))?);
        }
        let [a, b, c, d]: [Octet; 4] = octets
            .try_into()
            .map_err(|_| format!("bad result filter {s:?}"))?;
        Ok(Filter([a, b, c, d]))
    }

    pub fn matches(&self, ip: Ipv4Addr) -> bool {
        self.0.iter().zip(ip.octets()).all(|(o, v)| o.matches(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    #[test]
    fn exact_and_ranges() {
        let f = Filter::parse("127.0.0.2").unwrap();
        assert!(f.matches(ip("127.0.0.2")));
        assert!(!f.matches(ip("127.0.0.3")));
        let f = Filter::parse("127.0.0.[2..11]").unwrap();
        assert!(f.matches(ip("127.0.0.2")));
        assert!(f.matches(ip("127.0.0.11")));
        assert!(!f.matches(ip("127.0.0.12")));
        let f = Filter::parse("127.0.[0;1].[2;4..6]").unwrap();
        assert!(f.matches(ip("127.0.1.5")));
        assert!(!f.matches(ip("127.0.0.3")));
        assert!(!f.matches(ip("127.0.2.2")));
    }

    #[test]
    fn bad_filters_are_refused() {
        for bad in [
            "127.0.0",
            "127.0.0.256",
            "127.0.0.[3..2]",
            "127.0.0.[2",
            "a.b.c.d",
            "127.0.0.2;3",
        ] {
            assert!(Filter::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
