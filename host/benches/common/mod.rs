//! What the sandbox benches share: where the fixtures are, how a figure is
//! printed, and the environment knobs for profiling one section.

use std::path::PathBuf;
use std::time::Duration;

/// `$MTA_FIXTURES`, or `fixtures/` in the target directory (where `cargo
/// xtask build` puts the fixture components).
pub fn fixtures_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MTA_FIXTURES") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("bench executable path");
            exe.ancestors()
                .nth(3)
                .expect("target directory")
                .to_path_buf()
        });
    target.join("fixtures")
}

pub fn report(what: &str, n: u32, total: Duration) {
    let per = total.as_nanos() as f64 / f64::from(n);
    if per >= 10_000.0 {
        println!("{what:<58} {:>10.1} us/op  ({n} ops)", per / 1000.0);
    } else {
        println!("{what:<58} {:>10.0} ns/op  ({n} ops)", per);
    }
}

/// Whether the section titled `what` runs: all of them, unless
/// `MTA_BENCH_ONLY` names a word of the titles (e.g. `connect` to profile
/// one hook alone with `perf record`).
pub fn wanted(what: &str) -> bool {
    std::env::var("MTA_BENCH_ONLY").map_or(true, |w| what.contains(&w))
}

/// Calls per hook section: 200 000, or `MTA_BENCH_CALLS`.
pub fn calls() -> u32 {
    std::env::var("MTA_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000)
}
