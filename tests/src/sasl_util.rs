//! A real Dovecot auth server (Debian's dovecot-core) for the SMTP AUTH
//! tests: its own dovecot.conf, passwd-file and sockets in a scratch
//! directory, run in the foreground (`dovecot -F -c CONF`), so nothing under
//! /etc/dovecot is read or touched. Stopped (SIGTERM) when dropped.

use crate::{scratch, DEADLINE};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The test user and password in every Dovecot started here.
pub const USER: &str = "alice@example.org";
pub const PASSWORD: &str = "s3cret pass";

pub struct Dovecot {
    child: Child,
    pub dir: PathBuf,
    /// The auth client socket, for `smtpd_sasl_path`.
    pub socket: PathBuf,
}

impl Dovecot {
    /// Start Dovecot's auth service with PLAIN and LOGIN against a
    /// passwd-file holding [`USER`]. `plaintext_needs_tls` keeps Dovecot's
    /// own default (`disable_plaintext_auth = yes`): PLAIN/LOGIN then succeed
    /// only when smtpd says the session is `secured` (under TLS).
    pub fn start(name: &str, plaintext_needs_tls: bool) -> Dovecot {
        let dir = scratch(&format!("dovecot-{name}"));
        let socket = dir.join("auth");
        std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n"))
            .expect("passwd-file");
        let conf = format!(
            "protocols =\n\
             base_dir = {d}/run\n\
             state_dir = {d}/state\n\
             log_path = {d}/dovecot.log\n\
             ssl = no\n\
             disable_plaintext_auth = {np}\n\
             auth_mechanisms = plain login\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=nobody gid=nogroup home={d}\n}}\n\
             service auth {{\n  unix_listener {s} {{\n    mode = 0666\n  }}\n}}\n",
            d = dir.display(),
            s = socket.display(),
            np = if plaintext_needs_tls { "yes" } else { "no" },
        );
        let conf_path = dir.join("dovecot.conf");
        std::fs::write(&conf_path, conf).expect("dovecot.conf");
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot (apt-get install dovecot-core)");
        let d = Dovecot { child, dir, socket };
        let start = Instant::now();
        while std::os::unix::net::UnixStream::connect(&d.socket).is_err() {
            assert!(
                start.elapsed() < DEADLINE,
                "dovecot's auth socket never appeared; log:\n{}",
                d.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        d
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM lets Dovecot's master stop its auth processes too.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Base64 (RFC 4648) for the AUTH responses the tests type by hand.
pub fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            out.push(if i <= c.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// The PLAIN response for `user` / `password` (RFC 4616).
pub fn plain(user: &str, password: &str) -> String {
    b64(format!("\0{user}\0{password}").as_bytes())
}
