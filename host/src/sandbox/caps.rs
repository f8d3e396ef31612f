//! What one plugin may reach outside its sandbox. The host side of every
//! capability import goes through here, and every call re-checks the grant:
//! a load-time import check already refuses ungranted interfaces, this is the
//! second wall (e.g. tables and DNS zones, which an import check cannot see).

use crate::stages::types::Capability;
use crate::tables::{Hit, Query, Table, Tables};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::kv::KvStore;

#[derive(Debug, Clone, Copy)]
pub enum LogLevel {
    Debug,
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone)]
pub enum LookupFailure {
    NotGranted(String),
    Unavailable(String),
}

#[derive(Debug, Clone)]
pub enum DnsFailure {
    NotGranted(String),
    Dns(crate::dns::DnsError),
}

/// A plugin's grants and the host services behind them.
#[derive(Debug)]
pub struct Capabilities {
    /// The plugin's name (from its file or `describe()`).
    pub plugin: String,
    /// Its version, known once `describe()` answered.
    pub version: OnceLock<String>,
    pub granted: BTreeSet<Capability>,
    /// Tables by their main.cf name; an error is reported as `unavailable`
    /// so the plugin can defer rather than silently miss.
    pub tables: BTreeMap<String, Result<Arc<dyn Table>, String>>,
    pub lookup: Arc<Tables>,
    pub resolver: crate::rewrite::Resolver,
    pub dns: crate::dns::Dns,
    /// `None`: any zone (built-ins); otherwise the granted zones.
    pub dns_zones: Option<Vec<String>>,
    pub kv: Option<KvStore>,
}

