//! The daemon (Postfix's master): one smtpd listener per master.cf entry,
//! the queue manager, the control socket, and the signals. SIGTERM (or
//! `mta stop`) stops accepting and lets sessions finish up to a deadline;
//! SIGHUP (or `mta reload`) re-reads main.cf, master.cf and the plugins and
//! swaps each listener's `Shared` (with its `Arc<StageRunner>`), so sessions
//! in flight keep the plugins they started with.

use crate::config::{Config, Listener};
use crate::control::{self, ControlEvent};
use crate::dns::Dns;
use crate::pickup::{Pickup, PickupCell};
use crate::qmgr::Qmgr;
use crate::queue::Queue;
use crate::rewrite::Resolver;
use crate::sandbox::Sandbox;
use crate::smtpd::limits::DaemonLimits;
use crate::smtpd::listener::{self, Gate};
use crate::smtpd::Shared;
use crate::stages::StageRunner;
use crate::tables::Tables;
use anyhow::Context as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

/// How long SIGTERM waits for sessions in flight before exiting anyway.
pub const DRAIN_DEADLINE: Duration = Duration::from_secs(60);

/// The listener used when the configuration names none (the embedded
/// default: loopback, port 2525).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:2525";

/// Where the configuration comes from, so a reload can read it again.
#[derive(Debug, Clone)]
pub enum Source {
    Dir(PathBuf),
    Embedded(PathBuf),
}

impl Source {
    pub fn load(&self) -> anyhow::Result<Config> {
        match self {
            Source::Dir(d) => Config::load(d).map_err(|errs| {
                let lines: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                anyhow::anyhow!("configuration errors:\n{}", lines.join("\n"))
            }),
            Source::Embedded(spool) => Ok(Config::embedded_default(spool)),
        }
    }
}

/// The listeners to run: master.cf's, or the default one.
fn listeners(config: &Config) -> anyhow::Result<Vec<Listener>> {
    if !config.listeners.is_empty() {
        return Ok(config.listeners.clone());
    }
    let addr = DEFAULT_LISTEN.parse().context("default listener")?;
    Ok(vec![Listener {
        service: DEFAULT_LISTEN.into(),
        addrs: vec![addr],
        overrides: Vec::new(),
    }])
}

/// Shared services built once per (re)load.
struct Services {
    sandbox: Sandbox,
    tables: Arc<Tables>,
    resolver: Resolver,
    dns: Dns,
}

/// The plugins as main.cf configures them, loaded once per (re)load: pickup
/// and every listener without `-o` overrides share them (one load, one set of
/// warm instances, one line per plugin in the log).
async fn load_main_runner(config: &Config, svc: &Services) -> anyhow::Result<Arc<StageRunner>> {
    let runner = StageRunner::load(&svc.sandbox, config, &svc.tables, &svc.resolver, &svc.dns)
        .await
        .context("loading plugins")?;
    Ok(Arc::new(runner))
}

async fn build_shared(
    l: &Listener,
    config: &Config,
    svc: &Services,
    main_runner: &Arc<StageRunner>,
    queue: &Queue,
    qmgr: &Arc<Qmgr>,
    anvil: &Arc<crate::smtpd::anvil::Anvil>,
) -> anyhow::Result<Shared> {
    let eff = config.with_overrides(&l.overrides);
    // A listener with its own overrides may configure other plugins, tables
    // or settings: it gets its own load.
    let runner = if l.overrides.is_empty() {
        main_runner.clone()
    } else {
        Arc::new(
            StageRunner::load(&svc.sandbox, &eff, &svc.tables, &svc.resolver, &svc.dns)
                .await
                .with_context(|| format!("loading plugins for listener {}", l.service))?,
        )
    };
    let maps = crate::cleanup::rewrite::Maps::from_config(&eff, &svc.tables)
        .with_context(|| format!("address rewriting maps for listener {}", l.service))?;
    Ok(Shared::new(
        &l.service,
        &eff,
        runner,
        queue.clone(),
        Some(svc.dns.clone()),
        Some(qmgr.clone()),
    )
    .with_context(|| format!("listener {}", l.service))?
    .with_maps(maps)
    .with_anvil(anvil.clone()))
}

