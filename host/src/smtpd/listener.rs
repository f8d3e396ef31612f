//! The accept loop of one listener (mini-redis style): a semaphore caps the
//! sessions in flight, a per-address count enforces
//! `smtpd_client_connection_count_limit`, and a watch channel tells sessions
//! to drain.

use super::limits::DaemonLimits;
use super::{facts, Session, Shared};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tracing::Instrument;

/// Shared across listeners: the session cap and per-client counts.
pub struct Gate {
    pub sessions: Arc<Semaphore>,
    pub max: usize,
    pub per_client: Mutex<HashMap<IpAddr, usize>>,
    pub limits: DaemonLimits,
}

impl Gate {
    pub fn new(limits: DaemonLimits) -> Arc<Gate> {
        Arc::new(Gate {
            sessions: Arc::new(Semaphore::new(limits.process_limit)),
            max: limits.process_limit,
            per_client: Mutex::new(HashMap::new()),
            limits,
        })
    }

    /// Wait until every session has ended, or `deadline` passed; true if
    /// all ended.
    pub async fn drained(&self, deadline: Duration) -> bool {
        tokio::time::timeout(deadline, self.sessions.acquire_many(self.max as u32))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Releases a client's connection count when its session ends.
struct ClientSlot {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut m) = self.gate.per_client.lock() {
            if let Some(n) = m.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&self.ip);
                }
            }
        }
    }
}

/// Accept connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<RwLock<Arc<Shared>>>,
    gate: Arc<Gate>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut counter: u64 = 0;
    loop {
        let permit = tokio::select! {
            p = gate.sessions.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!("accept: {e}");
                // EMFILE and friends: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let local = stream.local_addr().unwrap_or(peer);
        let sh = match shared.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let ip = facts::canonical_ip(peer.ip());
        let over = {
            let mut m = gate.per_client.lock().unwrap_or_else(|p| p.into_inner());
            let n = m.entry(ip).or_insert(0);
            *n += 1;
            let limit = gate.limits.client_connection_count_limit;
            (limit > 0 && *n > limit, *n)
        };
        let (over, count) = over;
        let slot = ClientSlot {
            gate: gate.clone(),
            ip,
        };
        counter += 1;
        let id = format!("{}-{counter}", sh.listener);
        let rx = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _slot = slot;
            let _ = stream.set_nodelay(true);
            let mut f = facts::initial(id, peer, local, &sh.listener);
            if let Some(dns) = &sh.dns {
                let (n, ns, r, rs) = facts::lookup(dns, ip, Duration::from_secs(10)).await;
                f.client_name = n;
                f.client_name_status = ns;
                f.reverse_client_name = r;
                f.reverse_client_name_status = rs;
            }
            let span = tracing::info_span!("smtpd", client = %format!("{}[{}]", f.client_name, f.client_address));
            Session::new(sh, Box::new(stream), f, rx)
                .with_concurrency(over.then_some(count))
                .run()
                .instrument(span)
                .await;
        });
    }
}
