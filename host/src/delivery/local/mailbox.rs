//! Writing to mailboxes: Maildir (tmp/ then rename into new/, fsynced) and
//! mbox (dot-lock plus flock, `>From ` quoting, fsynced).

use crate::delivery::Status;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub type Failure = (Status, &'static str, String);

/// A passwd(5) entry.
#[derive(Debug, Clone)]
pub struct Passwd {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// Find `user` in a passwd file (local_recipient_maps = unix:passwd.byname).
pub fn lookup_user(passwd: &Path, user: &str) -> Option<Passwd> {
    let text = std::fs::read_to_string(passwd).ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 6 && f[0] == user).then(|| Passwd {
            name: f[0].to_string(),
            uid: f[2].parse().unwrap_or(u32::MAX),
            gid: f[3].parse().unwrap_or(u32::MAX),
            home: PathBuf::from(f[5]),
        })
    })
}

/// The message with `Return-Path:` and `Delivered-To:` prepended, CRLF.
pub fn with_envelope_headers(sender: &str, rcpt: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("Return-Path: <{sender}>\r\nDelivered-To: {rcpt}\r\n").into_bytes();
    out.extend_from_slice(&crate::delivery::wire::crlf_lines(body));
    out
}

fn io_fail(what: &str, path: &Path, e: std::io::Error) -> Failure {
    let dsn = if e.raw_os_error() == Some(libc::ENOSPC) || e.raw_os_error() == Some(libc::EDQUOT) {
        "4.2.2"
    } else {
        "4.2.0"
    };
    (
        Status::Deferred,
        dsn,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// Deliver into a Maildir: write `tmp/NAME`, fsync, rename to `new/NAME`, fsync `new/`.
pub fn deliver_maildir(
    dir: &Path,
    host: &str,
    data: &[u8],
    owner: Option<(u32, u32)>,
) -> Result<(), Failure> {
    for sub in ["", "tmp", "new", "cur"] {
        let d = dir.join(sub);
        // Written as root on the user's behalf: a symlink or a directory the
        // user does not own could point the delivery anywhere.
        if let Ok(m) = std::fs::symlink_metadata(&d) {
            let owned = owner.is_none_or(|(u, _)| m.uid() == u);
            if !m.file_type().is_dir() || !owned {
                return Err((
                    Status::Deferred,
                    "4.2.0",
                    format!(
                        "maildir {}: not a directory owned by the recipient",
                        d.display()
                    ),
                ));
            }
        } else {
            std::fs::create_dir_all(&d).map_err(|e| io_fail("create maildir", &d, e))?;
            if let Some((u, g)) = owner {
                let _ = std::os::unix::fs::chown(&d, Some(u), Some(g));
            }
        }
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!(
        "{}.M{}P{}Q{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        host.replace(['/', ':'], "_")
    );
    let tmp = dir.join("tmp").join(&name);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(|e| io_fail("create maildir file", &tmp, e))?;
    let lf = to_lf(data);
    if let Err(e) = f.write_all(&lf).and_then(|_| f.sync_all()) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_fail("write maildir file", &tmp, e));
    }
    if let Some((u, g)) = owner {
        let _ = std::os::unix::fs::chown(&tmp, Some(u), Some(g));
    }
    let new = dir.join("new").join(&name);
    std::fs::rename(&tmp, &new).map_err(|e| io_fail("rename maildir file", &new, e))?;
    std::fs::File::open(dir.join("new"))
        .and_then(|d| d.sync_all())
        .map_err(|e| io_fail("sync maildir", dir, e))?;
    Ok(())
}

/// Mailbox files are LF-terminated, as every local mail reader expects.
fn to_lf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// A dot-lock (`PATH.lock`), removed on drop.
struct DotLock(PathBuf);

impl DotLock {
    fn take(mbox: &Path) -> Result<DotLock, Failure> {
        let lock = PathBuf::from(format!("{}.lock", mbox.display()));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&lock)
            {
                Ok(_) => return Ok(DotLock(lock)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // A lock older than 5 minutes is stale (Postfix: stale_lock_time).
                    let stale = std::fs::metadata(&lock)
                        .and_then(|m| m.modified())
                        .map(|t| t.elapsed().unwrap_or_default() > Duration::from_secs(300))
                        .unwrap_or(false);
                    if stale {
                        let _ = std::fs::remove_file(&lock);
                    } else if std::time::Instant::now() > deadline {
                        return Err((
                            Status::Deferred,
                            "4.2.0",
                            format!("cannot lock mailbox {}: lock file busy", mbox.display()),
                        ));
                    } else {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
                Err(e) => return Err(io_fail("create lock file", &lock, e)),
            }
        }
    }
}

impl Drop for DotLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Could `uid`/`gid` write to what `m` describes (owner, group, other bits)?
fn writable_by(m: &std::fs::Metadata, uid: u32, gid: u32) -> bool {
    let mode = m.mode();
    (m.uid() == uid && mode & 0o200 != 0)
        || (m.gid() == gid && mode & 0o020 != 0)
        || mode & 0o002 != 0
}

/// Postfix appends to `/file` alias targets with the rights of
/// `default_privs`; running as root, check those rights ourselves: the file
/// (or, for a new file, its directory) must be writable by that user, and
/// only a regular file will do (never a symlink, device or directory).
pub fn check_file_target(path: &Path, uid: u32, gid: u32) -> Result<(), Failure> {
    let denied = |why: &str| {
        Err((
            Status::Bounced,
            "5.3.0",
            format!("cannot append to file {}: {why}", path.display()),
        ))
    };
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => denied("not a regular file"),
        Ok(m) if !writable_by(&m, uid, gid) => denied("permission denied for default_privs"),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = path.parent().unwrap_or(Path::new("/"));
            match std::fs::symlink_metadata(parent) {
                Ok(m) if m.file_type().is_dir() && writable_by(&m, uid, gid) => Ok(()),
                _ => denied("directory not writable for default_privs"),
            }
        }
        Err(e) => Err(io_fail("stat", path, e)),
    }
}

