//! `mta control`.

use super::{ConfigDir, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
}

pub fn main(what: &str, args: Args) -> Outcome {
    let _ = (what, args);
    anyhow::bail!("mta control: not implemented yet")
}
