//! The host's one DNS client (hickory-resolver): a shared cache honouring
//! TTLs (negative answers too), per-query timeouts and bounded concurrency.
//! Used for the client's reverse lookups at connect, MX lookups in delivery,
//! and the `dns` capability of plugins (which adds the per-plugin zone grant).
//!
//! CONTRACT: `Dns::new(config)` reads `dns_servers` (empty: /etc/resolv.conf;
//! else `addr[:port]` list) and `dns_timeout`.
//!
//! Why our own cache in front of hickory's: every session of a busy gateway
//! asks the same few names (the same client against three DNS lists), so the
//! cache must also fold concurrent identical questions into one upstream
//! query, and tests and benchmarks must be able to prove that a warm cache
//! asks nothing ([`Dns::stats`]). hickory's own cache is switched off so that
//! there is exactly one place where answers live.

use crate::config::Config;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError as HickoryDnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType as HickoryType};
use hickory_resolver::TokioResolver;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, Semaphore};

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

/// Default for `dns_timeout`: one answer or failure within this time.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upstream queries in flight at once; more wait for a slot, so a flood of
/// new clients cannot open unbounded sockets towards the resolver.
pub const DEFAULT_CONCURRENCY: usize = 100;
/// Negative answers without an SOA (or with a huge minimum) are kept this
/// long at most: long enough to absorb a burst, short enough that a client
/// newly listed is seen soon.
pub const NEGATIVE_TTL_CAP: Duration = Duration::from_secs(900);
/// Negative answers without an SOA minimum are kept this long.
pub const NEGATIVE_TTL_DEFAULT: Duration = Duration::from_secs(60);
/// Positive answers are kept at most a day, whatever the zone says.
pub const POSITIVE_TTL_CAP: Duration = Duration::from_secs(86_400);
/// Entries in the cache before expired ones are swept out.
const CACHE_SWEEP_AT: usize = 50_000;

/// How the resolver is set up; [`Dns::new`] fills it from main.cf.
#[derive(Debug, Clone)]
pub struct DnsSettings {
    /// Explicit servers (UDP, falling back to TCP); empty = /etc/resolv.conf.
    pub servers: Vec<SocketAddr>,
    /// Bound on one question, from asking to answer.
    pub timeout: Duration,
    /// Upstream queries in flight at once.
    pub concurrency: usize,
}

impl Default for DnsSettings {
    fn default() -> Self {
        DnsSettings {
            servers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }
}

impl DnsSettings {
    /// Read `dns_servers` and `dns_timeout` from the configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<DnsSettings> {
        let mut s = DnsSettings::default();
        for item in config.get_list("dns_servers") {
            s.servers.push(parse_server(&item)?);
        }
        let t = config.get_time("dns_timeout");
        if !t.is_zero() {
            s.timeout = t;
        }
        Ok(s)
    }
}

/// `addr`, `addr:port`, `[v6]` or `[v6]:port`; the port defaults to 53.
fn parse_server(item: &str) -> anyhow::Result<SocketAddr> {
    if let Ok(sa) = item.parse::<SocketAddr>() {
        return Ok(sa);
    }
    let bare = item.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => anyhow::bail!("dns_servers: {item:?} is not an address or address:port"),
    }
}

/// Counters that let tests and benchmarks see what the cache saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsStats {
    /// Questions sent to a name server.
    pub upstream_queries: u64,
    /// Questions answered from a fresh cache entry.
    pub cache_hits: u64,
    /// Questions that waited for an identical question already in flight.
    pub coalesced: u64,
    /// The most questions ever outstanding at the name servers at once:
    /// proves the concurrency bound without depending on timing.
    pub peak_in_flight: u64,
}

type Key = (String, RecordType);
type Outcome = (Result<Answer, DnsError>, Instant);

/// A cache slot: empty while its one upstream query runs, then the outcome
/// and the instant it stops being fresh. Everyone asking the same question
/// meanwhile awaits the same cell.
type Slot = Arc<OnceCell<Outcome>>;

