//! `mta check`.

use super::{ConfigDir, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
}

pub fn main(args: Args) -> Outcome {
    let _ = args;
    anyhow::bail!("mta check: not implemented yet")
}
