//! The durable mail queue (redb): incoming, active, deferred, hold, corrupt.
//!
//! CONTRACT: `Queue::enqueue` returns only after the message is committed
//! durably (fsync): smtpd answers 250 after it and never before. Concurrent
//! enqueues share commits (group commit without a timer, DESIGN.md #5).
//!
//! Layout under `queue_directory`: `queue.redb` (records, small bodies) and
//! `data/<queue id>` (bodies above 64 KiB, fsynced before the commit that
//! references them). All writes go through one writer thread (`writer`).

mod body;
mod id;
mod record;
mod space;
mod writer;

pub use record::{QueueName, QueueRecord, QueuedRecipient};

use redb::{Database, ReadableDatabase, ReadableTable};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot, Notify};
use writer::{Op, Request, BODY, CORRUPT, META};

/// Why a message could not be queued; smtpd answers 451 4.3.0 (or 452 for space).
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue file write error: {0}")]
    Write(String),
    #[error("insufficient system storage")]
    NoSpace,
}

/// One envelope recipient as it enters the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    /// The address after rewriting.
    pub address: String,
    /// The address as the client gave it (for DSN ORCPT and logs).
    pub original: String,
}

/// A message leaving cleanup for the queue.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Assigned by `Queue::new_id` at the first accepted RCPT.
    pub queue_id: String,
    /// Envelope sender; "" for the null sender.
    pub sender: String,
    pub recipients: Vec<NewRecipient>,
    /// Header + body, CRLF line endings, not dot-stuffed.
    pub data: Vec<u8>,
    pub arrival: SystemTime,
    /// Goes straight to the hold queue (HOLD action).
    pub hold: bool,
    /// `transport:destination` override (FILTER action).
    pub filter: Option<String>,
    /// `client=name[addr]` style facts for logs and Received.
    pub client: String,
}

/// A handle on the queue; cheap to clone.
#[derive(Debug, Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    db: Arc<Database>,
    /// Taken in `Drop` so the writer thread sees the channel close and ends.
    tx: Option<mpsc::UnboundedSender<Request>>,
    writer: Option<std::thread::JoinHandle<()>>,
    /// Woken after every committed acceptance and by `kick`: the queue manager waits on it.
    notify: Arc<Notify>,
    /// `queue_minfree` in bytes.
    minfree: AtomicU64,
    /// Transactions committed so far (shows group commit at work).
    commits: Arc<AtomicU64>,
    /// Ids committed or released since the queue manager last looked, so
    /// new mail is scheduled without rescanning the whole queue.
    fresh: std::sync::Mutex<Fresh>,
    /// Set once a queue manager has moved crash leftovers out of `active`.
    recovered: std::sync::atomic::AtomicBool,
}

/// New work for the queue manager; `overflow` asks for a full scan instead.
#[derive(Debug, Default)]
pub struct Fresh {
    pub ids: Vec<String>,
    pub overflow: bool,
}

/// Beyond this many unclaimed ids (no queue manager running) only a flag is kept.
const MAX_FRESH: usize = 100_000;

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Close the channel, then wait for the writer to finish its last
        // commit so the database file is released when the last handle goes.
        self.tx.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

fn now_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn is_enospc(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ENOSPC) || e.raw_os_error() == Some(libc::EDQUOT)
}

