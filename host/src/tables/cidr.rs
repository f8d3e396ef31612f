//! `cidr:` tables (cidr_table(5)): `network/prefix result`, first match.

use super::{Table, TableError};
use crate::config::maincf::logical_lines;
use mta_sdk::net::Cidr;
use std::net::IpAddr;

/// One rule: a network (or its negation) and the result.
#[derive(Debug)]
struct Rule {
    net: Cidr,
    negated: bool,
    value: String,
}

/// A parsed CIDR table.
#[derive(Debug)]
pub struct CidrTable {
    name: String,
    rules: Vec<Rule>,
}

impl CidrTable {
    /// Parse `text`; `file` names errors. A network with host bits set is
    /// refused, as Postfix does, since it almost always is a typo.
    pub fn new(name: &str, file: &str, text: &str) -> Result<Self, TableError> {
        let mut rules = Vec::new();
        for l in logical_lines(text) {
            let err = |m: String| TableError::Open(format!("{file}:{}: {m}", l.line));
            let t = l.text.trim();
            let (pat, value) = t
                .split_once(char::is_whitespace)
                .ok_or_else(|| err(format!("expected \"network/prefix result\", found \"{t}\"")))?;
            let (negated, pat) = match pat.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, pat),
            };
            if pat == "if" || pat == "endif" {
                return Err(err("if/endif in cidr tables is not supported".into()));
            }
            let net =
                Cidr::parse_as_written(pat).map_err(|_| err(format!("bad network \"{pat}\"")))?;
            if net.network() != net.addr() {
                return Err(err(format!(
                    "{pat}: address has bits set outside the /{} prefix (did you mean {}/{}?)",
                    net.prefix(),
                    net.network(),
                    net.prefix()
                )));
            }
            rules.push(Rule {
                net,
                negated,
                value: value.trim().to_string(),
            });
        }
        Ok(CidrTable {
            name: name.to_string(),
            rules,
        })
    }
}

impl Table for CidrTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &str) -> Result<Option<String>, TableError> {
        let key = key.trim_start_matches('[').trim_end_matches(']');
        let Ok(addr) = key.parse::<IpAddr>() else {
            return Ok(None);
        };
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
            v4 => v4,
        };
        for r in &self.rules {
            let same_family = r.net.addr().is_ipv4() == addr.is_ipv4();
            let inside = r.net.contains_same_family(addr);
            if same_family && inside != r.negated {
                return Ok(Some(r.value.clone()));
            }
        }
        Ok(None)
    }

    fn whole_key_only(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_match_v4_v6() {
        let t = CidrTable::new(
            "cidr:t",
            "t",
            "# x\n192.168.1.1 OK\n192.168.0.0/16 REJECT\n[2001:db8::]/32 v6\n::ffff:0:0/96 never\n!10.0.0.0/8 not-ten\n",
        )
        .unwrap();
        assert_eq!(t.get("192.168.1.1").unwrap().as_deref(), Some("OK"));
        assert_eq!(t.get("192.168.7.1").unwrap().as_deref(), Some("REJECT"));
        assert_eq!(t.get("2001:db8::5").unwrap().as_deref(), Some("v6"));
        assert_eq!(t.get("10.1.1.1").unwrap(), None);
        assert_eq!(t.get("8.8.8.8").unwrap().as_deref(), Some("not-ten"));
        // An IPv4-mapped client is matched as IPv4.
        assert_eq!(t.get("::ffff:192.168.1.1").unwrap().as_deref(), Some("OK"));
        assert_eq!(t.get("not-an-ip").unwrap(), None);
        let e = CidrTable::new("cidr:t", "t.cidr", "\n1.2.3.4/24 x\n").unwrap_err();
        assert!(
            e.to_string().contains("t.cidr:2: ") && e.to_string().contains("1.2.3.0/24"),
            "{e}"
        );
    }
}
