//! The control socket of a running daemon (`queue_directory/control`): how
//! `mta flush`, `mta reload`, `mta stop` and `mta queue ...` reach it. The
//! protocol is one JSON request line and one JSON response line.
//!
//! The socket is created mode 0600: whoever can use it can delete mail, so
//! only the daemon's own user may. When no daemon runs, the CLI works on the
//! queue directly with the same `apply` used here (redb's file lock keeps
//! the two from ever writing at once).

use crate::pickup::{Pickup, PickupCell, Submission};
use crate::queue::{Queue, QueueName, QueueRecord};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

/// What the control socket asks of the daemon's main loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEvent {
    /// Drain sessions and exit.
    Stop,
    /// Re-read configuration and plugins.
    Reload,
}

/// Largest request accepted (a `submit` carries a whole message).
pub const MAX_REQUEST: u64 = 256 * 1024 * 1024;

/// Queue operations shared by the socket and the CLI's direct mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueOp {
    Delete,
    Hold,
    Release,
    Requeue,
}

/// One request line.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase")]
pub enum Request {
    Flush,
    Reload,
    Stop,
    List,
    Queue {
        op: QueueOp,
        ids: Vec<String>,
    },
    /// The running plugins' health (`mta plugin list` asks this, because a
    /// quarantine lives only in the daemon's memory).
    Plugins,
    /// `mta sendmail` through the daemon.
    Submit {
        sender: String,
        recipients: Vec<String>,
        data: Vec<u8>,
    },
}

/// One response line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `list`: the queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<QueueRecord>>,
    /// `queue`: how many messages were affected; `submit`: the queue id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    /// `plugins`: each running plugin's name and state (`active`,
    /// `quarantined (Ns)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugins: Option<Vec<(String, String)>>,
}

/// How the daemon reports its plugins' health to the control socket; set
/// once by `mta run` after its listeners are up.
pub type PluginReport = Box<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// The daemon's plugin reporter (unset in tools that serve no plugins).
pub static PLUGIN_REPORT: std::sync::OnceLock<PluginReport> = std::sync::OnceLock::new();

impl Response {
    fn ok() -> Response {
        Response {
            ok: true,
            ..Response::default()
        }
    }
    fn err(e: impl std::fmt::Display) -> Response {
        Response {
            ok: false,
            error: Some(e.to_string()),
            ..Response::default()
        }
    }
}

/// Delete, hold, release or requeue `ids` (or `ALL`); how many were affected.
pub async fn apply(queue: &Queue, op: QueueOp, ids: &[String]) -> anyhow::Result<usize> {
    let all = ids.iter().any(|i| i == "ALL");
    let targets: Vec<QueueRecord> = if all {
        queue.list().await?
    } else {
        let mut v = Vec::new();
        for id in ids {
            if let Some(r) = queue.get(id)? {
                v.push(r);
            }
        }
        v
    };
    let mut n = 0;
    for r in targets {
        let id = r.queue_id.clone();
        let done = match op {
            QueueOp::Delete => {
                queue.remove(&id).await?;
                tracing::info!("{id}: removed");
                true
            }
            QueueOp::Hold if r.queue != QueueName::Hold => {
                let d = queue.move_to(&id, QueueName::Hold, false).await?;
                tracing::info!("{id}: placed on hold");
                d
            }
            QueueOp::Release if r.queue == QueueName::Hold => {
                let d = queue.move_to(&id, QueueName::Deferred, true).await?;
                tracing::info!("{id}: released from hold");
                d
            }
            QueueOp::Requeue if r.queue != QueueName::Hold => {
                let d = queue.move_to(&id, QueueName::Incoming, true).await?;
                tracing::info!("{id}: requeued");
                d
            }
            _ => false,
        };
        n += usize::from(done);
    }
    Ok(n)
}

