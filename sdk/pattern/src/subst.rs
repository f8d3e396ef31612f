//! Result templates: `$1`, `${1}`, `$(1)` and `$$` in a rule's result.

/// A result split into literal text and capture-group references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Group(usize),
}

impl Template {
    /// Parse a result; `$name` that is not a number is an error (Postfix
    /// refuses it too), a `$` before anything else is kept literally.
    pub(crate) fn parse(result: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = result;
        while let Some(pos) = rest.find('$') {
            text.push_str(&rest[..pos]);
            let after = &rest[pos + 1..];
            let (name, consumed) = if let Some(r) = after.strip_prefix('$') {
                text.push('$');
                rest = r;
                continue;
            } else if let Some(close) = bracketed(after) {
                (&after[1..close], close + 1)
            } else {
                let n = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..n], n)
            };
            if name.is_empty() {
                text.push('$');
                rest = after;
                continue;
            }
            let index: usize = name
                .parse()
                .map_err(|_| format!("non-numeric substitution \"${name}\" in the result"))?;
            if !text.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut text)));
            }
            parts.push(Part::Group(index));
            rest = &after[consumed..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template { parts })
    }

    /// The highest group referenced, if any.
    pub(crate) fn max_group(&self) -> Option<usize> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Group(n) => Some(*n),
                Part::Text(_) => None,
            })
            .max()
    }

    /// The result with no substitution needed, if that is the case.
    pub(crate) fn literal(&self) -> Option<Vec<u8>> {
        match self.max_group() {
            None => Some(
                self.parts
                    .iter()
                    .flat_map(|p| match p {
                        Part::Text(t) => t.as_bytes().to_vec(),
                        Part::Group(_) => Vec::new(),
                    })
                    .collect(),
            ),
            Some(_) => None,
        }
    }

    /// Fill in groups; a group that did not take part in the match is empty.
    pub(crate) fn expand(&self, caps: &regex::bytes::Captures<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.extend_from_slice(t.as_bytes()),
                Part::Group(n) => {
                    if let Some(m) = caps.get(*n) {
                        out.extend_from_slice(m.as_bytes());
                    }
                }
            }
        }
        out
    }
}

/// `{n}` or `(n)` at the start of `s`: the index of the closing bracket.
fn bracketed(s: &str) -> Option<usize> {
    let close = match s.as_bytes().first()? {
        b'{' => '}',
        b'(' => ')',
        _ => return None,
    };
    s.find(close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let t = Template::parse("550 Use ${1}@$(2) instead $3 x $$5 $").unwrap();
        assert_eq!(t.max_group(), Some(3));
        assert!(Template::parse("REJECT $3x").is_err());
        assert_eq!(
            Template::parse("a $$ b").unwrap().literal(),
            Some(b"a $ b".to_vec())
        );
        assert!(Template::parse("$name").is_err());
    }
}
