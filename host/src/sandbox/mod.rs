//! The wasmtime sandbox: one Engine, components compiled once (with an
//! on-disk cache), pools of initialised instances, epoch deadlines, memory
//! limits, and the capabilities each plugin is granted.
//!
//! Isolation model (DESIGN decision 1): an instance is initialised once
//! (`init` compiles the plugin's rules), then lent to one stage at a time and
//! returned; it is recycled after `plugin_max_use` uses and thrown away after
//! any fault. Fresh instances come from wasmtime's pooling allocator with
//! copy-on-write memory images, so replacing one is cheap.

pub mod caps;
pub mod kv;
pub mod load;
pub mod plugin;
pub mod replay;
pub mod settings;
pub mod state;
pub mod wit;

use crate::config::Config;
use settings::Settings;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

pub use plugin::{Fault, FaultKind, Plugin};
pub use settings::FailureAction;
use state::HostState;

/// How often the epoch advances; guest time limits are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The wasmtime engine and compiled components, shared by every listener's
/// `StageRunner` and kept across reloads (the compile cache makes a reload
/// cheap).
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<HostState>,
    settings: Settings,
    cache_directory: Option<PathBuf>,
    /// The kv database, opened on first use (redb allows one opener per file).
    kv: Mutex<Option<(PathBuf, kv::KvDatabase)>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("memory_limit", &self.inner.settings.memory_limit)
            .field("time_limit", &self.inner.settings.time_limit)
            .field("cache_directory", &self.inner.cache_directory)
            .finish()
    }
}

impl Default for Sandbox {
    /// A sandbox with default settings and no compile cache.
    fn default() -> Sandbox {
        Sandbox::new(&Config::default())
            .unwrap_or_else(|e| panic!("cannot build the wasmtime engine: {e:#}"))
    }
}

impl Sandbox {
    /// Build the engine from `plugin_*` parameters.
    pub fn new(config: &Config) -> anyhow::Result<Sandbox> {
        let settings = Settings::from_config(config)?;
        let mut wc = wasmtime::Config::new();
        wc.wasm_component_model(true);
        wc.epoch_interruption(true);
        wc.strategy(wasmtime::Strategy::Cranelift);
        let n = settings.instance_limit;
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(n);
        pool.total_core_instances(n * 8);
        pool.total_memories(n * 2);
        pool.total_tables(n * 4);
        pool.total_stacks(n);
        pool.max_memory_size(usize::try_from(settings.memory_limit).unwrap_or(usize::MAX));
        pool.max_memories_per_component(4);
        pool.max_tables_per_component(16);
        // Every async call runs on a fiber stack from the pool; keeping the
        // used part resident avoids an madvise + page faults per hook call.
        pool.async_stack_keep_resident(256 * 1024);
        // Likewise a recycled instance's memory and tables stay warm.
        pool.linear_memory_keep_resident(1 << 20);
        pool.table_keep_resident(64 * 1024);
        wc.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let cache_directory = settings
            .cache_directory
            .clone()
            .and_then(|dir| match cache(&dir) {
                Ok(c) => {
                    wc.cache(Some(c));
                    Some(dir)
                }
                Err(e) => {
                    tracing::warn!(
                        "warning: plugin compile cache {} disabled: {e:#}",
                        dir.display()
                    );
                    None
                }
            });
        let engine = Engine::new(&wc)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        wit::add_to_linker(&mut linker)?;
        let inner = Arc::new(Inner {
            engine,
            linker,
            settings,
            cache_directory,
            kv: Mutex::new(None),
        });
        start_ticker(Arc::downgrade(&inner));
        Ok(Sandbox { inner })
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn linker(&self) -> &Linker<HostState> {
        &self.inner.linker
    }

    /// The settings the engine was built with (pool sizes, memory ceiling).
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn cache_directory(&self) -> Option<&Path> {
        self.inner.cache_directory.as_deref()
    }

    /// The shared kv database at `path`, opened once.
    pub(crate) fn kv(&self, path: &Path) -> anyhow::Result<kv::KvDatabase> {
        let mut slot = self.inner.kv.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((p, db)) = slot.as_ref() {
            if p == path {
                return Ok(db.clone());
            }
        }
        let db = kv::KvDatabase::open(path)?;
        *slot = Some((path.to_path_buf(), db.clone()));
        Ok(db)
    }
}

fn cache(dir: &Path) -> anyhow::Result<wasmtime::Cache> {
    std::fs::create_dir_all(dir)?;
    let mut cc = wasmtime::CacheConfig::new();
    cc.with_directory(dir);
    Ok(wasmtime::Cache::new(cc)?)
}

/// Advance the epoch every tick while the sandbox lives; the thread ends when
/// the last `Sandbox` clone is dropped.
fn start_ticker(inner: Weak<Inner>) {
    let spawned = std::thread::Builder::new()
        .name("mta-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match inner.upgrade() {
                Some(i) => i.engine.increment_epoch(),
                None => break,
            }
        });
    if let Err(e) = spawned {
        tracing::error!("error: cannot start the plugin epoch thread: {e}");
    }
}
