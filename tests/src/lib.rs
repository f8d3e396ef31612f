//! Helpers shared by the end-to-end tests: start the real `mta` binary on a
//! scratch configuration directory with a free port, wait for it to say it
//! is ready (never sleep), read its log, and talk SMTP from chosen loopback
//! source addresses (127.0.0.2, 127.0.0.3, … play clients from outside).

pub mod content6_util;
pub mod content_util;
pub mod dnsd;
pub mod e2e_rbl_util;
pub mod e2e_smtpd_util;
pub mod queue4_util;
pub mod queue_util;
pub mod restrictions_util;
pub mod sasl_util;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as TokioBufReader};
use tokio::net::{TcpSocket, TcpStream};

/// How long any wait in these tests may take before it is a failure.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Newest modification time of any file under `dir`.
fn newest(dir: &Path) -> std::time::SystemTime {
    let mut t = std::time::UNIX_EPOCH;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            let m = if p.is_dir() {
                newest(&p)
            } else {
                e.metadata().and_then(|m| m.modified()).unwrap_or(t)
            };
            t = t.max(m);
        }
    }
    t
}

/// The `mta` binary of this build. Built with `cargo build -p mta` when it
/// is missing or older than the host sources (a plain `cargo test` does not
/// build another package's binary; building it unconditionally would make
/// cargo rebuild dependencies whose features differ between the two
/// invocations, every time).
pub fn mta_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(p) = std::env::var("MTA_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().expect("test executable path");
        // target/debug/deps/<test> -> target/debug/mta
        let dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = dir.join("mta");
        let host = Path::new(env!("CARGO_MANIFEST_DIR")).join("../host");
        let built = bin.metadata().and_then(|m| m.modified()).ok();
        let stale = built.is_none_or(|b| newest(&host) > b);
        if stale {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let st = Command::new(cargo)
                .args(["build", "-p", "mta", "--bin", "mta"])
                .status()
                .expect("run cargo build -p mta");
            assert!(st.success(), "cargo build -p mta failed");
        }
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// A port nobody listens on right now, for a listener the test starts
/// later (often in another process, the daemon or postfix-ref).
///
/// Picked below Linux's ephemeral range (32768-60999) from a per-process
/// counter: a port the kernel hands out for `bind(:0)` or an outgoing
/// connection, in this test or one running beside it, can then never be the
/// one just picked, and two picks in one test binary never repeat. The
/// starting point depends on the pid so that consecutive test binaries do
/// not walk the same ports.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(997);
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = (LOW + start.wrapping_add(n) % SPAN) as u16;
        let tcp = TcpListener::bind(("127.0.0.1", port)).is_ok();
        let udp = std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if tcp && udp {
            return port;
        }
    }
    panic!("no free port in {LOW}..{}", LOW + SPAN)
}

/// A scratch directory unique to one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mta-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Output lines of the daemon (stdout and stderr), with a way to wait for one.
#[derive(Default)]
struct Output {
    lines: Mutex<Vec<String>>,
    changed: Condvar,
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub dir: PathBuf,
    pub port: u16,
    out: Arc<Output>,
}

impl Daemon {
    /// Write `main.cf` (plus the test plumbing: queue_directory in the
    /// scratch dir, myhostname `mx.test`) and a master.cf with one smtpd on
    /// a free port (with `-o` overrides), start `mta run -c DIR`, and wait
    /// for `mta: ready on`.
    pub fn start(name: &str, main_cf: &str, overrides: &[&str]) -> Daemon {
        let dir = scratch(name);
        let port = free_port();
        let main = format!(
            "queue_directory = {}\nmyhostname = mx.test\nsmtpd_error_sleep_time = 0\n{main_cf}\n",
            dir.join("spool").display()
        );
        std::fs::write(dir.join("main.cf"), main).expect("main.cf");
        let mut master = format!("127.0.0.1:{port} inet n - n - - smtpd\n");
        for o in overrides {
            master.push_str(&format!("  -o {o}\n"));
        }
        std::fs::write(dir.join("master.cf"), master).expect("master.cf");
        Daemon::spawn(dir, port)
    }

