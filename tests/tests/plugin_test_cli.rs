//! `mta plugin test FILE.wasm --transcript … --eml …` is deterministic:
//! the same inputs give byte-identical output on every run, so a plugin
//! author can diff it (issue #2). Needs `cargo xtask build`.

use mta_e2e::mta_bin;
use mta_e2e::platform_util::wasm;
use std::process::Command;

const TRANSCRIPT: &str = "client 192.0.2.1 mail.example.org\nhelo mail.example.org\n\
mail <a@example.org>\nrcpt <b@example.net>\nrcpt <c@example.net>\ndata\n";
const EML: &str = "From: a@example.org\r\nTo: b@example.net\r\n\
Subject: win the lottery\r\nMessage-ID: <1@example.org>\r\n\r\nhello\r\n";

/// Run `mta plugin test` on `plugin` with `extra` arguments; its stdout.
fn run(plugin: &str, extra: &[&str]) -> String {
    let dir = mta_e2e::scratch(&format!("plugin-test-{plugin}"));
    std::fs::write(dir.join("t.txt"), TRANSCRIPT).unwrap();
    std::fs::write(dir.join("m.eml"), EML).unwrap();
    let out = Command::new(mta_bin())
        .args(["plugin", "test"])
        .arg(wasm("plugins", plugin))
        .arg("--transcript")
        .arg(dir.join("t.txt"))
        .arg("--eml")
        .arg(dir.join("m.eml"))
        .args(extra)
        .output()
        .expect("mta plugin test");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "mta plugin test {plugin} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn subject_tagger_output_is_deterministic() {
    let args = ["--set", "subject_pattern=lottery|viagra"];
    let first = run("subject-tagger", &args);
    let second = run("subject-tagger", &args);
    assert_eq!(first, second);
    assert!(
        first.contains("REPLACE Subject: [SPAM] win the lottery"),
        "{first}"
    );
}

#[test]
fn greylist_output_is_deterministic() {
    let args = ["--grant", "kv", "--grant", "clock"];
    let first = run("greylist", &args);
    let second = run("greylist", &args);
    assert_eq!(first, second);
    assert!(
        first.contains("rcpt <b@example.net>: DEFER 450 4.2.0 Greylisted"),
        "{first}"
    );
    assert!(
        first.contains("rcpt <c@example.net>: DEFER 450 4.2.0"),
        "{first}"
    );
}
