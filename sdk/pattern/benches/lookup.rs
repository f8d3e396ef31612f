//! How fast a header_checks-sized table answers, with and without the
//! RegexSet prefilter. Run: `cargo bench -p mta-pattern`. Prints figures;
//! asserts nothing about time (machines differ).

use mta_pattern::{PatternTable, Syntax};
use std::time::Instant;

fn main() {
    let rules = 200;
    let mut text = String::new();
    for i in 0..rules {
        text.push_str(&format!(
            "/^Subject:.*\\b(spamword{i})\\b/ REJECT rule {i}: $1\n"
        ));
    }
    text.push_str("/^From: .*@(lastrule\\.example)$/ WARN $1\n");

    let t0 = Instant::now();
    let table = PatternTable::parse(Syntax::Pcre, "bench", &text).expect("valid table");
    println!("compile {} rules: {:?}", rules + 1, t0.elapsed());

    let miss = b"Subject: a perfectly ordinary subject line about lunch plans";
    let hit_last = b"From: x@lastrule.example";
    let n = 20_000;
    for (label, input) in [
        ("no rule matches", &miss[..]),
        ("last rule matches", &hit_last[..]),
    ] {
        let t = Instant::now();
        let mut found = 0;
        for _ in 0..n {
            found += usize::from(table.lookup(input).is_some());
        }
        let per = t.elapsed() / n;
        println!("lookup, {label}: {per:?} per line ({found} hits)");
    }

    // The naive alternative: try each rule's regex in turn.
    let naive: Vec<regex::bytes::Regex> = (0..rules)
        .map(|i| {
            regex::bytes::RegexBuilder::new(&format!("(?is)^Subject:.*\\b(spamword{i})\\b"))
                .unicode(false)
                .build()
                .expect("valid")
        })
        .collect();
    let t = Instant::now();
    let mut found = 0;
    for _ in 0..n / 10 {
        found += usize::from(naive.iter().any(|r| r.is_match(miss)));
    }
    println!(
        "naive sequential, no rule matches: {:?} per line ({found} hits)",
        t.elapsed() / (n / 10)
    );
}
