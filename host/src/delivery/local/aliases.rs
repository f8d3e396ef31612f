//! alias_maps expansion: look each name up in the alias tables and expand
//! recursively (lists, `:include:`, `/file`, `|command`, remote addresses).
//!
//! A `hash:` alias map is the database `mta newaliases` / `mta postalias`
//! built (`FILE.redb`), read fresh for each delivery so a rebuilt table
//! applies at once; `texthash:` reads the aliases(5) source itself. A map
//! that cannot be read defers the delivery ("alias database unavailable"),
//! never silently skips the aliases. Other table types (`inline:`,
//! `regexp:`, `pcre:`, `static:`, ...) are asked name by name through the
//! lookup-table layer, as smtpd asks them for local_recipient_maps; a map
//! mta cannot open defers delivery with its reason.

use super::Target;
use crate::tables::{aliases, hash};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The alias maps as read for one delivery: asked in order, the first map
/// holding a name wins.
#[derive(Debug, Default)]
pub struct Table {
    layers: Vec<Layer>,
}

#[derive(Debug)]
enum Layer {
    /// Alias name (lower case) -> raw right-hand side.
    Entries(HashMap<String, String>),
    /// A table asked key by key.
    Live(Arc<dyn crate::tables::Table>),
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// The right-hand side for `name`; an error when a map cannot answer.
    fn get(&self, name: &str) -> Result<Option<String>, String> {
        for layer in &self.layers {
            let hit = match layer {
                Layer::Entries(e) => e.get(name).cloned(),
                Layer::Live(t) => t
                    .get(name)
                    .map_err(|e| format!("alias database unavailable: {e}"))?,
            };
            if hit.is_some() {
                return Ok(hit);
            }
        }
        Ok(None)
    }
}

/// One `alias_maps` entry.
#[derive(Debug, Clone)]
pub enum Map {
    /// `hash:FILE` (and btree/lmdb/cdb/dbm): `FILE.redb`, read per delivery.
    Indexed(PathBuf),
    /// `texthash:FILE`: the aliases(5) source, read per delivery.
    Text(PathBuf),
    /// Any other table type mta reads, opened at start (and on reload).
    Live(Arc<dyn crate::tables::Table>),
    /// A map that cannot be opened: every delivery defers with this reason.
    Broken(String),
}

impl Map {
    /// The map for one `alias_maps` entry (`file` anchors relative paths).
    pub fn open(spec: &str, tables: &crate::tables::Tables, file: impl Fn(&str) -> PathBuf) -> Map {
        let mut rest = spec;
        while let Some(r) = rest.strip_prefix("proxy:") {
            rest = r;
        }
        match rest.split_once(':') {
            Some(("hash" | "btree" | "lmdb" | "cdb" | "dbm", path)) => Map::Indexed(file(path)),
            Some(("texthash", path)) => Map::Text(file(path)),
            _ => match tables.open(spec) {
                Ok(t) => Map::Live(t),
                Err(e) => Map::Broken(e.to_string()),
            },
        }
    }
}

/// Read the alias maps for one delivery.
pub fn load(maps: &[Map]) -> Result<Table, String> {
    let mut t = Table::new();
    for m in maps {
        match m {
            Map::Indexed(source) => {
                let db = hash::open_hash(&format!("hash:{}", source.display()), source)
                    .map_err(|_| {
                        format!(
                            "alias database unavailable: cannot open {} (build it with: mta newaliases)",
                            hash::db_path(source).display()
                        )
                    })?;
                t.layers.push(Layer::Entries(db.entries().clone()));
            }
            Map::Text(source) => {
                let text = std::fs::read_to_string(source).map_err(|e| {
                    format!(
                        "alias database unavailable: cannot read {}: {e}",
                        source.display()
                    )
                })?;
                parse_into(&text, &mut t);
            }
            Map::Live(table) => t.layers.push(Layer::Live(table.clone())),
            Map::Broken(why) => return Err(format!("alias database unavailable: {why}")),
        }
    }
    Ok(t)
}

