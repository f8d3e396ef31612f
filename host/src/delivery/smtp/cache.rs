//! The connection cache (Postfix's scache): a session that ended cleanly is
//! kept open for `smtp_connection_cache_time_limit` so the next delivery to
//! the same next hop skips connect, greeting, EHLO and TLS handshake.

use super::session::{self, Conn};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Idle = HashMap<String, Vec<(u64, Conn)>>;

/// Idle sessions by next hop.
#[derive(Default)]
pub struct ConnCache {
    idle: Arc<Mutex<Idle>>,
    seq: AtomicU64,
}

impl ConnCache {
    /// An idle session to `nexthop`, if one is cached.
    pub fn take(&self, nexthop: &str) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(nexthop)?;
        let conn = list.pop().map(|(_, c)| c);
        if list.is_empty() {
            idle.remove(nexthop);
        }
        conn
    }

    /// Keep `conn` for reuse; after `limit` unused it is closed with QUIT.
    pub fn put(&self, nexthop: &str, conn: Conn, limit: Duration) {
        let id = self.seq.fetch_add(1, Ordering::Relaxed);
        {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            idle.entry(nexthop.to_string())
                .or_default()
                .push((id, conn));
        }
        let idle = self.idle.clone();
        let key = nexthop.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            let expired = {
                let mut m = idle.lock().unwrap_or_else(|p| p.into_inner());
                let found = m
                    .get_mut(&key)
                    .and_then(|l| l.iter().position(|(i, _)| *i == id).map(|p| l.remove(p).1));
                if m.get(&key).is_some_and(|l| l.is_empty()) {
                    m.remove(&key);
                }
                found
            };
            if let Some(c) = expired {
                session::quit(c, Duration::from_secs(5)).await;
            }
        });
    }
}
