//! The queue manager: moves mail from incoming to active, schedules delivery
//! per destination with concurrency limits and backoff, and bounces mail that
//! stayed too long.

use crate::config::Config;
use crate::queue::Queue;
use crate::rewrite::Resolver;

/// A running queue manager.
#[derive(Debug)]
pub struct Qmgr {}

impl Qmgr {
    /// Start scheduling deliveries from `queue` in the background.
    pub fn start(config: &Config, queue: Queue, resolver: Resolver) -> anyhow::Result<Qmgr> {
        let _ = (config, queue, resolver);
        Ok(Qmgr {})
    }

    /// Wake the scheduler now (new mail, `mta flush`).
    pub fn kick(&self) {}
}
