//! The rule tables of one check (e.g. header_checks): pattern tables
//! compiled once in `init`, indexed tables asked through `lookup`.

use mta_pattern::{PatternTable, Syntax};
use mta_sdk::lookup::{self, LookupError, Query};
use mta_sdk::Config;
use std::collections::HashMap;
use std::rc::Rc;

/// Tables compiled so far in one `init`, by name. Postfix's defaults make
/// mime_header_checks and nested_header_checks `$header_checks`: sharing
/// the compiled table keeps an instance from compiling it three times.
pub type Compiled = HashMap<String, Rc<PatternTable>>;

/// One table named in a check parameter.
enum Table {
    /// regexp: or pcre:, compiled from the source the host passed.
    Pattern {
        name: String,
        table: Rc<PatternTable>,
    },
    /// Any other type: the whole line is the key (an exact lookup).
    Indexed { name: String },
}

/// The tables of one check parameter, searched in order; the first table
/// with a match answers, as Postfix's `maps` do.
#[derive(Default)]
pub struct Rules {
    tables: Vec<Table>,
}

/// A rule that matched: the table and its result text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub table: String,
    pub result: String,
}

impl Rules {
    /// Load the tables named in the value of `parameter`, reusing those
    /// already in `compiled`.
    pub fn load(
        config: &Config,
        parameter: &str,
        compiled: &mut Compiled,
    ) -> Result<Rules, String> {
        let value = config.setting(parameter).unwrap_or("");
        let mut tables = Vec::new();
        for name in value
            .split([',', ' ', '\t', '\n'])
            .filter(|w| !w.is_empty())
        {
            let Some((kind, _)) = name.split_once(':') else {
                return Err(format!("{parameter}: `{name}` is not a type:name table"));
            };
            let syntax = match kind.to_ascii_lowercase().as_str() {
                "regexp" => Some(Syntax::Regexp),
                "pcre" => Some(Syntax::Pcre),
                _ => None,
            };
            tables.push(match syntax {
                Some(syntax) => {
                    let table = match compiled.get(name) {
                        Some(t) => t.clone(),
                        None => {
                            let source = config.table_source(name).ok_or_else(|| {
                                format!("{parameter}: table {name} could not be read by the host")
                            })?;
                            let t = Rc::new(
                                PatternTable::parse(syntax, name, source)
                                    .map_err(|e| format!("{parameter}: {e}"))?,
                            );
                            compiled.insert(name.to_string(), t.clone());
                            t
                        }
                    };
                    Table::Pattern {
                        name: name.to_string(),
                        table,
                    }
                }
                None => Table::Indexed {
                    name: name.to_string(),
                },
            });
        }
        Ok(Rules { tables })
    }

    /// Whether no table is configured.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The first result for `input`, or why the tables could not answer.
    pub fn find(&self, input: &[u8]) -> Result<Option<Match>, String> {
        for table in &self.tables {
            match table {
                Table::Pattern { name, table } => {
                    if let Some(found) = table.lookup(input) {
                        return Ok(Some(Match {
                            table: name.clone(),
                            result: found.value_lossy(),
                        }));
                    }
                }
                Table::Indexed { name } => {
                    let key = String::from_utf8_lossy(input).into_owned();
                    match lookup::find_one(name, Query::Exact(key)) {
                        Ok(Some(hit)) => {
                            return Ok(Some(Match {
                                table: name.clone(),
                                result: hit.value,
                            }))
                        }
                        Ok(None) => {}
                        Err(LookupError::NotGranted(t) | LookupError::Unavailable(t)) => {
                            return Err(format!("table {name}: {t}"));
                        }
                    }
                }
            }
        }
        Ok(None)
    }
}
