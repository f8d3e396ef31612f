//! main.cf and master.cf: Postfix syntax and semantics.
//!
//! CONTRACT (owned by the config work; others code against these signatures):
//! - `Config::load(dir)` reads `dir/main.cf` and `dir/master.cf` (if present),
//!   refusing unknown parameter names with the nearest known one suggested.
//! - `Config::embedded_default(spool)` is the built-in config `mta run` uses
//!   without `-c`: loopback, port 2525, spool under `spool`.
//! - Getters expand `$name`/`${name}` and fall back to the documented default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A problem found while reading configuration, with where it is.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// One smtpd listener from master.cf (or the default one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// master.cf service name, e.g. `smtp`, `submission`, `127.0.0.1:2525`.
    pub service: String,
    /// Addresses to bind.
    pub addrs: Vec<SocketAddr>,
    /// `-o name=value` overrides for this listener only.
    pub overrides: Vec<(String, String)>,
}

/// The effective configuration: main.cf values over Postfix defaults.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Directory main.cf was read from (config_directory).
    pub dir: PathBuf,
    /// Explicitly set parameters, unexpanded, as written.
    pub explicit: BTreeMap<String, String>,
    /// Warnings to print at start and in `mta check`.
    pub warnings: Vec<String>,
    /// Listeners from master.cf.
    pub listeners: Vec<Listener>,
}

impl Config {
    /// Read `dir/main.cf` and `dir/master.cf`.
    pub fn load(dir: &Path) -> Result<Config, Vec<ConfigError>> {
        let _ = dir;
        Ok(Config::default())
    }

    /// The built-in configuration used when no `-c DIR` is given.
    pub fn embedded_default(spool: &Path) -> Config {
        let mut c = Config::default();
        c.explicit.insert("queue_directory".into(), spool.display().to_string());
        c
    }

    /// A copy with master.cf `-o` overrides applied.
    pub fn with_overrides(&self, overrides: &[(String, String)]) -> Config {
        let mut c = self.clone();
        for (k, v) in overrides {
            c.explicit.insert(k.clone(), v.clone());
        }
        c
    }

    /// The expanded value of a parameter (explicit, else default; "" if unknown).
    pub fn get(&self, name: &str) -> String {
        self.explicit.get(name).cloned().unwrap_or_default()
    }

    /// A comma/space separated list parameter, expanded.
    pub fn get_list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// A yes/no parameter.
    pub fn get_bool(&self, name: &str) -> bool {
        matches!(self.get(name).as_str(), "yes" | "true" | "1")
    }

    /// A time parameter with Postfix units (s, m, h, d, w; bare = seconds).
    pub fn get_time(&self, name: &str) -> Duration {
        Duration::from_secs(self.get(name).trim_end_matches('s').parse().unwrap_or(0))
    }

    /// An integer or size parameter.
    pub fn get_u64(&self, name: &str) -> u64 {
        self.get(name).parse().unwrap_or(0)
    }
}
