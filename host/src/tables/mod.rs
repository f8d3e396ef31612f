//! Postfix lookup tables by `type:name` notation.
//!
//! CONTRACT: `Tables::open(spec)` opens (once, cached) `hash:`, `texthash:`,
//! `regexp:`, `pcre:`, `cidr:`, `inline:{..}`, `static:`, `unix:passwd.byname`,
//! with `proxy:` accepted as a transparent prefix. `find` applies access(5)
//! key expansion and returns the first hit.
//!
//! Deviations from Postfix: `btree:`, `lmdb:`, `cdb:` and `dbm:` are read as
//! `hash:` (all are the redb file `mta postmap` builds); relative file names
//! are taken relative to the configuration directory; indexed tables are
//! read into memory when opened and re-read on `mta reload`.

mod access;
pub mod aliases;
mod cidr;
pub mod hash;
mod inline;
mod pattern;
pub mod source;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use access::keys;

/// A table that could not be opened or read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TableError {
    #[error("{0}")]
    Open(String),
    #[error("{0}")]
    Unavailable(String),
}

/// One open lookup table.
pub trait Table: Send + Sync + std::fmt::Debug {
    /// The table as named in main.cf.
    fn name(&self) -> &str;
    /// Look one key up (regexp/pcre: first matching rule, `$n` substituted).
    fn get(&self, key: &str) -> Result<Option<String>, TableError>;
    /// For pattern tables, the source text handed to plugins at init.
    fn source(&self) -> Option<String> {
        None
    }
    /// Pattern tables (regexp, pcre, cidr) see whole strings only: no
    /// access(5) expansion into domains, parents or address prefixes.
    fn whole_key_only(&self) -> bool {
        false
    }
}

/// An access(5)-style query (mirrors the WIT `lookup.query`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Exact(String),
    Address(String),
    Domain(String),
    Client { name: String, address: String },
}

/// The key that matched and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub key: String,
    pub value: String,
}

/// How access(5) expansion behaves, from main.cf.
#[derive(Debug, Clone, Default)]
pub struct AccessStyle {
    /// `smtpd_access_maps` is in `parent_domain_matches_subdomains`: a
    /// `domain.tld` key matches subdomains; otherwise `.domain.tld` does.
    pub parent_matches_subdomains: bool,
    /// `recipient_delimiter` characters (`user+ext@d` also tries `user@d`).
    pub recipient_delimiter: String,
    /// What the null sender is looked up as (`smtpd_null_access_lookup_key`).
    pub null_key: String,
}

/// The set of open tables, shared by the host and the lookup capability.
#[derive(Debug, Default)]
pub struct Tables {
    /// Where relative table file names are found.
    dir: PathBuf,
    style: AccessStyle,
    cache: Mutex<HashMap<String, Arc<dyn Table>>>,
}

impl Tables {
    pub fn new(config: &crate::config::Config) -> Tables {
        Tables {
            dir: config.dir.clone(),
            style: AccessStyle {
                parent_matches_subdomains: config
                    .get_list("parent_domain_matches_subdomains")
                    .iter()
                    .any(|n| n == "smtpd_access_maps"),
                recipient_delimiter: config.get("recipient_delimiter"),
                null_key: config.get("smtpd_null_access_lookup_key"),
            },
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The access(5) expansion settings in use.
    pub fn style(&self) -> &AccessStyle {
        &self.style
    }

    /// Open a table by its main.cf name, cached.
    pub fn open(&self, spec: &str) -> Result<Arc<dyn Table>, TableError> {
        let spec = spec.trim();
        if let Some(t) = self.cache.lock().ok().and_then(|c| c.get(spec).cloned()) {
            return Ok(t);
        }
        let table = self.open_uncached(spec)?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(spec.to_string(), table.clone());
        }
        Ok(table)
    }

    fn open_uncached(&self, spec: &str) -> Result<Arc<dyn Table>, TableError> {
        let mut rest = spec;
        while let Some(r) = rest.strip_prefix("proxy:") {
            rest = r;
        }
        let (kind, arg) = rest.split_once(':').ok_or_else(|| {
            TableError::Open(format!(
                "{spec}: expected type:name (e.g. hash:/etc/postfix/access)"
            ))
        })?;
        let text_of = |what: &str| -> Result<(String, String), TableError> {
            if arg.trim_start().starts_with('{') {
                let items = inline::brace_items(arg)
                    .map_err(|m| TableError::Open(format!("{spec}: {m}")))?;
                Ok((spec.to_string(), items.join("\n")))
            } else {
                let path = self.path(arg);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    TableError::Open(format!("{what}:{}: cannot read: {e}", path.display()))
                })?;
                Ok((path.display().to_string(), text))
            }
        };
        Ok(match kind {
            "hash" | "btree" | "lmdb" | "cdb" | "dbm" => {
                Arc::new(hash::open_hash(spec, &self.path(arg))?)
            }
            "texthash" => Arc::new(hash::open_texthash(spec, &self.path(arg))?),
            "regexp" | "pcre" => {
                let syntax = if kind == "pcre" {
                    mta_pattern::Syntax::Pcre
                } else {
                    mta_pattern::Syntax::Regexp
                };
                let (file, text) = text_of(kind)?;
                Arc::new(pattern::RegexTable::new(spec, syntax, &file, text)?)
            }
            "cidr" => {
                let (file, text) = text_of(kind)?;
                Arc::new(cidr::CidrTable::new(spec, &file, &text)?)
            }
            "inline" => Arc::new(inline::open_inline(spec, arg)?),
            "static" => Arc::new(inline::StaticTable::new(spec, arg)),
            "unix" => Arc::new(inline::open_passwd(spec, arg)?),
            other => {
                return Err(TableError::Open(format!(
                    "{spec}: table type \"{other}\" is not supported (supported: hash, texthash, regexp, pcre, cidr, inline, static, unix:passwd.byname, proxy:)"
                )))
            }
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        let p = Path::new(name);
        if p.is_absolute() || self.dir.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }

    /// Expand `query` per access(5) and return the first hit in `table`.
    pub fn find(&self, table: &dyn Table, query: &Query) -> Result<Option<Hit>, TableError> {
        for key in access::keys(query, table.whole_key_only(), &self.style) {
            if let Some(value) = table.get(&key)? {
                return Ok(Some(Hit { key, value }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests;
