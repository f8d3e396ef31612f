//! A loaded table: compiled patterns, a `RegexSet` prefilter, first-match walk.
//!
//! Loading checks every pattern (syntax, refused constructs, `$n` range)
//! but compiles only the one `RegexSet` that decides which rules match; a
//! rule's own regex is compiled the first time it wins with a result that
//! needs its capture groups. A guest plugin compiles its tables in every
//! new instance, so this keeps instance start-up (and recycling after
//! plugin_max_use) cheap: about half the compile work of building both.

use crate::parse::{logical_lines, parse_line, Flags, Line, Pattern};
use crate::refuse::unsupported;
use crate::subst::Template;
use crate::{PatternError, Syntax};
use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use std::sync::OnceLock;

/// Compiled-size caps: generous, since tables are trusted operator input,
/// but bounded so a pathological table fails to load instead of eating memory.
const SIZE_LIMIT: usize = 64 << 20;
const DFA_SIZE_LIMIT: usize = 32 << 20;

/// What a lookup found: the result with `$n` filled in, and where the rule is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The result text (bytes: captures of 8-bit input are copied verbatim).
    pub value: Vec<u8>,
    /// The line of the rule in the table source.
    pub line: usize,
}

impl Found {
    /// The value as text, invalid UTF-8 replaced.
    pub fn value_lossy(&self) -> String {
        String::from_utf8_lossy(&self.value).into_owned()
    }
}

#[derive(Debug, Clone)]
enum Entry {
    /// Rule `pattern` (index into `regexes`) with its result.
    Rule {
        pattern: usize,
        negated: bool,
        line: usize,
        template: Template,
        literal: Option<Vec<u8>>,
    },
    /// Condition; when false, continue at `skip_to` (after the `endif`).
    If {
        pattern: usize,
        negated: bool,
        skip_to: usize,
    },
    Endif,
}

/// A regexp(5) or pcre(5) table, compiled once.
#[derive(Debug, Clone)]
pub struct PatternTable {
    syntax: Syntax,
    entries: Vec<Entry>,
    /// Each pattern's `regex` source, and its regex once one was needed.
    sources: Vec<String>,
    regexes: Vec<OnceLock<Option<Regex>>>,
    /// All patterns at once: one pass tells which patterns match.
    set: RegexSet,
    /// Whether any pattern is negated (then "nothing matched" can still hit).
    any_negated: bool,
}

impl PatternTable {
    /// Parse and compile a table. `file` names it in errors.
    pub fn parse(syntax: Syntax, file: &str, text: &str) -> Result<PatternTable, PatternError> {
        let err = |line: usize, message: String| PatternError {
            file: file.to_string(),
            line,
            message,
        };
        let mut entries = Vec::new();
        let mut sources = Vec::new();
        let mut open_ifs: Vec<(usize, usize)> = Vec::new(); // (entry index, line)
        let mut any_negated = false;
        for logical in logical_lines(text) {
            let line = logical.line;
            let parsed = parse_line(syntax, &logical.text).map_err(|m| err(line, m))?;
            match parsed {
                Line::Endif => {
                    let (at, _) = open_ifs
                        .pop()
                        .ok_or_else(|| err(line, "\"endif\" without a matching \"if\"".into()))?;
                    let skip_to = entries.len() + 1;
                    if let Entry::If { skip_to: s, .. } = &mut entries[at] {
                        *s = skip_to;
                    }
                    entries.push(Entry::Endif);
                }
                Line::If(pattern) => {
                    any_negated |= pattern.negated;
                    let (source, _) = check(syntax, &pattern).map_err(|m| err(line, m))?;
                    open_ifs.push((entries.len(), line));
                    entries.push(Entry::If {
                        pattern: sources.len(),
                        negated: pattern.negated,
                        skip_to: 0,
                    });
                    sources.push(source);
                }
                Line::Rule { pattern, result } => {
                    any_negated |= pattern.negated;
                    let (source, groups) = check(syntax, &pattern).map_err(|m| err(line, m))?;
                    let template = Template::parse(&result).map_err(|m| err(line, m))?;
                    if let Some(n) = template.max_group() {
                        if pattern.negated {
                            return Err(err(
                                line,
                                format!("${n} substitution with a negated pattern (it has no match to take it from)"),
                            ));
                        }
                        if n > groups {
                            return Err(err(
                                line,
                                format!("substitution ${n} out of range: the pattern has {groups} group(s)"),
                            ));
                        }
                    }
                    entries.push(Entry::Rule {
                        pattern: sources.len(),
                        negated: pattern.negated,
                        line,
                        literal: template.literal(),
                        template,
                    });
                    sources.push(source);
                }
            }
        }
        if let Some((_, line)) = open_ifs.pop() {
            return Err(err(line, "\"if\" without a matching \"endif\"".into()));
        }
        let set = RegexSetBuilder::new(&sources)
            .unicode(false)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .build()
            .map_err(|e| err(0, format!("compiling the table: {e}")))?;
        Ok(PatternTable {
            syntax,
            entries,
            regexes: sources.iter().map(|_| OnceLock::new()).collect(),
            sources,
            set,
            any_negated,
        })
    }

