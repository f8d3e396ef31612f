//! `mta plugin`.

use super::{ConfigDir, Outcome};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List.
    List {
        #[command(flatten)]
        dir: ConfigDir,
    },
}

pub fn main(command: Command) -> Outcome {
    let _ = command;
    anyhow::bail!("mta plugin: not implemented yet")
}
