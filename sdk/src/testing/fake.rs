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
        let other = std::thread::spawn(crate::clock::now_seconds)
            .join()
            .unwrap();
        assert_eq!(other, super::super::host::DEFAULT_NOW);
    }
}

#[cfg(test)]
mod capability_tests {
    use super::TestHost;
    use crate::dns::{DnsError, Question, RecordType, ResourceRecord};
    use crate::lookup::{LookupError, Query};
    use crate::resolve::AddressClass;
    use crate::{kv, log, lookup, resolve};

    #[test]
    fn kv_entries_expire_on_the_fake_clock() {
        let host = TestHost::new().now(1_000).install();
        kv::set("a", b"1", Some(10)).unwrap();
        kv::set("b", b"2", None).unwrap();
        assert_eq!(kv::get("a").unwrap(), Some(b"1".to_vec()));
        host.advance(9);
        assert_eq!(kv::get("a").unwrap(), Some(b"1".to_vec()));
        host.advance(1);
        assert_eq!(kv::get("a").unwrap(), None);
        assert_eq!(host.kv_keys(), ["b"]);
        kv::delete("b").unwrap();
        kv::delete("missing").unwrap();
        assert!(host.kv_keys().is_empty());
        host.kv_failure(Some("disk full"));
        assert_eq!(kv::set("c", b"3", None), Err("disk full".to_string()));
        assert_eq!(kv::get("c"), Err("disk full".to_string()));
    }

    #[test]
    fn lookup_tries_access_keys_and_reports_grants() {
        let host = TestHost::new();
        host.table("hash:/etc/postfix/access", "Example.COM", "REJECT no")
            .table("hash:/etc/postfix/access", "192.0.2", "OK")
            .table_unavailable("ldap:/etc/postfix/ldap.cf")
            .install();
        let results = lookup::find(
            "hash:/etc/postfix/access",
            &[
                Query::Address("u@mail.example.com".into()),
                Query::client("unknown", "192.0.2.7"),
                Query::Exact("example.com.".into()),
            ],
        );
        let hit = results[0].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(
            (hit.key.as_str(), hit.value.as_str()),
            ("example.com", "REJECT no")
        );
        let hit = results[1].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(hit.key, "192.0.2");
        assert_eq!(results[2], Ok(None));
        assert_eq!(
            lookup::find_one("hash:/etc/postfix/other", Query::Exact("x".into())),
            Err(LookupError::NotGranted("hash:/etc/postfix/other".into()))
        );
        assert!(matches!(
            lookup::find_one("ldap:/etc/postfix/ldap.cf", Query::Exact("x".into())),
            Err(LookupError::Unavailable(_))
        ));
    }

    #[test]
    fn dns_answers_errors_and_zones() {
        let host = TestHost::new();
        host.dns_answer(
            "2.0.0.192.zen.example.",
            RecordType::A,
            vec![ResourceRecord::A("127.0.0.2".into())],
        )
        .dns_error("1.0.0.192.zen.example", RecordType::A, DnsError::Timeout)
        .dns_zones(["zen.example"])
        .install();
        let answers = crate::dns::query(&[
            Question::new("2.0.0.192.ZEN.example", RecordType::A),
            Question::new("2.0.0.192.zen.example", RecordType::Txt),
            Question::new("1.0.0.192.zen.example", RecordType::A),
            Question::new("evil.example", RecordType::A),
        ]);
        assert_eq!(
            answers[0].as_ref().unwrap().records,
            vec![ResourceRecord::A("127.0.0.2".into())]
        );
        assert_eq!(answers[1], Err(DnsError::NotFound));
        assert_eq!(answers[2], Err(DnsError::Timeout));
        assert_eq!(answers[3], Err(DnsError::NotGranted("evil.example".into())));
    }

    #[test]
    fn resolve_routes_domains_and_flags_sender_routing() {
        TestHost::new()
            .route("example.net", AddressClass::Local, "local")
            .route("relay.example", AddressClass::Relay, "relay")
            .install();
        let r = resolve::resolve_one("u@Example.NET").unwrap();
        assert_eq!(
            (r.class, r.transport.as_str(), r.routed),
            (AddressClass::Local, "local", false)
        );
        let r = resolve::resolve_one("u%other.example@relay.example").unwrap();
        assert_eq!((r.class, r.routed), (AddressClass::Relay, true));
        let r = resolve::resolve_one("u@elsewhere.example").unwrap();
        assert_eq!(
            (r.class, r.transport.as_str(), r.nexthop.as_str()),
            (AddressClass::Default, "smtp", "elsewhere.example")
        );
        assert!(resolve::resolve_one("").is_err());
        assert!(resolve::resolve_one("\"unbalanced@x").is_err());
    }

    #[test]
    fn logs_are_captured_in_order() {
        let host = TestHost::new().install();
        log::info("one");
        log::error("two");
        assert_eq!(
            host.logs(),
            vec![
                (log::Level::Info, "one".into()),
                (log::Level::Error, "two".into())
            ]
        );
        assert!(host.logged("tw"));
        host.clear_logs();
        assert!(host.logs().is_empty());
    }
}
