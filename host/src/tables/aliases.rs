//! The aliases(5) source format (`name: value, value`), parsed for
//! `mta postalias` / `mta newaliases` (which build the same redb file
//! `mta postmap` builds for `hash:`) and for `texthash:` alias maps.
//!
//! As Postfix's postalias: `#` comments and blank lines are skipped, a
//! line starting with white space continues the previous entry, the name
//! may be quoted and is folded to lower case, a line without `name:` is
//! warned about and skipped, and a duplicate name keeps its first value.

use std::path::Path;

/// One alias and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub line: usize,
    pub name: String,
    pub value: String,
}

/// Parse aliases(5) text. `file` names the source in warnings, which use
/// Postfix's wording (`FILE, line N: need name:value pair`).
pub fn parse(file: &str, text: &str) -> (Vec<Alias>, Vec<String>) {
    let mut out: Vec<Alias> = Vec::new();
    let mut warnings = Vec::new();
    // (line, name, value) of the entry being continued; None after a bad line.
    let mut current: Option<Alias> = None;
    let finish = |a: Option<Alias>, out: &mut Vec<Alias>, warnings: &mut Vec<String>| {
        if let Some(a) = a {
            if out.iter().any(|o| o.name == a.name) {
                warnings.push(format!("{file}: duplicate entry: \"{}\"", a.name));
            } else {
                out.push(a);
            }
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim_start().starts_with('#') || raw.trim().is_empty() {
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            if let Some(a) = current.as_mut() {
                a.value.push(' ');
                a.value.push_str(raw.trim());
            }
            continue;
        }
        finish(current.take(), &mut out, &mut warnings);
        match split_name(raw) {
            Some((name, value)) => {
                current = Some(Alias {
                    line,
                    name,
                    value: value.trim().to_string(),
                })
            }
            None => warnings.push(format!("{file}, line {line}: need name:value pair")),
        }
    }
    finish(current.take(), &mut out, &mut warnings);
    (out, warnings)
}

/// `name: rest` with `"quoted names"` allowed; None without a name or colon.
fn split_name(line: &str) -> Option<(String, &str)> {
    if let Some(q) = line.strip_prefix('"') {
        let end = q.find('"')?;
        let rest = q[end + 1..].trim_start().strip_prefix(':')?;
        let name = &q[..end];
        return (!name.is_empty()).then(|| (name.to_lowercase(), rest));
    }
    let (name, rest) = line.split_once(':')?;
    let name = name.trim();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then(|| (name.to_lowercase(), rest))
}

/// Build `FILE.redb` from an aliases file: (entries, warnings). An
/// unreadable source is an error in Postfix's words (`open FILE: ...`).
pub fn build(source: &Path) -> Result<(usize, Vec<String>), String> {
    let text = std::fs::read(source).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "Permission denied".to_string(),
            _ => e.to_string(),
        };
        format!("open {}: {why}", source.display())
    })?;
    let text = String::from_utf8_lossy(&text);
    let (aliases, mut warnings) = parse(&source.display().to_string(), &text);
    // Postfix names the database file in duplicate warnings.
    let db = super::hash::db_path(source).display().to_string();
    for w in warnings.iter_mut() {
        if let Some(rest) = w.strip_prefix(&format!("{}: duplicate", source.display())) {
            *w = format!("{db}: duplicate{rest}");
        }
    }
    let pairs: Vec<(&str, &str)> = aliases
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    super::hash::write(source, &pairs)?;
    Ok((aliases.len(), warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postalias_parsing_matches_postfix() {
        let (a, w) = parse(
            "al",
            "# c\nroot: alice\nbogus line\nteam: bob,\n  carol\nRoot: dup\n: empty\n\"odd name\": x\n\"Q\": y\n",
        );
        let got: Vec<(&str, &str)> = a
            .iter()
            .map(|a| (a.name.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("root", "alice"),
                ("team", "bob, carol"),
                ("odd name", "x"),
                ("q", "y")
            ]
        );
        assert_eq!(
            w,
            [
                "al, line 3: need name:value pair",
                "al: duplicate entry: \"root\"",
                "al, line 7: need name:value pair",
            ]
        );
    }
}
