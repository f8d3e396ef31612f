//! main.cf and master.cf: Postfix syntax and semantics.
//!
//! CONTRACT (owned by the config work; others code against these signatures):
//! - `Config::load(dir)` reads `dir/main.cf` and `dir/master.cf` (if present),
//!   refusing unknown parameter names with the nearest known one suggested.
//! - `Config::embedded_default(spool)` is the built-in config `mta run` uses
//!   without `-c`: loopback, port 2525, spool under `spool`.
//! - Getters expand `$name`/`${name}` and fall back to the documented default.
//!
//! Three kinds of name (DESIGN.md): a parameter mta implements; a Postfix
//! parameter it does not (a warning — or an error where ignoring it would
//! weaken security, see `registry::security_refusal`); and a name that is no
//! parameter at all (an error with "did you mean"), unless something uses it
//! as `$name` or as a restriction class, which makes it a user parameter.
//!
//! Defaults are Postfix 3.7's at `compatibility_level = 3.6`
//! (`postfix-defaults.cf`), except `registry::MTA_OVERRIDES` (e.g.
//! `queue_directory` is `/var/spool/mta`, never Postfix's own queue;
//! `alias_maps` leaves out `nis:`), `inet_interfaces = all` binds the IPv4
//! wildcard only (list `[::]` explicitly for IPv6), and `mynetworks` for
//! `mynetworks_style = host` lists this host's addresses as /32 and /128.

pub mod expand;
mod load;
pub mod maincf;
pub mod mastercf;
pub mod oldnames;
pub mod openrelay;
pub mod registry;
pub mod system;
pub mod values;

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
    /// Remarks only `mta check` prints (master.cf columns with no meaning
    /// here, services mta provides itself).
    pub notes: Vec<String>,
    /// Where each explicit parameter was set (`main.cf:12`), for messages.
    pub origins: BTreeMap<String, String>,
}

impl Config {
    /// Read `dir/main.cf` and `dir/master.cf`.
    pub fn load(dir: &Path) -> Result<Config, Vec<ConfigError>> {
        let mut c = load::load(dir)?;
        c.absolute_queue_directory();
        Ok(c)
    }

    /// A relative `queue_directory` is made absolute (against the working
    /// directory at load time), so that every user of it (queue, control
    /// socket, plugin compile cache, kv store) names the same place even
    /// if something later changes directory, and wasmtime's cache (which
    /// wants an absolute path) does not warn.
    fn absolute_queue_directory(&mut self) {
        let Some(q) = self.explicit.get("queue_directory") else {
            return;
        };
        let path = Path::new(q.trim());
        if q.trim().is_empty() || path.is_absolute() || q.contains('$') {
            return;
        }
        if let Ok(abs) = std::path::absolute(path) {
            self.explicit
                .insert("queue_directory".into(), abs.display().to_string());
        }
    }

    /// The built-in configuration used when no `-c DIR` is given.
    pub fn embedded_default(spool: &Path) -> Config {
        let mut c = Config {
            dir: spool.to_path_buf(),
            ..Config::default()
        };
        let spool = spool.display().to_string();
        for (k, v) in [
            ("queue_directory", spool.as_str()),
            ("config_directory", spool.as_str()),
            ("mydestination", "$myhostname, localhost"),
            ("inet_interfaces", "127.0.0.1"),
            // Postfix's default alias_maps (hash:/etc/aliases, nis:mail.aliases)
            // needs a database built by `mta newaliases` and NIS; without them
            // mail to postmaster@localhost would get 451 on a fresh machine.
            (
                "alias_maps",
                "inline:{ postmaster=root, mailer-daemon=postmaster, abuse=postmaster }",
            ),
        ] {
            c.explicit.insert(k.into(), v.into());
            c.origins.insert(k.into(), "embedded default".into());
        }
        c.absolute_queue_directory();
        c.listeners.push(Listener {
            service: "127.0.0.1:2525".into(),
            addrs: vec![SocketAddr::from(([127, 0, 0, 1], 2525))],
            overrides: Vec::new(),
        });
        c
    }