/// Guest-supplied text for the log: control characters escaped, length capped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(2048));
    for c in s.chars().take(2000) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl Capabilities {
    pub fn version(&self) -> &str {
        self.version.get().map(String::as_str).unwrap_or("?")
    }

    fn has(&self, c: Capability) -> bool {
        self.granted.contains(&c)
    }

    pub fn log(&self, level: LogLevel, message: &str) {
        if !self.has(Capability::Log) {
            return;
        }
        let msg = escape(message);
        let (p, v) = (self.plugin.as_str(), self.version());
        match level {
            LogLevel::Debug => tracing::debug!(plugin = p, version = v, "plugin {p}: {msg}"),
            LogLevel::Info => tracing::info!(plugin = p, version = v, "plugin {p}: {msg}"),
            LogLevel::Warning => {
                tracing::warn!(plugin = p, version = v, "warning: plugin {p}: {msg}")
            }
            LogLevel::Error => tracing::error!(plugin = p, version = v, "error: plugin {p}: {msg}"),
        }
    }

    pub fn find(&self, table: &str, queries: &[Query]) -> Vec<Result<Option<Hit>, LookupFailure>> {
        let t = match (self.has(Capability::Lookup), self.tables.get(table)) {
            (true, Some(Ok(t))) => Ok(t.clone()),
            (true, Some(Err(e))) => Err(LookupFailure::Unavailable(e.clone())),
            _ => Err(LookupFailure::NotGranted(format!(
                "table {table} is not configured for plugin {}",
                self.plugin
            ))),
        };
        queries
            .iter()
            .map(|q| match &t {
                Ok(t) => self
                    .lookup
                    .find(t.as_ref(), q)
                    .map_err(|e| LookupFailure::Unavailable(e.to_string())),
                Err(e) => Err(e.clone()),
            })
            .collect()
    }

    pub fn resolve(&self, addresses: &[String]) -> Vec<Result<crate::rewrite::Resolution, String>> {
        addresses
            .iter()
            .map(|a| {
                if self.has(Capability::Resolve) {
                    self.resolver.resolve(a)
                } else {
                    Err(format!("resolve is not granted to plugin {}", self.plugin))
                }
            })
            .collect()
    }

    /// Whether `name` lies in a granted zone (`.` grants every zone).
    pub fn zone_granted(&self, name: &str) -> bool {
        let Some(zones) = &self.dns_zones else {
            return true;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        zones.iter().any(|z| {
            let z = z
                .trim_end_matches('.')
                .trim_start_matches('.')
                .to_ascii_lowercase();
            z.is_empty() || name == z || name.ends_with(&format!(".{z}"))
        })
    }

    pub async fn dns(
        &self,
        questions: &[(String, crate::dns::RecordType)],
    ) -> Vec<Result<crate::dns::Answer, DnsFailure>> {
        let allowed: Vec<bool> = questions
            .iter()
            .map(|(n, _)| self.has(Capability::Dns) && self.zone_granted(n))
            .collect();
        let asked: Vec<(String, crate::dns::RecordType)> = questions
            .iter()
            .zip(&allowed)
            .filter(|(_, ok)| **ok)
            .map(|(q, _)| q.clone())
            .collect();
        let mut answers = self.dns.query_many(&asked).await.into_iter();
        questions
            .iter()
            .zip(allowed)
            .map(|((name, _), ok)| {
                if ok {
                    answers
                        .next()
                        .unwrap_or(Err(crate::dns::DnsError::ServerFailure("no answer".into())))
                        .map_err(DnsFailure::Dns)
                } else {
                    Err(DnsFailure::NotGranted(format!(
                        "{name} is outside the zones granted to plugin {}",
                        self.plugin
                    )))
                }
            })
            .collect()
    }

    fn kv(&self) -> Result<&KvStore, String> {
        match (&self.kv, self.has(Capability::Kv)) {
            (Some(kv), true) => Ok(kv),
            _ => Err(format!("kv is not granted to plugin {}", self.plugin)),
        }
    }

    pub fn kv_get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.kv()?.get(key)
    }

    pub fn kv_set(&self, key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), String> {
        self.kv()?.set(key, value, ttl)
    }

    pub fn kv_delete(&self, key: &str) -> Result<(), String> {
        self.kv()?.delete(key)
    }

    /// Time since the Unix epoch; zero (the epoch) unless `clock` is granted.
    pub fn now(&self) -> Duration {
        if !self.has(Capability::Clock) {
            return Duration::ZERO;
        }
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(granted: &[Capability], zones: Option<Vec<String>>) -> Capabilities {
        let config = crate::config::Config::default();
        Capabilities {
            plugin: "t".into(),
            version: OnceLock::new(),
            granted: granted.iter().copied().collect(),
            tables: BTreeMap::new(),
            lookup: Arc::new(Tables::new(&config)),
            resolver: crate::rewrite::Resolver::new(&config),
            dns: crate::dns::Dns::new(&config).expect("dns"),
            dns_zones: zones,
            kv: None,
        }
    }

    #[test]
    fn zones_limit_dns_names() {
        let c = caps(&[Capability::Dns], Some(vec!["zen.example".into()]));
        assert!(c.zone_granted("2.0.0.127.zen.example"));
        assert!(c.zone_granted("ZEN.example."));
        assert!(!c.zone_granted("evilzen.example"));
        assert!(!c.zone_granted("example"));
        assert!(caps(&[], None).zone_granted("anything.example"));
        assert!(caps(&[], Some(vec![".".into()])).zone_granted("anything.example"));
    }

    #[test]
    fn ungranted_capabilities_answer_errors_not_data() {
        let c = caps(&[], Some(Vec::new()));
        assert_eq!(c.now(), Duration::ZERO, "no clock: the epoch");
        assert!(c.kv_get("k").is_err());
        assert!(c.resolve(&["a@b".into()])[0].is_err());
        assert!(matches!(
            c.find("hash:/x", &[Query::Exact("k".into())])[0],
            Err(LookupFailure::NotGranted(_))
        ));
        let clock = caps(&[Capability::Clock], None);
        assert!(clock.now() > Duration::from_secs(1_600_000_000));
    }
}
