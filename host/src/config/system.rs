//! Facts about this machine that Postfix computes for its defaults:
//! `myhostname`, `mydomain`, and the networks for `mynetworks_style`.
//! Read from /proc (no unsafe, no extra crates); cached once per process.

use mta_sdk::net::network;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// A local interface address with its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// The fully qualified host name: the kernel's name, with `.localdomain`
/// appended when it has no dot (as Postfix does).
pub fn hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .unwrap_or_default();
        let name = raw.trim().to_ascii_lowercase();
        match name.as_str() {
            "" => "localhost.localdomain".to_string(),
            n if n.contains('.') => n.to_string(),
            n => format!("{n}.localdomain"),
        }
    })
}

/// `mydomain`'s default: `myhostname` without its first label.
pub fn domain_of(hostname: &str) -> String {
    match hostname.split_once('.') {
        Some((_, d)) if d.contains('.') || !d.is_empty() => d.to_string(),
        _ => "localdomain".to_string(),
    }
}

/// Every address of this host (IPv4 from fib_trie, IPv6 from if_inet6)
/// with the prefix of the network it is on.
pub fn local_networks() -> &'static [LocalNet] {
    static NETS: OnceLock<Vec<LocalNet>> = OnceLock::new();
    NETS.get_or_init(|| {
        let mut v = ipv4_networks();
        v.extend(ipv6_networks());
        if !v.iter().any(|n| n.addr.is_loopback() && n.addr.is_ipv4()) {
            v.insert(
                0,
                LocalNet {
                    addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    prefix: 8,
                },
            );
        }
        v
    })
}

fn ipv4_networks() -> Vec<LocalNet> {
    let text = std::fs::read_to_string("/proc/net/fib_trie").unwrap_or_default();
    // Only the "Local:" table lists this host's addresses.
    let local = text.split("Local:").nth(1).unwrap_or(&text);
    let main = text.split("Local:").next().unwrap_or("");
    let mut subnets: Vec<(Ipv4Addr, u8)> = Vec::new();
    parse_fib(main, |addr, prefix, kind| {
        if kind == "link UNICAST" && prefix < 32 {
            subnets.push((addr, prefix));
        }
    });
    let mut out = Vec::new();
    parse_fib(local, |addr, prefix, kind| {
        if prefix == 32 && kind == "host LOCAL" {
            let net = if addr.is_loopback() {
                8
            } else {
                subnets
                    .iter()
                    .filter(|(n, p)| contains_v4(*n, *p, addr))
                    .map(|(_, p)| *p)
                    .max()
                    .unwrap_or(32)
            };
            let candidate = LocalNet {
                addr: IpAddr::V4(addr),
                prefix: net,
            };
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    });
    out
}

/// Calls `f(addr, prefix, "host LOCAL")` for each leaf of a fib_trie dump.
fn parse_fib(text: &str, mut f: impl FnMut(Ipv4Addr, u8, &str)) {
    let mut last: Option<Ipv4Addr> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(a) = t.strip_prefix("|-- ") {
            last = a.trim().parse().ok();
        } else if let (Some(addr), Some(rest)) = (last, t.strip_prefix('/')) {
            let (p, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Ok(p) = p.parse() {
                f(addr, p, kind.trim());
            }
        }
    }
}

fn contains_v4(net: Ipv4Addr, prefix: u8, addr: Ipv4Addr) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    u32::from(net) & mask == u32::from(addr) & mask
}

fn ipv6_networks() -> Vec<LocalNet> {
    let text = std::fs::read_to_string("/proc/net/if_inet6").unwrap_or_default();
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (Some(hex), Some(plen)) = (f.first(), f.get(2)) else {
            continue;
        };
        let Ok(bits) = u128::from_str_radix(hex, 16) else {
            continue;
        };
        let Ok(prefix) = u8::from_str_radix(plen, 16) else {
            continue;
        };
        out.push(LocalNet {
            addr: IpAddr::V6(Ipv6Addr::from(bits)),
            prefix,
        });
    }
    out
}

/// Postfix's notation for a network in `mynetworks`: `1.2.3.0/24`,
/// `[::1]/128`.
pub fn cidr_text(addr: IpAddr, prefix: u8) -> String {
    match addr {
        IpAddr::V4(a) => format!("{a}/{prefix}"),
        IpAddr::V6(a) => format!("[{a}]/{prefix}"),
    }
}

/// `mynetworks` for a `mynetworks_style`: `host` = this machine's own
/// addresses (/32, /128); `subnet` = the networks they are on; `class` =
/// their class A/B/C networks (IPv6: as subnet).
pub fn mynetworks(style: &str) -> String {
    let nets = local_networks();
    let mut out: Vec<String> = Vec::new();
    for n in nets {
        let text = match style {
            "subnet" => cidr_text(network(n.addr, n.prefix), n.prefix),
            "class" => match n.addr {
                IpAddr::V4(a) => {
                    let p = match a.octets()[0] {
                        0..=127 => 8,
                        128..=191 => 16,
                        _ => 24,
                    };
                    cidr_text(network(n.addr, p), p)
                }
                IpAddr::V6(_) => cidr_text(network(n.addr, n.prefix), n.prefix),
            },
            _ => match n.addr {
                IpAddr::V4(_) => cidr_text(n.addr, 32),
                IpAddr::V6(_) => cidr_text(n.addr, 128),
            },
        };
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_style_is_own_addresses_only() {
        let nets = mynetworks("host");
        assert!(nets.split(' ').any(|n| n == "127.0.0.1/32"), "{nets}");
        assert!(!nets.contains("127.0.0.0/8"), "{nets}");
        assert!(nets
            .split(' ')
            .all(|n| n.ends_with("/32") || n.ends_with("/128")));
        assert!(mynetworks("subnet").contains("127.0.0.0/8"));
    }

    #[test]
    fn names() {
        assert!(hostname().contains('.'));
        assert_eq!(domain_of("mx.example.com"), "example.com");
        assert_eq!(domain_of("vm.localdomain"), "localdomain");
        assert_eq!(domain_of("vm"), "localdomain");
    }
}
