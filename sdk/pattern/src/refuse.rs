//! Spot PCRE constructs the `regex` crate lacks or reads differently, so a
//! table using them fails to load instead of silently matching something else.

/// The first unsupported construct in `pattern`, described for the operator.
pub(crate) fn unsupported(pattern: &str, extended: bool) -> Option<String> {
    let b = pattern.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    // The previous token was a complete quantifier (so a `+` makes it possessive).
    let mut after_quantifier = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let Some(&n) = b.get(i + 1) else {
                return Some("a trailing backslash".into());
            };
            if let Some(what) = bad_escape(b, i + 1, in_class) {
                return Some(format!("{what} (\"{}\")", excerpt(pattern, i)));
            }
            i += 2;
            // `\x{..}`, `\p{..}` etc. are handled by the regex crate itself.
            let _ = n;
            after_quantifier = false;
            continue;
        }
        if in_class {
            if c == b'[' && b.get(i + 1) == Some(&b':') {
                // POSIX class `[:alpha:]` inside a bracket expression.
                if let Some(end) = pattern[i + 2..].find(":]") {
                    i += 2 + end + 2;
                    continue;
                }
            }
            if c == b']' {
                in_class = false;
            }
            i += 1;
            continue;
        }
        if extended && c == b'#' {
            // A comment to the end of the line.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        match c {
            b'[' => {
                in_class = true;
                i += 1;
                // `]` or `^]` first in a class is literal.
                if b.get(i) == Some(&b'^') {
                    i += 1;
                }
                if b.get(i) == Some(&b']') {
                    i += 1;
                }
                after_quantifier = false;
                continue;
            }
            b'(' => {
                if let Some(what) = bad_group(&b[i + 1..]) {
                    return Some(format!("{what} (\"{}\")", excerpt(pattern, i)));
                }
            }
            b'*' | b'+' | b'?' => {
                if after_quantifier && c == b'+' {
                    return Some(format!(
                        "a possessive quantifier (\"{}\")",
                        excerpt(pattern, i.saturating_sub(1))
                    ));
                }
                // `a*?` (lazy) ends the quantifier; `a*+` is possessive.
                after_quantifier = !(after_quantifier && c == b'?');
                i += 1;
                continue;
            }
            b'}' => {
                after_quantifier = is_counted_repetition(&b[..=i]);
                i += 1;
                continue;
            }
            _ => {}
        }
        after_quantifier = false;
        i += 1;
    }
    None
}

/// Does `prefix` end with `{n}`, `{n,}` or `{n,m}`?
fn is_counted_repetition(prefix: &[u8]) -> bool {
    let Some(open) = prefix.iter().rposition(|&c| c == b'{') else {
        return false;
    };
    let inner = &prefix[open + 1..prefix.len() - 1];
    !inner.is_empty()
        && inner.iter().all(|c| c.is_ascii_digit() || *c == b',')
        && inner[0].is_ascii_digit()
}

/// `b[at]` is the character after a backslash.
fn bad_escape(b: &[u8], at: usize, in_class: bool) -> Option<&'static str> {
    let c = b[at];
    Some(match c {
        b'1'..=b'9' if in_class => "an octal escape (use \\xHH)",
        b'1'..=b'9' => "a backreference (not supported by the regex crate)",
        b'0' => "an octal escape (use \\xHH)",
        b'g' | b'k' => "a backreference (not supported by the regex crate)",
        b'C' => "\\C (single code unit; not supported)",
        b'K' => "\\K (reset match start; not supported)",
        b'G' => "\\G (not supported)",
        b'Z' => "\\Z (use \\z or $)",
        b'R' => "\\R (newline sequence; not supported)",
        b'X' => "\\X (extended grapheme; not supported)",
        b'h' | b'H' => "\\h/\\H (horizontal whitespace; use [ \\t])",
        b'V' | b'v' => "\\v/\\V (vertical whitespace in PCRE; use [\\n\\x0b\\f\\r])",
        b'N' => "\\N (not supported)",
        b'Q' | b'E' => "\\Q...\\E quoting (not supported; escape each character)",
        b'c' => "\\c control escape (use \\xHH)",
        b'e' => "\\e (use \\x1b)",
        _ => return None,
    })
}

