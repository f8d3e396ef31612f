//! sdk/README.md followed literally: the test takes the README's own code
//! blocks (Cargo.toml lines, the filter, its unit test, the transcript, the
//! expected `mta plugin test` output and the sidecar), does what the prose
//! says in a fresh crate outside the workspace (`cargo new`, `cargo test`,
//! the wasm build, `mta plugin test`), then drops the component and the
//! sidecar into a running daemon and sends mail from a blocked domain.
//! If the README drifts from the SDK, this fails.

use mta_e2e::platform_util::{main_cf, target_dir};
use mta_e2e::{mta_bin, scratch, Daemon, Smtp};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fenced blocks of the README, in order, as (info string, text).
fn blocks(readme: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, String)> = None;
    for line in readme.lines() {
        if let Some(info) = line.strip_prefix("```") {
            match cur.take() {
                Some(b) => out.push(b),
                None => cur = Some((info.trim().to_string(), String::new())),
            }
        } else if let Some((_, text)) = cur.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

/// The first block with `info` that contains `needle`.
fn block<'a>(all: &'a [(String, String)], info: &str, needle: &str) -> &'a str {
    all.iter()
        .find(|(i, t)| i == info && t.contains(needle))
        .map(|(_, t)| t.as_str())
        .unwrap_or_else(|| panic!("sdk/README.md has no ```{info} block with {needle:?}"))
}

/// Run a command in `dir`; panic with its output when it fails.
fn sh(dir: &Path, cmd: &mut Command) -> String {
    let out = cmd.current_dir(dir).output().expect("spawn");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn cargo(args: &[&str], target: &Path) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.args(args)
        .env("CARGO_TARGET_DIR", target)
        .env("CARGO_NET_OFFLINE", "true");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_walkthrough_works_as_written() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf();
    let readme = std::fs::read_to_string(repo.join("sdk/README.md")).expect("sdk/README.md");
    let all = blocks(&readme);
    let work = scratch("sdk-walkthrough");
    // A target dir that survives runs, so the second run is quick; outside
    // the test's own target lock.
    let target = target_dir().join("sdk-walkthrough");

    // 1. A new crate, the README's Cargo.toml lines with the real sdk path.
    sh(
        &work,
        &mut cargo(&["new", "--lib", "domain-block"], &target),
    );
    let krate = work.join("domain-block");
    let toml_lines = block(&all, "toml", "mta-sdk = { path")
        .replace("/path/to/mta/sdk", &repo.join("sdk").display().to_string());
    let mut manifest = std::fs::read_to_string(krate.join("Cargo.toml")).unwrap();
    assert!(
        manifest.trim_end().ends_with("[dependencies]"),
        "the README says cargo new leaves [dependencies] last:\n{manifest}"
    );
    manifest.push_str(&toml_lines);
    std::fs::write(krate.join("Cargo.toml"), manifest).unwrap();

    // 2 and 3. The filter, then its unit test appended; `cargo test`.
    let filter = block(&all, "rust", "export_plugin!(DomainBlock)");
    let unit = block(&all, "rust", "mod tests");
    std::fs::write(krate.join("src/lib.rs"), format!("{filter}\n{unit}")).unwrap();
    let out = sh(&krate, &mut cargo(&["test"], &target));
    assert!(out.contains("rejects_blocked_domains_only ... ok"), "{out}");

    // 4. The component.
    sh(
        &krate,
        &mut cargo(
            &["build", "--release", "--target", "wasm32-wasip2"],
            &target,
        ),
    );
    let wasm = target.join("wasm32-wasip2/release/domain_block.wasm");
    assert!(wasm.exists(), "{} not built", wasm.display());

    // 5. `mta plugin test` prints what the README shows.
    std::fs::write(krate.join("t.txt"), block(&all, "text", "client 192.0.2.1")).unwrap();
    let shown = block(&all, "text", "plugin domain-block version");
    let out = sh(
        &krate,
        Command::new(mta_bin())
            .args(["plugin", "test"])
            .arg(&wasm)
            .args([
                "--transcript",
                "t.txt",
                "--set",
                "blocked_domains=spam.example",
                "--grant",
                "log",
            ]),
    );
    assert_eq!(out.trim(), shown.trim(), "README output differs");

    // 6. Install: the component and the README's sidecar in plugin_directory.
    let install = block(&all, "sh", "domain-block.toml");
    let sidecar = install
        .split("<<'EOF'\n")
        .nth(1)
        .and_then(|s| s.split("\nEOF").next())
        .expect("sidecar heredoc in the install block");
    let plugins = work.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(&wasm, plugins.join("domain-block.wasm")).unwrap();
    std::fs::write(plugins.join("domain-block.toml"), format!("{sidecar}\n")).unwrap();
    let d = Daemon::start("sdk-daemon", &main_cf(&plugins, 1, ""), &[]);
    let list = sh(
        &work,
        Command::new(mta_bin())
            .args(["plugin", "list", "-c"])
            .arg(&d.dir),
    );
    assert!(list.contains("domain-block"), "{list}");
    let (mut c, banner) = Smtp::connect(d.addr(), "127.0.0.1").await;
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO client.test").await.starts_with("250"));
    let r = c.cmd("MAIL FROM:<joe@junk.example>").await;
    assert!(r.starts_with("550 5.7.1"), "{r}");
    assert!(r.contains("Sender domain blocked"), "{r}");
    let r = c.cmd("MAIL FROM:<ann@example.org>").await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for("blocked sender domain junk.example");
}