    /// Start on an existing configuration directory.
    pub fn spawn(dir: PathBuf, port: u16) -> Daemon {
        let mut child = Command::new(mta_bin())
            .arg("run")
            .arg("-c")
            .arg(&dir)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mta");
        let out = Arc::new(Output::default());
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let out = out.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    out.lines.lock().unwrap().push(line);
                    out.changed.notify_all();
                }
            });
        }
        let d = Daemon {
            child,
            dir,
            port,
            out,
        };
        d.wait_for("mta: ready on");
        d
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn spool(&self) -> PathBuf {
        self.dir.join("spool")
    }

    /// Wait until an output line contains `needle`; return it. Panics with
    /// the whole output after `DEADLINE`.
    pub fn wait_for(&self, needle: &str) -> String {
        self.wait_for_nth(needle, 1)
    }

    /// Wait for the `n`th line containing `needle`.
    pub fn wait_for_nth(&self, needle: &str, n: usize) -> String {
        let start = Instant::now();
        let mut lines = self.out.lines.lock().unwrap();
        loop {
            let hits: Vec<&String> = lines.iter().filter(|l| l.contains(needle)).collect();
            if hits.len() >= n {
                return hits[n - 1].clone();
            }
            let left = DEADLINE.checked_sub(start.elapsed()).unwrap_or_default();
            if left.is_zero() {
                panic!(
                    "no line with {needle:?} (wanted {n}) within {DEADLINE:?}; output:\n{}",
                    lines.join("\n")
                );
            }
            lines = self.out.changed.wait_timeout(lines, left).unwrap().0;
        }
    }

    /// Everything the daemon printed so far.
    pub fn output(&self) -> String {
        self.out.lines.lock().unwrap().join("\n")
    }

    /// Send a signal by number (libc's SIGTERM = 15, SIGHUP = 1).
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(st.success());
    }

    /// Wait for the process to exit; its status.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().expect("try_wait") {
                return st;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "daemon did not exit; output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Messages in the queue (the queue's files under spool/).
    pub fn queued(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.spool().join("incoming")) {
            for e in rd.flatten() {
                if !e.file_name().to_string_lossy().starts_with('.') {
                    out.push(
                        String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default())
                            .to_string(),
                    );
                }
            }
        }
        out
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw SMTP client over TCP from a chosen loopback source address.
pub struct Smtp {
    pub stream: TokioBufReader<TcpStream>,
}

impl Smtp {
    /// Connect from `source` without reading the greeting.
    pub async fn connect_raw(to: SocketAddr, source: &str) -> Smtp {
        let sock = TcpSocket::new_v4().expect("socket");
        sock.bind(SocketAddr::new(source.parse().expect("source ip"), 0))
            .expect("bind source");
        let s = tokio::time::timeout(DEADLINE, sock.connect(to))
            .await
            .expect("connect in time")
            .expect("connect");
        Smtp {
            stream: TokioBufReader::new(s),
        }
    }

    /// Connect from `source` (e.g. "127.0.0.2") and read the greeting.
    pub async fn connect(to: SocketAddr, source: &str) -> (Smtp, String) {
        let sock = TcpSocket::new_v4().expect("socket");
        sock.bind(SocketAddr::new(source.parse().expect("source ip"), 0))
            .expect("bind source");
        let s = tokio::time::timeout(DEADLINE, sock.connect(to))
            .await
            .expect("connect in time")
            .expect("connect");
        let mut c = Smtp {
            stream: TokioBufReader::new(s),
        };
        let banner = c.reply().await;
        (c, banner)
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.expect("send");
    }

    /// One whole (possibly multi-line) reply; "" when the server closed.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(DEADLINE, self.stream.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap_or(0);
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// True when the server closed the connection (nothing more to read).
    pub async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(DEADLINE, self.stream.read_to_end(&mut rest)).await,
            Ok(Ok(_))
        ) && rest.is_empty()
    }
}

/// Run a Python snippet (smtplib) and return its stdout; panics with stderr
/// on failure.
pub fn python(code: &str) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Run a command, returning (success, stdout+stderr).
pub fn run(cmd: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    let mut s = String::from_utf8_lossy(&out.stdout).to_string();
    s.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), s)
}
pub mod platform_util;
pub mod smtpd3_util;
