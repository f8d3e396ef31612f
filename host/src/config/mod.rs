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
        // TEMP config shim (smtpd branch only; the config helper's parser
        // replaces it): `name = value` with continuation lines and comments,
        // and master.cf `inet` smtpd lines with `-o name=value`.
        let mut c = Config { dir: dir.to_path_buf(), ..Config::default() };
        let err = |file: &str, line: usize, message: String| {
            vec![ConfigError { file: dir.join(file), line, message }]
        };
        let main = std::fs::read_to_string(dir.join("main.cf"))
            .map_err(|e| err("main.cf", 0, e.to_string()))?;
        let mut logical: Vec<(usize, String)> = Vec::new();
        for (i, line) in main.lines().enumerate() {
            if line.trim_start().starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if line.starts_with(|ch: char| ch.is_whitespace()) {
                if let Some((_, l)) = logical.last_mut() {
                    l.push(' ');
                    l.push_str(line.trim());
                    continue;
                }
            }
            logical.push((i + 1, line.trim().to_string()));
        }
        for (n, l) in logical {
            let Some((k, v)) = l.split_once('=') else {
                return Err(err("main.cf", n, format!("missing '=' after parameter name: {l}")));
            };
            c.explicit.insert(k.trim().to_string(), v.trim().to_string());
        }
        if let Ok(master) = std::fs::read_to_string(dir.join("master.cf")) {
            let mut entries: Vec<(usize, String)> = Vec::new();
            for (i, line) in master.lines().enumerate() {
                if line.trim_start().starts_with('#') || line.trim().is_empty() {
                    continue;
                }
                if line.starts_with(|ch: char| ch.is_whitespace()) {
                    if let Some((_, l)) = entries.last_mut() {
                        l.push(' ');
                        l.push_str(line.trim());
                        continue;
                    }
                }
                entries.push((i + 1, line.trim().to_string()));
            }
            for (n, e) in entries {
                let f: Vec<&str> = e.split_whitespace().collect();
                if f.len() < 8 || f[1] != "inet" || f[7] != "smtpd" {
                    continue;
                }
                let svc = f[0];
                let (host, port) = match svc.rsplit_once(':') {
                    Some((h, p)) => (h.trim_matches(['[', ']']).to_string(), p.to_string()),
                    None => ("127.0.0.1".to_string(), svc.to_string()),
                };
                let port = match port.as_str() {
                    "smtp" => "25".to_string(),
                    "submission" => "587".to_string(),
                    p => p.to_string(),
                };
                let addr = format!("{}:{port}", if host.contains(':') { format!("[{host}]") } else { host });
                let addr = addr
                    .parse()
                    .map_err(|_| err("master.cf", n, format!("bad service address: {svc}")))?;
                let mut overrides = Vec::new();
                let mut it = f[8..].iter();
                while let Some(a) = it.next() {
                    if *a == "-o" {
                        if let Some((k, v)) = it.next().and_then(|kv| kv.split_once('=')) {
                            overrides.push((k.to_string(), v.to_string()));
                        }
                    }
                }
                c.listeners.push(Listener { service: svc.to_string(), addrs: vec![addr], overrides });
            }
        }
        Ok(c)
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
        // TEMP config shim: `$name` / `${name}` expansion of explicit values.
        let mut v = self.explicit.get(name).cloned().unwrap_or_default();
        for _ in 0..8 {
            if !v.contains('$') {
                break;
            }
            let mut out = String::new();
            let mut rest = v.as_str();
            while let Some(i) = rest.find('$') {
                out.push_str(&rest[..i]);
                let after = &rest[i + 1..];
                let (key, tail) = if let Some(b) = after.strip_prefix('{') {
                    match b.find('}') {
                        Some(j) => (&b[..j], &b[j + 1..]),
                        None => (b, ""),
                    }
                } else {
                    let j = after.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(after.len());
                    (&after[..j], &after[j..])
                };
                match self.explicit.get(key) {
                    Some(x) => out.push_str(x),
                    None => {
                        out.push('$');
                        out.push_str(key);
                    }
                }
                rest = tail;
            }
            out.push_str(rest);
            if out == v {
                break;
            }
            v = out;
        }
        v
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
