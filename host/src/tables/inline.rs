//! `inline:{ key=value, { key = value } }`, `static:value` and
//! `unix:passwd.byname`: tables whose content is in the name or the system.

use super::hash::{from_pairs, MapTable};
use super::{Table, TableError};

/// The items of `{ a, { b c }, d }` (outer braces required), Postfix style:
/// split on commas/whitespace, an inner `{...}` is one item without braces.
pub fn brace_items(spec: &str) -> Result<Vec<String>, String> {
    let inner = spec
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| format!("\"{spec}\": expected {{ ... }}"))?;
    let mut out = Vec::new();
    for item in crate::config::expand::split_list(inner) {
        match item.strip_prefix('{') {
            Some(rest) => {
                let body = rest
                    .strip_suffix('}')
                    .ok_or_else(|| format!("unbalanced braces in \"{item}\""))?;
                out.push(body.trim().to_string());
            }
            None => out.push(item),
        }
    }
    Ok(out)
}

/// `inline:{ k=v, ... }`: keys folded to lower case like hash tables.
pub fn open_inline(name: &str, spec: &str) -> Result<MapTable, TableError> {
    let items = brace_items(spec).map_err(|m| TableError::Open(format!("{name}: {m}")))?;
    let mut pairs = Vec::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| TableError::Open(format!("{name}: \"{item}\" is not key=value")))?;
        pairs.push((k.trim().to_lowercase(), v.trim().to_string()));
    }
    Ok(from_pairs(name, pairs))
}

/// `static:value` (or `static:{ value with spaces }`): every key finds it.
#[derive(Debug)]
pub struct StaticTable {
    name: String,
    value: String,
}

impl StaticTable {
    pub fn new(name: &str, spec: &str) -> StaticTable {
        let value = spec
            .trim()
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .unwrap_or(spec)
            .trim()
            .to_string();
        StaticTable {
            name: name.to_string(),
            value,
        }
    }
}

impl Table for StaticTable {
    fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, _key: &str) -> Result<Option<String>, TableError> {
        Ok(Some(self.value.clone()))
    }
}

/// `unix:passwd.byname`: local user names (for `local_recipient_maps`),
/// each mapping to its passwd line as Postfix returns it.
pub fn open_passwd(name: &str, map: &str) -> Result<MapTable, TableError> {
    if map != "passwd.byname" {
        return Err(TableError::Open(format!(
            "{name}: unix:{map} is not supported (only unix:passwd.byname)"
        )));
    }
    let text = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| TableError::Open(format!("{name}: cannot read /etc/passwd: {e}")))?;
    Ok(from_pairs(
        name,
        text.lines().filter_map(|l| {
            l.split_once(':')
                .map(|(u, _)| (u.to_lowercase(), l.to_string()))
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_forms() {
        let t = open_inline(
            "inline:x",
            "{ 1.2.3.4=OK, {example.com = REJECT no thanks}, User@=DUNNO }",
        )
        .unwrap();
        assert_eq!(t.get("1.2.3.4").unwrap().as_deref(), Some("OK"));
        assert_eq!(
            t.get("EXAMPLE.com").unwrap().as_deref(),
            Some("REJECT no thanks")
        );
        assert_eq!(t.get("user@").unwrap().as_deref(), Some("DUNNO"));
        assert!(open_inline("inline:x", "{ novalue }").is_err());
        assert!(open_inline("inline:x", "a=b").is_err());
        let s = StaticTable::new("static:x", "{ REJECT go away }");
        assert_eq!(
            s.get("anything").unwrap().as_deref(),
            Some("REJECT go away")
        );
        let p = open_passwd("unix:passwd.byname", "passwd.byname").unwrap();
        assert!(p.get("root").unwrap().unwrap().starts_with("root:"));
        assert_eq!(p.get("no-such-user-here").unwrap(), None);
    }
}
