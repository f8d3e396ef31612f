//! Envelope address rewriting in cleanup, once, as the message enters the
//! queue (DESIGN decision 6): canonical(5) maps (`sender_canonical_maps` /
//! `recipient_canonical_maps`, then `canonical_maps`), virtual(5) alias
//! expansion of recipients (`virtual_alias_maps`, recursive, bounded by
//! `virtual_alias_recursion_limit` and `virtual_alias_expansion_limit`) and
//! masquerading of the envelope sender (`masquerade_domains`,
//! `masquerade_exceptions`; Postfix's default `masquerade_classes` leaves
//! envelope recipients alone).
//!
//! Lookups use canonical(5)/virtual(5) key order, not access(5)'s:
//! `user@domain`, then `user` when the domain is ours (`myorigin`,
//! `mydestination`), then `@domain` (whose `@other` result keeps the user).

use crate::config::Config;
use crate::tables::{Table, Tables};
use std::sync::Arc;

/// The maps of one listener, opened once per (re)load.
#[derive(Debug, Default)]
pub struct Maps {
    pub sender_canonical: Vec<Arc<dyn Table>>,
    pub recipient_canonical: Vec<Arc<dyn Table>>,
    pub canonical: Vec<Arc<dyn Table>>,
    pub virtual_alias: Vec<Arc<dyn Table>>,
    pub masquerade_domains: Vec<String>,
    pub masquerade_exceptions: Vec<String>,
    /// Domains whose bare `user` key applies (myorigin + mydestination).
    pub local_domains: Vec<String>,
    pub recursion_limit: usize,
    pub expansion_limit: usize,
    /// `myorigin`, appended to unqualified header addresses.
    pub myorigin: String,
    /// `header_address_token_limit`: address tokens of one header that
    /// rewriting looks at (0: no limit).
    pub header_token_limit: usize,
}

fn open_all(config: &Config, tables: &Tables, name: &str) -> anyhow::Result<Vec<Arc<dyn Table>>> {
    config
        .get_list(name)
        .iter()
        .map(|spec| {
            tables
                .open(spec)
                .map_err(|e| anyhow::anyhow!("{name}: {spec}: {e}"))
        })
        .collect()
}

fn split_addr(a: &str) -> (&str, &str) {
    match a.rsplit_once('@') {
        Some((u, d)) => (u, d),
        None => (a, ""),
    }
}

impl Maps {
    /// Open every configured map; a map that cannot be opened is an error
    /// (Postfix's cleanup is fatal there too: mail must not slip through
    /// unrewritten).
    pub fn from_config(config: &Config, tables: &Tables) -> anyhow::Result<Maps> {
        let get_or = |n: &str, d: &str| {
            let v = config.get(n);
            if v.trim().is_empty() {
                d.to_string()
            } else {
                v
            }
        };
        let myhostname = get_or("myhostname", &crate::smtpd::limits::system_hostname());
        let myorigin = get_or("myorigin", &myhostname).to_ascii_lowercase();
        let mut local_domains = vec![myorigin.clone()];
        let dest = config.get_list("mydestination");
        if dest.is_empty() {
            local_domains.push(myhostname.to_ascii_lowercase());
            local_domains.push("localhost".into());
        } else {
            local_domains.extend(dest.iter().map(|d| d.to_ascii_lowercase()));
        }
        Ok(Maps {
            sender_canonical: open_all(config, tables, "sender_canonical_maps")?,
            recipient_canonical: open_all(config, tables, "recipient_canonical_maps")?,
            canonical: open_all(config, tables, "canonical_maps")?,
            virtual_alias: open_all(config, tables, "virtual_alias_maps")?,
            masquerade_domains: config.get_list("masquerade_domains"),
            masquerade_exceptions: config.get_list("masquerade_exceptions"),
            local_domains,
            myorigin,
            recursion_limit: get_or("virtual_alias_recursion_limit", "1000")
                .parse()
                .unwrap_or(1000),
            expansion_limit: get_or("virtual_alias_expansion_limit", "1000")
                .parse()
                .unwrap_or(1000),
            header_token_limit: {
                let v = get_or("header_address_token_limit", "10240");
                v.trim().parse().map_err(|_| {
                    anyhow::anyhow!("header_address_token_limit = {v}: expected a number")
                })?
            },
        })
    }

