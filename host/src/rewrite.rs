//! The one address resolver (Postfix's trivial-rewrite): parsing,
//! canonicalisation and address class. smtpd, the queue manager and plugins
//! (through the `resolve` capability) all use this, so relay control and
//! routing can never disagree.
//!
//! Sender-specified routing is unpacked only while the domain is this
//! host's own (as Postfix's resolve_addr does): `"u@h"@d`, `u%h@d`
//! (`allow_percent_hack`), `h!u@d` (`swap_bangpath`) with `d` local become
//! `u@h` and are flagged `routed`; a source route `@a,@b:u@c` is stripped
//! and flagged. A routed address can never be "local" for relay control:
//! its final class is judged on the unpacked domain.

mod address;
mod domains;

use crate::config::Config;
use crate::tables::Tables;
use domains::DomainList;
use std::net::IpAddr;
use std::sync::Arc;

/// Postfix address classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    Local,
    VirtualAlias,
    VirtualMailbox,
    Relay,
    Default,
}

/// Where an address goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub class: AddressClass,
    /// The canonical address (routing tricks unpacked).
    pub address: String,
    /// e.g. `smtp`, `local`, `relay`, `error`.
    pub transport: String,
    /// e.g. `example.com` or `[192.0.2.1]:25`.
    pub nexthop: String,
    /// Sender-specified routing was used (`%`, `!`, `@a:`).
    pub routed: bool,
}

/// How many times routing may be unpacked before the address is refused.
const MAX_UNPACK: usize = 10;

/// The resolver, built once from config.
#[derive(Debug, Clone)]
pub struct Resolver {
    myhostname: String,
    /// Appended to bare local parts (`append_at_myorigin`), as cleanup does.
    myorigin: Option<String>,
    mydestination: DomainList,
    virtual_alias_domains: DomainList,
    virtual_mailbox_domains: DomainList,
    relay_domains: DomainList,
    /// Addresses of this host (address literals `[ip]` are local).
    own_addrs: Vec<IpAddr>,
    swap_bangpath: bool,
    allow_percent_hack: bool,
    resolve_dequoted_address: bool,
    resolve_numeric_domain: bool,
    relayhost: String,
    relay_transport: String,
    default_transport: String,
    local_transport: String,
    virtual_transport: String,
    transport_maps: Vec<String>,
    relocated_maps: Vec<String>,
    recipient_delimiter: String,
    tables: Arc<Tables>,
}

impl Resolver {
    pub fn new(config: &Config) -> Resolver {
        Self::with_tables(config, Arc::new(Tables::new(config)))
    }

    /// A resolver sharing already-open tables.
    pub fn with_tables(config: &Config, tables: Arc<Tables>) -> Resolver {
        let parent = config.get_list("parent_domain_matches_subdomains");
        let list =
            |name: &str| DomainList::new(&config.get_list(name), parent.iter().any(|p| p == name));
        let mut own_addrs: Vec<IpAddr> = crate::config::system::local_networks()
            .iter()
            .map(|n| n.addr)
            .collect();
        for item in config
            .get_list("inet_interfaces")
            .into_iter()
            .chain(config.get_list("proxy_interfaces"))
        {
            if let Ok(ip) = item.trim_matches(|c| c == '[' || c == ']').parse() {
                own_addrs.push(ip);
            }
        }
        Resolver {
            myhostname: config.get("myhostname").to_ascii_lowercase(),
            myorigin: config
                .get_bool("append_at_myorigin")
                .then(|| config.get("myorigin").to_ascii_lowercase()),
            mydestination: list("mydestination"),
            virtual_alias_domains: list("virtual_alias_domains"),
            virtual_mailbox_domains: list("virtual_mailbox_domains"),
            relay_domains: list("relay_domains"),
            own_addrs,
            swap_bangpath: config.get_bool("swap_bangpath"),
            allow_percent_hack: config.get_bool("allow_percent_hack"),
            resolve_dequoted_address: config.get_bool("resolve_dequoted_address"),
            resolve_numeric_domain: config.get_bool("resolve_numeric_domain"),
            relayhost: config.get("relayhost"),
            relay_transport: config.get("relay_transport"),
            default_transport: config.get("default_transport"),
            local_transport: config.get("local_transport"),
            virtual_transport: config.get("virtual_transport"),
            transport_maps: config.get_list("transport_maps"),
            relocated_maps: config.get_list("relocated_maps"),
            recipient_delimiter: config.get("recipient_delimiter"),
            tables,
        }
    }

