//! Open-relay analysis for `mta check`: configurations that let any client
//! relay mail through this host.

use super::expand::split_list;
use super::Config;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Restrictions a client can meet without proving anything: the HELO name
/// and the sender address are whatever the client says.
const ANYONE_CAN_MEET: &[&str] = &[
    "check_helo_access",
    "check_helo_a_access",
    "check_helo_mx_access",
    "check_helo_ns_access",
    "check_sender_access",
    "check_sender_a_access",
    "check_sender_mx_access",
    "check_sender_ns_access",
    "permit_naked_ip_address",
    "permit_mx_backup",
];

/// Warnings about every listener's relay control (main.cf plus `-o`).
pub fn warnings(config: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |w: String| {
        if !out.contains(&w) {
            out.push(w);
        }
    };
    let mut views: Vec<(String, Config)> = vec![(String::new(), config.clone())];
    for l in &config.listeners {
        if !l.overrides.is_empty() {
            views.push((
                format!("service {}: ", l.service),
                config.with_overrides(&l.overrides),
            ));
        }
    }
    for (label, c) in views {
        for w in check(&c) {
            push(format!("{label}{w}"));
        }
    }
    out
}

fn check(c: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let relay = c.get_list("smtpd_relay_restrictions");
    let recipient = c.get_list("smtpd_recipient_restrictions");
    let uses_mynetworks = relay
        .iter()
        .chain(&recipient)
        .any(|r| r == "permit_mynetworks");
    for net in split_list(&c.get("mynetworks")) {
        if let Some(why) = public_network(&net) {
            out.push(format!(
                "open relay: mynetworks ({}) contains {net}, which covers {why}{}",
                origin(c, "mynetworks"),
                if uses_mynetworks {
                    "; permit_mynetworks lets all of them relay"
                } else {
                    ""
                }
            ));
        }
    }
    let guards = |list: &[String]| list.iter().any(|r| is_guard(r));
    if relay.is_empty() {
        out.push(format!(
            "smtpd_relay_restrictions ({}) is empty{}",
            origin(c, "smtpd_relay_restrictions"),
            if guards(&recipient) {
                "; only smtpd_recipient_restrictions stands between clients and relaying"
            } else {
                ""
            }
        ));
    }
    for (name, list) in [
        ("smtpd_relay_restrictions", &relay),
        ("smtpd_recipient_restrictions", &recipient),
    ] {
        for item in list {
            if is_guard(item) {
                break;
            }
            if item == "permit" {
                out.push(format!(
                    "open relay: {name} ({}) has permit before reject_unauth_destination; every client meets it",
                    origin(c, name)
                ));
                break;
            }
            if ANYONE_CAN_MEET.contains(&item.as_str()) {
                out.push(format!(
                    "possible open relay: {name} ({}) has {item} before reject_unauth_destination; \
                     any client can meet it (HELO names and senders are chosen by the client), so an OK there relays",
                    origin(c, name)
                ));
            }
        }
    }
    out
}

/// Restrictions that refuse mail for destinations this host does not serve
/// (`check_relay_domains` is the pre-2.2 name, mapped by the restrictions
/// plugin to the same test).
fn is_guard(item: &str) -> bool {
    matches!(
        item,
        "reject_unauth_destination" | "defer_unauth_destination" | "check_relay_domains"
    )
}

/// Postfix's smtpd refuses to run (fatal) unless smtpd_relay_restrictions
/// or smtpd_recipient_restrictions holds one of these; so does mta.
pub fn missing_relay_guard(c: &Config) -> Option<String> {
    const WORKING: &[&str] = &[
        "reject_unauth_destination",
        "defer_unauth_destination",
        "reject",
        "defer",
        "defer_if_permit",
        "check_relay_domains",
    ];
    let has = |name: &str| {
        c.get_list(name)
            .iter()
            .any(|r| WORKING.contains(&r.as_str()))
    };
    if has("smtpd_relay_restrictions") || has("smtpd_recipient_restrictions") {
        return None;
    }
    Some(
        "open relay: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, \
         specify at least one working instance of: reject_unauth_destination, \
         defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains"
            .to_string(),
    )
}

fn origin(c: &Config, name: &str) -> String {
    c.origins
        .get(name)
        .cloned()
        .unwrap_or_else(|| "default".to_string())
}

