//! `mta check`: load main.cf and master.cf, open every lookup table they
//! name, and warn about open-relay configurations (Postfix's `postfix
//! check`, plus the relay analysis Postfix never did). Exit 1 on errors.

use super::{ConfigDir, Outcome};
use crate::config::{oldnames, openrelay, Config, ConfigError};
use crate::tables::Tables;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
}

/// The configuration a subcommand works on: `-c DIR`, else the embedded
/// default with its spool under `./spool`.
pub fn load(dir: &ConfigDir) -> Result<Config, Vec<ConfigError>> {
    match &dir.config {
        Some(d) => Config::load(d),
        None => Ok(Config::embedded_default(Path::new("./spool"))),
    }
}

pub fn main(args: Args) -> Outcome {
    crate::maillog::init_cli_tracing();
    let config = match load(&args.dir) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                eprintln!("mta: error: {e}");
            }
            eprintln!("mta: {} error(s); configuration refused", errors.len());
            return Ok(ExitCode::from(1));
        }
    };
    let mut errors = 0usize;
    for w in &config.warnings {
        eprintln!("mta: warning: {w}");
    }
    for n in &config.notes {
        eprintln!("mta: note: {n}");
    }
    for w in openrelay::warnings(&config) {
        eprintln!("mta: warning: {w}");
    }
    for w in oldnames::warnings(&config) {
        eprintln!("mta: warning: {w}");
    }
    for w in super::content_lint::warnings(&config) {
        eprintln!("mta: warning: {w}");
    }
    let tables = Tables::new(&config);
    for (spec, origin) in table_specs(&config) {
        if let Err(e) = tables.open(&spec) {
            eprintln!("mta: error: {origin}: {e}");
            errors += 1;
        }
    }
    errors += plugin_errors(&config);
    for l in &config.listeners {
        let addrs: Vec<String> = l.addrs.iter().map(|a| a.to_string()).collect();
        println!("smtpd {}: listening on {}", l.service, addrs.join(" "));
    }
    if errors > 0 {
        eprintln!("mta: {errors} error(s)");
        return Ok(ExitCode::from(1));
    }
    println!("mta: configuration OK");
    Ok(ExitCode::SUCCESS)
}

/// Load the plugins as `mta run` would, for main.cf and for each listener
/// with `-o` overrides: the restrictions built-in parses every restriction
/// list knowing the drop-ins' names, so an unknown name in a list (or a
/// drop-in that does not load) is an error here, in the daemon's own words.
fn plugin_errors(config: &Config) -> usize {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mta: error: cannot check the plugins: {e}");
            return 1;
        }
    };
    rt.block_on(async {
        let setup = || -> anyhow::Result<_> {
            Ok((
                crate::sandbox::Sandbox::new(config)?,
                std::sync::Arc::new(Tables::new(config)),
                crate::rewrite::Resolver::new(config),
                crate::dns::Dns::new(config)?,
            ))
        };
        let (sandbox, tables, resolver, dns) = match setup() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("mta: error: cannot check the plugins: {e:#}");
                return 1;
            }
        };
        let mut views = vec![(config.clone(), String::new())];
        for l in config.listeners.iter().filter(|l| !l.overrides.is_empty()) {
            views.push((
                config.with_overrides(&l.overrides),
                format!("service {}: ", l.service),
            ));
        }
        let mut errors = 0;
        for (view, prefix) in &views {
            let services = crate::sandbox::load::Services {
                config: view,
                tables: &tables,
                resolver: &resolver,
                dns: &dns,
            };
            match crate::sandbox::load::check_all(&sandbox, &services).await {
                Ok(loaded) => {
                    for r in &loaded.refused {
                        eprintln!("mta: warning: {prefix}{r}; plugin skipped");
                    }
                    for w in &loaded.warnings {
                        eprintln!("mta: warning: {prefix}{w}");
                    }
                }
                Err(e) => {
                    eprintln!("mta: error: {prefix}{e:#}");
                    errors += 1;
                }
            }
        }
        errors
    })
}

/// Every `type:name` table named in main.cf or a listener's `-o`, with the
/// place that names it.
pub fn table_specs(config: &Config) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut views = vec![(config.clone(), String::new())];
    for l in &config.listeners {
        if !l.overrides.is_empty() {
            views.push((
                config.with_overrides(&l.overrides),
                format!(" (service {})", l.service),
            ));
        }
    }
    for (c, suffix) in &views {
        for name in c.explicit.keys() {
            for item in c.get_list(name) {
                if is_table(&item) && seen.insert(item.clone()) {
                    let origin = c
                        .origins
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| format!("-o {name}"));
                    out.push((item, format!("{origin}{suffix}: {name}")));
                }
            }
        }
    }
    out
}

/// `type:name` with a table type this host opens (not `inet:host:port` etc.).
fn is_table(item: &str) -> bool {
    let mut s = item;
    while let Some(r) = s.strip_prefix("proxy:") {
        s = r;
    }
    s.split_once(':').is_some_and(|(kind, _)| {
        matches!(
            kind,
            "hash"
                | "btree"
                | "lmdb"
                | "cdb"
                | "dbm"
                | "texthash"
                | "regexp"
                | "pcre"
                | "cidr"
                | "inline"
                | "static"
                | "unix"
        )
    })
}
