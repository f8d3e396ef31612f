//! `hash:` (built by `mta postmap` into `FILE.redb`) and `texthash:`.
//!
//! Both are loaded into memory when opened: lookups then cost a hash probe,
//! and no redb lock is held, so `mta postmap` can rebuild the file (by
//! atomic rename) and `mta postmap -q` can read it while the daemon runs.
//! A rebuilt table is picked up on `mta reload`.

use super::{source, Table, TableError};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The one redb table inside a `.redb` map file.
const MAP: TableDefinition<&str, &str> = TableDefinition::new("map");

/// An in-memory key/value table.
#[derive(Debug)]
pub struct MapTable {
    name: String,
    map: HashMap<String, String>,
}

impl MapTable {
    /// Every entry (alias expansion walks the table itself).
    pub fn entries(&self) -> &HashMap<String, String> {
        &self.map
    }
}

impl Table for MapTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, key: &str) -> Result<Option<String>, TableError> {
        Ok(self.map.get(&key.to_lowercase()).cloned())
    }
}

/// The database file `postmap` builds for a source file.
pub fn db_path(source: &Path) -> PathBuf {
    let mut p = source.as_os_str().to_owned();
    p.push(".redb");
    PathBuf::from(p)
}

/// Open `hash:FILE` by reading `FILE.redb`.
pub fn open_hash(name: &str, source: &Path) -> Result<MapTable, TableError> {
    let path = db_path(source);
    let fail = |e: &dyn std::fmt::Display| {
        TableError::Open(format!(
            "{name}: cannot open {}: {e} (build it with: mta postmap {})",
            path.display(),
            source.display()
        ))
    };
    if !path.exists() {
        return Err(fail(&"no such file"));
    }
    let db = redb::ReadOnlyDatabase::open(&path).map_err(|e| fail(&e))?;
    let tx = db.begin_read().map_err(|e| fail(&e))?;
    let table = tx.open_table(MAP).map_err(|e| fail(&e))?;
    let mut map = HashMap::new();
    for item in table.iter().map_err(|e| fail(&e))? {
        let (k, v) = item.map_err(|e| fail(&e))?;
        map.insert(k.value().to_string(), v.value().to_string());
    }
    Ok(MapTable {
        name: name.to_string(),
        map,
    })
}

/// Open `texthash:FILE`: the source file itself, parsed at open.
pub fn open_texthash(name: &str, source: &Path) -> Result<MapTable, TableError> {
    let text = std::fs::read_to_string(source)
        .map_err(|e| TableError::Open(format!("{name}: cannot read {}: {e}", source.display())))?;
    let (entries, _warnings, errors) = source::parse(&text);
    if let Some((line, m)) = errors.first() {
        return Err(TableError::Open(format!(
            "{}:{line}: {m}",
            source.display()
        )));
    }
    Ok(MapTable {
        name: name.to_string(),
        map: entries.into_iter().map(|e| (e.key, e.value)).collect(),
    })
}

/// An in-memory table from pairs (inline:, unix:passwd.byname).
pub fn from_pairs(name: &str, pairs: impl IntoIterator<Item = (String, String)>) -> MapTable {
    MapTable {
        name: name.to_string(),
        map: pairs.into_iter().collect(),
    }
}

/// Write `FILE.redb` for `source` from `pairs`, atomically: a temporary
/// file, committed (fsync) by redb, then renamed over the old one, so a
/// daemon reading the table never sees half a table. Shared by `postmap`
/// and `postalias`.
pub fn write(source: &Path, pairs: &[(&str, &str)]) -> Result<(), String> {
    let path = db_path(source);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let write = || -> Result<(), redb::Error> {
        let db = redb::Database::create(&tmp)?;
        let tx = db.begin_write()?;
        {
            let mut t = tx.open_table(MAP)?;
            for (k, v) in pairs {
                t.insert(*k, *v)?;
            }
        }
        tx.commit()?;
        Ok(())
    };
    write().map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &path)
        .map_err(|e| format!("cannot rename {} to {}: {e}", tmp.display(), path.display()))
}

/// `mta postmap FILE`: build `FILE.redb` from the source, atomically
/// (write a temporary file, fsync, rename). Returns the entry count and
/// the warnings (duplicates).
pub fn build(source: &Path) -> Result<(usize, Vec<String>), String> {
    let text = std::fs::read_to_string(source)
        .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let (entries, warnings, errors) = source::parse(&text);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|(l, m)| format!("{}:{l}: {m}", source.display()))
            .collect::<Vec<_>>()
            .join("\n"));
    }
    let pairs: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str()))
        .collect();
    write(source, &pairs)?;
    let warnings = warnings
        .into_iter()
        .map(|w| format!("{}: {w}", source.display()))
        .collect();
    Ok((entries.len(), warnings))
}