struct Inner {
    resolver: TokioResolver,
    timeout: Duration,
    slots: Mutex<HashMap<Key, Slot>>,
    permits: Semaphore,
    upstream: AtomicU64,
    hits: AtomicU64,
    coalesced: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
}

/// A cheap-to-clone handle on the shared resolver and cache.
#[derive(Clone)]
pub struct Dns {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns")
            .field("timeout", &self.inner.timeout)
            .field("stats", &self.stats())
            .finish()
    }
}

impl Dns {
    pub fn new(config: &Config) -> anyhow::Result<Dns> {
        Dns::with_settings(DnsSettings::from_config(config)?)
    }

    /// A resolver with explicit settings (tests, `mta` tools).
    pub fn with_settings(settings: DnsSettings) -> anyhow::Result<Dns> {
        let provider = TokioRuntimeProvider::default();
        let mut builder = if settings.servers.is_empty() {
            TokioResolver::builder(provider)
                .map_err(|e| anyhow::anyhow!("reading /etc/resolv.conf: {e}"))?
        } else {
            let servers = settings
                .servers
                .iter()
                .map(|sa| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = sa.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = sa.port();
                    NameServerConfig::new(sa.ip(), true, vec![udp, tcp])
                })
                .collect();
            TokioResolver::builder_with_config(ResolverConfig::from_name_servers(servers), provider)
        };
        let opts = builder.options_mut();
        // Our cache is the only one (see the module comment).
        opts.cache_size = 0;
        opts.timeout = settings.timeout;
        opts.attempts = 1;
        // DNS lists answer 127.0.0.x; never filter those out as "bogus".
        opts.deny_answers.clear();
        opts.use_hosts_file = hickory_resolver::config::ResolveHosts::Never;
        let resolver = builder
            .build()
            .map_err(|e| anyhow::anyhow!("building the DNS resolver: {e}"))?;
        Ok(Dns {
            inner: Arc::new(Inner {
                resolver,
                timeout: settings.timeout,
                slots: Mutex::new(HashMap::new()),
                permits: Semaphore::new(settings.concurrency.max(1)),
                upstream: AtomicU64::new(0),
                hits: AtomicU64::new(0),
                coalesced: AtomicU64::new(0),
                in_flight: AtomicU64::new(0),
                peak_in_flight: AtomicU64::new(0),
            }),
        })
    }

    /// What the cache has saved so far.
    pub fn stats(&self) -> DnsStats {
        DnsStats {
            upstream_queries: self.inner.upstream.load(Ordering::Relaxed),
            cache_hits: self.inner.hits.load(Ordering::Relaxed),
            coalesced: self.inner.coalesced.load(Ordering::Relaxed),
            peak_in_flight: self.inner.peak_in_flight.load(Ordering::Relaxed),
        }
    }

    /// Forget every cached answer (reload, tests).
    pub fn clear_cache(&self) {
        self.slots().clear();
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Slot>> {
        // A panic while holding this lock cannot leave the map inconsistent
        // (every operation on it is a single insert/remove), so recover.
        self.inner.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One question, answered from the cache when fresh.
    pub async fn query(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        let key = (normalise(name), rtype);
        if key.0.is_empty() || key.0.len() > 253 {
            return Err(DnsError::NotFound);
        }
        let now = Instant::now();
        let (slot, fresh) = {
            let mut slots = self.slots();
            match slots.get(&key) {
                Some(slot) => match slot.get() {
                    Some((_, until)) if *until > now => (slot.clone(), true),
                    Some(_) => (self.new_slot(&mut slots, key.clone(), now), false),
                    None => {
                        self.inner.coalesced.fetch_add(1, Ordering::Relaxed);
                        (slot.clone(), true)
                    }
                },
                None => (self.new_slot(&mut slots, key.clone(), now), false),
            }
        };
        if fresh && slot.initialized() {
            self.inner.hits.fetch_add(1, Ordering::Relaxed);
        }
        let (result, _) = slot
            .get_or_init(|| async {
                let (result, keep) = self.upstream(&key.0, rtype).await;
                (result, Instant::now() + keep)
            })
            .await;
        let mut result = result.clone();
        if let Ok(answer) = &mut result {
            // Hand out the time left, not the time first granted.
            if let Some((_, until)) = slot.get() {
                answer.ttl = until.saturating_duration_since(Instant::now());
            }
        }
        result
    }

    fn new_slot(&self, slots: &mut HashMap<Key, Slot>, key: Key, now: Instant) -> Slot {
        if slots.len() >= CACHE_SWEEP_AT {
            slots.retain(|_, s| s.get().is_none_or(|(_, until)| *until > now));
        }
        let slot: Slot = Arc::new(OnceCell::new());
        slots.insert(key, slot.clone());
        slot
    }

    /// A fresh cached outcome, without waiting for anything.
    fn cached(&self, name: &str, rtype: RecordType) -> Option<Result<Answer, DnsError>> {
        let key = (normalise(name), rtype);
        let now = Instant::now();
        let slots = self.slots();
        let (result, until) = slots.get(&key)?.get()?;
        if *until <= now {
            return None;
        }
        self.inner.hits.fetch_add(1, Ordering::Relaxed);
        let mut result = result.clone();
        if let Ok(a) = &mut result {
            a.ttl = until.saturating_duration_since(now);
        }
        Some(result)
    }

    /// Several questions concurrently; one result per question, in order.
    /// Questions the cache answers cost no task: a repeat client's whole
    /// batch is answered without spawning or waiting.
    pub async fn query_many(
        &self,
        questions: &[(String, RecordType)],
    ) -> Vec<Result<Answer, DnsError>> {
        let mut out: Vec<Result<Answer, DnsError>> =
            vec![Err(DnsError::ServerFailure("query task failed".into())); questions.len()];
        let mut set = tokio::task::JoinSet::new();
        let mut missing = Vec::new();
        for (i, (name, rtype)) in questions.iter().enumerate() {
            match self.cached(name, *rtype) {
                Some(r) => out[i] = r,
                None => missing.push(i),
            }
        }
        if let [i] = missing[..] {
            let (name, rtype) = &questions[i];
            out[i] = self.query(name, *rtype).await;
            return out;
        }
        for i in missing {
            let dns = self.clone();
            let (name, rtype) = (questions[i].0.clone(), questions[i].1);
            set.spawn(async move { (i, dns.query(&name, rtype).await) });
        }
        while let Some(joined) = set.join_next().await {
            if let Ok((i, result)) = joined {
                out[i] = result;
            }
        }
        out
    }

    /// Ask a name server, within the concurrency bound and the timeout;
    /// the outcome and how long it may be cached.
    async fn upstream(
        &self,
        name: &str,
        rtype: RecordType,
    ) -> (Result<Answer, DnsError>, Duration) {
        let deadline = tokio::time::Instant::now() + self.inner.timeout;
        let Ok(Ok(_permit)) = tokio::time::timeout_at(deadline, self.inner.permits.acquire()).await
        else {
            return (Err(DnsError::Timeout), Duration::ZERO);
        };
        self.inner.upstream.fetch_add(1, Ordering::Relaxed);
        let _in_flight = InFlight::enter(&self.inner);
        let fqdn = format!("{name}.");
        let lookup = self.inner.resolver.lookup(fqdn, hickory_type(rtype));
        match tokio::time::timeout_at(deadline, lookup).await {
            Err(_) => (Err(DnsError::Timeout), Duration::ZERO),
            Ok(Ok(lookup)) => {
                let mut ttl = POSITIVE_TTL_CAP;
                let mut records = Vec::new();
                for r in lookup.answers() {
                    if let Some(rec) = convert(&r.data, rtype) {
                        ttl = ttl.min(Duration::from_secs(u64::from(r.ttl)));
                        records.push(rec);
                    }
                }
                if records.is_empty() {
                    ttl = NEGATIVE_TTL_DEFAULT;
                }
                (Ok(Answer { records, ttl }), ttl)
            }
            Ok(Err(e)) => map_error(&e),
        }
    }
}

/// Counts one question outstanding at the name servers while it lives,
/// and records the high-water mark (held together with the permit).
struct InFlight<'a>(&'a Inner);

