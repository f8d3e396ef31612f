//! `mta plugin test` end to end: the real binary replays a transcript through
//! a real component, prints one deterministic line per hook, and exits
//! non-zero when the plugin faults; refused components name what they wanted.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    let dir = match std::env::var_os("MTA_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                let exe = std::env::current_exe().expect("test executable path");
                exe.ancestors()
                    .nth(3)
                    .expect("target directory")
                    .to_path_buf()
            })
            .join("fixtures"),
    };
    let f = dir.join(format!("{name}.wasm"));
    assert!(
        f.exists(),
        "fixture {} is not built: run `cargo xtask build`",
        f.display()
    );
    f
}

fn mta(args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_mta"))
        .args(args)
        .output()
        .expect("run mta");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn plugin_test_replays_a_transcript_and_reports_faults() {
    let dir = std::env::temp_dir().join(format!("mta-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let transcript = dir.join("t.txt");
    std::fs::write(
        &transcript,
        "client 192.0.2.9 mx.example\nhelo mx.example\nmail <trap@x.org>\nrcpt <bob@y.com>\ndata\n",
    )
    .expect("transcript");
    let t = transcript.to_str().expect("utf-8 path");

    let trapper = fixture("trapper");
    let (out, err, code) = mta(&[
        "plugin",
        "test",
        trapper.to_str().expect("path"),
        "--transcript",
        t,
    ]);
    assert_eq!(code, 2, "a fault exits 2; stderr: {err}");
    assert_eq!(
        out,
        "plugin trapper version 1.0.0\n\
         mail <trap@x.org>: FAULT trap: wasm trap: wasm `unreachable` instruction executed\n\
         rcpt <bob@y.com>: REJECT trapper answered bob@y.com\n"
    );
    // Deterministic: a second run prints the same.
    assert_eq!(
        mta(&[
            "plugin",
            "test",
            trapper.to_str().expect("path"),
            "--transcript",
            t
        ])
        .0,
        out
    );

    let looper = fixture("looper");
    let (out, _, code) = mta(&[
        "plugin",
        "test",
        looper.to_str().expect("path"),
        "--transcript",
        t,
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "plugin looper version 1.0.0\nrcpt <bob@y.com>: REJECT looper answered bob@y.com\n"
    );

    let ungranted = fixture("ungranted");
    let (_, err, code) = mta(&["plugin", "test", ungranted.to_str().expect("path")]);
    assert_ne!(code, 0);
    assert!(
        err.contains("plugin ungranted: wants capability dns"),
        "{err}"
    );
    let (out, _, code) = mta(&[
        "plugin",
        "test",
        ungranted.to_str().expect("path"),
        "--grant",
        "dns",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "plugin ungranted version 1.0.0\nconnect 192.0.2.1: DUNNO\n"
    );

    let future = fixture("future-wit");
    let (_, err, code) = mta(&["plugin", "test", future.to_str().expect("path")]);
    assert_ne!(code, 0);
    assert!(
        err.contains(
            "plugin future-wit: built for mta:filter@0.9.0; this host offers mta:filter@0.2.0, mta:filter@0.1.0"
        ),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