/// Local submission's pickup, over main.cf (no listener's overrides).
fn build_pickup(
    config: &Config,
    svc: &Services,
    main_runner: &StageRunner,
) -> anyhow::Result<Pickup> {
    Pickup::new(config, main_runner, &svc.tables).context("pickup")
}

fn services(config: &Config) -> anyhow::Result<Services> {
    Ok(Services {
        sandbox: Sandbox::new(config).context("plugin sandbox")?,
        tables: Arc::new(Tables::new(config)),
        resolver: Resolver::new(config),
        dns: Dns::new(config).context("DNS resolver")?,
    })
}

/// `queue_directory`, defaulting to `./spool` (mta runs unprivileged
/// without an installed spool; see README).
pub fn queue_directory(config: &Config) -> PathBuf {
    let q = config.get("queue_directory");
    if q.trim().is_empty() {
        PathBuf::from("spool")
    } else {
        PathBuf::from(q.trim())
    }
}

/// Print a line operators and tests wait for, unbuffered.
fn announce(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Run until stopped. Returns after the drain.
pub async fn run(source: Source) -> anyhow::Result<()> {
    // Handlers first: "ready" must never be announced while a SIGHUP would
    // still take the default action and kill the daemon (a reload script
    // that signals right after start would stop mail instead).
    let mut term = signal(SignalKind::terminate()).context("SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("SIGINT handler")?;
    let mut hup = signal(SignalKind::hangup()).context("SIGHUP handler")?;
    let config = source.load()?;
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let spool = queue_directory(&config);
    let queue =
        Queue::open(&spool).with_context(|| format!("queue_directory {}", spool.display()))?;
    let svc = services(&config)?;
    let qmgr = Arc::new(
        Qmgr::start(&config, queue.clone(), svc.resolver.clone()).context("queue manager")?,
    );
    let main_runner = load_main_runner(&config, &svc).await?;
    let pickup: PickupCell = Arc::new(RwLock::new(Arc::new(build_pickup(
        &config,
        &svc,
        &main_runner,
    )?)));
    let (events_tx, mut events) = mpsc::channel::<ControlEvent>(8);
    let control_path = crate::cli::control::socket(&config);
    let _control = control::serve(
        &control_path,
        queue.clone(),
        qmgr.clone(),
        pickup.clone(),
        events_tx,
    )
    .with_context(|| format!("control socket {}", control_path.display()))?;

    let gate = Gate::new(DaemonLimits::from_config(&config));
    // anvil's counters outlive reloads, as Postfix's anvil outlives `postfix reload`.
    let anvil = Arc::new(crate::smtpd::anvil::Anvil::default());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut running: Vec<(String, Arc<RwLock<Arc<Shared>>>)> = Vec::new();
    for l in listeners(&config)? {
        let shared = Arc::new(RwLock::new(Arc::new(
            build_shared(&l, &config, &svc, &main_runner, &queue, &qmgr, &anvil).await?,
        )));
        for addr in &l.addrs {
            let tcp = TcpListener::bind(addr)
                .await
                .with_context(|| format!("bind {addr} for {}", l.service))?;
            let local = tcp.local_addr().unwrap_or(*addr);
            tracing::info!("daemon started -- listening on {local} ({})", l.service);
            announce(&format!("mta: ready on {local}"));
            tokio::spawn(listener::serve(
                tcp,
                shared.clone(),
                gate.clone(),
                shutdown_rx.clone(),
            ));
        }
        running.push((l.service.clone(), shared));
    }
    // `mta plugin list` asks the running daemon for quarantines.
    let report: Vec<Arc<RwLock<Arc<Shared>>>> = running.iter().map(|(_, s)| s.clone()).collect();
    let _ = control::PLUGIN_REPORT.set(Box::new(move || plugin_states(&report)));

    // The control socket may go away (or never have served); then only
    // signals drive us.
    let mut events_open = true;
    loop {
        let reload = tokio::select! {
            _ = term.recv() => false,
            _ = int.recv() => false,
            _ = hup.recv() => true,
            e = events.recv(), if events_open => match e {
                Some(ControlEvent::Reload) => true,
                Some(ControlEvent::Stop) => false,
                None => {
                    events_open = false;
                    continue;
                }
            },
        };
        if !reload {
            break;
        }
        match reload_all(&source, &running, &queue, &qmgr, &pickup, &anvil).await {
            Ok(n) => {
                tracing::info!("reload -- configuration and plugins re-read ({n} listeners)");
                announce("mta: reloaded");
            }
            Err(e) => {
                tracing::error!("reload failed, keeping the running configuration: {e:#}");
                announce(&format!("mta: reload failed: {e:#}"));
            }
        }
    }
    tracing::info!("terminating on signal -- draining sessions");
    let _ = shutdown_tx.send(true);
    if gate.drained(DRAIN_DEADLINE).await {
        tracing::info!("all sessions ended");
    } else {
        tracing::warn!("drain deadline passed with sessions still open");
    }
    announce("mta: stopped");
    Ok(())
}

/// Re-read everything; swap each listener's state only when every listener
/// built successfully (all or nothing).
async fn reload_all(
    source: &Source,
    running: &[(String, Arc<RwLock<Arc<Shared>>>)],
    queue: &Queue,
    qmgr: &Arc<Qmgr>,
    pickup: &PickupCell,
    anvil: &Arc<crate::smtpd::anvil::Anvil>,
) -> anyhow::Result<usize> {
    let config = source.load()?;
    let svc = services(&config)?;
    let ls = listeners(&config)?;
    let main_runner = load_main_runner(&config, &svc).await?;
    let mut built = Vec::new();
    for (service, slot) in running {
        let Some(l) = ls.iter().find(|l| &l.service == service) else {
            tracing::warn!(
                "listener {service} is gone from master.cf; it keeps running until restart"
            );
            continue;
        };
        built.push((
            slot.clone(),
            Arc::new(build_shared(l, &config, &svc, &main_runner, queue, qmgr, anvil).await?),
        ));
    }
    for l in &ls {
        if !running.iter().any(|(s, _)| s == &l.service) {
            tracing::warn!("new listener {} needs a restart to be bound", l.service);
        }
    }
    let new_pickup = Arc::new(build_pickup(&config, &svc, &main_runner)?);
    // The queue manager re-reads its parameters too (concurrency, backoff,
    // relayhost, transport_maps, ...), as `postfix reload` restarts qmgr.
    qmgr.reload(&config, svc.resolver.clone())
        .context("queue manager")?;
    match pickup.write() {
        Ok(mut g) => *g = new_pickup,
        Err(p) => *p.into_inner() = new_pickup,
    }
    let n = built.len();
    for (slot, shared) in built {
        match slot.write() {
            Ok(mut g) => *g = shared,
            Err(p) => *p.into_inner() = shared,
        }
    }
    Ok(n)
}

/// The spool used without `-c`: `./spool`.
pub fn embedded_spool() -> PathBuf {
    Path::new("spool").to_path_buf()
}

/// Each plugin's state across the listeners' runners: a plugin quarantined
/// in any of them is reported quarantined (with the longest time left).
fn plugin_states(listeners: &[Arc<RwLock<Arc<Shared>>>]) -> Vec<(String, String)> {
    use crate::sandbox::plugin::Health;
    let mut out: Vec<(String, Option<Duration>)> = Vec::new();
    for l in listeners {
        let shared = l.read().unwrap_or_else(|p| p.into_inner()).clone();
        for p in shared.runner.plugins() {
            let left = match p.health() {
                Health::Active => None,
                Health::Quarantined { remaining } => Some(remaining),
            };
            match out.iter_mut().find(|(n, _)| *n == p.name) {
                Some((_, l)) => *l = (*l).max(left),
                None => out.push((p.name.clone(), left)),
            }
        }
    }
    out.into_iter()
        .map(|(n, l)| match l {
            None => (n, "active".to_string()),
            Some(d) => (n, format!("quarantined ({}s)", d.as_secs())),
        })
        .collect()
}
