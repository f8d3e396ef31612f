//! Open-relay analysis for `mta check`: configurations that let any client
//! relay mail through this host.

use super::expand::split_list;
use super::Config;
use mta_sdk::net::Cidr;
use std::net::IpAddr;

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

/// Address space that relaying to is never "public": private, loopback,
/// link-local, shared (CGNAT) and documentation blocks.
const PRIVATE: &[&str] = &[
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "[::1]/128",
    "[fc00::]/7",
    "[fe80::]/10",
    "[2001:db8::]/32",
];

/// If `net` (Postfix notation: `1.2.3.0/24`, `[::1]/128`, a bare address)
/// includes addresses outside private, loopback, link-local and
/// documentation space, say what it covers.
pub fn public_network(net: &str) -> Option<String> {
    let c = Cidr::parse_as_written(net).ok()?;
    match c.addr() {
        IpAddr::V4(_) => v4_public(c),
        IpAddr::V6(_) => {
            if let Some(v4) = mapped(c) {
                return v4_public(v4).map(|w| format!("{w} (as IPv4-mapped IPv6 addresses)"));
            }
            if c.prefix() == 0 {
                return Some("every IPv6 address".into());
            }
            (!inside_private(c)).then(|| format!("public IPv6 addresses ({net})"))
        }
    }
}

fn v4_public(c: Cidr) -> Option<String> {
    if c.prefix() == 0 {
        return Some("every IPv4 address".into());
    }
    (!inside_private(c)).then(|| format!("public IPv4 addresses ({}/{})", c.addr(), c.prefix()))
}

/// Whether all of `c` lies inside one private block.
fn inside_private(c: Cidr) -> bool {
    PRIVATE
        .iter()
        .filter_map(|p| Cidr::parse(p).ok())
        .any(|p| c.prefix() >= p.prefix() && p.contains_same_family(c.addr()))
}

/// `::ffff:a.b.c.d/n` with n >= 96 (or a shorter prefix that includes the
/// whole mapped range) as the IPv4 network it stands for.
fn mapped(c: Cidr) -> Option<Cidr> {
    if c.prefix() == 0 {
        return None;
    }
    if c.prefix() < 96 {
        // A short prefix that contains ::ffff:0:0/96 covers all of IPv4.
        return c
            .is_everything()
            .then(|| Cidr::parse("0.0.0.0/0").ok())
            .flatten();
    }
    let IpAddr::V6(a) = c.addr() else {
        return None;
    };
    let v4 = a.to_ipv4_mapped()?;
    Cidr::parse_as_written(&format!("{v4}/{}", c.prefix() - 96)).ok()
}

/// Whether `net` reads as a network block (`1.2.3.0/24`, `[::1]/128`,
/// `::1/128`, `1.2.3.4`); false for table references and host names.
pub fn is_network(net: &str) -> bool {
    Cidr::parse_as_written(net).is_ok()
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
