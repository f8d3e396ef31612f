//! Sandbox costs, with epoch interruption on and the pooling allocator:
//! per-message set-up (lend + return a warm, initialised instance), one hook
//! call on a warm instance, a whole rcpt stage through the runner, and, for
//! comparison, a fresh instance (instantiate + init) as isolation per
//! message would need. Uses the `looper` fixture's harmless path (contract
//! 0.2: the context is a handle) and, for the same hook on the previous
//! contract (0.1: the whole context copied into the guest per call), the
//! `legacy-v01` fixture.
//!
//! Run: `cargo xtask build && cargo bench -p mta --bench sandbox`
//! (or `MTA_FIXTURES=DIR cargo bench -p mta --bench sandbox`).

mod common;

use common::{calls, fixtures_dir, report, wanted};
use mta::config::Config;
use mta::sandbox::plugin::Hook;
use mta::sandbox::Sandbox;
use mta::stages::{Address, Context, Envelope, Session, Stage, StageRunner};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Time `calls()` calls of one hook on one warm instance of `plugin`, after
/// `warmup` untimed ones.
async fn hook_calls<'a>(
    plugin: &mta::sandbox::Plugin,
    limit: Duration,
    warmup: u32,
    what: &str,
    hook: impl Fn() -> Hook<'a>,
) -> anyhow::Result<()> {
    if !wanted(what) {
        return Ok(());
    }
    let mut i = plugin.lend().await.map_err(|f| anyhow::anyhow!("{f}"))?;
    for _ in 0..warmup {
        i.call(limit, hook())
            .await
            .map_err(|f| anyhow::anyhow!("{f}"))?;
    }
    let n = calls();
    let t = Instant::now();
    for _ in 0..n {
        i.call(limit, hook())
            .await
            .map_err(|f| anyhow::anyhow!("{f}"))?;
    }
    report(what, n, t.elapsed());
    plugin.give_back(i);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let looper = fixtures_dir().join("looper.wasm");
    anyhow::ensure!(
        looper.exists(),
        "{} missing: run `cargo xtask build` first",
        looper.display()
    );
    let dir = std::env::temp_dir().join(format!("mta-bench-sandbox-{}", std::process::id()));
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins)?;
    std::fs::copy(&looper, plugins.join("looper.wasm"))?;
    std::fs::copy(
        fixtures_dir().join("legacy-v01.wasm"),
        plugins.join("legacy-v01.wasm"),
    )?;
    // After looper, whose reject ends the stage: runner.rcpt runs looper only.
    std::fs::write(plugins.join("legacy-v01.toml"), "order = 200\n")?;
    let mut config = Config::default();
    config
        .explicit
        .insert("plugin_directory".into(), plugins.display().to_string());
    config.explicit.insert(
        "queue_directory".into(),
        dir.join("queue").display().to_string(),
    );
    config.explicit.insert(
        "plugin_cache_directory".into(),
        dir.join("cache").display().to_string(),
    );
    config
        .explicit
        .insert("plugin_max_use".into(), "100000000".into());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sandbox = Sandbox::new(&config)?;
        let tables = Arc::new(mta::tables::Tables::new(&config));
        let resolver = mta::rewrite::Resolver::new(&config);
        let dns = mta::dns::Dns::new(&config)?;
        let runner =
            StageRunner::load_drop_ins(&sandbox, &config, &tables, &resolver, &dns).await?;
        let find = |name: &str| {
            runner
                .plugins()
                .iter()
                .find(|p| p.name == name)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("{name} did not load: {:?}", runner.refused()))
        };
        let plugin = find("looper")?;
        let legacy = find("legacy-v01")?;
        let ctx = Arc::new(Context {
            stage: Stage::Rcpt,
            session: Session {
                id: "1".into(),
                client_address: "192.0.2.7".into(),
                client_name: "mx.example.org".into(),
                helo_name: Some("mx.example.org".into()),
                protocol: "ESMTP".into(),
                ..Session::default()
            },
            envelope: Envelope {
                sender: Some(Address {
                    address: "a@example.org".into(),
                    params: Vec::new(),
                }),
                ..Envelope::default()
            },
        });
        let rcpt = Address {
            address: "bob@example.com".into(),
            params: Vec::new(),
        };
        let limit = plugin.limits.time;

        // Warm up: compile caches, pool, page faults.
        for _ in 0..1000 {
            let mut i = plugin.lend().await.map_err(|f| anyhow::anyhow!("{f}"))?;
            i.call(limit, Hook::Rcpt(&ctx, &rcpt))
                .await
                .map_err(|f| anyhow::anyhow!("{f}"))?;
            plugin.give_back(i);
        }

        let what = "per-message set-up: lend + return a warm instance";
        if wanted(what) {
            let n = 200_000;
            let t = Instant::now();
            for _ in 0..n {
                let i = plugin.lend().await.map_err(|f| anyhow::anyhow!("{f}"))?;
                plugin.give_back(i);
            }
            report(what, n, t.elapsed());
        }

        hook_calls(
            &plugin,
            limit,
            0,
            "hook call on a warm instance (rcpt, epoch on)",
            || Hook::Rcpt(&ctx, &rcpt),
        )
        .await?;

        // The same hook with the same kind of argument, answering `dunno`
        // (looper passes recipients named pass*): the recipient copied in,
        // no text made or copied out.
        let pass = Address {
            address: "pass@example.com".into(),
            params: Vec::new(),
        };
        hook_calls(
            &plugin,
            limit,
            0,
            "hook call, recipient in, answer dunno (rcpt)",
            || Hook::Rcpt(&ctx, &pass),
        )
        .await?;

        // The floor: a hook whose only argument is the handle and whose
        // answer is `dunno` (looper's connect hook).
        let connect = Arc::new(Context {
            stage: Stage::Connect,
            ..(*ctx).clone()
        });
        hook_calls(
            &plugin,
            limit,
            0,
            "hook call, handle only, answer dunno (connect)",
            || Hook::Check(&connect),
        )
        .await?;

        hook_calls(
            &legacy,
            limit,
            1000,
            "same hook, contract 0.1 (whole context copied in)",
            || Hook::Rcpt(&ctx, &rcpt),
        )
        .await?;

        let what = "runner.rcpt: lend + call + return + decision";
        if wanted(what) {
            let n = 100_000;
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(runner.rcpt(&ctx, &rcpt).await);
            }
            report(what, n, t.elapsed());
        }

        // What isolation per message would cost: a fresh pooled instance + init.
        let what = "fresh instance: instantiate (pooling, CoW) + init";
        if wanted(what) {
            let n = 2_000;
            let t = Instant::now();
            for _ in 0..n {
                let mut i = mta::sandbox::plugin::Instance::fresh(&plugin)
                    .await
                    .map_err(|f| anyhow::anyhow!("{f}"))?;
                i.poison();
                drop(i);
            }
            report(what, n, t.elapsed());
        }
        anyhow::Ok(())
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
