//! The fake host behind the capability functions in native builds.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::clock::Datetime;
use crate::dns::{Answer, DnsError, RecordType, ResourceRecord};
use crate::log::Level;
use crate::resolve::{AddressClass, Resolution};

/// 2026-01-01T00:00:00Z: the fake clock's start, fixed so tests are repeatable.
pub const DEFAULT_NOW: u64 = 1_767_225_600;

/// A fake host for native tests. Cheap to clone: clones share one state, so
/// a test keeps a handle to inspect logs and kv after the plugin ran.
#[derive(Clone)]
pub struct TestHost {
    pub(crate) state: Rc<RefCell<State>>,
}

/// Everything the fake host knows.
pub(crate) struct State {
    /// Table name -> lower-cased key -> value.
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
    /// Tables that answer a temporary failure.
    pub unavailable_tables: Vec<String>,
    /// Key -> (value, expiry in clock seconds).
    pub kv: BTreeMap<String, (Vec<u8>, Option<u64>)>,
    /// When set, every kv call fails with this text.
    pub kv_failure: Option<String>,
    pub now: Datetime,
    /// (normalised name, type) -> answer.
    pub dns: Vec<(String, RecordType, Result<Answer, DnsError>)>,
    /// Zones the plugin may query; `None` means any.
    pub dns_zones: Option<Vec<String>>,
    /// Exact address -> resolution.
    pub resolutions: BTreeMap<String, Resolution>,
    /// Lower-cased domain -> (class, transport).
    pub routes: BTreeMap<String, (AddressClass, String)>,
    pub logs: Vec<(Level, String)>,
}

impl Default for State {
    fn default() -> State {
        State {
            tables: BTreeMap::new(),
            unavailable_tables: Vec::new(),
            kv: BTreeMap::new(),
            kv_failure: None,
            now: Datetime {
                seconds: DEFAULT_NOW,
                nanoseconds: 0,
            },
            dns: Vec::new(),
            dns_zones: None,
            resolutions: BTreeMap::new(),
            routes: BTreeMap::new(),
            logs: Vec::new(),
        }
    }
}

thread_local! {
    static CURRENT: RefCell<Option<TestHost>> = const { RefCell::new(None) };
}

impl Default for TestHost {
    fn default() -> TestHost {
        TestHost::new()
    }
}

impl TestHost {
    /// An empty host: no tables, empty kv, clock at [`DEFAULT_NOW`], no DNS
    /// data (every name is NXDOMAIN), every domain routed to `smtp`.
    pub fn new() -> TestHost {
        TestHost {
            state: Rc::new(RefCell::new(State::default())),
        }
    }

    /// Make this the host the capability functions use on this thread, and
    /// return a handle to it.
    pub fn install(&self) -> TestHost {
        CURRENT.with(|c| *c.borrow_mut() = Some(self.clone()));
        self.clone()
    }

    /// The host installed on this thread, installing an empty one if none is.
    pub fn current() -> TestHost {
        CURRENT.with(|c| c.borrow_mut().get_or_insert_with(TestHost::new).clone())
    }

    // ---- tables ----

    /// Add `key -> value` to `table` (created if new). Keys match
    /// case-insensitively, as in Postfix's indexed tables.
    pub fn table(&self, table: &str, key: &str, value: &str) -> &TestHost {
        self.state
            .borrow_mut()
            .tables
            .entry(table.to_string())
            .or_default()
            .insert(key.to_ascii_lowercase(), value.to_string());
        self
    }

    /// Grant an empty table.
    pub fn empty_table(&self, table: &str) -> &TestHost {
        self.state
            .borrow_mut()
            .tables
            .entry(table.to_string())
            .or_default();
        self
    }

    /// Make `table` answer a temporary failure to every query.
    pub fn table_unavailable(&self, table: &str) -> &TestHost {
        self.state
            .borrow_mut()
            .unavailable_tables
            .push(table.to_string());
        self
    }

    // ---- clock and kv ----

    /// Set the clock, in seconds since the epoch.
    pub fn now(&self, seconds: u64) -> &TestHost {
        self.state.borrow_mut().now = Datetime {
            seconds,
            nanoseconds: 0,
        };
        self
    }

