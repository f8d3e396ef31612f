//! The registry's IMPLEMENTED list must match the code: every Postfix
//! parameter name the host or a built-in plugin reads is marked implemented
//! (so `mta check` does not warn about a setting that works), and every name
//! marked implemented is read somewhere (so `mta check` does not stay silent
//! about a setting that does nothing).
//!
//! "Read" means: the name appears as a string literal in non-test source
//! (`get("…")`, `get_list`, `get_bool`, `get_time`, `get_u64`, smtpd's
//! `get_or`, the delivery helpers, each plugin's PARAMETERS list).

use mta::config::registry::{lookup, Support, IMPLEMENTED};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Names that are Postfix parameters but are not settings the code reads.
const NOT_SETTINGS: &[(&str, &str)] = &[
    // Filled in at run time (`$process_id`), never set by the user.
    ("process_id", "computed"),
];

/// Marked implemented although no code reads them by name, and why.
const IMPLEMENTED_WITHOUT_READ: &[(&str, &str)] = &[
    (
        "compatibility_level",
        "accepted: mta always has the current behaviour",
    ),
    (
        "config_directory",
        "the -c DIR option and $config_directory",
    ),
    (
        "virtual_maps",
        "reaches the code through virtual_alias_maps = $virtual_maps",
    ),
    (
        "smtpd_sasl_type",
        "checked when the config loads: only dovecot is accepted, the one client mta has",
    ),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().to_string();
        if p.is_dir() {
            if name != "tests" {
                rust_files(&p, out);
            }
        } else if name.ends_with(".rs") && name != "tests.rs" && name != "registry.rs" {
            out.push(p);
        }
    }
}

/// Every `"lower_case_name"` literal in the non-test code, with a file that
/// has it.
fn literals() -> BTreeMap<String, PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for e in std::fs::read_dir(root.join("../plugins"))
        .expect("plugins dir")
        .flatten()
    {
        rust_files(&e.path().join("src"), &mut files);
    }
    assert!(files.len() > 20, "found only {} source files", files.len());
    let mut out = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read source");
        // Unit tests at the end of a file name parameters they do not read.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, piece) in code.split('"').enumerate() {
            let is_name = !piece.is_empty()
                && piece
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if i % 2 == 1 && is_name {
                out.entry(piece.to_string()).or_insert_with(|| f.clone());
            }
        }
    }
    out
}

#[test]
fn every_parameter_the_code_reads_is_marked_implemented() {
    let lits = literals();
    let wrong: Vec<String> = lits
        .iter()
        .filter(|(n, _)| !NOT_SETTINGS.iter().any(|(x, _)| x == n))
        .filter_map(|(n, f)| match lookup(n) {
            Some(p) if p.support == Support::PostfixOnly => {
                Some(format!("{n} (read in {})", f.display()))
            }
            _ => None,
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "read by the code but marked \"Postfix, not implemented\": {wrong:#?}"
    );
    // The scan does see the parameters it should.
    for n in [
        "smtpd_relay_restrictions",
        "queue_run_delay",
        "rbl_score_sites",
    ] {
        assert!(lits.contains_key(n), "{n} not found in the sources");
    }
}

#[test]
fn every_parameter_marked_implemented_is_read() {
    let lits = literals();
    let idle: Vec<&str> = IMPLEMENTED
        .iter()
        .copied()
        .filter(|n| !lits.contains_key(*n))
        .filter(|n| !IMPLEMENTED_WITHOUT_READ.iter().any(|(x, _)| x == n))
        .collect();
    assert!(
        idle.is_empty(),
        "marked implemented but no code reads them: {idle:?}"
    );
    for n in ["append_dot_mydomain", "fallback_relay"] {
        assert_eq!(
            lookup(n).map(|p| p.support),
            Some(Support::PostfixOnly),
            "{n} does nothing in mta: it must draw the warning"
        );
    }
}
