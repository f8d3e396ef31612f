//! Postfix `regexp:` (regexp_table(5)) and `pcre:` (pcre_table(5)) tables.
//!
//! One implementation shared by the host's lookup tables and by guest plugins
//! (header/body checks compile their rules once in `init`), so a pattern means
//! the same thing wherever it is matched. It has no host dependencies and
//! builds for `wasm32-wasip2`.
//!
//! # Syntax (as Postfix)
//! - `/pattern/flags result` — first matching rule wins; `!/pattern/flags result`
//!   matches when the pattern does not. Any non-alphanumeric, non-space
//!   character may delimit the pattern; a backslash escapes it inside.
//! - `if /pattern/flags` … `endif` (and `if !/pattern/`), nesting allowed.
//! - A line starting with whitespace continues the previous logical line;
//!   blank lines and lines whose first non-space character is `#` are ignored.
//! - `$1`, `${1}`, `$(1)` in a result insert a capture group; `$$` is a `$`.
//!   Substitution is refused with a negated pattern (it has no match).
//!
//! # Flags and how they map onto the `regex` crate
//! Matching is on bytes (`regex::bytes`) with Unicode off, like Postfix with
//! PCRE/POSIX in the C locale: mail is 8-bit, `.` matches one byte, `\xE9`
//! matches the byte 0xE9, `\w` and case folding are ASCII.
//!
//! | flag | table | Postfix default | meaning | regex crate |
//! |---|---|---|---|---|
//! | `i` | both | on (case-insensitive) | toggle case sensitivity | `(?i)` |
//! | `m` | both | off | `^`/`$` also at newlines | `(?m)` |
//! | `s` | pcre | on | `.` matches newline | `(?s)` |
//! | `x` | pcre | off | ignore whitespace, `#` comments | `(?x)` |
//! | `x` | regexp | on | POSIX *extended* syntax; off = basic syntax | off is refused |
//! | `A` | pcre | off | anchored at start | `\A(?:…)` |
//! | `E` | pcre | off | `$` only at the very end | always so in `regex` (see below) |
//! | `U` | pcre | off | ungreedy | `(?U)` |
//! | `X` | pcre | off | unknown escapes are errors | always so in `regex` |
//!
//! In regexp tables `.` also matches newline (POSIX without `REG_NEWLINE`), so
//! `(?s)` is always on there.
//!
//! Known differences that cannot mismatch silently in practice: without `E`,
//! PCRE's `$` also matches before a final newline; inputs handed to tables
//! (addresses, header lines without their terminator, body lines) carry none.
//! For `regexp:` (POSIX), whether a rule matches is the same, but POSIX picks
//! the leftmost-*longest* alternative where `regex` picks the leftmost-first,
//! which can change what `$n` captures in `(a|ab)`-style alternations; and a
//! backslash inside a POSIX bracket expression is literal (`[\.]` is `\` or
//! `.`), which mta reproduces by rewriting bracket expressions. GNU's `\<`, `\>`, `\b`,
//! `\w` and `[[:class:]]` work as in glibc.
//!
//! # Refused constructs
//! The `regex` crate guarantees linear-time matching and so lacks some PCRE
//! features. Rather than matching something else, loading fails naming the
//! file, line and construct: backreferences (`\1`, `\g{1}`, `\k<n>`),
//! lookahead/lookbehind (`(?=`, `(?!`, `(?<=`, `(?<!`), atomic groups (`(?>`),
//! possessive quantifiers (`a*+`, `a++`, `a?+`, `a{2}+`), recursion and
//! subroutine calls (`(?R)`, `(?1)`, `(?&n)`, `(?P>n)`), conditionals (`(?(`),
//! `\C`, `\K`, `\G`, `\Z`, `\R`, `\X`, `\h`, `\H`, `\V`, `\N`, `\Q…\E`, `\c`,
//! `\e`, octal escapes (`\0`, `\012`), `\v` (a vertical-whitespace class in
//! PCRE but a single character in `regex`), comments `(?#`, branch reset
//! `(?|`, callouts `(?C`, `(?'name'` groups and `(*VERB)`s. Any other pattern
//! the `regex` crate rejects is reported with its message.

mod parse;
mod posix;
mod refuse;
mod subst;
mod table;

pub use table::{Found, PatternTable};

use std::fmt;

/// Which Postfix table type the text is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `regexp:` — POSIX extended regular expressions.
    Regexp,
    /// `pcre:` — Perl-compatible regular expressions.
    Pcre,
}

impl Syntax {
    /// The Postfix table type name.
    pub fn type_name(self) -> &'static str {
        match self {
            Syntax::Regexp => "regexp",
            Syntax::Pcre => "pcre",
        }
    }
}

/// A table that cannot be loaded, with the place and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The file (or table name) the text came from.
    pub file: String,
    /// 1-based line of the logical line's start.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for PatternError {}