/// Add aliases(5) text to `t` as its last map (earlier names win).
pub fn parse_into(text: &str, t: &mut Table) {
    let mut entries = HashMap::new();
    for a in aliases::parse("aliases", text).0 {
        entries.entry(a.name).or_insert(a.value);
    }
    t.layers.push(Layer::Entries(entries));
}

/// Why expansion stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// A map could not answer: try again later.
    Unavailable(String),
    /// The aliases themselves are wrong (too deep, unreadable include).
    Permanent(String),
}

fn items(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
            }
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

const MAX_DEPTH: usize = 16;

/// Expand a local name into delivery targets.
pub fn expand(
    table: &Table,
    name: &str,
    mydestination: &[String],
) -> Result<Vec<Target>, ExpandError> {
    let mut out = Vec::new();
    walk(table, name, mydestination, 0, &mut Vec::new(), &mut out)?;
    out.dedup();
    Ok(out)
}

fn walk(
    table: &Table,
    name: &str,
    mydest: &[String],
    depth: usize,
    seen: &mut Vec<String>,
    out: &mut Vec<Target>,
) -> Result<(), ExpandError> {
    if depth > MAX_DEPTH {
        return Err(ExpandError::Permanent(format!(
            "alias expansion too deep for \"{name}\""
        )));
    }
    let rhs = if seen.iter().any(|s| s == name) {
        None
    } else {
        table.get(name).map_err(ExpandError::Unavailable)?
    };
    let Some(rhs) = rhs else {
        out.push(Target::User(name.to_string()));
        return Ok(());
    };
    seen.push(name.to_string());
    for item in items(&rhs) {
        target(table, &item, mydest, depth, seen, out)?;
    }
    seen.pop();
    Ok(())
}

fn target(
    table: &Table,
    item: &str,
    mydest: &[String],
    depth: usize,
    seen: &mut Vec<String>,
    out: &mut Vec<Target>,
) -> Result<(), ExpandError> {
    if let Some(path) = item.strip_prefix(":include:") {
        let text = std::fs::read_to_string(Path::new(path.trim())).map_err(|e| {
            ExpandError::Permanent(format!("cannot open include file {}: {e}", path.trim()))
        })?;
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            for i in items(line) {
                target(table, &i, mydest, depth + 1, seen, out)?;
            }
        }
    } else if item.starts_with('/') {
        out.push(Target::File(PathBuf::from(item)));
    } else if let Some(cmd) = item.strip_prefix('|') {
        out.push(Target::Command(cmd.to_string()));
    } else if let Some((local, domain)) = item.rsplit_once('@') {
        if mydest.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            walk(
                table,
                &local.to_ascii_lowercase(),
                mydest,
                depth + 1,
                seen,
                out,
            )?;
        } else {
            out.push(Target::Remote(item.to_string()));
        }
    } else {
        walk(
            table,
            &item.to_ascii_lowercase(),
            mydest,
            depth + 1,
            seen,
            out,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_lists_files_includes_and_remote() {
        let dir = std::env::temp_dir().join(format!("mta-alias-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inc = dir.join("list.inc");
        std::fs::write(&inc, "# members\ncarol, dave@remote.example\n").unwrap();
        let mut t = Table::new();
        parse_into(
            &format!("# c\npostmaster: root\nroot: alice,\n  /var/log/root.mbox\nteam: bob, :include:{}\nloop: loop, alice\nbad: |/bin/true\n", inc.display()),
            &mut t,
        );
        let d = vec!["localhost".to_string()];
        assert_eq!(
            expand(&t, "postmaster", &d).unwrap(),
            vec![
                Target::User("alice".into()),
                Target::File("/var/log/root.mbox".into())
            ]
        );
        assert_eq!(
            expand(&t, "team", &d).unwrap(),
            vec![
                Target::User("bob".into()),
                Target::User("carol".into()),
                Target::Remote("dave@remote.example".into())
            ]
        );
        assert_eq!(
            expand(&t, "loop", &d).unwrap(),
            vec![Target::User("loop".into()), Target::User("alice".into())]
        );
        assert_eq!(
            expand(&t, "bad", &d).unwrap(),
            vec![Target::Command("/bin/true".into())]
        );
        assert_eq!(
            expand(&t, "nobody-here", &d).unwrap(),
            vec![Target::User("nobody-here".into())]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
