//! The scheduler loop: scan, start deliveries, sleep until something changes.

use super::deliver::{self, Ctx};
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
    let Ok(all) = ctx.queue.list().await else {
        return;
    };
    for mut r in all.into_iter().filter(|r| r.queue == QueueName::Active) {
        r.queue = QueueName::Incoming;
        let _ = ctx.queue.update(r, false).await;
    }
}

pub async fn run(ctx: Arc<Ctx>, flush: Arc<AtomicBool>) {
    recover(&ctx).await;
    let in_flight: Arc<Mutex<HashSet<String>>> = Arc::default();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let notify = ctx.queue.notifier();
    // A finished delivery only calls for a rescan when the active limit
    // held messages back; otherwise new work arrives through `notify`.
    let mut starved = false;
    let mut rescan = true;
    let mut wake_at = 0u64;
    loop {
        if !rescan {
            let sleep = Duration::from_secs(wake_at.saturating_sub(unix_now()))
                .max(Duration::from_millis(50));
            tokio::select! {
                _ = notify.notified() => rescan = true,
                _ = done_rx.recv() => {
                    while done_rx.try_recv().is_ok() {}
                    rescan = starved;
                }
                _ = tokio::time::sleep(sleep) => rescan = true,
            }
            continue;
        }
        rescan = false;
        let force = flush.swap(false, Ordering::SeqCst);
        let now = unix_now();
        let mut wake = now + ctx.params.queue_run_delay.as_secs().max(1);
        match ctx.queue.list().await {
            Ok(mut all) => {
                // Incoming first, oldest first: new mail is not starved by a deferred backlog.
                all.sort_by_key(|r| (r.queue != QueueName::Incoming, r.arrival_ms));
                let busy = in_flight.lock().map(|s| s.clone()).unwrap_or_default();
                let mut started = busy.len();
                starved = false;
                for rec in all {
                    if busy.contains(&rec.queue_id) {
                        continue;
                    }
                    let due = match rec.queue {
                        QueueName::Incoming | QueueName::Active => true,
                        QueueName::Deferred => {
                            if force || rec.next_attempt <= now {
                                true
                            } else {
                                wake = wake.min(rec.next_attempt);
                                false
                            }
                        }
                        QueueName::Hold | QueueName::Corrupt => false,
                    };
                    if !due {
                        continue;
                    }
                    if started >= ctx.params.active_limit {
                        starved = true;
                        break;
                    }
                    started += 1;
                    start(&ctx, rec, &in_flight, &done_tx);
                }
            }
            Err(e) => tracing::error!("warning: qmgr: cannot scan the queue: {e:#}"),
        }
        wake_at = wake;
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
