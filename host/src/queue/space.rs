//! Free space in the queue file system (`queue_minfree`).

use std::path::Path;

/// Bytes available to an unprivileged writer, or None when unknown.
pub fn available(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}
