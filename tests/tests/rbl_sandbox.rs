//! The rbl plugin as a real wasm component in the wasmtime sandbox, its
//! `dns` capability served by the host resolver against the loopback DNS
//! server: the whole path of a DNS-list check short of the SMTP socket.
//!
//! Needs the component: `cargo build --release --target wasm32-wasip2 -p rbl`
//! (or `cargo xtask build`); `MTA_RBL_WASM` may point at another build.

use mta::config::Config;
use mta::dns::{Dns, DnsSettings};
use mta::sandbox::Sandbox;
use mta::stages::{Address, Context, Envelope, Reply, Session, Stage, StageRunner, Verdict};
use mta_e2e::dnsd::{Behaviour, TestDns, ZoneSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn component() -> PathBuf {
    if let Some(p) = std::env::var_os("MTA_RBL_WASM") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().expect("test executable path");
            exe.ancestors()
                .nth(3)
                .expect("target directory")
                .to_path_buf()
        });
    let candidates = [
        target.join("plugins/rbl.wasm"),
        target.join("wasm32-wasip2/release/rbl.wasm"),
    ];
    candidates
        .iter()
        .find(|p| p.exists())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "rbl.wasm is not built: run `cargo build --release --target wasm32-wasip2 -p rbl` (looked in {candidates:?})"
            )
        })
}