/// `rest` follows an unescaped `(`.
fn bad_group(rest: &[u8]) -> Option<&'static str> {
    if rest.first() == Some(&b'*') {
        return Some("a (*VERB) control verb (not supported)");
    }
    if rest.first() != Some(&b'?') {
        return None;
    }
    let r = &rest[1..];
    let starts = |p: &[u8]| r.starts_with(p);
    Some(if starts(b"=") || starts(b"!") {
        "a lookahead assertion (not supported by the regex crate)"
    } else if starts(b"<=") || starts(b"<!") {
        "a lookbehind assertion (not supported by the regex crate)"
    } else if starts(b">") {
        "an atomic group (not supported by the regex crate)"
    } else if starts(b"R")
        || starts(b"&")
        || starts(b"P>")
        || starts(b"+")
        || r.first().is_some_and(|c| c.is_ascii_digit())
        || (starts(b"-") && r.get(1).is_some_and(|c| c.is_ascii_digit()))
    {
        "recursion or a subroutine call (not supported by the regex crate)"
    } else if starts(b"(") {
        "a conditional group (not supported by the regex crate)"
    } else if starts(b"#") {
        "a (?#comment) group (not supported; use the x flag and #)"
    } else if starts(b"|") {
        "a branch-reset group (not supported by the regex crate)"
    } else if starts(b"C") {
        "a callout (not supported)"
    } else if starts(b"'") {
        "a (?'name'...) group (write (?P<name>...))"
    } else {
        return None;
    })
}

fn excerpt(pattern: &str, at: usize) -> String {
    let mut end = (at + 6).min(pattern.len());
    while !pattern.is_char_boundary(end) {
        end += 1;
    }
    let mut start = at.min(pattern.len());
    while !pattern.is_char_boundary(start) {
        start -= 1;
    }
    pattern[start..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::unsupported;

    fn refused(p: &str) -> String {
        unsupported(p, false).unwrap_or_else(|| panic!("{p} should be refused"))
    }

    #[test]
    fn refuses_what_regex_lacks() {
        assert!(refused(r"(a)\1").contains("backreference"));
        assert!(refused(r"(?<n>a)\k<n>").contains("backreference"));
        assert!(refused(r"foo(?=bar)").contains("lookahead"));
        assert!(refused(r"foo(?!bar)").contains("lookahead"));
        assert!(refused(r"(?<=a)b").contains("lookbehind"));
        assert!(refused(r"(?<!a)b").contains("lookbehind"));
        assert!(refused(r"(?>a+)b").contains("atomic"));
        assert!(refused(r"a*+b").contains("possessive"));
        assert!(refused(r"a++b").contains("possessive"));
        assert!(refused(r"a?+b").contains("possessive"));
        assert!(refused(r"a{2,3}+b").contains("possessive"));
        assert!(refused(r"a\Cb").contains("\\C"));
        assert!(refused(r"\((?:[^()]|(?R))*\)").contains("recursion"));
        assert!(refused(r"(a)(?1)").contains("recursion"));
        assert!(refused(r"(?(1)a|b)").contains("conditional"));
        assert!(refused(r"a\vb").contains("vertical"));
        assert!(refused(r"(*UTF8)a").contains("VERB"));
        assert!(refused(r"\Qa.b\E").contains("quoting"));
    }

    #[test]
    fn accepts_what_regex_has() {
        for p in [
            r"^Subject: .*viagra",
            r"a*?b",
            r"a+?b",
            r"a??b",
            r"(?i)x",
            r"(?P<n>a)",
            r"(?<n>a)",
            r"(?:a|b)+",
            r"[+*?]+",
            r"a{2}",
            r"a{2,}?b",
            r"[[:alpha:]]+\+",
            r"\\1",
            r"x\+\+",
        ] {
            assert_eq!(unsupported(p, false), None, "{p}");
        }
        // In x mode, a `#` comment may mention anything.
        assert_eq!(unsupported("a # (?=b) \\1\nc", true), None);
    }
}
