//! Helpers for the queue and delivery tests: a real smtp-sink next hop, a
//! tiny scripted SMTP server for replies smtp-sink cannot give, and a
//! bounded wait on a condition (never a bare sleep as synchronisation).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A fresh temporary directory.
pub fn temp_dir(tag: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("mta-e2e-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create temp dir");
    d
}

/// Poll `cond` until it holds or `limit` passes; returns whether it held.
pub async fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// Wait until something accepts connections on 127.0.0.1:`port`.
pub async fn wait_listening(port: u16) -> bool {
    wait_for(Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    })
    .await
}

/// A running smtp-sink that dumps every message into `dir`.
pub struct Sink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl Sink {
    /// Start `smtp-sink -u root -d DIR/m. 127.0.0.1:PORT 100`.
    pub async fn start(port: u16, dir: &Path) -> Sink {
        std::fs::create_dir_all(dir).expect("sink dir");
        let child = Command::new("smtp-sink")
            .args(["-u", "root", "-d"])
            .arg(format!("{}/m.", dir.display()))
            .arg(format!("127.0.0.1:{port}"))
            .arg("100")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtp-sink (from the postfix package) must be installed");
        assert!(
            wait_listening(port).await,
            "smtp-sink did not start on port {port}"
        );
        Sink {
            port,
            dir: dir.to_path_buf(),
            child,
        }
    }

    /// The dumped messages so far.
    pub fn messages(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the scripted server saw in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub mail_from: String,
    pub rcpts: Vec<String>,
    pub data: String,
}

/// A minimal ESMTP server (PIPELINING-capable) that rejects RCPT for the
/// addresses in `reject` with `reply`, and records every delivered message.
pub async fn scripted_server(
    reject: Vec<String>,
    reply: String,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>> = Default::default();
    let out = seen.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (reject, reply, seen) = (reject.clone(), reply.clone(), seen.clone());
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 scripted ESMTP\r\n").await;
                let mut cur = Seen::default();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_string();
                    let upper = cmd.to_ascii_uppercase();
                    let answer = if upper.starts_with("EHLO") {
                        "250-scripted\r\n250-PIPELINING\r\n250 8BITMIME\r\n".to_string()
                    } else if upper.starts_with("MAIL FROM:") {
                        cur = Seen {
                            mail_from: cmd[10..].trim_matches(['<', '>', ' ']).to_string(),
                            ..Seen::default()
                        };
                        "250 2.1.0 Ok\r\n".into()
                    } else if upper.starts_with("RCPT TO:") {
                        let a = cmd[8..].trim_matches(['<', '>', ' ']).to_string();
                        if reject.contains(&a) {
                            format!("{reply}\r\n")
                        } else {
                            cur.rcpts.push(a);
                            "250 2.1.5 Ok\r\n".into()
                        }
                    } else if upper == "DATA" {
                        if cur.rcpts.is_empty() {
                            "554 5.5.1 Error: no valid recipients\r\n".into()
                        } else {
                            let _ = w
                                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                                .await;
                            let mut data = String::new();
                            loop {
                                line.clear();
                                if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                                    return;
                                }
                                if line == ".\r\n" {
                                    break;
                                }
                                data.push_str(&line);
                            }
                            cur.data = data;
                            if let Ok(mut s) = seen.lock() {
                                s.push(cur.clone());
                            }
                            "250 2.0.0 Ok: queued\r\n".into()
                        }
                    } else if upper == "QUIT" {
                        let _ = w.write_all(b"221 2.0.0 Bye\r\n").await;
                        return;
                    } else {
                        "250 2.0.0 Ok\r\n".into()
                    };
                    if w.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, out)
}

/// The `mta` binary under test: `$MTA_BIN`, else the cargo target
/// directory's debug build (run `cargo build -p mta` first).
pub fn mta_bin() -> PathBuf {
    if let Ok(p) = std::env::var("MTA_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let p = target.join("debug/mta");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p mta` first",
        p.display()
    );
    p
}

/// A directory with a main.cf whose queue_directory is `dir/spool`; tools
/// run with `dir` as their working directory (so `spool` resolves there too).
pub fn config_dir(dir: &Path, extra: &str) -> PathBuf {
    let cf = dir.join("etc");
    std::fs::create_dir_all(&cf).expect("etc dir");
    std::fs::write(
        cf.join("main.cf"),
        format!("queue_directory = {}/spool\n{extra}", dir.display()),
    )
    .expect("main.cf");
    cf
}

/// Run `mta ARGS` with `stdin`, in `dir`; (exit ok, stdout, stderr).
pub fn run_mta(dir: &Path, args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(mta_bin())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mta");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin);
    }
    let out = child.wait_with_output().expect("mta output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
