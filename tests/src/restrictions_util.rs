//! The reference Postfix beside mta: start `/work/shared/tools/postfix-ref`
//! on the same main.cf, build its hash: tables, stop it when dropped. The
//! restrictions tests ask both the same questions and assert equal answers.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the tool lives on this machine and in CI.
pub const POSTFIX_REF: &str = "/work/shared/tools/postfix-ref";

/// A running reference Postfix; stopped when dropped.
pub struct PostfixRef {
    pub dir: PathBuf,
    pub port: u16,
}

impl PostfixRef {
    /// Whether the tool is here to compare with.
    pub fn available() -> bool {
        Path::new(POSTFIX_REF).exists()
    }

    /// Start it on `main_cf` (mta's own parameters may stay in: Postfix
    /// only warns about names it does not know). Its hash: tables must be
    /// built before (`postmap`): its smtpd opens them when it starts.
    pub fn start(dir: &Path, main_cf: &str) -> PostfixRef {
        std::fs::create_dir_all(dir).expect("ref dir");
        let cf = dir.join("ref-main.cf");
        std::fs::write(&cf, main_cf).expect("ref main.cf");
        let port = crate::free_port();
        let out = Command::new(POSTFIX_REF)
            .args(["start", "--port", &port.to_string(), "--main-cf"])
            .arg(&cf)
            .arg("--dir")
            .arg(dir.join("pf"))
            .output()
            .expect("run postfix-ref start");
        assert!(
            out.status.success(),
            "postfix-ref start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        PostfixRef {
            dir: dir.join("pf"),
            port,
        }
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its maillog so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("work/maillog")).unwrap_or_default()
    }
}

impl Drop for PostfixRef {
    fn drop(&mut self) {
        let _ = Command::new(POSTFIX_REF)
            .arg("stop")
            .arg(&self.dir)
            .output();
    }
}
