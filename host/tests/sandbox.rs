//! Hostile plugins cost only their own call: the failure action comes back
//! within the time limit, the other plugins and the next call keep working,
//! the log names the plugin; ungranted capabilities and unserved WIT versions
//! are refused at load; the breaker quarantines a plugin that keeps faulting.
//!
//! The fixtures are real components built by `cargo xtask build` (into
//! `$CARGO_TARGET_DIR/fixtures`); set `MTA_FIXTURES` to use another folder.

use mta::config::Config;
use mta::sandbox::Sandbox;
use mta::stages::{
    Address, Context, Decision, Envelope, Reply, Session, Stage, StageRunner, Verdict,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TIME_LIMIT: Duration = Duration::from_millis(300);
/// Slack for scheduling on a busy 2-core machine; far below the 30s stage cap.
const MARGIN: Duration = Duration::from_millis(1500);

fn fixtures_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("MTA_FIXTURES") {
        return PathBuf::from(d);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // target/debug/deps/sandbox-HASH -> target
            let exe = std::env::current_exe().expect("test executable path");
            exe.ancestors()
                .nth(3)
                .expect("target directory")
                .to_path_buf()
        });
    target.join("fixtures")
}

fn fixture(name: &str) -> PathBuf {
    let f = fixtures_dir().join(format!("{name}.wasm"));
    assert!(
        f.exists(),
        "fixture {} is not built: run `cargo xtask build` (or set MTA_FIXTURES to a folder holding {name}.wasm)",
        f.display()
    );
    f
}

/// A captured log, shared with a tracing subscriber.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> (Log, tracing::subscriber::DefaultGuard) {
    let log = Log::default();
    let w = log.clone();
    let sub = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .finish();
    (log, tracing::subscriber::set_default(sub))
}

