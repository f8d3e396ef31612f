//! The `key value` source format shared by `postmap` (hash:) and
//! `texthash:`: continuation lines, comments, keys folded to lower case.

use crate::config::maincf::logical_lines;

/// One `key value` pair and the line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub line: usize,
    pub key: String,
    pub value: String,
}

/// Parse a Postfix table source. Keys are lower-cased (as Postfix's
/// `postmap` does); a line without a value is an error naming it.
/// Duplicate keys: the first wins, later ones are reported as warnings.
pub fn parse(text: &str) -> (Vec<SourceEntry>, Vec<String>, Vec<(usize, String)>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for l in logical_lines(text) {
        let t = l.text.trim();
        let split = t.find(char::is_whitespace);
        let Some(split) = split else {
            errors.push((
                l.line,
                format!("expected \"key value\", found only \"{t}\""),
            ));
            continue;
        };
        let key = t[..split].to_lowercase();
        let value = t[split..].trim().to_string();
        if let Some(first) = seen.get(&key) {
            warnings.push(format!(
                "line {}: duplicate entry \"{key}\" (first on line {first}); ignored",
                l.line
            ));
            continue;
        }
        seen.insert(key.clone(), l.line);
        entries.push(SourceEntry {
            line: l.line,
            key,
            value,
        });
    }
    (entries, warnings, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let (e, w, errs) = parse(
            "# access table\nExample.COM   REJECT go away\n  politely\n1.2.3   OK\nexample.com DUNNO\nlonely\n",
        );
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].key, "example.com");
        assert_eq!(e[0].value, "REJECT go away politely");
        assert_eq!(w.len(), 1);
        assert_eq!(
            errs,
            vec![(
                6,
                "expected \"key value\", found only \"lonely\"".to_string()
            )]
        );
    }
}