/// Serve the control socket until the daemon exits.
///
/// A `submit` goes through `pickup` (cleanup's shaping, content checks),
/// attributed to the uid the kernel reports for the peer of the socket
/// (SO_PEERCRED), never to a uid the client claims.
pub fn serve(
    socket: &Path,
    queue: Queue,
    qmgr: std::sync::Arc<crate::qmgr::Qmgr>,
    pickup: PickupCell,
    events: mpsc::Sender<ControlEvent>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use anyhow::Context;
    use std::os::unix::fs::PermissionsExt;
    // A socket file left by a crashed daemon would make bind fail.
    if std::os::unix::net::UnixStream::connect(socket).is_ok() {
        anyhow::bail!("another daemon is already serving {}", socket.display());
    }
    let _ = std::fs::remove_file(socket);
    let listener = tokio::net::UnixListener::bind(socket)
        .with_context(|| format!("bind control socket {}", socket.display()))?;
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let (queue, qmgr, events) = (queue.clone(), qmgr.clone(), events.clone());
            let pickup = pickup.read().unwrap_or_else(|p| p.into_inner()).clone();
            tokio::spawn(async move {
                let uid = conn.peer_cred().map(|c| c.uid()).unwrap_or(u32::MAX);
                let (r, mut w) = conn.into_split();
                let mut line = Vec::new();
                let mut r = BufReader::new(r).take(MAX_REQUEST);
                let resp = match r.read_until(b'\n', &mut line).await {
                    Ok(_) => match serde_json::from_slice::<Request>(&line) {
                        Ok(req) => handle(req, &queue, &qmgr, &pickup, uid, &events).await,
                        Err(e) => Response::err(format!("bad request: {e}")),
                    },
                    Err(e) => Response::err(e),
                };
                let mut out = serde_json::to_vec(&resp).unwrap_or_default();
                out.push(b'\n');
                let _ = w.write_all(&out).await;
            });
        }
    }))
}

async fn handle(
    req: Request,
    queue: &Queue,
    qmgr: &crate::qmgr::Qmgr,
    pickup: &Pickup,
    uid: u32,
    events: &mpsc::Sender<ControlEvent>,
) -> Response {
    match req {
        Request::Flush => {
            qmgr.flush();
            Response::ok()
        }
        Request::Reload | Request::Stop => {
            let ev = if matches!(req, Request::Stop) {
                ControlEvent::Stop
            } else {
                ControlEvent::Reload
            };
            match events.send(ev).await {
                Ok(()) => Response::ok(),
                Err(_) => Response::err("the daemon is shutting down"),
            }
        }
        Request::List => match queue.list().await {
            Ok(m) => Response {
                messages: Some(m),
                ..Response::ok()
            },
            Err(e) => Response::err(e),
        },
        Request::Plugins => Response {
            plugins: Some(PLUGIN_REPORT.get().map(|f| f()).unwrap_or_default()),
            ..Response::ok()
        },
        Request::Queue { op, ids } => match apply(queue, op, &ids).await {
            Ok(n) => {
                if matches!(op, QueueOp::Release | QueueOp::Requeue) {
                    qmgr.flush();
                }
                Response {
                    count: Some(n),
                    ..Response::ok()
                }
            }
            Err(e) => Response::err(e),
        },
        Request::Submit {
            sender,
            recipients,
            data,
        } => match pickup
            .submit(
                queue,
                Submission {
                    sender,
                    recipients,
                    data,
                    uid,
                },
            )
            .await
        {
            Ok(id) => {
                qmgr.kick();
                Response {
                    queue_id: Some(id),
                    ..Response::ok()
                }
            }
            Err(e) => Response::err(e),
        },
    }
}

/// Send one request to a running daemon. `Ok(None)`: no daemon listens.
pub fn request(socket: &Path, req: &Request) -> anyhow::Result<Option<Response>> {
    use std::io::{BufRead, Write};
    let mut s = match std::os::unix::net::UnixStream::connect(socket) {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(anyhow::anyhow!("connect to {}: {e}", socket.display())),
    };
    let mut line = serde_json::to_vec(req)?;
    line.push(b'\n');
    s.write_all(&line)?;
    let mut r = std::io::BufReader::new(s);
    let mut resp = String::new();
    r.read_line(&mut resp)?;
    let resp: Response = serde_json::from_str(&resp)
        .map_err(|e| anyhow::anyhow!("bad response from the daemon: {e}"))?;
    Ok(Some(resp))
}
