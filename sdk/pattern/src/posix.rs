//! POSIX bracket expressions for `regexp:` tables, rewritten into the
//! `regex` crate's class syntax so they mean what glibc's regcomp() makes
//! of them: inside `[...]` a backslash is an ordinary character, `]` first
//! is literal, and `[` does not open a nested class.

/// Rewrite every bracket expression in `pattern`; the rest is unchanged.
pub(crate) fn translate_brackets(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(&next) = chars.get(i + 1) {
                out.push(next);
            }
            i += 2;
            continue;
        }
        if c != '[' {
            out.push(c);
            i += 1;
            continue;
        }
        out.push('[');
        i += 1;
        if chars.get(i) == Some(&'^') {
            out.push('^');
            i += 1;
        }
        if chars.get(i) == Some(&']') {
            out.push_str("\\]");
            i += 1;
        }
        while i < chars.len() {
            let c = chars[i];
            if c == ']' {
                out.push(']');
                i += 1;
                break;
            }
            if c == '[' {
                if let Some(&term @ (':' | '.' | '=')) = chars.get(i + 1) {
                    let close = (i + 2..chars.len().saturating_sub(1))
                        .find(|&j| chars[j] == term && chars[j + 1] == ']');
                    if let Some(j) = close {
                        out.extend(&chars[i..=j + 1]);
                        i = j + 2;
                        continue;
                    }
                }
            }
            match c {
                '\\' | '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::translate_brackets as t;

    #[test]
    fn brackets() {
        assert_eq!(t(r"^[\.]$"), r"^[\\.]$");
        assert_eq!(t(r"[]a]"), r"[\]a]");
        assert_eq!(t(r"[^]a]"), r"[^\]a]");
        assert_eq!(t(r"[[]"), r"[\[]");
        assert_eq!(t(r"[[:alpha:]_-]+\.x"), r"[[:alpha:]_-]+\.x");
        assert_eq!(t(r"\[x\]"), r"\[x\]");
        assert_eq!(t(r"a[&&b]"), r"a[\&\&b]");
    }
}