    /// Which syntax the table was written in.
    pub fn syntax(&self) -> Syntax {
        self.syntax
    }

    /// Number of rules (not counting `if`/`endif`).
    pub fn rules(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| matches!(e, Entry::Rule { .. }))
            .count()
    }

    /// The first rule (in table order, honouring `if`/`endif`) that applies
    /// to `input`. One `RegexSet` pass decides every pattern; only the rule
    /// that wins runs its own regex again, and only to fill in `$n`.
    pub fn lookup(&self, input: &[u8]) -> Option<Found> {
        if self.entries.is_empty() {
            return None;
        }
        // Most inputs match no rule: `is_match` answers that without
        // allocating the per-pattern match set and may stop at the first
        // match, where `matches` must look for every pattern.
        if !self.any_negated && !self.set.is_match(input) {
            return None;
        }
        let matches = self.set.matches(input);
        let mut i = 0;
        while i < self.entries.len() {
            match &self.entries[i] {
                Entry::Endif => i += 1,
                Entry::If {
                    pattern,
                    negated,
                    skip_to,
                } => {
                    if matches.matched(*pattern) != *negated {
                        i += 1;
                    } else {
                        i = *skip_to;
                    }
                }
                Entry::Rule {
                    pattern,
                    negated,
                    line,
                    template,
                    literal,
                } => {
                    if matches.matched(*pattern) != *negated {
                        let value = match literal {
                            Some(v) => v.clone(),
                            None => match self.regex(*pattern).and_then(|r| r.captures(input)) {
                                Some(caps) => template.expand(&caps),
                                None => Vec::new(),
                            },
                        };
                        return Some(Found { value, line: *line });
                    }
                    i += 1;
                }
            }
        }
        None
    }

    /// Pattern `i` compiled on its own (for its capture groups), built on
    /// first use. It compiled as part of the set, so it compiles alone.
    fn regex(&self, i: usize) -> Option<&Regex> {
        self.regexes[i]
            .get_or_init(|| build(&self.sources[i]).ok())
            .as_ref()
    }

    /// `lookup` for text input, the value as text.
    pub fn lookup_str(&self, input: &str) -> Option<String> {
        self.lookup(input.as_bytes()).map(|f| f.value_lossy())
    }
}

/// Translate flags into inline `regex` flags and check one pattern: the
/// `regex` source and its number of capture groups, or why it is refused.
fn check(syntax: Syntax, p: &Pattern) -> Result<(String, usize), String> {
    let body = match syntax {
        Syntax::Regexp => crate::posix::translate_brackets(&p.body),
        Syntax::Pcre => p.body.clone(),
    };
    if let Some(what) = unsupported(&body, p.flags.extended) {
        return Err(format!(
            "{} pattern /{}/ uses {what}",
            syntax.type_name(),
            p.body
        ));
    }
    let source = regex_source(&body, p.flags);
    // The parser `regex::bytes` uses, with the same settings: a pattern
    // accepted here is accepted when compiled.
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&source)
        .map_err(|e| {
            format!(
                "{} pattern /{}/ is not valid: {}",
                syntax.type_name(),
                p.body,
                first_line_summary(&e.to_string())
            )
        })?;
    Ok((source, hir.properties().explicit_captures_len()))
}

/// Compile one checked pattern on its own.
fn build(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
}

fn regex_source(body: &str, f: Flags) -> String {
    let mut flags = String::new();
    for (on, c) in [
        (f.case_insensitive, 'i'),
        (f.multi_line, 'm'),
        (f.dot_all, 's'),
        (f.extended, 'x'),
        (f.ungreedy, 'U'),
    ] {
        if on {
            flags.push(c);
        }
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!("(?{flags})")
    };
    if f.anchored {
        // In x mode a newline before `)` ends any trailing `#` comment.
        let end = if f.extended { "\n)" } else { ")" };
        format!("{flags}\\A(?:{body}{end}")
    } else {
        flags + body
    }
}

