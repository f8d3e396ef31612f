//! Large message bodies live in their own files under `data/`, written and
//! fsynced (file, then directory) by the submitting task before the database
//! commit that references them. A big message therefore never sits inside the
//! shared group commit, so it cannot stall the small ones committed with it.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Bodies above this size go to their own file.
pub const LARGE_BODY: usize = 64 * 1024;

pub fn data_dir(queue_dir: &Path) -> PathBuf {
    queue_dir.join("data")
}

pub fn path(queue_dir: &Path, id: &str) -> PathBuf {
    data_dir(queue_dir).join(id)
}

/// Write and fsync the body file and its directory entry.
pub fn write_durable(queue_dir: &Path, id: &str, data: &[u8]) -> std::io::Result<()> {
    let p = path(queue_dir, id);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&p)?;
    let res = f.write_all(data).and_then(|_| f.sync_all());
    if let Err(e) = res {
        let _ = std::fs::remove_file(&p);
        return Err(e);
    }
    std::fs::File::open(data_dir(queue_dir))?.sync_all()
}

pub fn remove(queue_dir: &Path, id: &str) {
    let _ = std::fs::remove_file(path(queue_dir, id));
}
