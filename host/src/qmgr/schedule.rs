//! The scheduler loop: scan, start deliveries, sleep until something changes.

use super::deliver::{self, Ctx};
use super::CtxCell;
use crate::queue::{QueueName, QueueRecord};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::mpsc;

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Messages left in `active` by a crash go back to `incoming`, as Postfix
/// does at start-up: they will be attempted again (a duplicate at worst,
/// never a loss).
async fn recover(ctx: &Ctx) {
    if !ctx.queue.claim_recovery() {
        return;
    }
    let Ok(all) = ctx.queue.list().await else {
        return;
    };
    for mut r in all.into_iter().filter(|r| r.queue == QueueName::Active) {
        r.queue = QueueName::Incoming;
        let _ = ctx.queue.update(r, false).await;
    }
}

/// What the next pass looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Nothing: wait for an event.
    Idle,
    /// Only messages committed or released since the last pass.
    Fresh,
    /// The whole queue (start-up, retry timer, flush, active limit freed).
    Full,
}

/// Is `rec` due now? Updates `wake` with a future retry time. A deferred
/// message with a recipient for a destination that just came back (`up`)
/// is due whatever its retry time (see `revive`).
fn due(
    ctx: &Ctx,
    rec: &QueueRecord,
    now: u64,
    force: bool,
    up: &HashSet<String>,
    wake: &mut u64,
) -> bool {
    match rec.queue {
        QueueName::Incoming => true,
        // Being delivered right now (crash leftovers were recovered at start).
        QueueName::Active => false,
        QueueName::Deferred if force || rec.next_attempt <= now => true,
        QueueName::Deferred if !up.is_empty() && goes_to(ctx, rec, up) => true,
        QueueName::Deferred => {
            *wake = (*wake).min(rec.next_attempt);
            false
        }
        QueueName::Hold | QueueName::Corrupt => false,
    }
}

/// Whether one of `rec`'s recipients routes to a destination in `up`.
fn goes_to(ctx: &Ctx, rec: &QueueRecord, up: &HashSet<String>) -> bool {
    rec.recipients.iter().any(|r| {
        let route = deliver::route(
            &ctx.params,
            &ctx.resolver,
            rec.filter.as_deref(),
            &r.address,
        );
        up.contains(&route.key())
    })
}

fn current(cell: &CtxCell) -> Arc<Ctx> {
    cell.read().unwrap_or_else(|p| p.into_inner()).clone()
}

pub async fn run(cell: CtxCell, flush: Arc<AtomicBool>, rescan: Arc<AtomicBool>) {
    recover(&current(&cell)).await;
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let notify = current(&cell).queue.notifier();
    // New mail is scheduled from the queue's list of fresh ids; the whole
    // queue is rescanned only for retries, flush, or when the active limit
    // held messages back and a delivery finished.
    let mut starved = false;
    let mut scan = Scan::Full;
    let mut wake_at = 0u64;
    loop {
        if scan == Scan::Idle {
            let sleep = Duration::from_secs(wake_at.saturating_sub(unix_now()))
                .max(Duration::from_millis(50));
            tokio::select! {
                _ = notify.notified() => {
                    let full = flush.load(Ordering::SeqCst)
                        || rescan.swap(false, Ordering::SeqCst)
                        || current(&cell).revive.pending();
                    scan = if full { Scan::Full } else { Scan::Fresh };
                }
                _ = done_rx.recv() => {
                    while done_rx.try_recv().is_ok() {}
                    if starved || current(&cell).revive.pending() {
                        scan = Scan::Full;
                    }
                }
                _ = tokio::time::sleep(sleep) => scan = Scan::Full,
            }
            continue;
        }
        let ctx = current(&cell);
        let fresh = ctx.queue.take_fresh();
        if fresh.overflow {
            scan = Scan::Full;
        }
        let force = scan == Scan::Full && flush.swap(false, Ordering::SeqCst);
        let now = unix_now();
        let busy = in_flight.lock().map(|s| s.clone()).unwrap_or_default();
        let mut started = busy.len();
        let mut candidates = Vec::new();
        let mut up = HashSet::new();
        if scan == Scan::Full {
            up = ctx.revive.take_up();
            if !up.is_empty() {
                let names: Vec<&str> = up.iter().map(String::as_str).collect();
                tracing::info!(
                    "qmgr: {} is reachable again; its deferred mail is scheduled now",
                    names.join(", ")
                );
            }
            wake_at = now + ctx.params.queue_run_delay.as_secs().max(1);
            match ctx.queue.list().await {
                Ok(all) => candidates = all,
                Err(e) => tracing::error!("warning: qmgr: cannot scan the queue: {e:#}"),
            }
            starved = false;
        } else {
            for id in fresh.ids {
                match ctx.queue.get(&id) {
                    Ok(Some(r)) => candidates.push(r),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("warning: qmgr: {e:#}"),
                }
            }
        }
        // Incoming first, oldest first: new mail is not starved by a deferred backlog.
        candidates.sort_by_key(|r| (r.queue != QueueName::Incoming, r.arrival_ms));
        for rec in candidates {
            if busy.contains(&rec.queue_id) || !due(&ctx, &rec, now, force, &up, &mut wake_at) {
                continue;
            }
            if started >= ctx.params.active_limit {
                starved = true;
                if !up.is_empty() {
                    ctx.revive.restore(std::mem::take(&mut up));
                }
                break;
            }
            started += 1;
            start(&ctx, rec, &in_flight, &done_tx);
        }
        scan = Scan::Idle;
    }
}

fn start(
    ctx: &Arc<Ctx>,
    rec: QueueRecord,
    in_flight: &Arc<Mutex<HashSet<String>>>,
    done: &mpsc::UnboundedSender<()>,
) {
    let id = rec.queue_id.clone();
    if let Ok(mut s) = in_flight.lock() {
        s.insert(id.clone());
    }
    let (ctx, in_flight, done) = (ctx.clone(), in_flight.clone(), done.clone());
    tokio::spawn(async move {
        deliver::message(&ctx, rec).await;
        if let Ok(mut s) = in_flight.lock() {
            s.remove(&id);
        }
        let _ = done.send(());
    });
}