    /// Move the clock forward.
    pub fn advance(&self, seconds: u64) -> &TestHost {
        let mut state = self.state.borrow_mut();
        state.now.seconds = state.now.seconds.saturating_add(seconds);
        self
    }

    /// The clock, in seconds since the epoch.
    pub fn clock(&self) -> u64 {
        self.state.borrow().now.seconds
    }

    /// Store a kv entry, as if an earlier run had.
    pub fn kv_set(&self, key: &str, value: &[u8], ttl_seconds: Option<u32>) -> &TestHost {
        let mut state = self.state.borrow_mut();
        let expires = ttl_seconds.map(|t| state.now.seconds.saturating_add(u64::from(t)));
        state.kv.insert(key.to_string(), (value.to_vec(), expires));
        self
    }

    /// A kv entry, if present and not expired at the current clock.
    pub fn kv_get(&self, key: &str) -> Option<Vec<u8>> {
        let state = self.state.borrow();
        let (value, expires) = state.kv.get(key)?;
        match expires {
            Some(at) if *at <= state.now.seconds => None,
            _ => Some(value.clone()),
        }
    }

    /// The expiry (clock seconds) of a kv entry, `Some(None)` if it never expires.
    pub fn kv_expiry(&self, key: &str) -> Option<Option<u64>> {
        self.state.borrow().kv.get(key).map(|(_, e)| *e)
    }

    /// The live kv keys, sorted.
    pub fn kv_keys(&self) -> Vec<String> {
        let now = self.clock();
        let state = self.state.borrow();
        state
            .kv
            .iter()
            .filter(|(_, (_, e))| e.is_none_or(|at| at > now))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Make every kv call fail with `error` (`None` to heal).
    pub fn kv_failure(&self, error: Option<&str>) -> &TestHost {
        self.state.borrow_mut().kv_failure = error.map(str::to_string);
        self
    }

    // ---- dns ----

    /// Answer `records` (TTL 300) to questions for `name` and `record_type`.
    pub fn dns_answer(
        &self,
        name: &str,
        record_type: RecordType,
        records: Vec<ResourceRecord>,
    ) -> &TestHost {
        self.dns_result(name, record_type, Ok(Answer { records, ttl: 300 }))
    }

    /// Answer an error to questions for `name` and `record_type`.
    pub fn dns_error(&self, name: &str, record_type: RecordType, error: DnsError) -> &TestHost {
        self.dns_result(name, record_type, Err(error))
    }

    fn dns_result(
        &self,
        name: &str,
        record_type: RecordType,
        result: Result<Answer, DnsError>,
    ) -> &TestHost {
        let name = normalise_name(name);
        let mut state = self.state.borrow_mut();
        state
            .dns
            .retain(|(n, t, _)| !(n == &name && *t == record_type));
        state.dns.push((name, record_type, result));
        self
    }

    /// Limit DNS to these zones, as a grant does; others answer `not-granted`.
    pub fn dns_zones<S: AsRef<str>>(&self, zones: impl IntoIterator<Item = S>) -> &TestHost {
        self.state.borrow_mut().dns_zones = Some(
            zones
                .into_iter()
                .map(|z| normalise_name(z.as_ref()))
                .collect(),
        );
        self
    }

    // ---- resolver ----

    /// Route `domain` to `class` with `transport` (e.g. `local` for
    /// mydestination, `relay` for relay_domains).
    pub fn route(&self, domain: &str, class: AddressClass, transport: &str) -> &TestHost {
        self.state
            .borrow_mut()
            .routes
            .insert(normalise_name(domain), (class, transport.to_string()));
        self
    }

    /// Answer exactly `resolution` for `address`.
    pub fn resolution(&self, address: &str, resolution: Resolution) -> &TestHost {
        self.state
            .borrow_mut()
            .resolutions
            .insert(address.to_string(), resolution);
        self
    }

    // ---- logs ----

    /// Every line the plugin logged, in order.
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.state.borrow().logs.clone()
    }

    /// Whether some logged line contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.state
            .borrow()
            .logs
            .iter()
            .any(|(_, line)| line.contains(needle))
    }

    /// Forget the logged lines.
    pub fn clear_logs(&self) -> &TestHost {
        self.state.borrow_mut().logs.clear();
        self
    }
}

/// Lower-case and drop a trailing dot, so `Example.COM.` and `example.com` meet.
pub(crate) fn normalise_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}
