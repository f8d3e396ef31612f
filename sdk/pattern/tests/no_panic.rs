//! Table text is operator input, but a typo must give an error, never a
//! panic: throw many random near-valid tables at the parser and matcher.

use mta_pattern::{PatternTable, Syntax};

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "/",
    "!",
    "if ",
    "endif",
    "\n",
    "\n  ",
    " ",
    "a",
    "é",
    "\\",
    "\\1",
    "(",
    ")",
    "(?",
    "[",
    "]",
    "[:alpha:]",
    "{",
    "}",
    "{2,",
    "*",
    "+",
    "?",
    "$",
    "$1",
    "${1}",
    "$(",
    "#",
    "i",
    "x",
    "s",
    "A",
    "U",
    "OK",
    "REJECT",
    "^",
    ".",
    "|",
    "~",
    ":",
    "\r",
    "\t",
    "\u{0}",
];

#[test]
fn random_tables_never_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut loaded = 0;
    for round in 0..20_000 {
        let mut text = String::new();
        for _ in 0..(rng.next() % 24) {
            text.push_str(rng.pick(PIECES));
        }
        let syntax = if round % 2 == 0 {
            Syntax::Regexp
        } else {
            Syntax::Pcre
        };
        if let Ok(t) = PatternTable::parse(syntax, "fuzz", &text) {
            loaded += 1;
            for input in [&b""[..], b"a", b"OK a\xff\n$1", text.as_bytes()] {
                let _ = t.lookup(input);
            }
        }
    }
    // The generator must reach the matcher, not only the error paths.
    assert!(loaded > 100, "only {loaded} random tables loaded");
}