    /// A copy with master.cf `-o` overrides applied.
    pub fn with_overrides(&self, overrides: &[(String, String)]) -> Config {
        let mut c = self.clone();
        for (k, v) in overrides {
            c.explicit.insert(k.clone(), v.clone());
            c.origins.insert(k.clone(), "master.cf -o".into());
        }
        c
    }

    /// The raw (unexpanded) value: explicit, else the default.
    pub fn raw(&self, name: &str) -> Option<String> {
        if let Some(v) = self.explicit.get(name) {
            return Some(v.clone());
        }
        self.default_raw(name)
    }

    /// The default of a parameter, unexpanded (computed ones worked out).
    pub fn default_raw(&self, name: &str) -> Option<String> {
        let p = registry::lookup(name)?;
        if p.default != registry::COMPUTED {
            if name == "config_directory" && !self.dir.as_os_str().is_empty() {
                return Some(self.dir.display().to_string());
            }
            return Some(p.default.to_string());
        }
        Some(match name {
            "myhostname" => system::hostname().to_string(),
            "mydomain" => system::domain_of(&self.get("myhostname")),
            "mynetworks" => system::mynetworks(&self.get("mynetworks_style")),
            "process_id" => std::process::id().to_string(),
            _ => String::new(),
        })
    }

    /// The expanded value of a parameter (explicit, else default; "" if unknown).
    /// Parameters Postfix reads raw (`registry::RAW_PARAMS`, e.g.
    /// `default_rbl_reply`) come back unexpanded: see `expand_with`.
    pub fn get(&self, name: &str) -> String {
        match self.raw(name) {
            Some(v) if registry::RAW_PARAMS.contains(&name) => v,
            Some(v) => expand::expand(&v, &|n| self.raw(n)),
            None => String::new(),
        }
    }

    /// Expand `text` with extra macros first (e.g. `rbl_code`,
    /// `client_address`), then this configuration's parameters.
    pub fn expand_with(&self, text: &str, extra: &dyn Fn(&str) -> Option<String>) -> String {
        expand::expand(text, &|n| extra(n).or_else(|| self.raw(n)))
    }

    /// Expand `$name` references in any text against this configuration.
    pub fn expand(&self, text: &str) -> String {
        expand::expand(text, &|n| self.raw(n))
    }

    /// A comma/space separated list parameter, expanded.
    pub fn get_list(&self, name: &str) -> Vec<String> {
        expand::split_list(&self.get(name))
    }

    /// A yes/no parameter (an unreadable value counts as the default).
    pub fn get_bool(&self, name: &str) -> bool {
        values::parse_bool(&self.get(name))
            .or_else(|| self.default_raw(name).and_then(|d| values::parse_bool(&d)))
            .unwrap_or(false)
    }

    /// A time parameter with Postfix units (s, m, h, d, w; bare = the unit
    /// the default is written in, else seconds).
    pub fn get_time(&self, name: &str) -> Duration {
        let default = self.expand(&self.default_raw(name).unwrap_or_default());
        let unit = values::time_unit(&default).unwrap_or('s');
        values::parse_time(&self.get(name), unit)
            .or_else(|| values::parse_time(&default, unit))
            .unwrap_or_default()
    }

    /// An integer or size parameter.
    pub fn get_u64(&self, name: &str) -> u64 {
        values::parse_u64(&self.get(name))
            .or_else(|| self.default_raw(name).and_then(|d| values::parse_u64(&d)))
            .unwrap_or(0)
    }

    /// Where built-in plugins live: `builtin_plugin_directory`, or when
    /// empty `<directory of the mta executable>/../plugins`.
    pub fn builtin_plugin_directory(&self) -> PathBuf {
        let v = self.get("builtin_plugin_directory");
        if !v.is_empty() {
            return PathBuf::from(v);
        }
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("../plugins")))
            .unwrap_or_else(|| PathBuf::from("plugins"))
    }
}

#[cfg(test)]
pub(crate) mod testdir;
#[cfg(test)]
mod tests;