/// The regex crate's errors draw the pattern with a caret over several
/// lines; keep them on one line for logs, with the explanation.
fn first_line_summary(e: &str) -> String {
    let lines: Vec<&str> = e.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.iter().find(|l| l.starts_with("error:")) {
        Some(l) => l.trim_start_matches("error:").trim().to_string(),
        None => lines.join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(syntax: Syntax, text: &str) -> PatternTable {
        PatternTable::parse(syntax, "test", text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(syntax: Syntax, text: &str) -> PatternError {
        PatternTable::parse(syntax, "t.cf", text).expect_err("must be refused")
    }

    #[test]
    fn first_match_in_order() {
        let t = table(
            Syntax::Regexp,
            "/^postmaster@/ OK\n/[%!@].*[%!@]/ 550 Sender-specified routing rejected\n/@/ DUNNO\n",
        );
        assert_eq!(t.lookup_str("postmaster@a%b@c").as_deref(), Some("OK"));
        assert_eq!(
            t.lookup_str("x@a%b").as_deref(),
            Some("550 Sender-specified routing rejected")
        );
        assert_eq!(t.lookup_str("x@b").as_deref(), Some("DUNNO"));
        assert_eq!(t.lookup_str("nothing"), None);
        assert_eq!(t.lookup(b"x@b").map(|f| f.line), Some(3));
    }

    #[test]
    fn case_insensitive_by_default_and_i_toggles() {
        let t = table(Syntax::Pcre, "/^subject: Hello/ A\n/^X-Case: Yes/i B\n");
        assert_eq!(t.lookup_str("SUBJECT: hello").as_deref(), Some("A"));
        assert_eq!(t.lookup_str("x-case: yes"), None);
        assert_eq!(t.lookup_str("X-Case: Yes").as_deref(), Some("B"));
    }

    #[test]
    fn if_endif_nesting_and_negation() {
        let text = "\
# Protect your outgoing majordomo exploders
if !/^owner-/
/^(.*)-outgoing@(.*)$/  550 Use ${1}@${2} instead
if /@example\\.com$/
/^a/ inner-a
endif
/^b/ outer-b
endif
!/@/ no-at
/./ any
";
        let t = table(Syntax::Regexp, text);
        assert_eq!(
            t.lookup_str("list-outgoing@x.org").as_deref(),
            Some("550 Use list@x.org instead")
        );
        assert_eq!(
            t.lookup_str("owner-list-outgoing@x.org").as_deref(),
            Some("any")
        );
        assert_eq!(t.lookup_str("a@example.com").as_deref(), Some("inner-a"));
        assert_eq!(t.lookup_str("a@example.org").as_deref(), Some("any"));
        assert_eq!(t.lookup_str("b@example.org").as_deref(), Some("outer-b"));
        assert_eq!(t.lookup_str("plain").as_deref(), Some("no-at"));
    }

    #[test]
    fn substitution_forms_and_unmatched_group() {
        let t = table(Syntax::Pcre, "/^(a)?(b+)c$/ x$1 y$(2)z${2}$$\n");
        assert_eq!(t.lookup_str("bbc").as_deref(), Some("x ybbzbb$"));
        assert_eq!(t.lookup_str("abc").as_deref(), Some("xa ybzb$"));
    }

    #[test]
    fn eight_bit_input_and_byte_escapes() {
        let t = table(Syntax::Pcre, "/^Subject: (.*)\\xE9t\\xE9/ HIT $1\n");
        let f = t.lookup(b"Subject: Bon \xE9t\xE9").unwrap();
        assert_eq!(f.value, b"HIT Bon ".to_vec());
        // `.` matches any single byte, even invalid UTF-8.
        let t = table(Syntax::Regexp, "/^a.b$/ one\n");
        assert!(t.lookup(b"a\xffb").is_some());
    }

    #[test]
    fn dot_matches_newline_unless_toggled_and_multiline() {
        let t = table(
            Syntax::Pcre,
            "/a.b/s no-dotall\n/x.y/ dotall\n/^two$/m multi\n",
        );
        assert_eq!(t.lookup_str("a\nb"), None);
        assert_eq!(t.lookup_str("x\ny").as_deref(), Some("dotall"));
        assert_eq!(t.lookup_str("one\ntwo\nthree").as_deref(), Some("multi"));
        let r = table(Syntax::Regexp, "/a.b/ posix-dot\n");
        assert_eq!(r.lookup_str("a\nb").as_deref(), Some("posix-dot"));
    }

    #[test]
    fn pcre_extended_anchored_ungreedy() {
        let t = table(
            Syntax::Pcre,
            "/ a \\  b # comment/x ext\n/foo/A anch\n/<(.+)>/U lazy $1\n",
        );
        assert_eq!(t.lookup_str("a b").as_deref(), Some("ext"));
        assert_eq!(t.lookup_str("xfoo"), None);
        assert_eq!(t.lookup_str("foox").as_deref(), Some("anch"));
        assert_eq!(t.lookup_str("<a><b>").as_deref(), Some("lazy a"));
    }

    #[test]
    fn continuation_lines_join_the_result() {
        let t = table(Syntax::Regexp, "/^x/ REJECT long\n   text here\n");
        assert_eq!(
            t.lookup_str("x").as_deref(),
            Some("REJECT long   text here")
        );
    }

    #[test]
    fn escaped_delimiter_and_other_delimiters() {
        let t = table(
            Syntax::Regexp,
            "/^a\\/b$/ slash\n~^[[:alnum:]+/]{60,}$~ OK\n",
        );
        assert_eq!(t.lookup_str("a/b").as_deref(), Some("slash"));
        assert_eq!(t.lookup_str(&"A".repeat(60)).as_deref(), Some("OK"));
    }

    #[test]
    fn errors_name_file_line_and_construct() {
        let e = error(Syntax::Pcre, "/ok/ OK\n\n/(a)\\1/ REJECT\n");
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("t.cf:3: "), "{e}");
        assert!(e.message.contains("backreference"), "{e}");
        let e = error(Syntax::Pcre, "/foo(?!bar)/ REJECT\n");
        assert!(e.message.contains("lookahead"), "{e}");
        let e = error(Syntax::Pcre, "/a++/ REJECT\n");
        assert!(e.message.contains("possessive"), "{e}");
        let e = error(Syntax::Regexp, "/(/ REJECT\n");
        assert!(e.message.contains("not valid"), "{e}");
        assert!(!e.message.contains('\n'), "{e}");
        let e = error(Syntax::Regexp, "/(a)/ x $2\n");
        assert!(e.message.contains("out of range"), "{e}");
        let e = error(Syntax::Regexp, "!/(a)/ x $1\n");
        assert!(e.message.contains("negated"), "{e}");
        let e = error(Syntax::Regexp, "if /a/\n/b/ c\n");
        assert_eq!(e.line, 1);
        assert!(e.message.contains("endif"), "{e}");
        let e = error(Syntax::Regexp, "/a/ b\nendif\n");
        assert_eq!(e.line, 2);
    }

    #[test]
    fn empty_table_matches_nothing() {
        let t = table(Syntax::Pcre, "# only a comment\n\n");
        assert_eq!(t.lookup_str("x"), None);
        assert_eq!(t.rules(), 0);
    }

    #[test]
    fn literal_utf8_in_pattern_matches_its_bytes() {
        let t = PatternTable::parse(Syntax::Pcre, "t", "/^Subject: .*café/ HIT\n").unwrap();
        assert_eq!(t.lookup_str("Subject: un café").as_deref(), Some("HIT"));
        assert_eq!(t.lookup_str("SUBJECT: UN CAFé").as_deref(), Some("HIT"));
    }

    #[test]
    fn gnu_word_boundaries_and_posix_classes() {
        let t = PatternTable::parse(
            Syntax::Regexp,
            "t",
            "/\\<viagra\\>/ A\n/^[[:digit:]]+$/ B\n/[[:space:]]x[[:upper:]]/ C\n",
        )
        .unwrap();
        assert_eq!(t.lookup_str("buy viagra now").as_deref(), Some("A"));
        assert_eq!(t.lookup_str("buyviagranow"), None);
        assert_eq!(t.lookup_str("12345").as_deref(), Some("B"));
        // Case-insensitive by default, even for [[:upper:]].
        assert_eq!(t.lookup_str("a xb").as_deref(), Some("C"));
    }

    #[test]
    fn posix_backslash_in_brackets_is_literal() {
        let t = table(
            Syntax::Regexp,
            "/^[\\.]$/ dot-or-backslash\n/^[^\\.]+$/ neither\n",
        );
        assert_eq!(t.lookup_str(".").as_deref(), Some("dot-or-backslash"));
        assert_eq!(t.lookup_str("\\").as_deref(), Some("dot-or-backslash"));
        assert_eq!(t.lookup_str("abc").as_deref(), Some("neither"));
        assert_eq!(t.lookup_str("a\\c"), None);
        // pcre keeps Perl's reading: `[\.]` is a dot only.
        let p = table(Syntax::Pcre, "/^[\\.]$/ dot\n");
        assert_eq!(p.lookup_str("\\"), None);
    }
}