    /// Resolve one envelope address (no angle brackets; "" is the null sender).
    pub fn resolve(&self, address: &str) -> Result<Resolution, String> {
        if address.is_empty() {
            let (transport, nexthop) = self.transport_of(AddressClass::Local, "");
            return Ok(Resolution {
                class: AddressClass::Local,
                address: String::new(),
                transport,
                nexthop,
                routed: false,
            });
        }
        let (local, domain, routed) = self.canonical(address)?;
        let class = self.class_of(&domain)?;
        let canonical = if domain.is_empty() {
            address::quote(&local)
        } else {
            format!("{}@{domain}", address::quote(&local))
        };
        let (mut transport, mut nexthop) = self.transport_of(class, &domain);
        if class != AddressClass::VirtualAlias {
            if let Some((t, n)) = self.transport_map(&local, &domain)? {
                if !t.is_empty() {
                    transport = t;
                }
                if !n.is_empty() {
                    nexthop = n;
                }
            }
        }
        if let Some(moved) = self.relocated(&local, &domain, class)? {
            transport = "error".into();
            nexthop = format!("5.1.6 User has moved to {moved}");
        }
        Ok(Resolution {
            class,
            address: canonical,
            transport,
            nexthop,
            routed,
        })
    }

    /// relocated(5), as trivial-rewrite applies it: the new contact for
    /// `user@domain` (also without its `recipient_delimiter` extension),
    /// for a local domain the bare `user`, then `@domain`; case-folded.
    /// A hit makes the address resolve to the error transport, so smtpd
    /// refuses it at RCPT (`550 5.1.6 ... User has moved to ...`) and the
    /// queue manager bounces mail that reached it another way (sendmail,
    /// alias expansion) with the same reason.
    fn relocated(
        &self,
        local: &str,
        domain: &str,
        class: AddressClass,
    ) -> Result<Option<String>, String> {
        if self.relocated_maps.is_empty() {
            return Ok(None);
        }
        let local = local.to_lowercase();
        let base = local
            .find(|c: char| self.recipient_delimiter.contains(c))
            .filter(|&p| p > 0 && !self.recipient_delimiter.is_empty())
            .map(|p| local[..p].to_string());
        let mut keys = vec![format!("{local}@{domain}")];
        if let Some(b) = &base {
            keys.push(format!("{b}@{domain}"));
        }
        if class == AddressClass::Local {
            keys.push(local.clone());
            keys.extend(base);
        }
        keys.push(format!("@{domain}"));
        for spec in &self.relocated_maps {
            let t = self.tables.open(spec).map_err(|e| e.to_string())?;
            for k in &keys {
                if let Some(v) = t.get(k).map_err(|e| e.to_string())? {
                    return Ok(Some(v.trim().to_string()));
                }
            }
        }
        Ok(None)
    }

    /// (local part in internal form, lower-case domain, routed): routing
    /// unpacked while the domain is this host's.
    fn canonical(&self, input: &str) -> Result<(String, String, bool), String> {
        let (stripped, mut routed) = address::strip_source_route(input.trim());
        let mut current = stripped.to_string();
        for _ in 0..MAX_UNPACK {
            let (local_raw, domain) = address::split(&current)?;
            let local = address::dequote(local_raw);
            let domain = match domain {
                Some("") => return Err(format!("<{input}>: empty domain after '@'")),
                Some(d) => d.trim_end_matches('.').to_ascii_lowercase(),
                None => String::new(),
            };
            if local.is_empty() {
                return Err(format!("<{input}>: empty local part"));
            }
            let ours = domain.is_empty() || self.is_local_domain(&domain)?;
            if !ours {
                return Ok((local, domain, routed));
            }
            let quoted_at = self.resolve_dequoted_address && local.contains('@');
            let next = if quoted_at {
                Some(local.clone())
            } else if self.swap_bangpath && local.contains('!') {
                // host!user -> user@host (the first `!` separates).
                local
                    .split_once('!')
                    .map(|(host, user)| format!("{user}@{host}"))
            } else if self.allow_percent_hack && local.contains('%') {
                local
                    .rsplit_once('%')
                    .map(|(user, host)| format!("{user}@{host}"))
            } else {
                None
            };
            match next {
                Some(n) => {
                    routed = true;
                    current = n;
                }
                None => {
                    let domain = match (domain.is_empty(), &self.myorigin) {
                        (true, Some(origin)) => origin.clone(),
                        (true, None) => self.myhostname.clone(),
                        (false, _) => domain,
                    };
                    return Ok((local, domain, routed));
                }
            }
        }
        Err(format!(
            "<{input}>: too many levels of sender-specified routing"
        ))
    }

