//! The queue manager: moves mail from incoming to active, schedules delivery
//! per destination with concurrency limits and backoff, and bounces mail that
//! stayed too long.
//!
//! One scheduler task scans the queue when woken (new mail, `kick`, a
//! finished delivery, or the earliest due retry) and starts one delivery
//! task per message, at most `qmgr_message_active_limit` at a time. A
//! delivery task splits the recipients by (transport, next hop), takes a
//! per-destination slot (`default_destination_concurrency_limit`) and hands
//! at most `default_destination_recipient_limit` recipients to an agent.
//!
//! `reload` swaps in a new delivery context (parameters, resolver,
//! agents) built from the re-read main.cf, as `postfix reload` restarts
//! Postfix's qmgr: deliveries already running finish with the context they
//! started with, every delivery started afterwards uses the new one.

mod bounces;
mod deliver;
mod params;
mod revive;
mod schedule;

pub use params::Params;

use crate::config::Config;
use crate::queue::Queue;
use crate::rewrite::Resolver;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

/// The delivery context in force; replaced whole by `reload`.
pub(crate) type CtxCell = Arc<RwLock<Arc<deliver::Ctx>>>;

/// A running queue manager.
#[derive(Debug)]
pub struct Qmgr {
    queue: Queue,
    /// Set by `flush`: the next scan treats every deferred message as due.
    flush: Arc<AtomicBool>,
    /// Set by `reload`: the next pass rescans the whole queue with the new
    /// parameters (retry times and routes may have changed).
    rescan: Arc<AtomicBool>,
    ctx: CtxCell,
    revive: Arc<revive::Revive>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for deliver::Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("params", &self.params).finish()
    }
}

fn build_ctx(
    config: &Config,
    queue: &Queue,
    resolver: Resolver,
    revive: &Arc<revive::Revive>,
) -> anyhow::Result<deliver::Ctx> {
    let params = Params::from_config(config);
    queue.set_minfree(params.queue_minfree);
    let dns = crate::dns::Dns::new(config)?;
    let smtp = crate::delivery::smtp::SmtpClient::new(config, dns)?;
    let local = crate::delivery::local::LocalAgent::new(config, queue.clone());
    Ok(deliver::Ctx {
        params,
        queue: queue.clone(),
        resolver,
        smtp,
        local,
        slots: Default::default(),
        revive: revive.clone(),
    })
}

impl Qmgr {
    /// Start scheduling deliveries from `queue` in the background.
    pub fn start(config: &Config, queue: Queue, resolver: Resolver) -> anyhow::Result<Qmgr> {
        let revive = Arc::new(revive::Revive::default());
        let ctx = Arc::new(RwLock::new(Arc::new(build_ctx(
            config, &queue, resolver, &revive,
        )?)));
        let flush = Arc::new(AtomicBool::new(false));
        let rescan = Arc::new(AtomicBool::new(false));
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("the queue manager needs a tokio runtime"))?;
        let task = handle.spawn(schedule::run(ctx.clone(), flush.clone(), rescan.clone()));
        Ok(Qmgr {
            queue,
            flush,
            rescan,
            ctx,
            revive,
            task,
        })
    }

    /// Apply a re-read configuration (`mta reload`, SIGHUP): concurrency and
    /// recipient limits, backoff times, `relayhost`, `transport_maps` and
    /// the other delivery parameters take effect for every delivery started
    /// from now on. On error the running context is kept.
    pub fn reload(&self, config: &Config, resolver: Resolver) -> anyhow::Result<()> {
        let new = Arc::new(build_ctx(config, &self.queue, resolver, &self.revive)?);
        match self.ctx.write() {
            Ok(mut g) => *g = new,
            Err(p) => *p.into_inner() = new,
        }
        self.rescan.store(true, Ordering::SeqCst);
        self.kick();
        Ok(())
    }

    /// Wake the scheduler now (new mail, `mta flush`).
    pub fn kick(&self) {
        self.queue.notifier().notify_one();
    }

    /// Attempt every deferred message now, whatever its retry time (`mta flush`).
    pub fn flush(&self) {
        self.flush.store(true, Ordering::SeqCst);
        self.kick();
    }
}

/// Dropping a `Qmgr` stops scheduling; deliveries already running finish
/// and record their results. Starting a new one on the same `Queue` is
/// safe: it does not touch those messages.
impl Drop for Qmgr {
    fn drop(&mut self) {
        self.task.abort();
    }
}