impl<'a> InFlight<'a> {
    fn enter(inner: &'a Inner) -> Self {
        let now = inner.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        inner.peak_in_flight.fetch_max(now, Ordering::AcqRel);
        InFlight(inner)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Lower case, no trailing dot: the cache key and the name asked.
fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn hickory_type(t: RecordType) -> HickoryType {
    match t {
        RecordType::A => HickoryType::A,
        RecordType::Aaaa => HickoryType::AAAA,
        RecordType::Txt => HickoryType::TXT,
        RecordType::Mx => HickoryType::MX,
        RecordType::Ptr => HickoryType::PTR,
        RecordType::Cname => HickoryType::CNAME,
        RecordType::Ns => HickoryType::NS,
    }
}

/// A host name as text without the root's trailing dot (except the root
/// itself, which a null MX uses).
fn host_name(n: &hickory_resolver::proto::rr::Name) -> String {
    let s = n.to_string();
    match s.strip_suffix('.') {
        Some("") | None => s,
        Some(t) => t.to_string(),
    }
}

/// Keep only records of the type asked (a CNAME chain's links are dropped).
fn convert(data: &RData, want: RecordType) -> Option<Record> {
    let rec = match data {
        RData::A(a) => Record::A(a.0),
        RData::AAAA(a) => Record::Aaaa(a.0),
        RData::TXT(t) => Record::Txt(
            t.txt_data
                .iter()
                .map(|b| String::from_utf8_lossy(b))
                .collect::<String>(),
        ),
        RData::MX(mx) => Record::Mx {
            preference: mx.preference,
            exchange: host_name(&mx.exchange),
        },
        RData::PTR(p) => Record::Ptr(host_name(&p.0)),
        RData::CNAME(c) => Record::Cname(host_name(&c.0)),
        RData::NS(n) => Record::Ns(host_name(&n.0)),
        _ => return None,
    };
    let kind = match rec {
        Record::A(_) => RecordType::A,
        Record::Aaaa(_) => RecordType::Aaaa,
        Record::Txt(_) => RecordType::Txt,
        Record::Mx { .. } => RecordType::Mx,
        Record::Ptr(_) => RecordType::Ptr,
        Record::Cname(_) => RecordType::Cname,
        Record::Ns(_) => RecordType::Ns,
    };
    (kind == want).then_some(rec)
}

/// NXDOMAIN → NotFound and NODATA → an empty answer, both cached for the
/// SOA minimum (capped); SERVFAIL, REFUSED and network trouble →
/// ServerFailure and timeouts → Timeout, not cached (only the askers already
/// waiting share them), so the next session tries again.
fn map_error(e: &NetError) -> (Result<Answer, DnsError>, Duration) {
    let failed = |err| (Err(err), Duration::ZERO);
    match e {
        NetError::Timeout => failed(DnsError::Timeout),
        NetError::Dns(HickoryDnsError::NoRecordsFound(nr)) => {
            let keep = nr
                .negative_ttl
                .map(|s| Duration::from_secs(u64::from(s)).min(NEGATIVE_TTL_CAP))
                .unwrap_or(NEGATIVE_TTL_DEFAULT);
            match nr.response_code {
                ResponseCode::NXDomain => (Err(DnsError::NotFound), keep),
                ResponseCode::NoError => (
                    Ok(Answer {
                        records: Vec::new(),
                        ttl: keep,
                    }),
                    keep,
                ),
                code => failed(DnsError::ServerFailure(code.to_string())),
            }
        }
        NetError::Dns(HickoryDnsError::ResponseCode(code)) => {
            failed(DnsError::ServerFailure(code.to_string()))
        }
        other => {
            let text = other.to_string();
            if text.contains("timed out") {
                failed(DnsError::Timeout)
            } else {
                failed(DnsError::ServerFailure(text))
            }
        }
    }
}
