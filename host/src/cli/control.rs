//! `mta flush`, `mta reload`, `mta stop`: one request to the running
//! daemon's control socket. Also the helpers every queue tool shares.

use super::{ConfigDir, Outcome};
use crate::config::Config;
use crate::control::{request, Request, Response};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
}

/// The spool used without `-c` (the embedded default configuration).
pub const DEFAULT_SPOOL: &str = "spool";

/// The configuration a tool works with: `-c DIR`, else the embedded default.
pub fn load_config(dir: &ConfigDir) -> anyhow::Result<Config> {
    match &dir.config {
        Some(d) => Config::load(d).map_err(|errs| {
            anyhow::anyhow!(
                "{}",
                errs.iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }),
        None => Ok(Config::embedded_default(std::path::Path::new(
            DEFAULT_SPOOL,
        ))),
    }
}

/// `queue_directory`.
pub fn queue_dir(config: &Config) -> PathBuf {
    let q = config.get("queue_directory");
    PathBuf::from(if q.trim().is_empty() {
        DEFAULT_SPOOL.to_string()
    } else {
        q
    })
}

/// The control socket: `control_socket` (default `$queue_directory/control`).
/// The daemon and every client command take it from here, so they agree.
pub fn socket(config: &Config) -> PathBuf {
    let s = config.get("control_socket");
    if s.trim().is_empty() {
        queue_dir(config).join("control")
    } else {
        PathBuf::from(s)
    }
}

/// Turn a daemon's error answer into an error.
pub fn check(resp: Response) -> anyhow::Result<Response> {
    if resp.ok {
        Ok(resp)
    } else {
        anyhow::bail!("{}", resp.error.unwrap_or_else(|| "request failed".into()))
    }
}

pub fn main(what: &str, args: Args) -> Outcome {
    let config = load_config(&args.dir)?;
    let req = match what {
        "flush" => Request::Flush,
        "reload" => Request::Reload,
        "stop" => Request::Stop,
        other => anyhow::bail!("unknown control request {other}"),
    };
    match request(&socket(&config), &req)? {
        Some(resp) => {
            check(resp)?;
            match what {
                "reload" => eprintln!("mta: reload requested"),
                "stop" => eprintln!("mta: stop requested"),
                _ => {}
            }
            Ok(std::process::ExitCode::SUCCESS)
        }
        None => anyhow::bail!(
            "cannot {what}: the mail system is not running (no {})",
            socket(&config).display()
        ),
    }
}
