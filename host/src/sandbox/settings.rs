//! The `plugin_*` main.cf parameters, their defaults and parsing. The names
//! follow Postfix's style (`*_time_limit`, `*_max_use`); none exist in
//! Postfix, so the config module must list them (see [`PARAMETERS`]).

use crate::config::Config;
use crate::stages::types::{Reply, Verdict};
use std::path::PathBuf;
use std::time::Duration;

/// Every parameter the sandbox reads, with its default.
pub const PARAMETERS: &[(&str, &str)] = &[
    ("plugin_directory", "$config_directory/plugins"),
    ("builtin_plugin_directory", ""),
    ("plugin_cache_directory", "$queue_directory/plugin-cache"),
    ("plugin_time_limit", "1s"),
    ("plugin_stage_time_limit", "30s"),
    ("plugin_memory_limit", "67108864"),
    ("plugin_failure_action", "tempfail"),
    ("plugin_failure_limit", "5"),
    ("plugin_quarantine_time", "60s"),
    ("plugin_max_use", "1000"),
    ("plugin_isolation", "pool"),
    ("plugin_pool_size", "16"),
    ("plugin_instance_limit", "256"),
    ("plugin_strict_loading", "no"),
];

/// What a stage answers when a plugin faults (DESIGN decision 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
    /// `451 4.3.0 Temporary filter failure, try again later` (the default).
    Tempfail,
    /// Carry on as if the plugin had no opinion.
    Dunno,
    /// `550 5.7.1`.
    Reject,
    /// Accept into the hold queue.
    Hold,
}

impl FailureAction {
    pub fn parse(s: &str) -> anyhow::Result<FailureAction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tempfail" | "defer" => Ok(FailureAction::Tempfail),
            "dunno" => Ok(FailureAction::Dunno),
            "reject" => Ok(FailureAction::Reject),
            "hold" => Ok(FailureAction::Hold),
            other => anyhow::bail!("unknown plugin failure action \"{other}\": expected tempfail, dunno, reject or hold"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailureAction::Tempfail => "tempfail",
            FailureAction::Dunno => "dunno",
            FailureAction::Reject => "reject",
            FailureAction::Hold => "hold",
        }
    }

    /// The verdict the stage answers instead of the plugin's.
    pub fn verdict(self) -> Verdict {
        match self {
            FailureAction::Tempfail => Verdict::Defer(Reply {
                code: Some(451),
                enhanced: Some("4.3.0".into()),
                text: Some("Temporary filter failure, try again later".into()),
            }),
            FailureAction::Dunno => Verdict::Dunno,
            FailureAction::Reject => Verdict::Reject(Reply {
                code: Some(550),
                enhanced: Some("5.7.1".into()),
                text: Some("Message rejected by filter failure policy".into()),
            }),
            FailureAction::Hold => Verdict::Hold(Some("filter failure".into())),
        }
    }
}

/// How instances are shared (DESIGN decision 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Warm instances, each lent to one stage at a time and reused for up to
    /// `plugin_max_use` lendings (the default: a hook call costs about 1 µs).
    Pool,
    /// A fresh instance for every lending, never reused: nothing a plugin
    /// keeps in its own memory survives into another message (or session).
    /// Costs instantiation plus `init` per stage; see BENCHMARKS.md.
    Message,
}

impl Isolation {
    pub fn parse(name: &str, s: &str) -> anyhow::Result<Isolation> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pool" => Ok(Isolation::Pool),
            "message" => Ok(Isolation::Message),
            other => {
                anyhow::bail!("{name}: unknown isolation \"{other}\": expected pool or message")
            }
        }
    }
}

/// The sandbox settings in effect for one configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub plugin_directory: PathBuf,
    pub builtin_directory: PathBuf,
    pub cache_directory: Option<PathBuf>,
    pub kv_path: Option<PathBuf>,
    pub time_limit: Duration,
    pub stage_time_limit: Duration,
    pub memory_limit: u64,
    pub failure_action: FailureAction,
    pub failure_limit: u32,
    pub quarantine_time: Duration,
    pub max_use: u32,
    pub isolation: Isolation,
    pub pool_size: usize,
    pub instance_limit: u32,
    pub strict: bool,
}

/// A parameter's value: explicit, else what the config module says, else our default.
pub fn param(config: &Config, name: &str) -> String {
    let v = config.get(name);
    if !v.trim().is_empty() || config.explicit.contains_key(name) {
        return v.trim().to_string();
    }
    let default = PARAMETERS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
        .unwrap_or("");
    expand_simple(config, default)
}

