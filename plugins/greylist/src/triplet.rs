//! The greylisting triplet and what the store keeps about it.

use std::net::IpAddr;

/// What the kv store holds for a triplet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Deferred at `first_seen` (clock seconds), waiting for a retry.
    Pending { first_seen: u64 },
    /// Retried late enough: let it through.
    Passed,
}

impl Entry {
    /// The stored form: `pending <seconds>` or `passed`, readable with a kv dump.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Entry::Pending { first_seen } => format!("pending {first_seen}").into_bytes(),
            Entry::Passed => b"passed".to_vec(),
        }
    }

    /// Read a stored entry; `None` for anything else (a corrupt or foreign value).
    pub fn decode(raw: &[u8]) -> Option<Entry> {
        let text = std::str::from_utf8(raw).ok()?;
        if text == "passed" {
            return Some(Entry::Passed);
        }
        let first_seen = text.strip_prefix("pending ")?.parse().ok()?;
        Some(Entry::Pending { first_seen })
    }
}

/// The client's network: the /24 of an IPv4 address, the /64 of an IPv6 one
/// (an IPv4-mapped IPv6 address counts as IPv4). Text that is not an address
/// is used as it is.
pub fn client_network(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4_network(v4),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_network(v4),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
        Err(_) => address.to_string(),
    }
}

fn v4_network(v4: std::net::Ipv4Addr) -> String {
    let [a, b, c, _] = v4.octets();
    format!("{a}.{b}.{c}.0/24")
}

/// The kv key of a triplet. Addresses are compared case-insensitively (a
/// sender varying the case of its address is still the same sender).
pub fn triplet_key(client_address: &str, sender: &str, recipient: &str) -> String {
    format!(
        "{} <{}> <{}>",
        client_network(client_address),
        sender.to_ascii_lowercase(),
        recipient.to_ascii_lowercase()
    )
}
