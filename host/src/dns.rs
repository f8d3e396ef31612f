//! The host's one DNS client (hickory-resolver): a shared cache honouring
//! TTLs (negative answers too), per-query timeouts and bounded concurrency.
//! Used for the client's reverse lookups at connect, MX lookups in delivery,
//! and the `dns` capability of plugins (which adds the per-plugin zone grant).
//!
//! CONTRACT: `Dns::new(config)` reads `dns_servers` (empty: /etc/resolv.conf;
//! else `addr[:port]` list) and `dns_timeout`.

use crate::config::Config;
use std::time::Duration;

/// Record types the host asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    A,
    Aaaa,
    Txt,
    Mx,
    Ptr,
    Cname,
    Ns,
}

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    A(std::net::Ipv4Addr),
    Aaaa(std::net::Ipv6Addr),
    Txt(String),
    Mx { preference: u16, exchange: String },
    Ptr(String),
    Cname(String),
    Ns(String),
}

/// Records and how long they may be cached; empty records = NODATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub records: Vec<Record>,
    pub ttl: Duration,
}

/// Why a question has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("host not found")]
    NotFound,
    #[error("timeout")]
    Timeout,
    #[error("server failure: {0}")]
    ServerFailure(String),
}

/// A cheap-to-clone handle on the shared resolver and cache.
#[derive(Debug, Clone)]
pub struct Dns {}

impl Dns {
    pub fn new(config: &Config) -> anyhow::Result<Dns> {
        let _ = config;
        Ok(Dns {})
    }

    /// One question, answered from the cache when fresh.
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        let _ = (name, rtype);
        Err(DnsError::ServerFailure("dns not implemented".into()))
    }

    /// Several questions concurrently; one result per question, in order.
    pub async fn query_many(&self, questions: &[(String, RecordType)]) -> Vec<Result<Answer, DnsError>> {
        let mut out = Vec::with_capacity(questions.len());
        for (n, t) in questions {
            out.push(self.query(n, *t).await);
        }
        out
    }
}
