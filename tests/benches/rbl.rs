//! DNS-list checks per second through a three-list configuration, with a
//! cold cache (every client new: three upstream queries each) and a warm
//! cache (the same clients again: no query at all), against the loopback
//! DNS server over real UDP.
//!
//! Run: `cargo bench -p mta-e2e --bench rbl` (figures go to BENCHMARKS.md).
//!
//! Two layers are measured: the engine alone (`rbl::Rbl`, called natively
//! with the host's real resolver behind its `Host` trait), and the whole
//! stage as smtpd runs it: the rbl wasm component in the sandbox, called
//! through `StageRunner::rcpt`, its `dns` capability served by the same
//! resolver (needs `cargo build --release --target wasm32-wasip2 -p rbl`).

use mta::dns::{Dns, DnsSettings, Record, RecordType};
use mta_e2e::dnsd::{Behaviour, ZoneSet};
use rbl::{Decision, Facts, Host, Level, Lookup, QType, Question, Rbl, Stage};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The engine's DNS through the host resolver, from a non-runtime thread.
struct Bridge<'a> {
    dns: &'a Dns,
    rt: &'a tokio::runtime::Handle,
}

impl Host for Bridge<'_> {
    fn dns(&mut self, questions: &[Question]) -> Vec<Lookup> {
        let qs: Vec<(String, RecordType)> = questions
            .iter()
            .map(|q| {
                let t = match q.qtype {
                    QType::A => RecordType::A,
                    QType::Txt => RecordType::Txt,
                };
                (q.name.clone(), t)
            })
            .collect();
        self.rt
            .block_on(self.dns.query_many(&qs))
            .into_iter()
            .map(|r| match r {
                Ok(a) => Lookup::Records(
                    a.records
                        .into_iter()
                        .filter_map(|r| match r {
                            Record::A(ip) => Some(ip.to_string()),
                            Record::Txt(t) => Some(t),
                            _ => None,
                        })
                        .collect(),
                ),
                Err(mta::dns::DnsError::NotFound) => Lookup::NotFound,
                Err(e) => Lookup::Failed(e.to_string()),
            })
            .collect()
    }
    fn reply_map(&mut self, _: &str, _: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
    fn log(&mut self, _: Level, _: &str) {}
}

/// Client number `i`: 10.x.y.z; every tenth is listed on the first list.
fn client(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + i)
}

