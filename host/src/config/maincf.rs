//! main.cf syntax: `name = value` logical lines.

/// A logical line of a Postfix configuration file and where it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logical {
    pub line: usize,
    pub text: String,
}

/// Postfix's readllines(): skip blank lines and lines whose first
/// non-space character is `#`; a line starting with whitespace continues
/// the previous one. `#` elsewhere is part of the value, as in Postfix.
pub fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out: Vec<Logical> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match out.last_mut() {
            Some(last) if raw.starts_with(|c: char| c.is_whitespace()) => {
                last.text.push(' ');
                last.text.push_str(trimmed);
            }
            _ => out.push(Logical {
                line: i + 1,
                text: trimmed.to_string(),
            }),
        }
    }
    out
}

/// One `name = value` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub name: String,
    pub value: String,
}

/// Parse main.cf text into entries, or (line, message) for each bad line.
pub fn parse(text: &str) -> (Vec<Entry>, Vec<(usize, String)>) {
    let mut entries = Vec::new();
    let mut errors = Vec::new();
    for l in logical_lines(text) {
        match parse_assignment(&l.text) {
            Ok((name, value)) => entries.push(Entry {
                line: l.line,
                name,
                value,
            }),
            Err(m) => errors.push((l.line, m)),
        }
    }
    (entries, errors)
}

/// `name = value` (also used for master.cf `-o name=value`).
pub fn parse_assignment(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!("missing '=' after \"{}\"", text.trim()));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err("missing parameter name before '='".into());
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("\"{name}\" is not a valid parameter name"));
    }
    Ok((name.to_string(), value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax() {
        let (e, errs) = parse(
            "# comment\nmyhostname = mx.example.com # not a comment\n\nmydestination = a,\n  b,\n\tc\nbad line\n=x\nempty =\n",
        );
        assert_eq!(e[0].value, "mx.example.com # not a comment");
        assert_eq!(e[1].name, "mydestination");
        assert_eq!(e[1].value, "a, b, c");
        assert_eq!(e[1].line, 4);
        assert_eq!(e[2].value, "");
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].0, 7);
    }
}
