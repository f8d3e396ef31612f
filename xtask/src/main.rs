//! The one way to build and test mta: `cargo xtask run` and `cargo xtask test`.
//!
//! Plugins are separate guest crates compiled for `wasm32-wasip2`; this task
//! installs that target with rustup when it is missing, builds every guest,
//! and copies the components where the daemon and the tests look for them:
//! `target/plugins/` (built-in plugins, the daemon's `daemon_directory`) and
//! `target/fixtures/` (hostile test plugins).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: cargo xtask <build|run|test|bench> [-- args]
  build   build the mta binary and every plugin
  run     build, then start `mta run` (embedded config: 127.0.0.1:2525, spool in ./spool)
  test    build, then run the whole test suite
  bench   build in release, then run the benchmarks";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.skip_while(|a| a == "--").collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match task.as_str() {
        "build" => {
            build_plugins(&root)?;
            build_host(false)
        }
        "run" => {
            build_plugins(&root)?;
            build_host(false)?;
            let mut cmd = Command::new(target_dir(&root).join("debug/mta"));
            if rest.is_empty() {
                cmd.arg("run");
            }
            cmd.args(&rest);
            run(&mut cmd)
        }
        "test" => {
            ensure_test_peers()?;
            // The host binary is built by `cargo test` itself (its integration
            // tests need it), with the same features as the tests: building it
            // separately first would compile wasmtime twice.
            build_plugins(&root)?;
            let mut cmd = cargo();
            cmd.args(["test", "--workspace", "--no-fail-fast"])
                .args(&rest);
            run(&mut cmd)
        }
        "bench" => {
            build_plugins(&root)?;
            build_host(true)?;
            let mut cmd = cargo();
            cmd.args(["bench", "-p", "mta"]).args(&rest);
            run(&mut cmd)
        }
        _ => bail!("{USAGE}"),
    }
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` when set, else `target/`.
fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => root.join(PathBuf::from(d)),
        _ => root.join("target"),
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Build every guest crate for wasm32-wasip2 and put the components where
/// the daemon (`target/plugins`) and the tests (`target/fixtures`) look.
fn build_plugins(root: &Path) -> Result<()> {
    ensure_wasm_target()?;
    let guests = [("plugins", "plugins"), ("tests/fixtures", "fixtures")];
    let mut crates = Vec::new();
    for (dir, out) in guests {
        for entry in std::fs::read_dir(root.join(dir))? {
            let path = entry?.path();
            if path.join("Cargo.toml").exists() {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                crates.push((name, out));
            }
        }
    }
    crates.sort();
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--target", "wasm32-wasip2"]);
    for (name, _) in &crates {
        cmd.args(["-p", name]);
    }
    run(&mut cmd)?;
    for (name, out) in &crates {
        let built = target_dir(root)
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let dest_dir = target_dir(root).join(out);
        std::fs::create_dir_all(&dest_dir)?;
        let dest = dest_dir.join(format!("{name}.wasm"));
        std::fs::copy(&built, &dest).with_context(|| format!("copying {}", built.display()))?;
    }
    Ok(())
}

/// Build the `mta` binary (debug, or release for benchmarks).
fn build_host(release: bool) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["build", "-p", "mta"]);
    if release {
        cmd.arg("--release");
    }
    run(&mut cmd)
}

/// Install `wasm32-wasip2` with rustup if it is missing.
fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running rustup (needed to add the wasm32-wasip2 target)")?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip2")
    {
        return Ok(());
    }
    eprintln!("xtask: installing the wasm32-wasip2 target with rustup");
    run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"]))
}

/// The end-to-end tests talk to real peers from Debian's packages: Postfix's
/// smtp-source and smtp-sink, swaks, and Dovecot's auth server (the SMTP AUTH
/// tests). Install them when missing (as root),
/// or say exactly what is needed.
fn ensure_test_peers() -> Result<()> {
    let have = |tool: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    if ["smtp-source", "smtp-sink", "swaks", "dovecot"]
        .iter()
        .all(|t| have(t))
    {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    if !root {
        bail!("the tests need smtp-source, smtp-sink, swaks and dovecot: apt-get install postfix postfix-pcre swaks dovecot-core");
    }
    eprintln!(
        "xtask: installing the test peers (postfix, postfix-pcre, swaks, dovecot-core) with apt-get"
    );
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args([
            "install",
            "-y",
            "-qq",
            "postfix",
            "postfix-pcre",
            "swaks",
            "dovecot-core",
        ]))
}
