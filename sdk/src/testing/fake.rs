//! The native backend of the capability functions: the same signatures as
//! the generated WIT imports, answered from the installed [`TestHost`].

use super::host::normalise_name;
use super::TestHost;

pub mod log {
    use crate::log::Level;

    pub fn write(level: Level, message: &str) {
        // Shown by the test runner when a test fails.
        eprintln!("[{level:?}] {message}");
        super::TestHost::current()
            .state
            .borrow_mut()
            .logs
            .push((level, message.to_string()));
    }
}

pub mod clock {
    use crate::clock::Datetime;

    pub fn now() -> Datetime {
        super::TestHost::current().state.borrow().now
    }
}

pub mod kv {
    pub fn get(key: &str) -> Result<Option<Vec<u8>>, String> {
        let host = super::TestHost::current();
        let mut state = host.state.borrow_mut();
        if let Some(e) = &state.kv_failure {
            return Err(e.clone());
        }
        let now = state.now.seconds;
        match state.kv.get(key) {
            Some((_, Some(at))) if *at <= now => {
                state.kv.remove(key);
                Ok(None)
            }
            Some((value, _)) => Ok(Some(value.clone())),
            None => Ok(None),
        }
    }

    pub fn set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), String> {
        let host = super::TestHost::current();
        if let Some(e) = &host.state.borrow().kv_failure {
            return Err(e.clone());
        }
        host.kv_set(key, value, ttl_seconds);
        Ok(())
    }

    pub fn delete(key: &str) -> Result<(), String> {
        let host = super::TestHost::current();
        let mut state = host.state.borrow_mut();
        if let Some(e) = &state.kv_failure {
            return Err(e.clone());
        }
        state.kv.remove(key);
        Ok(())
    }
}

pub mod lookup {
    use crate::lookup::{Hit, LookupError, Query};

    pub fn find(table: &str, queries: &[Query]) -> Vec<Result<Option<Hit>, LookupError>> {
        let host = super::TestHost::current();
        let state = host.state.borrow();
        queries
            .iter()
            .map(|query| {
                if state.unavailable_tables.iter().any(|t| t == table) {
                    return Err(LookupError::Unavailable(format!(
                        "{table}: temporarily unavailable"
                    )));
                }
                let Some(entries) = state.tables.get(table) else {
                    return Err(LookupError::NotGranted(table.to_string()));
                };
                Ok(super::access_keys(query).into_iter().find_map(|key| {
                    entries.get(&key.to_ascii_lowercase()).map(|value| Hit {
                        key,
                        value: value.clone(),
                    })
                }))
            })
            .collect()
    }
}

pub mod dns {
    use crate::dns::{Answer, DnsError, Question};

    pub fn query(questions: &[Question]) -> Vec<Result<Answer, DnsError>> {
        let host = super::TestHost::current();
        let state = host.state.borrow();
        questions
            .iter()
            .map(|q| {
                let name = super::normalise_name(&q.name);
                if let Some(zones) = &state.dns_zones {
                    if !zones
                        .iter()
                        .any(|z| name == *z || name.ends_with(&format!(".{z}")))
                    {
                        return Err(DnsError::NotGranted(q.name.clone()));
                    }
                }
                state
                    .dns
                    .iter()
                    .find(|(n, t, _)| *n == name && *t == q.record_type)
                    .map(|(_, _, r)| r.clone())
                    .unwrap_or(Err(DnsError::NotFound))
            })
            .collect()
    }
}

pub mod resolve {
    use crate::resolve::{AddressClass, Resolution};
    use crate::Address;

