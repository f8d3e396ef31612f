//! Reading table text: logical lines, then one rule or `if`/`endif` each.

use crate::Syntax;

/// A logical line: continuation lines joined, with the line it started on.
pub(crate) struct Logical {
    pub line: usize,
    pub text: String,
}

/// Split text into logical lines as Postfix's `readllines()` does: blank and
/// comment lines are skipped, a line starting with whitespace continues the
/// previous logical line.
pub(crate) fn logical_lines(text: &str) -> Vec<Logical> {
    let mut out: Vec<Logical> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let continues = raw.starts_with(|c: char| c.is_whitespace());
        match out.last_mut() {
            Some(last) if continues => last.text.push_str(raw),
            _ => out.push(Logical {
                line: i + 1,
                text: raw.trim_start().to_string(),
            }),
        }
    }
    out
}

/// A pattern with its flags as written: `/pattern/flags`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pub negated: bool,
    pub body: String,
    pub flags: Flags,
}

/// Postfix's per-pattern flags after toggling from the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flags {
    pub case_insensitive: bool,
    pub multi_line: bool,
    pub dot_all: bool,
    pub extended: bool,
    pub anchored: bool,
    pub ungreedy: bool,
    /// regexp(5) `x` toggled off: POSIX basic syntax (refused).
    pub basic: bool,
}

/// One parsed logical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    Rule { pattern: Pattern, result: String },
    If(Pattern),
    Endif,
}

/// Parse one logical line (already starting with non-whitespace).
pub(crate) fn parse_line(syntax: Syntax, text: &str) -> Result<Line, String> {
    let text = text.trim_end();
    if text == "endif" || starts_with_word(text, "endif") {
        if text != "endif" {
            return Err("text after \"endif\"".into());
        }
        return Ok(Line::Endif);
    }
    if starts_with_word(text, "if") {
        let (pattern, rest) = parse_pattern(syntax, text[2..].trim_start())?;
        if !rest.trim().is_empty() {
            return Err(format!("text after \"if\" pattern: \"{}\"", rest.trim()));
        }
        return Ok(Line::If(pattern));
    }
    let (pattern, rest) = parse_pattern(syntax, text)?;
    let result = rest.trim();
    if result.is_empty() {
        return Err("no result after the pattern".into());
    }
    Ok(Line::Rule {
        pattern,
        result: result.to_string(),
    })
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.strip_prefix(word)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace()))
}

/// `!`* `/body/flags`, returning the pattern and the rest of the line.
fn parse_pattern(syntax: Syntax, text: &str) -> Result<(Pattern, &str), String> {
    let mut negated = false;
    let mut p = text;
    loop {
        p = p.trim_start();
        match p.strip_prefix('!') {
            Some(rest) => {
                negated = !negated;
                p = rest;
            }
            None => break,
        }
    }
    let delim = p
        .chars()
        .next()
        .ok_or_else(|| "missing pattern".to_string())?;
    if delim.is_alphanumeric() || delim.is_whitespace() || delim == '\\' {
        return Err(format!(
            "a pattern must start with a delimiter such as '/', not '{delim}'"
        ));
    }
    let after = &p[delim.len_utf8()..];
    let mut end = None;
    let mut chars = after.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == delim {
            end = Some(i);
            break;
        }
    }
    let end = end.ok_or_else(|| format!("no closing '{delim}' after the pattern"))?;
    let body = &after[..end];
    if body.is_empty() {
        return Err("empty pattern".into());
    }
    let rest = &after[end + delim.len_utf8()..];
    let flag_len = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    let flags = parse_flags(syntax, &rest[..flag_len])?;
    Ok((
        Pattern {
            negated,
            body: body.to_string(),
            flags,
        },
        &rest[flag_len..],
    ))
}

fn parse_flags(syntax: Syntax, text: &str) -> Result<Flags, String> {
    let mut f = Flags {
        case_insensitive: true,
        multi_line: false,
        dot_all: true,
        extended: false,
        anchored: false,
        ungreedy: false,
        basic: false,
    };
    for c in text.chars() {
        match (syntax, c) {
            (_, 'i') => f.case_insensitive = !f.case_insensitive,
            (_, 'm') => f.multi_line = !f.multi_line,
            (Syntax::Regexp, 'x') => f.basic = !f.basic,
            (Syntax::Pcre, 's') => f.dot_all = !f.dot_all,
            (Syntax::Pcre, 'x') => f.extended = !f.extended,
            (Syntax::Pcre, 'A') => f.anchored = !f.anchored,
            // `$` matches only at the end in the regex crate already.
            (Syntax::Pcre, 'E') => {}
            (Syntax::Pcre, 'U') => f.ungreedy = !f.ungreedy,
            // Unknown escapes are already errors in the regex crate.
            (Syntax::Pcre, 'X') => {}
            _ => {
                return Err(format!(
                    "unknown {} flag '{c}' (known: {})",
                    syntax.type_name(),
                    match syntax {
                        Syntax::Regexp => "i m x",
                        Syntax::Pcre => "i m s x A E U X",
                    }
                ))
            }
        }
    }
    if f.basic {
        return Err("POSIX basic regular expressions (flag 'x' toggled off) are not supported; use the default extended syntax".into());
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_and_comments() {
        let l = logical_lines("# c\n/a/ b\n  c\n\n   # x\n/d/ e\n");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].line, 2);
        assert_eq!(l[0].text, "/a/ b  c");
        assert_eq!(l[1].line, 6);
    }

    #[test]
    fn delimiters_and_flags() {
        let Line::Rule { pattern, result } =
            parse_line(Syntax::Pcre, "!~a\\~b~iU  REJECT x").unwrap()
        else {
            panic!()
        };
        assert!(pattern.negated);
        assert_eq!(pattern.body, "a\\~b");
        assert!(!pattern.flags.case_insensitive);
        assert!(pattern.flags.ungreedy);
        assert_eq!(result, "REJECT x");
        assert!(parse_line(Syntax::Regexp, "/a/s OK").is_err());
        assert!(parse_line(Syntax::Regexp, "/a/x OK").is_err());
        assert!(parse_line(Syntax::Regexp, "/a/").is_err());
        assert!(parse_line(Syntax::Regexp, "/a OK").is_err());
        assert_eq!(parse_line(Syntax::Regexp, "endif").unwrap(), Line::Endif);
        assert!(matches!(parse_line(Syntax::Regexp, "if !/x/").unwrap(), Line::If(p) if p.negated));
    }
}
