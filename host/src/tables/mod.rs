//! Postfix lookup tables by `type:name` notation.
//!
//! CONTRACT: `Tables::open(spec)` opens (once, cached) `hash:`, `texthash:`,
//! `regexp:`, `pcre:`, `cidr:`, `inline:{..}`, `static:`, `unix:passwd.byname`,
//! with `proxy:` accepted as a transparent prefix. `find` applies access(5)
//! key expansion and returns the first hit.

use std::sync::Arc;

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

/// The set of open tables, shared by the host and the lookup capability.
#[derive(Debug, Default)]
pub struct Tables {}

impl Tables {
    pub fn new(config: &crate::config::Config) -> Tables {
        let _ = config;
        Tables {}
    }

    /// Open a table by its main.cf name, cached.
    pub fn open(&self, spec: &str) -> Result<Arc<dyn Table>, TableError> {
        Err(TableError::Open(format!("{spec}: table type not supported yet")))
    }

    /// Expand `query` per access(5) and return the first hit in `table`.
    pub fn find(&self, table: &dyn Table, query: &Query) -> Result<Option<Hit>, TableError> {
        let _ = (table, query);
        Ok(None)
    }
}
