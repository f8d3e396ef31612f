//! aliases(5): `name: value, value, ...` with continuation lines, read from
//! the source text of each `alias_maps` table, and recursive expansion.

use super::Target;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Alias name (lower case) -> raw right-hand side.
pub type Table = HashMap<String, String>;

/// Parse alias files; later files do not override earlier ones (first match wins).
pub fn load(files: &[PathBuf]) -> Table {
    let mut t = Table::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(f) {
            parse_into(&text, &mut t);
        }
    }
    t
}

pub fn parse_into(text: &str, t: &mut Table) {
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.as_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = current.take() {
            t.entry(k).or_insert(v);
        }
        if let Some((k, v)) = line.split_once(':') {
            current = Some((
                k.trim().trim_matches('"').to_ascii_lowercase(),
                v.trim().to_string(),
            ));
        }
    }
    if let Some((k, v)) = current {
        t.entry(k).or_insert(v);
    }
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
pub fn expand(table: &Table, name: &str, mydestination: &[String]) -> Result<Vec<Target>, String> {
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
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("alias expansion too deep for \"{name}\""));
    }
    let Some(rhs) = table
        .get(name)
        .filter(|_| !seen.contains(&name.to_string()))
    else {
        out.push(Target::User(name.to_string()));
        return Ok(());
    };
    seen.push(name.to_string());
    for item in items(rhs) {
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
) -> Result<(), String> {
    if let Some(path) = item.strip_prefix(":include:") {
        let text = std::fs::read_to_string(Path::new(path.trim()))
            .map_err(|e| format!("cannot open include file {}: {e}", path.trim()))?;
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
