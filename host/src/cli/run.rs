//! `mta run [-c DIR]`: the daemon in the foreground (postfix start-fg).

use super::{ConfigDir, Outcome};
use crate::master::{self, Source};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
}

pub fn main(args: Args) -> Outcome {
    crate::maillog::init_tracing();
    let source = match args.dir.config {
        Some(d) => Source::Dir(d),
        None => Source::Embedded(master::embedded_spool()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(master::run(source))?;
    Ok(std::process::ExitCode::SUCCESS)
}
