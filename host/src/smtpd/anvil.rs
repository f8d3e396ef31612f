//! Postfix's anvil(8) client rate limits, kept in the daemon's memory:
//! per service and client address, how many connections, MAIL and RCPT
//! commands it made in the current `anvil_rate_time_unit`. As in anvil, a
//! client's window starts with its first event and its counts start over
//! once the unit has passed. Clients in `smtpd_client_event_limit_exceptions`
//! (default `$mynetworks`) are never counted.
//!
//! The counts live as long as the daemon, across reloads (the daemon hands
//! the same `Anvil` to every rebuilt listener state), as anvil outlives a
//! `postfix reload`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a client did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Connect,
    Mail,
    Rcpt,
}

#[derive(Debug)]
struct Window {
    start: Instant,
    counts: [u32; 3],
}

/// The shared counters.
#[derive(Debug, Default)]
pub struct Anvil {
    clients: Mutex<HashMap<(String, IpAddr), Window>>,
    events: AtomicU64,
}

/// Forget idle clients every this many events, so the map stays small.
const SWEEP_EVERY: u64 = 1024;

impl Anvil {
    /// Count one `event` of `ip` on `service`; the count in the current
    /// window, this event included.
    pub fn count(&self, service: &str, ip: IpAddr, event: Event, unit: Duration) -> u32 {
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        let n = self.events.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(SWEEP_EVERY) {
            clients.retain(|_, w| now.duration_since(w.start) < unit);
        }
        let w = clients.entry((service.to_string(), ip)).or_insert(Window {
            start: now,
            counts: [0; 3],
        });
        if now.duration_since(w.start) >= unit {
            *w = Window {
                start: now,
                counts: [0; 3],
            };
        }
        let i = event as usize;
        w.counts[i] = w.counts[i].saturating_add(1);
        w.counts[i]
    }
}

/// What to tell a client over its limit, and what to log (Postfix 3.7's
/// words, compared with postfix-ref).
pub fn exceeded(event: Event) -> (&'static str, &'static str) {
    match event {
        Event::Connect => (
            "Connection rate limit exceeded",
            "too many connections from",
        ),
        Event::Mail => (
            "Message delivery request rate limit exceeded",
            "too much mail from",
        ),
        Event::Rcpt => (
            "Recipient address rate limit exceeded",
            "too many recipients from",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_service_client_and_event_within_the_unit() {
        let a = Anvil::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let unit = Duration::from_secs(60);
        assert_eq!(a.count("smtp", ip, Event::Connect, unit), 1);
        assert_eq!(a.count("smtp", ip, Event::Connect, unit), 2);
        assert_eq!(a.count("smtp", ip, Event::Mail, unit), 1);
        assert_eq!(a.count("smtp", other, Event::Connect, unit), 1);
        assert_eq!(a.count("submission", ip, Event::Connect, unit), 1);
        // A unit that has passed starts the window over.
        assert_eq!(a.count("smtp", ip, Event::Connect, Duration::ZERO), 1);
    }
}