/// If `net` (Postfix notation: `1.2.3.0/24`, `[::1]/128`, a bare address)
/// includes addresses outside private, loopback, link-local and
/// documentation space, say what it covers.
pub fn public_network(net: &str) -> Option<String> {
    let (addr, prefix) = parse_net(net)?;
    match addr {
        IpAddr::V4(a) => v4_public(a, prefix),
        IpAddr::V6(a) => {
            if let Some(v4) = mapped(a, prefix) {
                return v4_public(v4.0, v4.1)
                    .map(|w| format!("{w} (as IPv4-mapped IPv6 addresses)"));
            }
            if prefix == 0 {
                return Some("every IPv6 address".into());
            }
            let private: [(Ipv6Addr, u8); 4] = [
                (Ipv6Addr::LOCALHOST, 128),
                (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
                (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
                (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
            ];
            let inside = private
                .iter()
                .any(|(p, len)| prefix >= *len && mask6(a, *len) == mask6(*p, *len));
            (!inside).then(|| format!("public IPv6 addresses ({net})"))
        }
    }
}

fn v4_public(a: Ipv4Addr, prefix: u8) -> Option<String> {
    if prefix == 0 {
        return Some("every IPv4 address".into());
    }
    let private: [(Ipv4Addr, u8); 9] = [
        (Ipv4Addr::new(10, 0, 0, 0), 8),
        (Ipv4Addr::new(172, 16, 0, 0), 12),
        (Ipv4Addr::new(192, 168, 0, 0), 16),
        (Ipv4Addr::new(127, 0, 0, 0), 8),
        (Ipv4Addr::new(169, 254, 0, 0), 16),
        (Ipv4Addr::new(100, 64, 0, 0), 10),
        (Ipv4Addr::new(192, 0, 2, 0), 24),
        (Ipv4Addr::new(198, 51, 100, 0), 24),
        (Ipv4Addr::new(203, 0, 113, 0), 24),
    ];
    let inside = private
        .iter()
        .any(|(p, len)| prefix >= *len && mask4(a, *len) == mask4(*p, *len));
    (!inside).then(|| format!("public IPv4 addresses ({a}/{prefix})"))
}

/// `::ffff:a.b.c.d/n` with n >= 96 (or a shorter prefix that includes the
/// whole mapped range) as the IPv4 network it stands for.
fn mapped(a: Ipv6Addr, prefix: u8) -> Option<(Ipv4Addr, u8)> {
    let mapped_range = mask6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96);
    if prefix < 96 {
        // A short prefix that contains ::ffff:0:0/96 covers all of IPv4.
        return (mask6(a, prefix) == mask6(Ipv6Addr::from(mapped_range), prefix) && prefix > 0)
            .then_some((Ipv4Addr::UNSPECIFIED, 0));
    }
    if mask6(a, 96) != mapped_range {
        return None;
    }
    let bits = u128::from(a) as u32;
    Some((Ipv4Addr::from(bits), prefix - 96))
}

fn mask4(a: Ipv4Addr, len: u8) -> u32 {
    let len = u32::from(len.min(32));
    if len == 0 {
        0
    } else {
        u32::from(a) & (u32::MAX << (32 - len))
    }
}

fn mask6(a: Ipv6Addr, len: u8) -> u128 {
    let len = u32::from(len.min(128));
    if len == 0 {
        0
    } else {
        u128::from(a) & (u128::MAX << (128 - len))
    }
}

/// Parse `1.2.3.0/24`, `[::1]/128`, `::1/128`, `1.2.3.4`; None for table
/// references and host names (not judged).
pub fn parse_net(net: &str) -> Option<(IpAddr, u8)> {
    let (a, p) = match net.rsplit_once('/') {
        Some((a, p)) if !a.contains(':') || a.ends_with(']') || a.parse::<Ipv6Addr>().is_ok() => {
            (a, Some(p))
        }
        _ => (net, None),
    };
    let a = a.trim_start_matches('[').trim_end_matches(']');
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some((addr, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ranges() {
        assert!(public_network("0.0.0.0/0").unwrap().contains("every IPv4"));
        assert!(public_network("[::ffff:0:0]/96")
            .unwrap()
            .contains("every IPv4"));
        assert!(public_network("::ffff:0.0.0.0/96")
            .unwrap()
            .contains("mapped"));
        assert!(public_network("[::]/0").is_some());
        assert!(public_network("[::]/80").unwrap().contains("IPv4"));
        assert!(public_network("8.8.8.0/24").is_some());
        assert!(public_network("[2a00:1450::]/32").is_some());
        assert_eq!(public_network("127.0.0.0/8"), None);
        assert_eq!(public_network("192.168.1.0/24"), None);
        assert_eq!(public_network("[::1]/128"), None);
        assert_eq!(public_network("[fe80::]/64"), None);
        assert_eq!(
            public_network("10.0.0.0/7"),
            Some("public IPv4 addresses (10.0.0.0/7)".into())
        );
        assert_eq!(public_network("hash:/etc/postfix/network_table"), None);
    }
}