/// `$name` expansion for our own defaults (the config module expands values
/// it knows; ours are not in its table unless registered).
fn expand_simple(config: &Config, value: &str) -> String {
    let mut out = value.to_string();
    for var in ["config_directory", "queue_directory"] {
        let token = format!("${var}");
        if out.contains(&token) {
            let mut v = config.get(var);
            if v.is_empty() {
                v = match var {
                    "config_directory" => config.dir.display().to_string(),
                    _ => String::new(),
                };
            }
            if v.is_empty() {
                return String::new();
            }
            out = out.replace(&token, &v);
        }
    }
    out
}

/// A Postfix time value: a number with an optional unit (`ms` is an mta
/// extension for sub-second plugin limits; s, m, h, d, w as Postfix; bare = seconds).
pub fn parse_time(name: &str, s: &str) -> anyhow::Result<Duration> {
    let s = s.trim();
    let d = crate::config::values::parse_time(s, 's').ok_or_else(|| {
        anyhow::anyhow!(
            "{name}: bad time value \"{s}\" (a number with an optional unit ms, s, m, h, d or w)"
        )
    })?;
    if d.is_zero() {
        anyhow::bail!("{name}: must be more than zero");
    }
    Ok(d)
}

/// A size in bytes, with optional k/m/g suffix (an mta extension).
pub fn parse_size(name: &str, s: &str) -> anyhow::Result<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('k') => (&s[..s.len() - 1], 1024),
        Some('m') => (&s[..s.len() - 1], 1024 * 1024),
        Some('g') => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}: bad size \"{s}\""))?;
    Ok(n * mult)
}

fn parse_u64(name: &str, s: &str) -> anyhow::Result<u64> {
    s.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{name}: bad number \"{s}\""))
}

/// `<dir of the mta executable>/../plugins`, where `cargo xtask build` puts the built-ins.
pub fn default_builtin_directory() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.parent()
                .and_then(|d| d.parent())
                .map(|d| d.join("plugins"))
        })
        .unwrap_or_else(|| PathBuf::from("plugins"))
}

impl Settings {
    pub fn from_config(config: &Config) -> anyhow::Result<Settings> {
        let p = |n: &str| param(config, n);
        let dir = |n: &str| {
            let v = p(n);
            if v.is_empty() {
                None
            } else {
                Some(PathBuf::from(v))
            }
        };
        let queue = config.get("queue_directory");
        Ok(Settings {
            plugin_directory: dir("plugin_directory").unwrap_or_else(|| config.dir.join("plugins")),
            builtin_directory: dir("builtin_plugin_directory")
                .unwrap_or_else(default_builtin_directory),
            cache_directory: dir("plugin_cache_directory"),
            kv_path: if queue.is_empty() {
                None
            } else {
                Some(PathBuf::from(queue).join("plugin-kv.redb"))
            },
            time_limit: parse_time("plugin_time_limit", &p("plugin_time_limit"))?,
            stage_time_limit: parse_time("plugin_stage_time_limit", &p("plugin_stage_time_limit"))?,
            memory_limit: parse_size("plugin_memory_limit", &p("plugin_memory_limit"))?,
            failure_action: FailureAction::parse(&p("plugin_failure_action"))?,
            failure_limit: parse_u64("plugin_failure_limit", &p("plugin_failure_limit"))?.max(1)
                as u32,
            quarantine_time: parse_time("plugin_quarantine_time", &p("plugin_quarantine_time"))?,
            max_use: parse_u64("plugin_max_use", &p("plugin_max_use"))?
                .max(1)
                .min(u64::from(u32::MAX)) as u32,
            isolation: Isolation::parse("plugin_isolation", &p("plugin_isolation"))?,
            pool_size: parse_u64("plugin_pool_size", &p("plugin_pool_size"))? as usize,
            instance_limit: parse_u64("plugin_instance_limit", &p("plugin_instance_limit"))?
                .clamp(8, 100_000) as u32,
            strict: matches!(p("plugin_strict_loading").as_str(), "yes" | "true" | "1"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_unset() {
        let s = Settings::from_config(&Config::default()).expect("defaults parse");
        assert_eq!(s.time_limit, Duration::from_secs(1));
        assert_eq!(s.stage_time_limit, Duration::from_secs(30));
        assert_eq!(s.memory_limit, 64 * 1024 * 1024);
        assert_eq!(s.failure_action, FailureAction::Tempfail);
        assert_eq!(s.failure_limit, 5);
        assert_eq!(s.max_use, 1000);
    }

    #[test]
    fn times_and_sizes() {
        assert_eq!(
            parse_time("t", "250ms").expect("ms"),
            Duration::from_millis(250)
        );
        assert_eq!(parse_time("t", "2m").expect("m"), Duration::from_secs(120));
        assert!(parse_time("t", "2x").is_err());
        assert!(parse_time("t", "0").is_err());
        assert_eq!(parse_size("s", "64m").expect("m"), 64 << 20);
        assert!(FailureAction::parse("explode").is_err());
    }
}
