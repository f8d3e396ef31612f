//! Helpers for the queue and delivery tests: a real smtp-sink next hop, a
//! tiny scripted SMTP server for replies smtp-sink cannot give, and a
//! bounded wait on a condition (never a bare sleep as synchronisation).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::free_port;

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

    /// The messages dumped so far, complete ones only. smtp-sink creates a
    /// dump file when DATA begins and writes it until the final dot, so a
    /// file it still holds open is a message in flight (reading it early
    /// once gave a test an empty message); it never reopens a file it has
    /// closed. The directory is listed before the open files are, so a file
    /// closed in between is only left for the next call.
    pub fn messages(&self) -> Vec<String> {
        // Canonical, to compare with the kernel's names of open files.
        let dir = std::fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone());
        let files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let open: Vec<PathBuf> = std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| std::fs::read_link(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        let mut out: Vec<String> = files
            .iter()
            .filter(|f| !open.contains(f))
            .filter_map(|f| std::fs::read_to_string(f).ok())
            .collect();
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
    /// The transaction ran inside STARTTLS.
    pub tls: bool,
    /// Which connection (0, 1, ... in accept order) carried it.
    pub conn: usize,
}

/// How the scripted server behaves.
#[derive(Clone, Default)]
pub struct Script {
    /// RCPT addresses answered with `reply` instead of 250.
    pub reject: Vec<String>,
    pub reply: String,
    /// Offer STARTTLS with this configuration.
    pub tls: Option<std::sync::Arc<rustls::ServerConfig>>,
}

/// A self-signed server configuration for STARTTLS tests.
pub fn self_signed_tls() -> std::sync::Arc<rustls::ServerConfig> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("rcgen");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(ck.key_pair.serialize_der().into());
    let cfg = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![ck.cert.der().clone()], key)
    .expect("cert");
    std::sync::Arc::new(cfg)
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A minimal ESMTP server (PIPELINING-capable, STARTTLS when configured)
/// that answers RCPT for `script.reject` with `script.reply` and records
/// every delivered message.
pub async fn scripted_server(
    reject: Vec<String>,
    reply: String,
) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) {
    scripted(Script {
        reject,
        reply,
        tls: None,
    })
    .await
}

pub async fn scripted(script: Script) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>> = Default::default();
    let out = seen.clone();
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(session(Box::new(sock), n, script.clone(), seen.clone()));
            n += 1;
        }
    });
    (port, out)
}

async fn session(
    sock: Box<dyn Io>,
    conn: usize,
    script: Script,
    seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut s = BufReader::new(sock);
    let mut tls = false;
    if s.get_mut()
        .write_all(b"220 scripted ESMTP\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut cur = Seen::default();
    let mut line = String::new();
    loop {
        line.clear();
        if s.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let answer = if upper.starts_with("EHLO") {
            let starttls = if script.tls.is_some() && !tls {
                "250-STARTTLS\r\n"
            } else {
                ""
            };
            format!("250-scripted\r\n{starttls}250-PIPELINING\r\n250 8BITMIME\r\n")
        } else if upper == "STARTTLS" {
            let Some(cfg) = script.tls.clone() else {
                return;
            };
            if s.get_mut()
                .write_all(b"220 2.0.0 Ready to start TLS\r\n")
                .await
                .is_err()
            {
                return;
            }
            let inner = s.into_inner();
            match tokio_rustls::TlsAcceptor::from(cfg).accept(inner).await {
                Ok(t) => {
                    s = BufReader::new(Box::new(t) as Box<dyn Io>);
                    tls = true;
                    continue;
                }
                Err(_) => return,
            }
        } else if upper.starts_with("MAIL FROM:") {
            cur = Seen {
                mail_from: cmd[10..].trim_matches(['<', '>', ' ']).to_string(),
                tls,
                conn,
                ..Seen::default()
            };
            "250 2.1.0 Ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let a = cmd[8..].trim_matches(['<', '>', ' ']).to_string();
            if script.reject.contains(&a) {
                format!("{}\r\n", script.reply)
            } else {
                cur.rcpts.push(a);
                "250 2.1.5 Ok\r\n".into()
            }
        } else if upper == "DATA" {
            if cur.rcpts.is_empty() {
                "554 5.5.1 Error: no valid recipients\r\n".into()
            } else {
                if s.get_mut()
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    if s.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                cur.data = data;
                if let Ok(mut v) = seen.lock() {
                    v.push(cur.clone());
                }
                "250 2.0.0 Ok: queued\r\n".into()
            }
        } else if upper == "QUIT" {
            let _ = s.get_mut().write_all(b"221 2.0.0 Bye\r\n").await;
            return;
        } else {
            "250 2.0.0 Ok\r\n".into()
        };
        if s.get_mut().write_all(answer.as_bytes()).await.is_err() {
            return;
        }
    }
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
