//! `regexp:` and `pcre:` tables through `mta-pattern`, the same code guest
//! plugins compile in their `init`.

use super::{Table, TableError};
use mta_pattern::{PatternTable, Syntax};

/// A compiled regexp(5)/pcre(5) table.
#[derive(Debug)]
pub struct RegexTable {
    name: String,
    text: String,
    table: PatternTable,
}

impl RegexTable {
    /// Compile `text` (from `file`, named in errors).
    pub fn new(name: &str, syntax: Syntax, file: &str, text: String) -> Result<Self, TableError> {
        let table = PatternTable::parse(syntax, file, &text)
            .map_err(|e| TableError::Open(e.to_string()))?;
        Ok(RegexTable {
            name: name.to_string(),
            text,
            table,
        })
    }
}

impl Table for RegexTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &str) -> Result<Option<String>, TableError> {
        Ok(self.table.lookup(key.as_bytes()).map(|f| f.value_lossy()))
    }

    fn source(&self) -> Option<String> {
        Some(self.text.clone())
    }

    fn whole_key_only(&self) -> bool {
        true
    }
}