async fn zones() -> TestDns {
    ZoneSet::new()
        .zone("zen.example", Behaviour::Answer, 60)
        .zone("allow.example", Behaviour::Answer, 60)
        .zone("dead.example", Behaviour::Drop, 60)
        .zone("broken.example", Behaviour::ServFail, 60)
        .a("1.2.0.192.zen.example", "127.0.0.2".parse().unwrap(), 300)
        .txt(
            "1.2.0.192.zen.example",
            "https://zen.example/lookup?ip=192.0.2.1",
            300,
        )
        .a("11.2.0.192.zen.example", "127.0.0.11".parse().unwrap(), 300)
        .a("5.2.0.192.zen.example", "127.0.0.2".parse().unwrap(), 300)
        .a("5.2.0.192.allow.example", "127.0.5.1".parse().unwrap(), 300)
        .a(
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example",
            "127.0.0.4".parse().unwrap(),
            300,
        )
        .start()
        .await
        .expect("DNS server")
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Rig {
    _dir: TempDir,
    _sandbox: Sandbox,
    runner: StageRunner,
    dns: Dns,
    server: TestDns,
}

/// The rbl component as a drop-in granted `grants`, main.cf `params`.
async fn rig(test: &str, grants: &str, params: &[(&str, &str)]) -> anyhow::Result<Rig> {
    let server = zones().await;
    let dir = std::env::temp_dir().join(format!("mta-rbl-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plugdir = dir.join("plugins");
    std::fs::create_dir_all(&plugdir)?;
    std::fs::copy(component(), plugdir.join("rbl.wasm"))?;
    std::fs::write(
        plugdir.join("rbl.toml"),
        format!("capabilities = [{grants}]\ndns_zones = [\"zen.example\", \"allow.example\", \"dead.example\", \"broken.example\"]\n"),
    )?;
    let mut config = Config::default();
    let mut set = |k: &str, v: String| {
        config.explicit.insert(k.to_string(), v);
    };
    set("plugin_directory", plugdir.display().to_string());
    set(
        "builtin_plugin_directory",
        dir.join("builtin").display().to_string(),
    );
    set("queue_directory", dir.join("queue").display().to_string());
    set(
        "plugin_cache_directory",
        dir.join("cache").display().to_string(),
    );
    set("dns_servers", server.addr().to_string());
    for (k, v) in params {
        set(k, v.to_string());
    }
    let sandbox = Sandbox::new(&config)?;
    let tables = Arc::new(mta::tables::Tables::new(&config));
    let resolver = mta::rewrite::Resolver::new(&config);
    let dns = Dns::with_settings(DnsSettings {
        servers: vec![server.addr()],
        timeout: Duration::from_millis(500),
        concurrency: 16,
    })?;
    let runner = StageRunner::load_drop_ins(&sandbox, &config, &tables, &resolver, &dns).await?;
    Ok(Rig {
        _dir: TempDir(dir),
        _sandbox: sandbox,
        runner,
        dns,
        server,
    })
}

fn ctx(client: &str) -> Context {
    Context {
        stage: Stage::Rcpt,
        session: Session {
            id: "1".into(),
            client_address: client.into(),
            client_name: "unknown".into(),
            reverse_client_name: "unknown".into(),
            helo_name: Some("client.example".into()),
            protocol: "ESMTP".into(),
            ..Session::default()
        },
        envelope: Envelope {
            sender: Some(addr("a@sender.example")),
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

const LISTS: &str = "permit_mynetworks, reject_unauth_destination, permit_dnswl_client allow.example, reject_rbl_client zen.example=127.0.0.[2..10], reject_rbl_client dead.example, reject_rbl_client broken.example";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_lists_through_the_sandbox() {
    let r = rig(
        "lists",
        "\"dns\", \"lookup\"",
        &[("smtpd_recipient_restrictions", LISTS)],
    )
    .await
    .expect("load rbl.wasm");
    assert!(r.runner.refused().is_empty(), "{:?}", r.runner.refused());

    // Listed, with the TXT reason in the reply.
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.1"), &addr("u@dest.example"))
        .await;
    assert_eq!(
        d.verdict,
        Verdict::Reject(Reply {
            code: Some(554),
            enhanced: Some("5.7.1".into()),
            text: Some(
                "Service unavailable; Client host [192.0.2.1] blocked using zen.example; https://zen.example/lookup?ip=192.0.2.1"
                    .into()
            ),
        })
    );
    assert_eq!(d.plugin.as_deref(), Some("rbl"));

    // Not listed; listed only with a filtered-out code: the dead and
    // SERVFAIL lists are asked too and must not reject.
    let start = Instant::now();
    for client in ["192.0.2.99", "192.0.2.11"] {
        let d = r.runner.rcpt(&ctx(client), &addr("u@dest.example")).await;
        assert_eq!(d.verdict, Verdict::Dunno, "{client}");
    }
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );

    // The allow list comes first and wins.
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.5"), &addr("u@dest.example"))
        .await;
    assert_eq!(d.verdict, Verdict::Ok);

    // IPv6, nibble-reversed.
    let d = r
        .runner
        .rcpt(&ctx("2001:db8::1"), &addr("u@dest.example"))
        .await;
    assert!(
        matches!(&d.verdict, Verdict::Reject(rep) if rep.code == Some(554)),
        "{d:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_client_costs_no_dns_query() {
    let r = rig(
        "warm",
        "\"dns\", \"lookup\"",
        &[(
            "smtpd_recipient_restrictions",
            "permit_dnswl_client allow.example, reject_rbl_client zen.example",
        )],
    )
    .await
    .expect("load rbl.wasm");
    for client in ["192.0.2.1", "192.0.2.99"] {
        r.runner.rcpt(&ctx(client), &addr("u@dest.example")).await;
    }
    let asked = r.server.queries();
    let upstream = r.dns.stats().upstream_queries;
    assert!(upstream >= 4, "the cold checks must have asked: {upstream}");
    // Failures (timeouts, SERVFAIL) are not cached, so only answering
    // lists are used here: listed (A + TXT) and unlisted (NXDOMAIN) alike
    // come from the host cache the second time.
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.1"), &addr("v@dest.example"))
        .await;
    assert!(
        matches!(&d.verdict, Verdict::Reject(rep) if rep.text.as_deref().is_some_and(|t| t.ends_with("ip=192.0.2.1"))),
        "{d:?}"
    );
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.99"), &addr("v@dest.example"))
        .await;
    assert_eq!(d.verdict, Verdict::Dunno);
    assert_eq!(r.server.queries(), asked);
    assert_eq!(r.dns.stats().upstream_queries, upstream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_action_defer_answers_4xx() {
    let r = rig(
        "defer",
        "\"dns\", \"lookup\"",
        &[
            (
                "smtpd_recipient_restrictions",
                "reject_rbl_client dead.example, reject_rbl_client broken.example",
            ),
            ("rbl_dns_failure_action", "defer"),
        ],
    )
    .await
    .expect("load rbl.wasm");
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.1"), &addr("u@dest.example"))
        .await;
    match d.verdict {
        Verdict::Defer(rep) => {
            assert_eq!(rep.code, Some(451));
            assert!(rep.text.unwrap_or_default().contains("dead.example"));
        }
        other => panic!("expected 451, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_through_the_sandbox() {
    let r = rig(
        "score",
        "\"dns\", \"lookup\"",
        &[
            ("rbl_score_sites", "zen.example*3, allow.example*-5"),
            ("rbl_score_threshold", "3"),
        ],
    )
    .await
    .expect("load rbl.wasm");
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.1"), &addr("u@dest.example"))
        .await;
    assert!(
        matches!(&d.verdict, Verdict::Reject(rep) if rep.code == Some(554)),
        "{d:?}"
    );
    let d = r
        .runner
        .rcpt(&ctx("192.0.2.5"), &addr("u@dest.example"))
        .await;
    assert_eq!(d.verdict, Verdict::Dunno);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_dns_grant_it_does_not_load() {
    let err = match rig(
        "nogrant",
        "\"lookup\"",
        &[("smtpd_recipient_restrictions", LISTS)],
    )
    .await
    {
        Ok(r) => r.runner.refused().join("\n"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("dns"), "{err}");
}