struct Setup {
    _dir: TempDir,
    dir: PathBuf,
    config: Config,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A plugin directory holding `plugins` (name, sidecar text) and a config
/// pointing at it, with a short time limit.
fn setup(test: &str, plugins: &[(&str, &str)], extra: &[(&str, &str)]) -> Setup {
    let dir = std::env::temp_dir().join(format!("mta-sandbox-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plugdir = dir.join("plugins");
    std::fs::create_dir_all(&plugdir).expect("plugin dir");
    for (name, sidecar) in plugins {
        std::fs::copy(fixture(name), plugdir.join(format!("{name}.wasm"))).expect("copy fixture");
        if !sidecar.is_empty() {
            std::fs::write(plugdir.join(format!("{name}.toml")), sidecar).expect("sidecar");
        }
    }
    let mut config = Config::default();
    let set = |c: &mut Config, k: &str, v: String| {
        c.explicit.insert(k.to_string(), v);
    };
    set(
        &mut config,
        "plugin_directory",
        plugdir.display().to_string(),
    );
    set(
        &mut config,
        "builtin_plugin_directory",
        dir.join("builtin").display().to_string(),
    );
    set(
        &mut config,
        "queue_directory",
        dir.join("queue").display().to_string(),
    );
    set(
        &mut config,
        "plugin_cache_directory",
        dir.join("cache").display().to_string(),
    );
    set(
        &mut config,
        "plugin_time_limit",
        format!("{}ms", TIME_LIMIT.as_millis()),
    );
    set(&mut config, "plugin_memory_limit", "32m".into());
    for (k, v) in extra {
        set(&mut config, k, v.to_string());
    }
    Setup {
        _dir: TempDir(dir.clone()),
        dir,
        config,
    }
}

async fn runner(s: &Setup) -> anyhow::Result<(Sandbox, StageRunner)> {
    let sandbox = Sandbox::new(&s.config)?;
    let tables = Arc::new(mta::tables::Tables::new(&s.config));
    let resolver = mta::rewrite::Resolver::new(&s.config);
    let dns = mta::dns::Dns::new(&s.config)?;
    let r = StageRunner::load_drop_ins(&sandbox, &s.config, &tables, &resolver, &dns).await?;
    Ok((sandbox, r))
}

fn ctx(stage: Stage, helo: &str, sender: &str) -> Context {
    Context {
        stage,
        session: Session {
            id: "1".into(),
            client_address: "192.0.2.7".into(),
            client_name: "unknown".into(),
            reverse_client_name: "unknown".into(),
            helo_name: Some(helo.into()),
            protocol: "ESMTP".into(),
            ..Session::default()
        },
        envelope: Envelope {
            sender: Some(Address {
                address: sender.into(),
                params: Vec::new(),
            }),
            ..Envelope::default()
        },
    }
}

fn addr(a: &str) -> Address {
    Address {
        address: a.into(),
        params: Vec::new(),
    }
}

fn tempfail() -> Verdict {
    Verdict::Defer(Reply {
        code: Some(451),
        enhanced: Some("4.3.0".into()),
        text: Some("Temporary filter failure, try again later".into()),
    })
}

fn answered(plugin: &str, what: &str) -> Decision {
    Decision {
        verdict: Verdict::Reject(Reply {
            code: None,
            enhanced: None,
            text: Some(format!("{plugin} answered {what}")),
        }),
        plugin: Some(plugin.into()),
    }
}

fn tempfail_from(plugin: &str) -> Decision {
    Decision {
        verdict: tempfail(),
        plugin: Some(plugin.into()),
    }
}

#[tokio::test]
async fn looper_costs_only_its_own_call() {
    let (log, _g) = capture();
    let s = setup(
        "looper",
        &[("looper", "order = 1\n"), ("trapper", "order = 2\n")],
        &[],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    assert_eq!(
        r.plugins()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["looper", "trapper"]
    );

    let c = ctx(Stage::Rcpt, "mx.example", "a@example.org");
    let t = Instant::now();
    let d = r.rcpt(&c, &addr("loop@example.com")).await;
    let took = t.elapsed();
    assert_eq!(d, tempfail_from("looper"));
    assert!(
        took >= TIME_LIMIT,
        "stopped before its time limit: {took:?}"
    );
    assert!(
        took < TIME_LIMIT + MARGIN,
        "failure action came after {took:?}"
    );
    assert!(
        log.text()
            .contains("plugin looper version 1.0.0: fault at rcpt: timeout"),
        "log does not name the plugin:\n{}",
        log.text()
    );
    // The next call gets a fresh instance and an answer.
    assert_eq!(
        r.rcpt(&c, &addr("bob@example.com")).await,
        answered("looper", "bob@example.com")
    );
    // Another plugin of the same runner still answers.
    let m = ctx(Stage::Mail, "mx.example", "ok@example.org");
    assert_eq!(r.check(&m).await, answered("trapper", "ok@example.org"));
}

#[tokio::test]
async fn a_dunno_failure_action_lets_the_next_plugin_decide() {
    let (log, _g) = capture();
    let s = setup(
        "dunno",
        &[
            ("looper", "order = 1\nfailure_action = \"dunno\"\n"),
            ("trapper", "order = 2\n"),
        ],
        &[],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    let c = ctx(Stage::Rcpt, "mx.example", "a@example.org");
    let t = Instant::now();
    let d = r.rcpt(&c, &addr("loop@example.com")).await;
    assert!(t.elapsed() < TIME_LIMIT + MARGIN);
    assert_eq!(d, answered("trapper", "loop@example.com"));
    assert!(log
        .text()
        .contains("plugin looper version 1.0.0: fault at rcpt: timeout"));
}

#[tokio::test]
async fn trapper_costs_only_its_own_call() {
    let (log, _g) = capture();
    let s = setup("trapper", &[("trapper", ""), ("looper", "")], &[]);
    let (_sb, r) = runner(&s).await.expect("load");
    let t = Instant::now();
    let d = r
        .check(&ctx(Stage::Mail, "mx.example", "trap@example.org"))
        .await;
    assert!(t.elapsed() < TIME_LIMIT + MARGIN);
    assert_eq!(d, tempfail_from("trapper"));
    let text = log.text();
    assert!(
        text.contains("plugin trapper version 1.0.0: fault at mail: trap: "),
        "log:\n{text}"
    );
    // The guest's stderr (its panic message) reaches the log, tagged.
    assert!(
        text.contains("plugin trapper stderr: ")
            && text.contains("deliberate panic for trap@example.org"),
        "log:\n{text}"
    );
    assert_eq!(
        r.check(&ctx(Stage::Mail, "mx.example", "ok@example.org"))
            .await,
        answered("trapper", "ok@example.org")
    );
    let c = ctx(Stage::Rcpt, "mx.example", "ok@example.org");
    // Drop-ins of equal order run by name: looper answers rcpt before trapper.
    assert_eq!(
        r.rcpt(&c, &addr("x@example.com")).await,
        answered("looper", "x@example.com")
    );
}

#[tokio::test]
async fn membomb_costs_only_its_own_call() {
    let (log, _g) = capture();
    let s = setup("membomb", &[("membomb", ""), ("trapper", "")], &[]);
    let (_sb, r) = runner(&s).await.expect("load");
    let t = Instant::now();
    let d = r.check(&ctx(Stage::Helo, "bomb.example", "")).await;
    assert!(t.elapsed() < TIME_LIMIT + MARGIN, "took {:?}", t.elapsed());
    assert_eq!(d, tempfail_from("membomb"));
    let text = log.text();
    assert!(
        text.contains("plugin membomb version 1.0.0: fault at helo: out of memory"),
        "log:\n{text}"
    );
    assert_eq!(
        r.check(&ctx(Stage::Helo, "mx.example", "")).await,
        answered("membomb", "mx.example")
    );
    assert_eq!(
        r.check(&ctx(Stage::Mail, "mx.example", "ok@x.org")).await,
        answered("trapper", "ok@x.org")
    );
}

#[tokio::test]
async fn ungranted_capability_is_refused_at_load() {
    let (log, _g) = capture();
    let s = setup("ungranted", &[("ungranted", ""), ("trapper", "")], &[]);
    let (_sb, r) = runner(&s).await.expect("non-strict load goes on");
    assert_eq!(
        r.plugins()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["trapper"]
    );
    let why = r.refused().join("\n");
    for needle in [
        "plugin ungranted",
        "capability dns",
        "mta:filter/dns@0.2.0",
        "not granted",
        "granted: log",
    ] {
        assert!(why.contains(needle), "refusal lacks {needle:?}: {why}");
    }
    assert!(log.text().contains("plugin ungranted"));

    let strict = setup(
        "ungranted-strict",
        &[("ungranted", ""), ("trapper", "")],
        &[("plugin_strict_loading", "yes")],
    );
    let err = runner(&strict)
        .await
        .expect_err("strict mode refuses to start");
    assert!(format!("{err:#}").contains("capability dns"), "{err:#}");

    // Granted in its sidecar, the same component loads.
    let granted = setup(
        "ungranted-granted",
        &[(
            "ungranted",
            "capabilities = [\"dns\"]\ndns_zones = [\"zen.example\"]\n",
        )],
        &[],
    );
    let (_sb, r) = runner(&granted).await.expect("load");
    assert_eq!(r.plugins().len(), 1, "refused: {:?}", r.refused());
}

#[tokio::test]
async fn future_wit_version_is_refused_at_load() {
    let s = setup("future", &[("future-wit", ""), ("looper", "")], &[]);
    let (_sb, r) = runner(&s).await.expect("non-strict load goes on");
    assert_eq!(
        r.plugins()
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>(),
        ["looper"]
    );
    let why = r.refused().join("\n");
    for needle in [
        "plugin future-wit",
        "mta:filter@0.9.0",
        "offers mta:filter@0.2.0, mta:filter@0.1.0",
    ] {
        assert!(why.contains(needle), "refusal lacks {needle:?}: {why}");
    }
}

#[tokio::test]
async fn breaker_quarantines_then_retries() {
    let (log, _g) = capture();
    let s = setup(
        "breaker",
        &[("trapper", "")],
        &[
            ("plugin_failure_limit", "2"),
            ("plugin_quarantine_time", "400ms"),
        ],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    let trap = ctx(Stage::Mail, "mx.example", "trap@example.org");
    let ok = ctx(Stage::Mail, "mx.example", "ok@example.org");
    assert_eq!(r.check(&trap).await, tempfail_from("trapper"));
    assert_eq!(r.check(&trap).await, tempfail_from("trapper"));
    assert!(
        log.text()
            .contains("plugin trapper version 1.0.0: quarantined"),
        "log:\n{}",
        log.text()
    );
    // Quarantined: even a harmless call gets the failure action, uncalled.
    assert_eq!(r.check(&ok).await, tempfail_from("trapper"));
    let faults = log.text().matches("fault at mail").count();
    assert_eq!(faults, 2, "a quarantined plugin was called");
    // After the backoff the plugin gets a trial call; a fault there
    // quarantines it again at once.
    let p = r.plugins()[0].clone();
    wait_active(&p).await;
    assert_eq!(r.check(&trap).await, tempfail_from("trapper"));
    assert!(matches!(
        p.health(),
        mta::sandbox::plugin::Health::Quarantined { .. }
    ));
    // A trial call that succeeds closes the breaker.
    wait_active(&p).await;
    assert_eq!(r.check(&ok).await, answered("trapper", "ok@example.org"));
    assert_eq!(r.check(&trap).await, tempfail_from("trapper"));
    assert_eq!(
        p.health(),
        mta::sandbox::plugin::Health::Active,
        "one fault after a success is not a quarantine"
    );
}

async fn wait_active(p: &mta::sandbox::Plugin) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while p.health() != mta::sandbox::plugin::Health::Active {
        assert!(Instant::now() < deadline, "quarantine never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_missing_builtin_refuses_to_start() {
    let s = setup("builtin", &[], &[]);
    let sandbox = Sandbox::new(&s.config).expect("sandbox");
    let tables = Arc::new(mta::tables::Tables::new(&s.config));
    let err = StageRunner::load(
        &sandbox,
        &s.config,
        &tables,
        &mta::rewrite::Resolver::new(&s.config),
        &mta::dns::Dns::new(&s.config).expect("dns"),
    )
    .await
    .expect_err("no restrictions.wasm: refuse");
    assert!(
        format!("{err:#}").contains("built-in plugin restrictions"),
        "{err:#}"
    );
}

#[tokio::test]
async fn compiled_components_are_cached_on_disk() {
    let s = setup("cache", &[("looper", "")], &[]);
    let (sb, _r) = runner(&s).await.expect("load");
    let cache = sb.cache_directory().expect("cache enabled").to_path_buf();
    assert_eq!(cache, s.dir.join("cache"));
    // wasmtime writes the cache entry from a background worker: wait for it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count_files(&cache) == 0 {
        assert!(
            Instant::now() < deadline,
            "nothing cached in {}",
            cache.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn count_files(dir: &Path) -> usize {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            if e.path().is_dir() {
                count_files(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[tokio::test]
async fn the_stage_wall_clock_cap_stops_a_plugin_with_a_generous_time_limit() {
    let (log, _g) = capture();
    let s = setup(
        "stagecap",
        &[("looper", "time_limit = \"20s\"\n")],
        &[("plugin_stage_time_limit", "400ms")],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    let c = ctx(Stage::Rcpt, "mx.example", "a@example.org");
    let t = Instant::now();
    let d = r.rcpt(&c, &addr("loop@example.com")).await;
    let took = t.elapsed();
    assert_eq!(d, tempfail_from("looper"));
    assert!(took < Duration::from_millis(400) + MARGIN, "took {took:?}");
    assert!(
        log.text()
            .contains("fault at rcpt: timeout: plugin_stage_time_limit exceeded"),
        "log:\n{}",
        log.text()
    );
    assert_eq!(
        r.rcpt(&c, &addr("bob@example.com")).await,
        answered("looper", "bob@example.com")
    );
}

fn header(name: &str, value: &str) -> mta::stages::Header {
    mta::stages::Header {
        name: name.into(),
        value: value.as_bytes().to_vec(),
    }
}

fn chunk(offset: u64, lines: &[&str], last: bool) -> mta::stages::BodyChunk {
    mta::stages::BodyChunk {
        offset,
        lines: lines.iter().map(|l| l.as_bytes().to_vec()).collect(),
        last,
    }
}

#[tokio::test]
async fn one_instance_serves_a_whole_message_and_a_content_fault_costs_only_that_message() {
    let (log, _g) = capture();
    let s = setup("content", &[("trapper", "")], &[]);
    let (_sb, r) = runner(&s).await.expect("load");
    let c = ctx(Stage::Headers, "mx.example", "a@example.org");
    let headers = [
        header("Subject", " hi"),
        header("X-Trapper", " 1"),
        header("From", " a@example.org"),
    ];

    let mut scan = r.content().await;
    assert_eq!(scan.body_limit(), u64::MAX, "trapper wants the whole body");
    let hv = scan.headers(&c, &headers).await;
    assert_eq!(
        hv,
        vec![mta::stages::PluginVerdict {
            plugin: "trapper".into(),
            index: 1,
            verdict: Verdict::Prepend("X-Trapper-Seen: yes".into())
        }]
    );
    assert!(scan
        .body(&c, &chunk(0, &["one", "two"], false))
        .await
        .is_empty());
    assert!(scan.body(&c, &chunk(10, &["three"], true)).await.is_empty());
    let mut end = c.clone();
    end.stage = Stage::EndOfMessage;
    assert_eq!(
        scan.end(&end).await,
        answered_text("trapper", "trapper saw 3 headers and 3 lines")
    );
    drop(scan);

    // A fault in the body applies the failure action to this message only.
    let mut scan = r.content().await;
    scan.headers(&c, &headers[..1]).await;
    let bv = scan.body(&c, &chunk(0, &["trap"], true)).await;
    assert_eq!(
        bv,
        vec![mta::stages::PluginVerdict {
            plugin: "trapper".into(),
            index: 0,
            verdict: tempfail()
        }]
    );
    assert!(
        log.text()
            .contains("plugin trapper version 1.0.0: fault at body: trap"),
        "log:\n{}",
        log.text()
    );
    assert_eq!(
        scan.end(&end).await,
        Decision::dunno(),
        "a faulted plugin is not called again for this message"
    );
    drop(scan);

    // The next message is served normally.
    let mut scan = r.content().await;
    scan.headers(&c, &headers[..2]).await;
    scan.body(&c, &chunk(0, &["x"], true)).await;
    assert_eq!(
        scan.end(&end).await,
        answered_text("trapper", "trapper saw 2 headers and 1 lines")
    );
}

fn answered_text(plugin: &str, text: &str) -> Decision {
    Decision {
        verdict: Verdict::Reject(Reply {
            code: None,
            enhanced: None,
            text: Some(text.into()),
        }),
        plugin: Some(plugin.into()),
    }
}

/// smtpd runs sessions with `tokio::spawn`: every stage future must be `Send`.
/// This does not compile otherwise.
#[test]
fn stage_futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let r = StageRunner::empty();
    let c = ctx(Stage::Rcpt, "mx.example", "a@example.org");
    let a = addr("b@example.com");
    send(&r.check(&c));
    send(&r.rcpt(&c, &a));
    send(&r.etrn(&c, "example.com"));
    send(&r.content());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut scan = rt.block_on(r.content());
    send(&scan.headers(&c, &[]));
    send(&scan.end(&c));
    let chunk = chunk(0, &[], true);
    send(&scan.body(&c, &chunk));
    send(&scan);
}

#[tokio::test]
async fn a_stage_given_to_the_wrong_method_is_not_blamed_on_plugins() {
    let (log, _g) = capture();
    let s = setup(
        "wrongstage",
        &[("trapper", "")],
        &[("plugin_failure_limit", "1")],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    assert_eq!(
        r.check(&ctx(Stage::Rcpt, "mx.example", "a@b.org")).await,
        Decision::dunno()
    );
    assert!(!log.text().contains("fault"), "log:\n{}", log.text());
    assert_eq!(
        r.plugins()[0].health(),
        mta::sandbox::plugin::Health::Active
    );
    // Only declared hooks are called: trapper does not hook helo.
    assert_eq!(
        r.check(&ctx(Stage::Helo, "trap.example", "trap@b.org"))
            .await,
        Decision::dunno()
    );
}

/// What the scripted fixture says about its own instance: "call N".
async fn instance_call(r: &StageRunner) -> String {
    let c = ctx(Stage::Rcpt, "mx.example", "a@example.org");
    let d = r.rcpt(&c, &addr("count@example.com")).await;
    match d.verdict {
        Verdict::Reject(reply) => reply.text.unwrap_or_default(),
        other => panic!("scripted answered {other:?}"),
    }
}

#[tokio::test]
async fn isolation_message_never_reuses_an_instance() {
    // Default pool: the same warm instance answers one stage after another,
    // so what it keeps in memory carries over.
    let s = setup("iso-pool", &[("scripted", "")], &[]);
    let (_sb, r) = runner(&s).await.expect("load");
    assert_eq!(instance_call(&r).await, "call 1 of this instance");
    assert_eq!(instance_call(&r).await, "call 2 of this instance");
    assert_eq!(r.plugins()[0].idle_instances(), 1);

    // plugin_isolation = message: every lending is a fresh instance.
    let s = setup(
        "iso-message",
        &[("scripted", "")],
        &[("plugin_isolation", "message")],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    for _ in 0..3 {
        assert_eq!(instance_call(&r).await, "call 1 of this instance");
        assert_eq!(r.plugins()[0].idle_instances(), 0, "never kept");
    }

    // The sidecar may ask it for one plugin; a bad value is named at load.
    let s = setup(
        "iso-sidecar",
        &[("scripted", "isolation = \"message\"\n")],
        &[],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    assert_eq!(instance_call(&r).await, "call 1 of this instance");
    assert_eq!(instance_call(&r).await, "call 1 of this instance");
    let s = setup("iso-bad", &[], &[("plugin_isolation", "session")]);
    let e = runner(&s).await.expect_err("bad isolation refused");
    assert!(
        format!("{e:#}")
            .contains("plugin_isolation: unknown isolation \"session\": expected pool or message"),
        "{e:#}"
    );
}

#[tokio::test]
async fn instances_are_recycled_after_max_use_and_the_pool_is_bounded() {
    let s = setup(
        "pool",
        &[("looper", "")],
        &[("plugin_max_use", "2"), ("plugin_pool_size", "1")],
    );
    let (_sb, r) = runner(&s).await.expect("load");
    let p = r.plugins()[0].clone();
    assert_eq!(
        p.idle_instances(),
        1,
        "load leaves one initialised instance"
    );
    let c = std::sync::Arc::new(ctx(Stage::Rcpt, "mx.example", "a@example.org"));
    let a = addr("bob@example.com");
    let call = mta::sandbox::plugin::Hook::Rcpt;
    let mut i = p.lend().await.expect("lend");
    assert_eq!(p.idle_instances(), 0);
    assert!(i.call(p.limits.time, call(&c, &a)).await.is_ok());
    p.give_back(i);
    assert_eq!(p.idle_instances(), 1, "one use of two: kept");
    let mut i = p.lend().await.expect("lend");
    assert!(i.call(p.limits.time, call(&c, &a)).await.is_ok());
    p.give_back(i);
    assert_eq!(p.idle_instances(), 0, "max_use reached: recycled");
    // Two lent at once, both returned: the pool keeps only plugin_pool_size.
    let i1 = p.lend().await.expect("lend");
    let i2 = p.lend().await.expect("lend");
    p.give_back(i1);
    p.give_back(i2);
    assert_eq!(p.idle_instances(), 1);
}