/// Append to an mbox file under a dot-lock and an exclusive flock, never
/// through a symlink. A file this creates is given to `owner`.
pub fn append_mbox(
    path: &Path,
    sender: &str,
    data: &[u8],
    owner: Option<(u32, u32)>,
) -> Result<(), Failure> {
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _dot = DotLock::take(path)?;
    let existed = std::fs::symlink_metadata(path).is_ok();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| io_fail("open mailbox", path, e))?;
    if let (false, Some((u, g))) = (existed, owner) {
        let _ = std::os::unix::fs::chown(path, Some(u), Some(g));
    }
    rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| io_fail("lock mailbox", path, std::io::Error::from(e)))?;
    let from = if sender.is_empty() {
        "MAILER-DAEMON"
    } else {
        sender
    };
    let date = crate::delivery::bounce::rfc5322_date(SystemTime::now());
    let mut out = format!("From {from}  {date}\n").into_bytes();
    for line in to_lf(data).split_inclusive(|b| *b == b'\n') {
        let l = line.strip_prefix(b">".as_slice()).map(|r| {
            r.iter()
                .skip_while(|b| **b == b'>')
                .copied()
                .collect::<Vec<u8>>()
        });
        let check = l.as_deref().unwrap_or(line);
        if check.starts_with(b"From ") {
            out.push(b'>');
        }
        out.extend_from_slice(line);
    }
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.push(b'\n');
    f.write_all(&out)
        .and_then(|_| f.sync_all())
        .map_err(|e| io_fail("write mailbox", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_and_mbox_delivery() {
        let dir = std::env::temp_dir().join(format!(
            "mta-mbox-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let md = dir.join("Maildir");
        deliver_maildir(&md, "h", b"Subject: x\r\n\r\nhello\r\n", None).unwrap();
        let files: Vec<_> = std::fs::read_dir(md.join("new")).unwrap().collect();
        assert_eq!(files.len(), 1);
        assert_eq!(std::fs::read_dir(md.join("tmp")).unwrap().count(), 0);
        let mb = dir.join("mbox");
        append_mbox(
            &mb,
            "a@b",
            b"Subject: y\r\n\r\nFrom here\r\n>From there\r\n",
            None,
        )
        .unwrap();
        append_mbox(&mb, "", b"Subject: z\r\n\r\nbody\r\n", None).unwrap();
        let text = std::fs::read_to_string(&mb).unwrap();
        assert!(text.starts_with("From a@b  "));
        assert!(text.contains("\n>From here\n>>From there\n"));
        assert!(text.contains("\nFrom MAILER-DAEMON  "));
        assert!(!text.contains('\r'));
        assert!(
            !PathBuf::from(format!("{}.lock", mb.display())).exists(),
            "lock released"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod file_target_tests {
    use super::*;

    #[test]
    fn file_targets_need_default_privs_rights_and_no_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "mta-ft-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let nobody = (65534, 65534);
        let fresh = dir.join("new.mbox");
        let err = check_file_target(&fresh, nobody.0, nobody.1).unwrap_err();
        assert!(err.2.contains("directory not writable"), "{}", err.2);
        let open = dir.join("open.mbox");
        std::fs::write(&open, b"").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(check_file_target(&open, nobody.0, nobody.1).is_ok());
        let closed = dir.join("closed.mbox");
        std::fs::write(&closed, b"").unwrap();
        std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o644)).unwrap();
        let uid = std::fs::metadata(&closed).unwrap().uid();
        if uid != nobody.0 {
            assert_eq!(
                check_file_target(&closed, nobody.0, nobody.1)
                    .unwrap_err()
                    .0,
                Status::Bounced
            );
        }
        let link = dir.join("link.mbox");
        std::os::unix::fs::symlink(&open, &link).unwrap();
        assert!(check_file_target(&link, nobody.0, nobody.1)
            .unwrap_err()
            .2
            .contains("not a regular file"));
        assert!(
            append_mbox(&link, "a@b", b"x\r\n", None).is_err(),
            "O_NOFOLLOW"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
