//! `mta postalias FILE…` and `mta newaliases`: build the alias database
//! (`FILE.redb`, the same indexed format `mta postmap` builds for `hash:`)
//! from an aliases(5) file, or look a name up with `-q NAME`.
//! `newaliases` builds every table in `alias_database` (default
//! `hash:/etc/aliases`). Local delivery reads the built file for a
//! `hash:` entry in `alias_maps`, so an edit takes effect when it is
//! rebuilt, as with Postfix.

use super::{ConfigDir, Outcome};
use crate::tables::{aliases, hash};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
    /// Look NAME up instead of building (exit status 1 when not found).
    #[arg(short = 'q', value_name = "NAME")]
    pub query: Option<String>,
    /// Alias files: `FILE` or `hash:FILE` (relative to the current directory).
    #[arg(required = true)]
    pub files: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct NewaliasesArgs {
    #[command(flatten)]
    pub dir: ConfigDir,
}

fn config(dir: &ConfigDir, tool: &str) -> Result<crate::config::Config, ExitCode> {
    super::check::load(dir).map_err(|errors| {
        for e in &errors {
            eprintln!("mta {tool}: error: {e}");
        }
        ExitCode::from(1)
    })
}

/// (`type`, `file`), `hash` for a bare file name; only indexed types build.
fn indexed(spec: &str) -> Result<&str, String> {
    let (kind, file) = match spec.split_once(':') {
        Some((k, f)) if !k.contains('/') => (k, f),
        _ => ("hash", spec),
    };
    if matches!(kind, "hash" | "btree" | "lmdb" | "cdb" | "dbm") {
        Ok(file)
    } else {
        Err(format!(
            "{spec}: unsupported map type for alias databases: {kind} (use hash:)"
        ))
    }
}

/// Build one alias file; Postfix's words on stderr; false on a fatal error.
fn build(tool: &str, source: &Path) -> bool {
    match aliases::build(source) {
        Ok((_, warnings)) => {
            for w in warnings {
                eprintln!("mta {tool}: warning: {w}");
            }
            true
        }
        Err(e) => {
            eprintln!("mta {tool}: fatal: {e}");
            false
        }
    }
}

pub fn main(args: Args) -> Outcome {
    if let Err(code) = config(&args.dir, "postalias") {
        return Ok(code);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut files = Vec::new();
    for spec in &args.files {
        match indexed(spec) {
            Ok(f) => files.push(cwd.join(f)),
            Err(e) => {
                eprintln!("mta postalias: fatal: {e}");
                return Ok(ExitCode::from(1));
            }
        }
    }
    if let Some(name) = &args.query {
        for f in &files {
            let table = match hash::open_hash(&format!("hash:{}", f.display()), f) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("mta postalias: fatal: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            if let Some(v) = table.entries().get(&name.to_lowercase()) {
                println!("{v}");
                return Ok(ExitCode::SUCCESS);
            }
        }
        return Ok(ExitCode::from(1));
    }
    for f in &files {
        if !build("postalias", f) {
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `newaliases`: `postalias` on every `alias_database` entry; relative
/// names are taken relative to the configuration directory, as every
/// table name in main.cf is.
pub fn newaliases(args: NewaliasesArgs) -> Outcome {
    let config = match config(&args.dir, "newaliases") {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let list = config.get_list("alias_database");
    if list.is_empty() {
        eprintln!("mta newaliases: warning: alias_database is empty; nothing to build");
    }
    let mut ok = true;
    for spec in list {
        let file = match indexed(spec.trim_start_matches("proxy:")) {
            Ok(f) => PathBuf::from(f),
            Err(e) => {
                eprintln!("mta newaliases: fatal: {e}");
                return Ok(ExitCode::from(1));
            }
        };
        let file = if file.is_relative() && !config.dir.as_os_str().is_empty() {
            config.dir.join(file)
        } else {
            file
        };
        ok &= build("newaliases", &file);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