impl Queue {
    /// Open (creating if needed) the queue under `queue_directory`.
    pub fn open(dir: &Path) -> anyhow::Result<Queue> {
        use anyhow::Context;
        std::fs::create_dir_all(body::data_dir(dir))
            .with_context(|| format!("create queue directory {}", dir.display()))?;
        let path = dir.join("queue.redb");
        let db = Database::create(&path)
            .with_context(|| format!("open queue database {}", path.display()))?;
        // Create the tables so readers never meet a missing one.
        {
            let txn = db.begin_write()?;
            txn.open_table(META)?;
            txn.open_table(BODY)?;
            txn.open_table(CORRUPT)?;
            txn.commit()?;
        }
        let db = Arc::new(db);
        sweep_orphan_bodies(dir, &db);
        let (tx, rx) = mpsc::unbounded_channel();
        let commits = Arc::new(AtomicU64::new(0));
        let writer = writer::spawn(db.clone(), dir.to_path_buf(), rx, commits.clone())
            .context("start queue writer")?;
        Ok(Queue {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                db,
                tx: Some(tx),
                writer: Some(writer),
                notify: Arc::new(Notify::new()),
                minfree: AtomicU64::new(0),
                commits,
                fresh: Default::default(),
                recovered: Default::default(),
            }),
        })
    }

    /// The queue directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// A new unique queue id (Postfix long-id style: time + counter, base 52).
    pub fn new_id(&self) -> String {
        id::new_id()
    }

    /// Set `queue_minfree` (bytes that must stay free beyond a new message).
    pub fn set_minfree(&self, bytes: u64) {
        self.inner.minfree.store(bytes, Ordering::Relaxed);
    }

    /// Is there room for a message of `size` bytes? smtpd answers MAIL with
    /// `452 4.3.1 Insufficient system storage` when not.
    pub fn has_space(&self, size: u64) -> bool {
        match space::available(&self.inner.dir) {
            Some(avail) => {
                avail
                    >= self
                        .inner
                        .minfree
                        .load(Ordering::Relaxed)
                        .saturating_add(size)
            }
            None => true,
        }
    }

    /// Database transactions committed since open (for tests and benchmarks).
    pub fn commit_count(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    fn push_fresh(&self, id: &str) {
        let mut f = self.inner.fresh.lock().unwrap_or_else(|p| p.into_inner());
        if f.ids.len() < MAX_FRESH {
            f.ids.push(id.to_string());
        } else {
            f.overflow = true;
        }
    }

    /// True exactly once per open queue: the first queue manager moves
    /// messages left `active` by a crash back to `incoming`. A later one (a
    /// restart after reload) must not, as those deliveries are still running.
    pub fn claim_recovery(&self) -> bool {
        !self.inner.recovered.swap(true, Ordering::SeqCst)
    }

    /// Ids committed or released since the last call (for the queue manager).
    pub fn take_fresh(&self) -> Fresh {
        std::mem::take(&mut *self.inner.fresh.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// What the queue manager waits on: woken after each accepted message.
    pub fn notifier(&self) -> Arc<Notify> {
        self.inner.notify.clone()
    }

    async fn submit(&self, op: Op, durable: bool) -> Result<(), String> {
        let (reply, rx) = oneshot::channel();
        let tx = self.inner.tx.as_ref().ok_or("queue closed")?;
        tx.send(Request { op, durable, reply })
            .map_err(|_| "queue writer stopped".to_string())?;
        rx.await.map_err(|_| "queue writer stopped".to_string())?
    }

    /// Commit a message durably; returns after fsync.
    pub async fn enqueue(&self, msg: NewMessage) -> Result<(), QueueError> {
        if !id::is_valid(&msg.queue_id) {
            return Err(QueueError::Write(format!(
                "bad queue id {:?}",
                msg.queue_id
            )));
        }
        let size = msg.data.len() as u64;
        let large = msg.data.len() > body::LARGE_BODY;
        let inline = if large {
            let dir = self.inner.dir.clone();
            let qid = msg.queue_id.clone();
            let data = msg.data;
            tokio::task::spawn_blocking(move || body::write_durable(&dir, &qid, &data))
                .await
                .map_err(|e| QueueError::Write(e.to_string()))?
                .map_err(|e| {
                    if is_enospc(&e) {
                        QueueError::NoSpace
                    } else {
                        QueueError::Write(e.to_string())
                    }
                })?;
            None
        } else {
            Some(msg.data)
        };
        let record = QueueRecord {
            queue_id: msg.queue_id.clone(),
            queue: if msg.hold {
                QueueName::Hold
            } else {
                QueueName::Incoming
            },
            sender: msg.sender,
            recipients: msg
                .recipients
                .into_iter()
                .map(|r| QueuedRecipient {
                    address: r.address,
                    original: r.original,
                    last_reason: None,
                })
                .collect(),
            arrival_ms: now_ms(msg.arrival),
            size,
            body_file: large,
            filter: msg.filter,
            client: msg.client,
            attempts: 0,
            next_attempt: 0,
            warned: false,
        };
        match self
            .submit(
                Op::Insert {
                    record,
                    body: inline,
                },
                true,
            )
            .await
        {
            Ok(()) => {
                self.push_fresh(&msg.queue_id);
                self.inner.notify.notify_one();
                Ok(())
            }
            Err(e) => {
                if large {
                    body::remove(&self.inner.dir, &msg.queue_id);
                }
                // ENOSPC/EDQUOT from the database file: smtpd answers 452, not 451.
                if e.contains("os error 28") || e.contains("os error 122") {
                    Err(QueueError::NoSpace)
                } else {
                    Err(QueueError::Write(e))
                }
            }
        }
    }

    /// Every decodable record. Records that cannot be decoded are moved to
    /// the corrupt table with a log line (never a panic) and left out.
    pub async fn list(&self) -> anyhow::Result<Vec<QueueRecord>> {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        {
            let txn = self.inner.db.begin_read()?;
            let meta = txn.open_table(META)?;
            for row in meta.iter()? {
                let (k, v) = row?;
                match QueueRecord::decode(v.value()) {
                    Ok(r) => good.push(r),
                    Err(e) => bad.push((k.value().to_string(), v.value().to_vec(), e)),
                }
            }
        }
        for (id, raw, e) in bad {
            tracing::warn!("warning: {id}: corrupt queue record ({e}): moved to the corrupt queue");
            let _ = self.submit(Op::Corrupt { id, raw }, true).await;
        }
        Ok(good)
    }

    /// Ids of records in the corrupt queue.
    pub fn list_corrupt(&self) -> anyhow::Result<Vec<String>> {
        let txn = self.inner.db.begin_read()?;
        let t = txn.open_table(CORRUPT)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(row?.0.value().to_string());
        }
        Ok(out)
    }

    /// One record, if present and decodable.
    pub fn get(&self, queue_id: &str) -> anyhow::Result<Option<QueueRecord>> {
        let txn = self.inner.db.begin_read()?;
        let meta = txn.open_table(META)?;
        let Some(v) = meta.get(queue_id)? else {
            return Ok(None);
        };
        QueueRecord::decode(v.value())
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{queue_id}: corrupt record: {e}"))
    }

    /// The message content (header + body, CRLF).
    pub async fn body(&self, record: &QueueRecord) -> anyhow::Result<Vec<u8>> {
        if record.body_file {
            let p = body::path(&self.inner.dir, &record.queue_id);
            return tokio::fs::read(&p)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()));
        }
        let txn = self.inner.db.begin_read()?;
        let t = txn.open_table(BODY)?;
        match t.get(record.queue_id.as_str())? {
            Some(v) => Ok(v.value().to_vec()),
            None => anyhow::bail!("{}: message content missing", record.queue_id),
        }
    }

    /// Store changed bookkeeping of an existing message. `durable` forces an
    /// fsync; otherwise it rides along with the next durable commit.
    pub async fn update(&self, record: QueueRecord, durable: bool) -> anyhow::Result<()> {
        self.submit(Op::Update { record }, durable)
            .await
            .map_err(anyhow::Error::msg)
    }

    /// Remove a message and its content (delivered, bounced or deleted).
    pub async fn remove(&self, queue_id: &str) -> anyhow::Result<()> {
        self.submit(
            Op::Remove {
                id: queue_id.to_string(),
            },
            true,
        )
        .await
        .map_err(anyhow::Error::msg)
    }

    /// Move a message to another queue (hold, release, requeue). Returns
    /// false when there is no such message.
    pub async fn move_to(
        &self,
        queue_id: &str,
        to: QueueName,
        reset_schedule: bool,
    ) -> anyhow::Result<bool> {
        let Some(mut rec) = self.get(queue_id)? else {
            return Ok(false);
        };
        rec.queue = to;
        if reset_schedule {
            rec.next_attempt = 0;
        }
        self.update(rec, true).await?;
        if to != QueueName::Hold {
            self.push_fresh(queue_id);
            self.inner.notify.notify_one();
        }
        Ok(true)
    }
}

/// Remove body files whose message never committed (a crash between the
/// file fsync and the database commit): they were never answered 250.
fn sweep_orphan_bodies(dir: &Path, db: &Database) {
    let Ok(entries) = std::fs::read_dir(body::data_dir(dir)) else {
        return;
    };
    let Ok(txn) = db.begin_read() else { return };
    let (Ok(meta), Ok(corrupt)) = (txn.open_table(META), txn.open_table(CORRUPT)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if matches!(meta.get(name.as_str()), Ok(None))
            && matches!(corrupt.get(name.as_str()), Ok(None))
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests;
