//! "Deferred mail to a destination that comes back goes out promptly, not
//! all at once."
//!
//! Each destination (`transport:nexthop`) that deferred a recipient is
//! remembered as down. When a later delivery to it succeeds (new mail, a
//! retry, `mta flush`), it is marked up and the scheduler's next scan
//! treats every deferred message with a recipient for it as due, instead
//! of letting each wait out its own backoff (up to `maximal_backoff_time`).
//! They are not sent as one burst: each delivery still takes one of the
//! destination's `default_destination_concurrency_limit` slots, so at most
//! that many sessions run to it at once and the rest wait their turn.
//!
//! Postfix itself keeps the backoff of each deferred message; releasing
//! them on the first success is the behaviour the queue issue asks for.
//! The state lives in memory only: after a restart, mail deferred before it
//! goes at its retry time (or on `mta flush`).

use std::collections::HashSet;
use std::sync::Mutex;

/// Destinations known down, and those just seen coming back.
#[derive(Debug, Default)]
pub struct Revive {
    down: Mutex<HashSet<String>>,
    up: Mutex<HashSet<String>>,
}

fn lock(m: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Revive {
    /// A delivery to `destination` was deferred.
    pub fn failed(&self, destination: &str) {
        lock(&self.down).insert(destination.to_string());
    }

    /// A delivery to `destination` succeeded; true when it had been down
    /// (the caller then wakes the scheduler).
    pub fn succeeded(&self, destination: &str) -> bool {
        if !lock(&self.down).remove(destination) {
            return false;
        }
        lock(&self.up).insert(destination.to_string());
        true
    }

    /// The destinations that came back since the last call.
    pub fn take_up(&self) -> HashSet<String> {
        std::mem::take(&mut *lock(&self.up))
    }

    /// Put destinations back for the next scan (the active limit stopped
    /// this one before all their mail was started).
    pub fn restore(&self, up: HashSet<String>) {
        lock(&self.up).extend(up);
    }

    /// Whether any destination came back since the last `take_up`.
    pub fn pending(&self) -> bool {
        !lock(&self.up).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_destination_that_was_down_comes_back() {
        let r = Revive::default();
        assert!(!r.succeeded("smtp:a"), "never down: nothing to release");
        r.failed("smtp:a");
        assert!(!r.pending());
        assert!(r.succeeded("smtp:a"));
        assert!(r.pending());
        assert_eq!(r.take_up().into_iter().collect::<Vec<_>>(), ["smtp:a"]);
        assert!(!r.pending());
        assert!(
            !r.succeeded("smtp:a"),
            "released once, not on every success"
        );
    }
}