    fn is_local(&self, domain: &str) -> bool {
        self.local_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// First hit in `maps` for `addr` in canonical(5) key order.
    fn find(&self, maps: &[Arc<dyn Table>], addr: &str) -> Result<Option<String>, String> {
        let (user, domain) = split_addr(addr);
        for m in maps {
            let mut keys = vec![(addr.to_string(), false)];
            if domain.is_empty() || self.is_local(domain) {
                keys.push((user.to_string(), false));
            }
            if !domain.is_empty() {
                keys.push((format!("@{domain}"), true));
            }
            for (k, domain_key) in keys {
                match m.get(&k) {
                    Ok(Some(v)) => {
                        let v = v.trim().to_string();
                        if domain_key && v.starts_with('@') {
                            return Ok(Some(format!("{user}{v}")));
                        }
                        return Ok(Some(v));
                    }
                    Ok(None) => {}
                    Err(e) => return Err(format!("{}: {e}", m.name())),
                }
            }
        }
        Ok(None)
    }

    /// One-to-one canonical rewriting: `first` maps, then `canonical_maps`.
    fn canonical(&self, first: &[Arc<dyn Table>], addr: &str) -> Result<String, String> {
        let mut a = addr.to_string();
        for maps in [first, &self.canonical[..]] {
            if let Some(v) = self.find(maps, &a)? {
                // canonical(5) results are single addresses.
                if let Some(x) = v.split([',', ' ']).find(|s| !s.is_empty()) {
                    a = x.to_string();
                }
            }
        }
        Ok(a)
    }

    /// The envelope sender after canonical rewriting and masquerading.
    pub fn sender(&self, addr: &str) -> Result<String, String> {
        if addr.is_empty() {
            return Ok(String::new());
        }
        let a = self.canonical(&self.sender_canonical, addr)?;
        Ok(self.masquerade(&a))
    }

    /// One envelope recipient after canonical rewriting and virtual alias
    /// expansion (possibly several addresses; never none).
    pub fn recipient(&self, addr: &str) -> Result<Vec<String>, String> {
        let a = self.canonical(&self.recipient_canonical, addr)?;
        let mut out = Vec::new();
        self.expand(&a, 0, &mut out)?;
        Ok(out)
    }

    fn expand(&self, addr: &str, depth: usize, out: &mut Vec<String>) -> Result<(), String> {
        if depth > self.recursion_limit {
            return Err(format!("virtual alias recursion limit exceeded for {addr}"));
        }
        let hit = self.find(&self.virtual_alias, addr)?;
        let Some(v) = hit else {
            if !out.iter().any(|o| o == addr) {
                out.push(addr.to_string());
            }
            return Ok(());
        };
        for target in v.split([',', ' ']).filter(|s| !s.is_empty()) {
            if out.len() >= self.expansion_limit {
                return Err(format!("virtual alias expansion limit exceeded for {addr}"));
            }
            if target.eq_ignore_ascii_case(addr) {
                // `a@x a@x, b@y`: the address stays itself.
                if !out.iter().any(|o| o == target) {
                    out.push(target.to_string());
                }
            } else {
                self.expand(target, depth + 1, out)?;
            }
        }
        Ok(())
    }

    /// An address in a sender header (local clients only).
    pub fn header_sender(&self, addr: &str) -> Result<String, String> {
        self.sender(addr)
    }

    /// An address in a recipient header: canonical mapping and masquerading
    /// (Postfix's default `masquerade_classes` includes header_recipient),
    /// never virtual expansion.
    pub fn header_recipient(&self, addr: &str) -> Result<String, String> {
        let a = self.canonical(&self.recipient_canonical, addr)?;
        Ok(self.masquerade(&a))
    }

    /// `user@host.sub.example.com` → `user@example.com` for the first
    /// `masquerade_domains` entry the domain is under (`!entry` blocks).
    pub fn masquerade(&self, addr: &str) -> String {
        let (user, domain) = split_addr(addr);
        if domain.is_empty()
            || self
                .masquerade_exceptions
                .iter()
                .any(|u| u.eq_ignore_ascii_case(user))
        {
            return addr.to_string();
        }
        let dl = domain.to_ascii_lowercase();
        for m in &self.masquerade_domains {
            let (neg, m) = match m.strip_prefix('!') {
                Some(x) => (true, x.to_ascii_lowercase()),
                None => (false, m.to_ascii_lowercase()),
            };
            if dl == m {
                return addr.to_string();
            }
            if dl.ends_with(&format!(".{m}")) {
                return if neg {
                    addr.to_string()
                } else {
                    format!("{user}@{m}")
                };
            }
        }
        addr.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::TableError;
    use std::collections::HashMap;

    #[derive(Debug)]
    struct Map(HashMap<String, String>);

    impl Table for Map {
        fn name(&self) -> &str {
            "test:map"
        }
        fn get(&self, key: &str) -> Result<Option<String>, TableError> {
            Ok(self.0.get(key).cloned())
        }
    }

    fn map(pairs: &[(&str, &str)]) -> Arc<dyn Table> {
        Arc::new(Map(pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()))
    }

    fn maps() -> Maps {
        Maps {
            canonical: vec![map(&[
                ("root", "admin@example.com"),
                ("@old.example", "@new.example"),
            ])],
            sender_canonical: vec![map(&[(
                "joe@host.example.com",
                "joe.bloggs@host.example.com",
            )])],
            virtual_alias: vec![map(&[
                ("sales@example.com", "ann@example.com, bob@example.com"),
                ("bob@example.com", "bob@example.com, bob@archive.example"),
                ("@catch.example", "catchall@example.com"),
                ("loop@example.com", "loop2@example.com"),
                ("loop2@example.com", "loop@example.com"),
            ])],
            masquerade_domains: vec!["!special.example.com".into(), "example.com".into()],
            masquerade_exceptions: vec!["root".into()],
            local_domains: vec!["mx.example.com".into()],
            recursion_limit: 20,
            expansion_limit: 100,
            ..Maps::default()
        }
    }

    #[test]
    fn sender_canonical_then_masquerade() {
        let m = maps();
        assert_eq!(
            m.sender("joe@host.example.com").unwrap(),
            "joe.bloggs@example.com"
        );
        assert_eq!(
            m.sender("root@mx.example.com").unwrap(),
            "admin@example.com"
        );
        assert_eq!(
            m.sender("x@a.special.example.com").unwrap(),
            "x@a.special.example.com"
        );
        assert_eq!(m.sender("").unwrap(), "");
        assert_eq!(m.masquerade("root@h.example.com"), "root@h.example.com");
    }

    #[test]
    fn recipients_canonical_and_virtual() {
        let m = maps();
        assert_eq!(m.recipient("u@old.example").unwrap(), vec!["u@new.example"]);
        assert_eq!(
            m.recipient("sales@example.com").unwrap(),
            vec!["ann@example.com", "bob@example.com", "bob@archive.example"]
        );
        assert_eq!(
            m.recipient("anyone@catch.example").unwrap(),
            vec!["catchall@example.com"]
        );
        // Masquerading leaves envelope recipients alone (masquerade_classes).
        assert_eq!(
            m.recipient("x@h.example.com").unwrap(),
            vec!["x@h.example.com"]
        );
        assert!(m
            .recipient("loop@example.com")
            .unwrap_err()
            .contains("recursion limit"));
    }
}
