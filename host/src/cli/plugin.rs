//! `mta plugin list` and `mta plugin test`.
//!
//! `list` loads the plugins exactly as the daemon would for the given
//! configuration and shows what each is allowed and limited to. `test`
//! replays a transcript and an .eml through one component with
//! deterministic output, for a plugin's own CI.

use super::{ConfigDir, Outcome};
use crate::config::Config;
use crate::sandbox::load::{read_sidecar, Services};
use crate::sandbox::plugin::Health;
use crate::sandbox::replay;
use crate::sandbox::Sandbox;
use crate::stages::StageRunner;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the loaded plugins: name, version, file, stages, capabilities,
    /// limits and state; refused drop-ins are listed with the reason.
    List {
        #[command(flatten)]
        dir: ConfigDir,
    },
    /// Replay a transcript and an .eml through one plugin's hooks and print
    /// each verdict; exits non-zero if the plugin faults.
    Test {
        /// The component to test.
        file: PathBuf,
        /// SMTP transcript: lines `client ADDR [NAME]`, `helo NAME`,
        /// `mail <ADDR>`, `rcpt <ADDR>`, `etrn DEST`, `data`.
        #[arg(long)]
        transcript: Option<PathBuf>,
        /// A message fed to the headers, body and end-of-message hooks after `data`.
        #[arg(long)]
        eml: Option<PathBuf>,
        /// A setting for `init`, `name=value` (repeatable; wins over the sidecar).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Grant a capability (repeatable): log, lookup, resolve, dns, kv, clock.
        #[arg(long = "grant", value_name = "CAP")]
        grant: Vec<String>,
        /// Show the time each hook took (makes the output non-deterministic).
        #[arg(long)]
        timings: bool,
        #[command(flatten)]
        dir: ConfigDir,
    },
}

pub fn main(command: Command) -> Outcome {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match command {
        Command::List { dir } => rt.block_on(list(&dir)),
        Command::Test {
            file,
            transcript,
            eml,
            set,
            grant,
            timings,
            dir,
        } => rt.block_on(test(
            &dir,
            &file,
            transcript.as_deref(),
            eml.as_deref(),
            &set,
            &grant,
            timings,
        )),
    }
}

fn config(dir: &ConfigDir) -> anyhow::Result<Config> {
    match &dir.config {
        Some(d) => Config::load(d).map_err(|errs| {
            anyhow::anyhow!(errs
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"))
        }),
        None => Ok(Config::embedded_default(Path::new("spool"))),
    }
}

async fn list(dir: &ConfigDir) -> Outcome {
    let config = config(dir)?;
    let sandbox = Sandbox::new(&config)?;
    let tables = Arc::new(crate::tables::Tables::new(&config));
    let resolver = crate::rewrite::Resolver::new(&config);
    let dns = crate::dns::Dns::new(&config)?;
    let runner = StageRunner::load(&sandbox, &config, &tables, &resolver, &dns).await?;
    let mut rows = vec![[
        "NAME",
        "VERSION",
        "CONTRACT",
        "FILE",
        "STAGES",
        "CAPABILITIES",
        "LIMITS",
        "STATE",
    ]
    .map(String::from)];
    // A quarantine lives in the running daemon: ask it, when one runs.
    let live = crate::control::request(
        &super::control::socket(&config),
        &crate::control::Request::Plugins,
    )
    .ok()
    .flatten()
    .and_then(|r| r.plugins)
    .unwrap_or_default();
    for p in runner.plugins() {
        let stages: Vec<&str> = p.stages.iter().map(|s| s.as_str()).collect();
        let caps: Vec<&str> = p.caps.granted.iter().map(|c| c.as_str()).collect();
        let state = match live.iter().find(|(n, _)| *n == p.name) {
            Some((_, s)) => s.clone(),
            None => match p.health() {
                Health::Active => "active".to_string(),
                Health::Quarantined { remaining } => {
                    format!("quarantined ({}s)", remaining.as_secs())
                }
            },
        };
        // A drop-in named in a restriction list runs from there, not in
        // its default place: say so, since the order column no longer applies.
        let kind = if p.builtin {
            "built-in"
        } else if runner.placed().contains(&p.name) {
            "drop-in, named in restriction lists"
        } else {
            "drop-in"
        };
        rows.push([
            p.name.clone(),
            p.version().to_string(),
            format!("mta:filter@{}", p.contract()),
            p.file.display().to_string(),
            stages.join(","),
            caps.join(","),
            format!(
                "time={}ms memory={} failure={}{}",
                p.limits.time.as_millis(),
                p.limits.memory,
                p.limits.failure_action.as_str(),
                match p.limits.isolation {
                    crate::sandbox::settings::Isolation::Message => " isolation=message",
                    crate::sandbox::settings::Isolation::Pool => "",
                }
            ),
            format!("{state} {kind}"),
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    for why in runner.refused() {
        println!("refused: {why}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn test(
    dir: &ConfigDir,
    file: &Path,
    transcript: Option<&Path>,
    eml: Option<&Path>,
    set: &[String],
    grant: &[String],
    timings: bool,
) -> Outcome {
    let mut config = config(dir)?;
    // kv needs a database; a test run gets a private, throw-away one.
    let scratch = std::env::temp_dir().join(format!("mta-plugin-test-{}", std::process::id()));
    if dir.config.is_none() {
        config
            .explicit
            .insert("queue_directory".into(), scratch.display().to_string());
        config
            .explicit
            .insert("plugin_cache_directory".into(), String::new());
    }
    let steps = match transcript {
        Some(t) => {
            let text =
                std::fs::read_to_string(t).map_err(|e| anyhow::anyhow!("{}: {e}", t.display()))?;
            replay::parse_transcript(&text).map_err(|e| anyhow::anyhow!("{}: {e}", t.display()))?
        }
        None => replay::parse_transcript(replay::DEFAULT_TRANSCRIPT).map_err(anyhow::Error::msg)?,
    };
    let message = match eml {
        Some(e) => Some(replay::parse_eml(
            &std::fs::read(e).map_err(|x| anyhow::anyhow!("{}: {x}", e.display()))?,
        )),
        None => None,
    };
    let mut sidecar = read_sidecar(file)?;
    for kv in set {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--set {kv}: expected NAME=VALUE"))?;
        sidecar.settings.insert(k.trim().to_string(), v.to_string());
    }
    sidecar.capabilities.extend(grant.iter().cloned());
    if sidecar.dns_zones.is_empty() && grant.iter().any(|g| g == "dns") {
        // `--grant dns` on the command line means any zone.
        sidecar.dns_zones.push(".".into());
    }
    let sandbox = Sandbox::new(&config)?;
    let tables = Arc::new(crate::tables::Tables::new(&config));
    let resolver = crate::rewrite::Resolver::new(&config);
    let dns = crate::dns::Dns::new(&config)?;
    let services = Services {
        config: &config,
        tables: &tables,
        resolver: &resolver,
        dns: &dns,
    };
    let result = async {
        let plugin = crate::sandbox::load::load_file(&sandbox, &services, file, sidecar).await?;
        println!("plugin {} version {}", plugin.name, plugin.version());
        anyhow::Ok(replay::replay(&plugin, &steps, message.as_ref(), timings).await)
    }
    .await;
    let _ = std::fs::remove_dir_all(&scratch);
    let (lines, faulted) = result?;
    for l in lines {
        println!("{l}");
    }
    Ok(if faulted {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
