//! `mta postmap`: build `FILE.redb` from a Postfix `key value` source
//! (`hash:FILE` or a bare FILE), or query any table with `-q KEY TABLE`.
//! As Postfix's postmap, `-q` is a plain lookup (no access(5) expansion)
//! and exits 1 when the key is not found.

use super::{ConfigDir, Outcome};
use crate::tables::{hash, Tables};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
    /// Look KEY up in the table instead of building it.
    #[arg(short = 'q', value_name = "KEY")]
    pub query: Option<String>,
    /// Tables: `FILE` or `hash:FILE` to build; `TYPE:NAME` with -q.
    #[arg(required = true)]
    pub tables: Vec<String>,
}

pub fn main(args: Args) -> Outcome {
    let config = match super::check::load(&args.dir) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("mta postmap: error: {e}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    if let Some(key) = &args.query {
        let tables = Tables::new(&config);
        let mut found = false;
        for spec in &args.tables {
            let spec = absolute_spec(spec);
            let table = tables.open(&spec).map_err(|e| anyhow::anyhow!("{e}"))?;
            if let Some(v) = table.get(key).map_err(|e| anyhow::anyhow!("{e}"))? {
                println!("{v}");
                found = true;
                break;
            }
        }
        return Ok(if found {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    for spec in &args.tables {
        let (kind, file) = split_spec(spec);
        if !matches!(kind, "hash" | "btree" | "lmdb" | "cdb" | "dbm") {
            anyhow::bail!(
                "{spec}: postmap builds indexed (hash:) tables; {kind}: tables are read directly from their source"
            );
        }
        let (n, warnings) = hash::build(Path::new(file)).map_err(|e| anyhow::anyhow!("{e}"))?;
        for w in warnings {
            eprintln!("mta postmap: warning: {w}");
        }
        let _ = n;
    }
    Ok(ExitCode::SUCCESS)
}

/// (`type`, `file`) with `hash` for a bare file name.
fn split_spec(spec: &str) -> (&str, &str) {
    match spec.split_once(':') {
        Some((k, f)) if !k.contains('/') => (k, f),
        _ => ("hash", spec),
    }
}

/// Command-line file names are relative to the current directory (as
/// with Postfix's postmap), not to the configuration directory.
fn absolute_spec(spec: &str) -> String {
    let (kind, rest) = split_spec(spec);
    if rest.starts_with('{') || matches!(kind, "inline" | "static" | "unix") {
        return format!("{kind}:{rest}");
    }
    let mut path = PathBuf::from(rest);
    if path.is_relative() {
        if let Ok(cwd) = std::env::current_dir() {
            path = cwd.join(path);
        }
    }
    format!("{kind}:{}", path.display())
}
