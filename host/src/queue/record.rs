//! What the queue stores per message: a small metadata record (JSON, so an
//! operator can read it and a newer version can add fields) kept apart from
//! the body, so queue-manager bookkeeping never rewrites message content.

use serde::{Deserialize, Serialize};

/// Postfix's queues. A message is in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueName {
    /// Committed, not yet seen by the queue manager.
    Incoming,
    /// Being delivered now (moved back to incoming at start-up).
    Active,
    /// Waiting for its next attempt after a temporary failure.
    Deferred,
    /// Parked by the operator or a HOLD action; untouched until released.
    Hold,
    /// Could not be decoded; kept for the operator, never delivered.
    Corrupt,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Incoming => "incoming",
            QueueName::Active => "active",
            QueueName::Deferred => "deferred",
            QueueName::Hold => "hold",
            QueueName::Corrupt => "corrupt",
        }
    }
}

/// A recipient still waiting for delivery (delivered or bounced ones are
/// removed from the record, as Postfix marks them done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedRecipient {
    pub address: String,
    pub original: String,
    /// Why the last attempt for this recipient did not succeed (mailq shows it).
    #[serde(default)]
    pub last_reason: Option<String>,
}

/// The metadata of one queued message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRecord {
    pub queue_id: String,
    pub queue: QueueName,
    pub sender: String,
    pub recipients: Vec<QueuedRecipient>,
    /// Arrival time, milliseconds since the Unix epoch.
    pub arrival_ms: u64,
    /// Message size in bytes (header + body).
    pub size: u64,
    /// The body lives in `data/<queue_id>` rather than in the database.
    pub body_file: bool,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub client: String,
    /// Delivery attempts so far.
    #[serde(default)]
    pub attempts: u32,
    /// Earliest next attempt, seconds since the Unix epoch (deferred queue).
    #[serde(default)]
    pub next_attempt: u64,
    /// A delay warning was already sent (delay_warning_time).
    #[serde(default)]
    pub warned: bool,
}

impl QueueRecord {
    pub fn encode(&self) -> Vec<u8> {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Result<QueueRecord, String> {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    /// Arrival as seconds since the epoch.
    pub fn arrival_secs(&self) -> u64 {
        self.arrival_ms / 1000
    }
}
