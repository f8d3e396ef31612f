//! The one writer of the queue database (DESIGN.md decision 5).
//!
//! Requests arrive on a channel; the writer takes one, then everything else
//! that queued up while it was busy, and commits them all in one transaction.
//! No timer: under light load a message commits alone at once, under heavy
//! load each fsync carries every message that arrived during the previous
//! one. The transaction is `Durability::Immediate` when any request in it
//! needs durability (an acceptance), otherwise bookkeeping rides along
//! non-durably until the next durable commit. A failed commit answers every
//! request in it with the error, so nothing is half-kept.

use super::body;
use super::record::QueueRecord;
use redb::{Database, Durability, ReadableTable, TableDefinition};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// queue id -> encoded `QueueRecord`.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// queue id -> message content (small messages only).
pub const BODY: TableDefinition<&str, &[u8]> = TableDefinition::new("body");
/// queue id -> the raw record bytes that could not be decoded.
pub const CORRUPT: TableDefinition<&str, &[u8]> = TableDefinition::new("corrupt");

/// One change to the queue.
#[derive(Debug)]
pub enum Op {
    /// A new message (its large body, if any, is already on disk).
    Insert {
        record: QueueRecord,
        body: Option<Vec<u8>>,
    },
    /// Replace the record of a message that still exists (a deleted
    /// message stays deleted even if the queue manager reports on it later).
    Update { record: QueueRecord },
    /// Forget a message and its body.
    Remove { id: String },
    /// Park an undecodable record in the corrupt table.
    Corrupt { id: String, raw: Vec<u8> },
}

pub struct Request {
    pub op: Op,
    pub durable: bool,
    pub reply: oneshot::Sender<Result<(), String>>,
}

/// Largest number of requests folded into one transaction, to bound latency.
const MAX_BATCH: usize = 4096;

pub fn spawn(
    db: Arc<Database>,
    dir: PathBuf,
    mut rx: mpsc::UnboundedReceiver<Request>,
    commits: Arc<AtomicU64>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("queue-writer".into())
        .spawn(move || {
            while let Some(first) = rx.blocking_recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(r) => batch.push(r),
                        Err(_) => break,
                    }
                }
                let result = commit(&db, &batch);
                commits.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = &result {
                    tracing::error!(
                        "warning: queue commit of {} request(s) failed: {e}",
                        batch.len()
                    );
                } else {
                    // Body files of removed messages go only once the removal is committed.
                    for r in &batch {
                        if let Op::Remove { id } = &r.op {
                            body::remove(&dir, id);
                        }
                    }
                }
                for r in batch {
                    let _ = r.reply.send(result.clone());
                }
            }
        })
}

fn commit(db: &Database, batch: &[Request]) -> Result<(), String> {
    let mut txn = db.begin_write().map_err(|e| e.to_string())?;
    let durable = batch.iter().any(|r| r.durable);
    txn.set_durability(if durable {
        Durability::Immediate
    } else {
        Durability::None
    })
    .map_err(|e| e.to_string())?;
    {
        let mut meta = txn.open_table(META).map_err(|e| e.to_string())?;
        let mut bodies = txn.open_table(BODY).map_err(|e| e.to_string())?;
        let mut corrupt = txn.open_table(CORRUPT).map_err(|e| e.to_string())?;
        for r in batch {
            match &r.op {
                Op::Insert { record, body } => {
                    meta.insert(record.queue_id.as_str(), record.encode().as_slice())
                        .map_err(|e| e.to_string())?;
                    if let Some(b) = body {
                        bodies
                            .insert(record.queue_id.as_str(), b.as_slice())
                            .map_err(|e| e.to_string())?;
                    }
                }
                Op::Update { record } => {
                    let exists = meta
                        .get(record.queue_id.as_str())
                        .map_err(|e| e.to_string())?
                        .is_some();
                    if exists {
                        meta.insert(record.queue_id.as_str(), record.encode().as_slice())
                            .map_err(|e| e.to_string())?;
                    }
                }
                Op::Remove { id } => {
                    meta.remove(id.as_str()).map_err(|e| e.to_string())?;
                    bodies.remove(id.as_str()).map_err(|e| e.to_string())?;
                    corrupt.remove(id.as_str()).map_err(|e| e.to_string())?;
                }
                Op::Corrupt { id, raw } => {
                    meta.remove(id.as_str()).map_err(|e| e.to_string())?;
                    corrupt
                        .insert(id.as_str(), raw.as_slice())
                        .map_err(|e| e.to_string())?;
                }
            }
        }
    }
    txn.commit().map_err(|e| e.to_string())
}
