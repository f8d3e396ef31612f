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

mod bounces;
mod deliver;
mod params;
mod schedule;

pub use params::Params;

use crate::config::Config;
use crate::queue::Queue;
use crate::rewrite::Resolver;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A running queue manager.
#[derive(Debug)]
pub struct Qmgr {
    queue: Queue,
    /// Set by `flush`: the next scan treats every deferred message as due.
    flush: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Qmgr {
    /// Start scheduling deliveries from `queue` in the background.
    pub fn start(config: &Config, queue: Queue, resolver: Resolver) -> anyhow::Result<Qmgr> {
        let params = Params::from_config(config);
        queue.set_minfree(params.queue_minfree);
        let dns = crate::dns::Dns::new(config)?;
        let smtp = crate::delivery::smtp::SmtpClient::new(config, dns)?;
        let local = crate::delivery::local::LocalAgent::new(config, queue.clone());
        let flush = Arc::new(AtomicBool::new(false));
        let ctx = Arc::new(deliver::Ctx {
            params,
            queue: queue.clone(),
            resolver,
            smtp,
            local,
            slots: Default::default(),
        });
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("the queue manager needs a tokio runtime"))?;
        let task = handle.spawn(schedule::run(ctx, flush.clone()));
        Ok(Qmgr { queue, flush, task })
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
/// and record their results. Starting a new one on the same `Queue` (a
/// reload with new parameters) is safe: it does not touch those messages.
impl Drop for Qmgr {
    fn drop(&mut self) {
        self.task.abort();
    }
}
