//! The durable mail queue (redb): incoming, active, deferred, hold, corrupt.
//!
//! CONTRACT: `Queue::enqueue` returns only after the message is committed
//! durably (fsync): smtpd answers 250 after it and never before. Concurrent
//! enqueues share commits (group commit without a timer, DESIGN.md #5).

use std::path::Path;
use std::time::SystemTime;

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
pub struct Queue {}

impl Queue {
    /// Open (creating if needed) the queue under `queue_directory`.
    pub fn open(dir: &Path) -> anyhow::Result<Queue> {
        std::fs::create_dir_all(dir)?;
        Ok(Queue {})
    }

    /// A new unique queue id (Postfix long-id style: time + counter, base 52).
    pub fn new_id(&self) -> String {
        format!("{:X}", std::time::UNIX_EPOCH.elapsed().map(|d| d.as_nanos()).unwrap_or(0))
    }

    /// Commit a message durably; returns after fsync.
    pub async fn enqueue(&self, msg: NewMessage) -> Result<(), QueueError> {
        let _ = msg;
        Err(QueueError::Write("queue not implemented".into()))
    }
}
