//! `mta` subcommands, one file each, mirroring Postfix's tools.

pub mod check;
pub mod content_lint;
pub mod control;
pub mod plugin;
pub mod postalias;
pub mod postconf;
pub mod postmap;
pub mod queue;
pub mod run;
pub mod sendmail;

use std::path::PathBuf;

/// `-c DIR`, shared by every subcommand that reads configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigDir {
    /// Configuration directory holding main.cf (and master.cf); without it the
    /// embedded default configuration is used.
    #[arg(short = 'c', long = "config")]
    pub config: Option<PathBuf>,
}

/// What a subcommand returns to `main`.
pub type Outcome = anyhow::Result<std::process::ExitCode>;