    /// mydestination or an address literal of this host.
    fn is_local_domain(&self, domain: &str) -> Result<bool, String> {
        if let Some(ip) = self.literal(domain) {
            return Ok(self.own_addrs.contains(&ip));
        }
        self.mydestination.matches(domain, &self.tables)
    }

    /// `[1.2.3.4]`, `[ipv6:::1]`, or (with resolve_numeric_domain) `1.2.3.4`.
    fn literal(&self, domain: &str) -> Option<IpAddr> {
        let inner = match domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
            Some(i) => i,
            None if self.resolve_numeric_domain => domain,
            None => return None,
        };
        let inner = inner.strip_prefix("ipv6:").unwrap_or(inner);
        let ip: IpAddr = inner.parse().ok()?;
        Some(match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        })
    }

    fn class_of(&self, domain: &str) -> Result<AddressClass, String> {
        Ok(if self.is_local_domain(domain)? {
            AddressClass::Local
        } else if self.virtual_alias_domains.matches(domain, &self.tables)? {
            AddressClass::VirtualAlias
        } else if self.virtual_mailbox_domains.matches(domain, &self.tables)? {
            AddressClass::VirtualMailbox
        } else if self.relay_domains.matches(domain, &self.tables)? {
            AddressClass::Relay
        } else {
            AddressClass::Default
        })
    }

    /// The class's transport and nexthop before transport_maps.
    fn transport_of(&self, class: AddressClass, domain: &str) -> (String, String) {
        let split = |spec: &str, fallback: &str| -> (String, String) {
            match spec.split_once(':') {
                Some((t, n)) if !n.is_empty() => (t.to_string(), n.to_string()),
                Some((t, _)) => (t.to_string(), fallback.to_string()),
                None => (spec.to_string(), fallback.to_string()),
            }
        };
        let remote_hop = if self.relayhost.is_empty() {
            domain.to_string()
        } else {
            self.relayhost.clone()
        };
        match class {
            AddressClass::Local => split(&self.local_transport, &self.myhostname),
            AddressClass::VirtualAlias => (
                "error".into(),
                "5.1.1 User unknown in virtual alias table".into(),
            ),
            AddressClass::VirtualMailbox => split(&self.virtual_transport, domain),
            AddressClass::Relay => split(&self.relay_transport, &remote_hop),
            AddressClass::Default => split(&self.default_transport, &remote_hop),
        }
    }

    /// transport(5): `user+ext@domain`, `user@domain`, `domain`, `.parent`…,
    /// `*`. The value is `transport:nexthop`, either part may be empty.
    fn transport_map(&self, local: &str, domain: &str) -> Result<Option<(String, String)>, String> {
        if self.transport_maps.is_empty() {
            return Ok(None);
        }
        let mut keys = Vec::new();
        if !domain.is_empty() {
            keys.push(format!("{local}@{domain}"));
            if let Some(pos) = local.find(|c: char| self.recipient_delimiter.contains(c)) {
                if pos > 0 && !self.recipient_delimiter.is_empty() {
                    keys.push(format!("{}@{domain}", &local[..pos]));
                }
            }
            keys.push(domain.to_string());
            let mut rest = domain;
            while let Some((_, parent)) = rest.split_once('.') {
                keys.push(format!(".{parent}"));
                rest = parent;
            }
        }
        keys.push("*".into());
        for spec in &self.transport_maps {
            let t = self.tables.open(spec).map_err(|e| e.to_string())?;
            for k in &keys {
                if let Some(v) = t.get(k).map_err(|e| e.to_string())? {
                    let v = v.trim();
                    return Ok(Some(match v.split_once(':') {
                        Some((t, n)) => (t.to_string(), n.to_string()),
                        None => (v.to_string(), String::new()),
                    }));
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