fn run(
    rbl: &Rbl,
    dns: &Dns,
    rt: &tokio::runtime::Handle,
    clients: u32,
    threads: u32,
) -> (Duration, u32) {
    let start = Instant::now();
    let rejected = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|s| {
        for t in 0..threads {
            let rejected = &rejected;
            s.spawn(move || {
                let mut host = Bridge { dns, rt };
                let mut i = t;
                while i < clients {
                    let facts = Facts {
                        client_address: client(i).to_string(),
                        client_name: "unknown".into(),
                        reverse_client_name: "unknown".into(),
                        helo_name: Some("client.example".into()),
                        sender: Some("a@sender.example".into()),
                        recipient: Some("b@dest.example".into()),
                        sasl_authenticated: false,
                    };
                    if matches!(
                        rbl.check(Stage::Rcpt, &facts, &mut host),
                        Decision::Reject(_)
                    ) {
                        rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    i += threads;
                }
            });
        }
    });
    (start.elapsed(), rejected.into_inner())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let clients: u32 = std::env::var("RBL_BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut zones = ZoneSet::new()
        .zone("zen.example", Behaviour::Answer, 300)
        .zone("bl.example", Behaviour::Answer, 300)
        .zone("dbl.example", Behaviour::Answer, 300);
    for i in (0..clients).step_by(10) {
        let o = client(i).octets();
        let name = format!("{}.{}.{}.{}.zen.example", o[3], o[2], o[1], o[0]);
        zones = zones.a(&name, "127.0.0.2".parse().unwrap(), 300).txt(
            &name,
            "listed for the benchmark",
            300,
        );
    }
    let srv = rt.block_on(zones.start()).expect("dns server");
    let dns = {
        let _g = rt.enter();
        Dns::with_settings(DnsSettings {
            servers: vec![srv.addr()],
            timeout: Duration::from_secs(5),
            concurrency: 100,
        })
        .expect("resolver")
    };
    let rbl = Rbl::new(&[(
        "smtpd_recipient_restrictions".to_string(),
        "reject_rbl_client zen.example, reject_rbl_client bl.example, reject_rhsbl_sender dbl.example"
            .to_string(),
    )])
    .expect("settings");
    let handle = rt.handle().clone();
    let lists =
        "reject_rbl_client zen.example, reject_rbl_client bl.example, reject_rhsbl_sender dbl.example";

    println!("engine alone: {clients} clients, 3 lists (2 by client address, 1 by sender domain), loopback DNS over UDP");
    for threads in [1u32, 16] {
        dns.clear_cache();
        let before = dns.stats();
        let q0 = srv.queries();
        let (cold, rej) = run(&rbl, &dns, &handle, clients, threads);
        let after = dns.stats();
        let asked_cold = srv.queries() - q0;
        let (warm, rej2) = run(&rbl, &dns, &handle, clients, threads);
        let asked_warm = srv.queries() - q0 - asked_cold;
        let after_warm = dns.stats();
        assert_eq!(rej, rej2, "warm and cold must decide alike");
        assert_eq!(asked_warm, 0, "a warm cache must ask the server nothing");
        assert_eq!(after_warm.upstream_queries, after.upstream_queries);
        println!(
            "{threads:>2} sessions in parallel: cold {:>8.0} checks/s ({:.1} µs each, {} upstream queries, {} server questions), warm {:>8.0} checks/s ({:.1} µs each, 0 queries); {rej} rejected",
            f64::from(clients) / cold.as_secs_f64(),
            cold.as_secs_f64() * 1e6 / f64::from(clients),
            after.upstream_queries - before.upstream_queries,
            asked_cold,
            f64::from(clients) / warm.as_secs_f64(),
            warm.as_secs_f64() * 1e6 / f64::from(clients),
        );
    }

    match component() {
        Some(wasm) => rt.block_on(through_sandbox(&wasm, srv.addr(), lists, clients)),
        None => println!("sandbox part skipped: rbl.wasm not built (cargo build --release --target wasm32-wasip2 -p rbl)"),
    }
}

fn component() -> Option<PathBuf> {
    let target = PathBuf::from(std::env::var_os("CARGO_TARGET_DIR")?);
    [
        target.join("plugins/rbl.wasm"),
        target.join("wasm32-wasip2/release/rbl.wasm"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

fn ctx(client: Ipv4Addr) -> mta::stages::Context {
    use mta::stages::{Address, Context, Envelope, Session, Stage};
    Context {
        stage: Stage::Rcpt,
        session: Session {
            id: "1".into(),
            client_address: client.to_string(),
            client_name: "unknown".into(),
            reverse_client_name: "unknown".into(),
            helo_name: Some("client.example".into()),
            protocol: "ESMTP".into(),
            ..Session::default()
        },
        envelope: Envelope {
            sender: Some(Address {
                address: "a@sender.example".into(),
                params: Vec::new(),
            }),
            ..Envelope::default()
        },
    }
}

/// The rbl component as a drop-in, one `rcpt` stage per client.
async fn through_sandbox(
    wasm: &std::path::Path,
    server: std::net::SocketAddr,
    lists: &str,
    clients: u32,
) {
    use mta::stages::{Address, StageRunner, Verdict};
    let dir = std::env::temp_dir().join(format!("mta-rbl-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let plugdir = dir.join("plugins");
    std::fs::create_dir_all(&plugdir).expect("plugin dir");
    std::fs::copy(wasm, plugdir.join("rbl.wasm")).expect("copy rbl.wasm");
    std::fs::write(
        plugdir.join("rbl.toml"),
        "capabilities = [\"dns\", \"lookup\"]\ndns_zones = [\"zen.example\", \"bl.example\", \"dbl.example\"]\n",
    )
    .expect("sidecar");
    let mut config = mta::config::Config::default();
    for (k, v) in [
        ("plugin_directory", plugdir.display().to_string()),
        (
            "builtin_plugin_directory",
            dir.join("builtin").display().to_string(),
        ),
        ("queue_directory", dir.join("queue").display().to_string()),
        (
            "plugin_cache_directory",
            dir.join("cache").display().to_string(),
        ),
        ("smtpd_recipient_restrictions", lists.to_string()),
    ] {
        config.explicit.insert(k.to_string(), v);
    }
    let sandbox = mta::sandbox::Sandbox::new(&config).expect("sandbox");
    let tables = Arc::new(mta::tables::Tables::new(&config));
    let resolver = mta::rewrite::Resolver::new(&config);
    let dns = Dns::with_settings(DnsSettings {
        servers: vec![server],
        timeout: Duration::from_secs(5),
        concurrency: 100,
    })
    .expect("resolver");
    let runner = Arc::new(
        StageRunner::load_drop_ins(&sandbox, &config, &tables, &resolver, &dns)
            .await
            .expect("load rbl.wasm"),
    );
    let rcpt = Address {
        address: "b@dest.example".into(),
        params: Vec::new(),
    };
    for parallel in [1u32, 16] {
        dns.clear_cache();
        let mut figures = Vec::new();
        for pass in ["cold", "warm"] {
            let before = dns.stats().upstream_queries;
            let start = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for t in 0..parallel {
                let (runner, rcpt) = (runner.clone(), rcpt.clone());
                set.spawn(async move {
                    let mut rejected = 0u32;
                    let mut i = t;
                    while i < clients {
                        let d = runner.rcpt(&ctx(client(i)), &rcpt).await;
                        if matches!(d.verdict, Verdict::Reject(_)) {
                            rejected += 1;
                        }
                        i += parallel;
                    }
                    rejected
                });
            }
            let mut rejected = 0;
            while let Some(r) = set.join_next().await {
                rejected += r.expect("bench task");
            }
            let took = start.elapsed();
            let asked = dns.stats().upstream_queries - before;
            if pass == "warm" {
                assert_eq!(asked, 0, "a warm cache must ask nothing");
            }
            figures.push(format!(
                "{pass} {:>7.0} stages/s ({:.1} µs each, {asked} upstream queries, {rejected} rejected)",
                f64::from(clients) / took.as_secs_f64(),
                took.as_secs_f64() * 1e6 / f64::from(clients),
            ));
        }
        println!(
            "sandbox, {parallel:>2} sessions in parallel: {}",
            figures.join("; ")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
