//! `mta postconf`: parameters in Postfix's `name = value` format.
//! `-n` explicit settings only, `-d` defaults, `-x` expand `$name`s,
//! `NAME...` just those.

use super::{ConfigDir, Outcome};
use crate::config::{registry, Config};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
    /// Show only parameters set explicitly in main.cf.
    #[arg(short = 'n')]
    pub non_default: bool,
    /// Show default values instead of the configured ones.
    #[arg(short = 'd')]
    pub defaults: bool,
    /// Expand `$name` references in values.
    #[arg(short = 'x')]
    pub expand: bool,
    /// Parameters to show (all when none).
    pub names: Vec<String>,
}

pub fn main(args: Args) -> Outcome {
    let config = match super::check::load(&args.dir) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("mta postconf: error: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let mut status = ExitCode::SUCCESS;
    let names: Vec<String> = if !args.names.is_empty() {
        args.names.clone()
    } else if args.non_default {
        config.explicit.keys().cloned().collect()
    } else {
        let mut all: Vec<String> = registry::all().iter().map(|p| p.name.to_string()).collect();
        if !args.defaults {
            all.extend(config.explicit.keys().cloned());
        }
        all.sort();
        all.dedup();
        all
    };
    for name in names {
        match value(&config, &name, &args) {
            Some(v) => print_param(&name, &v),
            None => {
                eprintln!("mta postconf: warning: {name}: unknown parameter");
                status = ExitCode::from(1);
            }
        }
    }
    Ok(status)
}

fn value(config: &Config, name: &str, args: &Args) -> Option<String> {
    let raw = if args.defaults {
        config.default_raw(name)?
    } else if args.non_default && args.names.is_empty() {
        config.explicit.get(name)?.clone()
    } else {
        config.raw(name)?
    };
    // Raw parameters keep their delivery-time macros ($EXTENSION, $rbl_code).
    let expand = args.expand && !registry::RAW_PARAMS.contains(&name);
    Some(if expand { config.expand(&raw) } else { raw })
}

/// `name = value`, or `name =` when empty, as Postfix prints it.
fn print_param(name: &str, value: &str) {
    if value.is_empty() {
        println!("{name} =");
    } else {
        println!("{name} = {value}");
    }
}
