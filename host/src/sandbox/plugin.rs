//! One loaded plugin: its prepared component, its grants and limits, a pool
//! of initialised instances, and its circuit breaker.

use super::caps::Capabilities;
use super::settings::FailureAction;
use super::state::{wasi_ctx, CallClock, HostState, MemoryLimiter};
use super::wit::{Bindings, Pre};
use crate::stages::types::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wasmtime::{Engine, Store, UpdateDeadline};

/// Per-plugin limits (global `plugin_*` values, overridable in the sidecar).
#[derive(Debug, Clone)]
pub struct Limits {
    pub time: Duration,
    pub memory: u64,
    pub failure_action: FailureAction,
    /// Lendings an instance serves before it is dropped (1 with
    /// `plugin_isolation = message`).
    pub max_use: u32,
    pub isolation: super::settings::Isolation,
    pub pool_size: usize,
    pub failure_limit: u32,
    pub quarantine_time: Duration,
    /// Bound on instantiation plus `init` (rule compilation may be slow).
    pub init_time: Duration,
}

/// Why a plugin call did not produce an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    Trap,
    Timeout,
    OutOfMemory,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Trap => "trap",
            FaultKind::Timeout => "timeout",
            FaultKind::OutOfMemory => "out of memory",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: FaultKind,
    pub detail: String,
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

/// One call into a hook. The context is shared (`Arc`) so that a 0.2 guest's
/// handle can point at it for the call without copying it: a stage makes one
/// `Arc` and lends it to each plugin in turn.
pub enum Hook<'a> {
    /// connect, helo, mail, data, end-of-message (by `ctx.stage`).
    Check(&'a Arc<Context>),
    Rcpt(&'a Arc<Context>, &'a Address),
    Etrn(&'a Arc<Context>, &'a str),
    Headers(&'a Arc<Context>, &'a [Header]),
    Body(&'a Arc<Context>, &'a BodyChunk),
}

pub enum Answer {
    Verdict(Verdict),
    Indexed(Vec<IndexedVerdict>),
}

/// An initialised instance, lent to one stage at a time.
pub struct Instance {
    store: Store<HostState>,
    bindings: Bindings,
    uses: u32,
    /// Set once a call faulted: the instance must not be reused.
    poisoned: bool,
}

/// Circuit breaker state (DESIGN decision 8).
#[derive(Debug, Default)]
struct Breaker {
    in_a_row: u32,
    quarantined_until: Option<Instant>,
}

/// What `mta plugin list` shows about a plugin's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Active,
    Quarantined { remaining: Duration },
}

pub struct Plugin {
    pub name: String,
    pub file: PathBuf,
    pub builtin: bool,
    pub description: Description,
    /// The stages called: declared, or the sidecar's subset.
    pub stages: BTreeSet<Stage>,
    pub order: i64,
    pub limits: Limits,
    pub caps: Arc<Capabilities>,
    pub(crate) engine: Engine,
    pub(crate) pre: Pre,
    pub(crate) settings: Vec<(String, String)>,
    pub(crate) tables: Vec<(String, Option<String>)>,
    pool: Mutex<Vec<Instance>>,
    breaker: Mutex<Breaker>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("file", &self.file)
            .finish()
    }
}

/// A fresh store for one instance, with limits and the guest-time callback.
pub(crate) fn new_store(
    engine: &Engine,
    caps: &Arc<Capabilities>,
    limits: &Limits,
) -> Store<HostState> {
    let state = HostState {
        wasi: wasi_ctx(caps),
        table: wasmtime::component::ResourceTable::new(),
        limits: MemoryLimiter {
            limit: usize::try_from(limits.memory).unwrap_or(usize::MAX),
            exceeded: false,
        },
        caps: caps.clone(),
        call: CallClock::new(limits.init_time),
        facts: None,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    // Yield to tokio every tick so a looping guest never holds a worker
    // thread; stop it once its own time is spent.
    store.epoch_deadline_callback(|mut ctx| {
        let call = &mut ctx.data_mut().call;
        if call.guest_time() >= call.limit {
            call.timed_out = true;
            return Err(wasmtime::format_err!(
                "guest time limit of {:?} exceeded",
                call.limit
            ));
        }
        Ok(UpdateDeadline::Yield(1))
    });
    store.set_epoch_deadline(1);
    store
}

/// Turn a wasmtime error into a fault, using what the store saw.
pub(crate) fn classify(store: &Store<HostState>, err: &wasmtime::Error) -> Fault {
    let data = store.data();
    let detail = match err.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => err.root_cause().to_string(),
    };
    let kind = if data.call.timed_out {
        FaultKind::Timeout
    } else if data.limits.exceeded {
        FaultKind::OutOfMemory
    } else {
        FaultKind::Trap
    };
    Fault { kind, detail }
}

impl Instance {
    /// Instantiate the prepared component (no guest code beyond start functions).
    pub(crate) async fn instantiate(
        engine: &Engine,
        pre: &Pre,
        caps: &Arc<Capabilities>,
        limits: &Limits,
    ) -> Result<Instance, Fault> {
        let mut store = new_store(engine, caps, limits);
        store.data_mut().call = CallClock::new(limits.init_time);
        match pre.instantiate(&mut store).await {
            Ok(bindings) => Ok(Instance {
                store,
                bindings,
                uses: 0,
                poisoned: false,
            }),
            Err(e) => Err(classify(&store, &e)),
        }
    }

    fn arm(&mut self, limit: Duration) {
        self.store.data_mut().call = CallClock::new(limit);
        self.store.set_epoch_deadline(1);
    }

    fn fail(&mut self, e: wasmtime::Error) -> Fault {
        self.poisoned = true;
        classify(&self.store, &e)
    }

