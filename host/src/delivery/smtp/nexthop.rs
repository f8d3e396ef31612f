//! Turning a next hop (`example.com`, `[192.0.2.1]:2525`) into addresses to try.

use crate::delivery::Status;
use crate::dns::{Dns, DnsError, Record, RecordType};
use std::net::IpAddr;

/// A parsed next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub host: String,
    pub port: u16,
    /// Look up MX records (no brackets) or connect to the host itself.
    pub mx: bool,
}

impl NextHop {
    /// `[host]:port`, `[host]`, `host:port` or `host`; an empty or
    /// malformed hop is an error naming it.
    pub fn parse(s: &str) -> Result<NextHop, String> {
        let s = s.trim();
        let s = s.strip_prefix("smtp:").unwrap_or(s);
        let (host, rest, mx) = if let Some(r) = s.strip_prefix('[') {
            let (h, rest) = r
                .split_once(']')
                .ok_or_else(|| format!("malformed next hop {s:?}"))?;
            (
                h.strip_prefix("ipv6:")
                    .or(h.strip_prefix("IPv6:"))
                    .unwrap_or(h),
                rest,
                false,
            )
        } else {
            match s.rsplit_once(':') {
                Some((h, _)) if !h.contains(':') => (h, &s[h.len()..], true),
                _ => (s, "", true),
            }
        };
        let port = match rest.strip_prefix(':') {
            Some(p) => p
                .parse()
                .map_err(|_| format!("bad port in next hop {s:?}"))?,
            None if rest.is_empty() => 25,
            None => return Err(format!("malformed next hop {s:?}")),
        };
        if host.is_empty() {
            return Err(format!("empty next hop {s:?}"));
        }
        Ok(NextHop {
            host: host.to_ascii_lowercase(),
            port,
            mx,
        })
    }
}

type Failure = (Status, &'static str, String);

fn dns_failure(name: &str, rtype: &str, e: &DnsError) -> Failure {
    match e {
        DnsError::NotFound => (
            Status::Bounced,
            "5.4.4",
            format!(
                "Host or domain name not found. Name service error for name={name} type={rtype}: Host not found"
            ),
        ),
        other => (
            Status::Deferred,
            "4.4.3",
            format!(
                "Host or domain name not found. Name service error for name={name} type={rtype}: {other}"
            ),
        ),
    }
}

async fn host_addresses(dns: &Dns, host: &str) -> Result<Vec<IpAddr>, Failure> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let answers = dns
        .query_many(&[
            (host.to_string(), RecordType::A),
            (host.to_string(), RecordType::Aaaa),
        ])
        .await;
    let mut ips = Vec::new();
    let mut first_err = None;
    for a in answers {
        match a {
            Ok(ans) => ips.extend(ans.records.iter().filter_map(|r| match r {
                Record::A(a) => Some(IpAddr::V4(*a)),
                Record::Aaaa(a) => Some(IpAddr::V6(*a)),
                _ => None,
            })),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match (ips.is_empty(), first_err) {
        (false, _) => Ok(ips),
        (true, Some(e)) => Err(dns_failure(host, "A", &e)),
        (true, None) => Err(dns_failure(host, "A", &DnsError::NotFound)),
    }
}

/// Every (host name, address) to try, best first.
pub async fn addresses(dns: &Dns, hop: &NextHop) -> Result<Vec<(String, IpAddr)>, Failure> {
    let mut hosts: Vec<String> = Vec::new();
    if hop.mx && hop.host.parse::<IpAddr>().is_err() {
        match dns.query(&hop.host, RecordType::Mx).await {
            Ok(ans) => {
                let mut mxs: Vec<(u16, String)> = ans
                    .records
                    .iter()
                    .filter_map(|r| match r {
                        Record::Mx {
                            preference,
                            exchange,
                        } => Some((
                            *preference,
                            exchange.trim_end_matches('.').to_ascii_lowercase(),
                        )),
                        _ => None,
                    })
                    .collect();
                if mxs.len() == 1 && mxs[0].1.is_empty() {
                    // RFC 7505 null MX: the domain accepts no mail.
                    return Err((
                        Status::Bounced,
                        "5.1.10",
                        format!("Domain {} does not accept mail (nullMX)", hop.host),
                    ));
                }
                mxs.sort_by_key(|(p, _)| *p);
                hosts.extend(
                    mxs.into_iter()
                        .filter(|(_, h)| !h.is_empty())
                        .map(|(_, h)| h),
                );
            }
            Err(DnsError::NotFound) => {}
            Err(e) => return Err(dns_failure(&hop.host, "MX", &e)),
        }
    }
    if hosts.is_empty() {
        hosts.push(hop.host.clone());
    }
    let mut out = Vec::new();
    let mut last_err = None;
    for h in hosts {
        match host_addresses(dns, &h).await {
            Ok(ips) => out.extend(ips.into_iter().map(|ip| (h.clone(), ip))),
            Err(e) => last_err = Some(e),
        }
    }
    match (out.is_empty(), last_err) {
        (true, Some(e)) => Err(e),
        (true, None) => Err((
            Status::Deferred,
            "4.4.3",
            format!("no address for {}", hop.host),
        )),
        _ => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_next_hops() {
        assert_eq!(
            NextHop::parse("[127.0.0.1]:2525").unwrap(),
            NextHop {
                host: "127.0.0.1".into(),
                port: 2525,
                mx: false
            }
        );
        assert_eq!(
            NextHop::parse("Example.COM").unwrap(),
            NextHop {
                host: "example.com".into(),
                port: 25,
                mx: true
            }
        );
        assert_eq!(NextHop::parse("mx.example.com:587").unwrap().port, 587);
        assert_eq!(
            NextHop::parse("[ipv6:::1]:26").unwrap(),
            NextHop {
                host: "::1".into(),
                port: 26,
                mx: false
            }
        );
        assert!(NextHop::parse("[oops").is_err());
        assert!(NextHop::parse("").is_err());
        assert!(NextHop::parse("[h]:x").is_err());
    }
}
