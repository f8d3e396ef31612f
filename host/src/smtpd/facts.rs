//! The facts about a client gathered natively at connect and handed to every
//! stage: addresses, and the reverse lookups Postfix calls
//! `reverse_client_name` (PTR) and `client_name` (PTR confirmed by a forward
//! lookup), each with its status so plugins can tell "no name" from "DNS
//! failed" (reject_unknown_client_hostname answers 450 vs 550 on that).

use crate::dns::{Dns, DnsError, Record, RecordType};
use crate::stages::{NameStatus, Session};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The name used in PTR queries: `4.3.2.1.in-addr.arpa` / nibbles `.ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::new();
            for b in v6.octets().iter().rev() {
                s.push_str(&format!("{:x}.{:x}.", b & 0xf, b >> 4));
            }
            s.push_str("ip6.arpa");
            s
        }
    }
}

fn status_of(e: &DnsError) -> NameStatus {
    match e {
        DnsError::NotFound => NameStatus::NotFound,
        _ => NameStatus::TemporaryFailure,
    }
}

/// Postfix prints IPv4-mapped IPv6 clients as plain IPv4.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Look the client up: PTR, then the PTR name's A/AAAA must include the
/// client address for `client_name` to be that name. Bounded by `limit`.
pub async fn lookup(
    dns: &Dns,
    ip: IpAddr,
    limit: Duration,
) -> (String, NameStatus, String, NameStatus) {
    let unknown = || {
        (
            "unknown".to_string(),
            NameStatus::TemporaryFailure,
            "unknown".to_string(),
            NameStatus::TemporaryFailure,
        )
    };
    let work = async {
        let ptr = match dns.query(&reverse_name(ip), RecordType::Ptr).await {
            Ok(a) => a.records.into_iter().find_map(|r| match r {
                Record::Ptr(n) => Some(n.trim_end_matches('.').to_ascii_lowercase()),
                _ => None,
            }),
            Err(e) => {
                let s = status_of(&e);
                return ("unknown".to_string(), s, "unknown".to_string(), s);
            }
        };
        let Some(name) = ptr.filter(|n| !n.is_empty()) else {
            return (
                "unknown".to_string(),
                NameStatus::NotFound,
                "unknown".to_string(),
                NameStatus::NotFound,
            );
        };
        let rtype = if ip.is_ipv4() {
            RecordType::A
        } else {
            RecordType::Aaaa
        };
        match dns.query(&name, rtype).await {
            Ok(a) => {
                let confirmed = a.records.iter().any(|r| match (r, ip) {
                    (Record::A(x), IpAddr::V4(y)) => *x == y,
                    (Record::Aaaa(x), IpAddr::V6(y)) => *x == y,
                    _ => false,
                });
                if confirmed {
                    (name.clone(), NameStatus::Ok, name, NameStatus::Ok)
                } else {
                    (
                        "unknown".to_string(),
                        NameStatus::NotFound,
                        name,
                        NameStatus::Ok,
                    )
                }
            }
            Err(e) => ("unknown".to_string(), status_of(&e), name, NameStatus::Ok),
        }
    };
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| unknown())
}

/// The session facts for a new connection, before any lookup.
pub fn initial(id: String, client: SocketAddr, server: SocketAddr, listener: &str) -> Session {
    Session {
        id,
        client_address: canonical_ip(client.ip()).to_string(),
        client_port: client.port(),
        client_name: "unknown".into(),
        client_name_status: NameStatus::TemporaryFailure,
        reverse_client_name: "unknown".into(),
        reverse_client_name_status: NameStatus::TemporaryFailure,
        server_address: canonical_ip(server.ip()).to_string(),
        server_port: server.port(),
        listener: listener.to_string(),
        helo_name: None,
        protocol: "SMTP".into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        assert!(reverse_name("2001:db8::1".parse().unwrap()).starts_with("1.0.0.0."));
        assert!(reverse_name("2001:db8::1".parse().unwrap()).ends_with("8.b.d.0.1.0.0.2.ip6.arpa"));
        assert_eq!(
            canonical_ip("::ffff:10.0.0.1".parse().unwrap()).to_string(),
            "10.0.0.1"
        );
    }
}