    pub(crate) async fn describe(&mut self, limit: Duration) -> Result<Description, Fault> {
        self.arm(limit);
        match self.bindings.describe(&mut self.store).await {
            Ok(d) => Ok(d),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Run `init`; `Ok(Err(text))` is the plugin refusing its configuration.
    pub(crate) async fn init(
        &mut self,
        limit: Duration,
        settings: &[(String, String)],
        tables: &[(String, Option<String>)],
    ) -> Result<Result<(), String>, Fault> {
        self.arm(limit);
        match self.bindings.init(&mut self.store, settings, tables).await {
            Ok(r) => Ok(r),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Call one hook under the per-call guest time limit.
    pub async fn call(&mut self, limit: Duration, hook: Hook<'_>) -> Result<Answer, Fault> {
        if self.poisoned {
            return Err(Fault {
                kind: FaultKind::Trap,
                detail: "instance already faulted".into(),
            });
        }
        self.arm(limit);
        let r = self.bindings.call(&mut self.store, hook).await;
        r.map_err(|e| self.fail(e))
    }

    /// A new, initialised instance of `plugin`, bypassing its pool (what
    /// isolation per message would cost; used by the benchmark).
    pub async fn fresh(plugin: &Plugin) -> Result<Instance, Fault> {
        let mut i =
            Instance::instantiate(&plugin.engine, &plugin.pre, &plugin.caps, &plugin.limits)
                .await?;
        match i
            .init(plugin.limits.init_time, &plugin.settings, &plugin.tables)
            .await?
        {
            Ok(()) => Ok(i),
            Err(text) => Err(Fault {
                kind: FaultKind::Trap,
                detail: format!("init refused: {text}"),
            }),
        }
    }

    /// Mark the instance unusable (e.g. its call was cancelled mid-way).
    pub fn poison(&mut self) {
        self.poisoned = true;
    }
}

impl Plugin {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        name: String,
        file: PathBuf,
        builtin: bool,
        description: Description,
        stages: BTreeSet<Stage>,
        order: i64,
        limits: Limits,
        caps: Arc<Capabilities>,
        engine: Engine,
        pre: Pre,
        settings: Vec<(String, String)>,
        tables: Vec<(String, Option<String>)>,
        first: Instance,
    ) -> Plugin {
        Plugin {
            name,
            file,
            builtin,
            description,
            stages,
            order,
            limits,
            caps,
            engine,
            pre,
            settings,
            tables,
            pool: Mutex::new(vec![first]),
            breaker: Mutex::new(Breaker::default()),
        }
    }

    pub fn version(&self) -> &str {
        &self.description.version
    }

    /// The `mta:filter` contract version the component was built for.
    pub fn contract(&self) -> &'static str {
        self.pre.version()
    }

    pub fn hooks(&self, stage: Stage) -> bool {
        let stage = if stage == Stage::Vrfy {
            Stage::Rcpt
        } else {
            stage
        };
        self.stages.contains(&stage)
    }

    /// The most body bytes this plugin wants (`None`: no body hook).
    pub fn body_limit(&self) -> Option<u64> {
        self.hooks(Stage::Body)
            .then(|| self.description.body_limit.unwrap_or(u64::MAX))
    }

    /// A warm instance from the pool, or a fresh initialised one.
    pub async fn lend(&self) -> Result<Instance, Fault> {
        let pooled = self.pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
        if let Some(i) = pooled {
            return Ok(i);
        }
        Instance::fresh(self).await
    }

    /// Return an instance after a stage: kept warm unless it faulted, has
    /// been lent `plugin_max_use` times, or the pool is full. A use is one
    /// lending (one stage of one session or message, however many hook
    /// calls it made), as Postfix's max_use counts requests served: counting
    /// calls made a content check pay its rule compilation in a fresh
    /// instance three times as often, for no gain in isolation.
    pub fn give_back(&self, mut instance: Instance) {
        instance.uses = instance.uses.saturating_add(1);
        if instance.poisoned || instance.uses >= self.limits.max_use {
            return;
        }
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < self.limits.pool_size {
            pool.push(instance);
        }
    }

    pub fn idle_instances(&self) -> usize {
        self.pool.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether the breaker lets a call through now. After the quarantine the
    /// plugin gets one trial call: one more fault quarantines it again.
    pub fn admit(&self) -> bool {
        let mut b = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match b.quarantined_until {
            Some(until) if Instant::now() < until => false,
            Some(_) => {
                b.quarantined_until = None;
                b.in_a_row = self.limits.failure_limit.saturating_sub(1);
                tracing::info!(plugin = %self.name, "plugin {} version {}: quarantine over, retrying", self.name, self.version());
                true
            }
            None => true,
        }
    }

    pub fn succeeded(&self) {
        self.breaker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .in_a_row = 0;
    }

    /// Count a fault; quarantine after `plugin_failure_limit` in a row.
    pub fn faulted(&self) {
        let mut b = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        b.in_a_row += 1;
        if b.in_a_row >= self.limits.failure_limit && b.quarantined_until.is_none() {
            b.quarantined_until = Some(Instant::now() + self.limits.quarantine_time);
            tracing::warn!(
                plugin = %self.name,
                "warning: plugin {} version {}: quarantined for {}s after {} faults in a row",
                self.name,
                self.version(),
                self.limits.quarantine_time.as_secs(),
                b.in_a_row
            );
        }
    }

    pub fn health(&self) -> Health {
        let b = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        match b.quarantined_until {
            Some(until) if Instant::now() < until => Health::Quarantined {
                remaining: until - Instant::now(),
            },
            _ => Health::Active,
        }
    }
}