    pub fn resolve(addresses: &[String]) -> Vec<Result<Resolution, String>> {
        let host = super::TestHost::current();
        let state = host.state.borrow();
        addresses
            .iter()
            .map(|address| {
                if let Some(r) = state.resolutions.get(address) {
                    return Ok(r.clone());
                }
                if address.is_empty() {
                    return Err("empty address".to_string());
                }
                if address.matches('"').count() % 2 == 1 {
                    return Err(format!("unbalanced quote in `{address}`"));
                }
                let parsed = Address::new(address.as_str());
                let (local, domain) = parsed.split();
                let routed = address.starts_with('@') || local.contains('%') || local.contains('!');
                let Some(domain) = domain else {
                    return Ok(Resolution {
                        class: AddressClass::Local,
                        address: address.clone(),
                        transport: "local".to_string(),
                        nexthop: String::new(),
                        routed,
                    });
                };
                let domain = super::normalise_name(domain);
                let (class, transport) = state
                    .routes
                    .get(&domain)
                    .cloned()
                    .unwrap_or((AddressClass::Default, "smtp".to_string()));
                Ok(Resolution {
                    class,
                    address: address.clone(),
                    transport,
                    nexthop: domain,
                    routed,
                })
            })
            .collect()
    }
}

/// The keys access(5) tries for a query, in order, done the simple way:
/// `user@domain`, the domain, each parent domain as `parent` then `.parent`,
/// then `user@`; a client's name and parents, then its address and the
/// shorter address prefixes.
pub fn access_keys(query: &crate::lookup::Query) -> Vec<String> {
    use crate::lookup::Query;
    match query {
        Query::Exact(key) => vec![key.clone()],
        Query::Domain(domain) => domain_keys(domain),
        Query::Address(address) => {
            let parsed = crate::Address::new(address.as_str());
            match parsed.split() {
                (local, Some(domain)) => {
                    let mut keys = vec![address.clone()];
                    keys.extend(domain_keys(domain));
                    keys.push(format!("{local}@"));
                    keys
                }
                (local, None) => vec![local.to_string(), format!("{local}@")],
            }
        }
        Query::Client(client) => {
            let mut keys = Vec::new();
            if !client.name.is_empty() && client.name != "unknown" {
                keys.extend(domain_keys(&client.name));
            }
            keys.extend(address_prefixes(&client.address));
            keys
        }
    }
}

fn domain_keys(domain: &str) -> Vec<String> {
    let domain = normalise_name(domain);
    let mut keys = vec![domain.clone()];
    let mut rest = domain.as_str();
    while let Some(dot) = rest.find('.') {
        rest = &rest[dot + 1..];
        if rest.is_empty() {
            break;
        }
        keys.push(rest.to_string());
        keys.push(format!(".{rest}"));
    }
    keys
}

fn address_prefixes(address: &str) -> Vec<String> {
    let sep = if address.contains(':') { ':' } else { '.' };
    let mut keys = vec![address.to_string()];
    let mut rest = address;
    while let Some(cut) = rest.rfind(sep) {
        rest = rest[..cut].trim_end_matches(sep);
        if rest.is_empty() {
            break;
        }
        keys.push(rest.to_string());
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lookup::Query;

    #[test]
    fn address_keys_in_access_order() {
        assert_eq!(
            access_keys(&Query::Address("u@a.example.com".into())),
            [
                "u@a.example.com",
                "a.example.com",
                "example.com",
                ".example.com",
                "com",
                ".com",
                "u@"
            ]
        );
    }

    #[test]
    fn client_keys_name_then_address_prefixes() {
        assert_eq!(
            access_keys(&Query::client("mail.example", "192.0.2.1")),
            [
                "mail.example",
                "example",
                ".example",
                "192.0.2.1",
                "192.0.2",
                "192.0",
                "192"
            ]
        );
        assert_eq!(
            access_keys(&Query::client("unknown", "2001:db8::1")),
            ["2001:db8::1", "2001:db8", "2001"]
        );
    }

    #[test]
    fn host_is_installed_per_thread() {
        let host = TestHost::new();
        host.now(42);
        host.install();
        assert_eq!(crate::clock::now_seconds(), 42);
        let other = std::thread::spawn(|| crate::clock::now_seconds())
            .join()
            .unwrap();
        assert_eq!(other, super::super::host::DEFAULT_NOW);
    }
}
