//! The floor under the sandbox figures: the `looper` fixture's hooks called
//! straight through wasmtime, with nothing of mta around them, on the very
//! engine mta builds (`Sandbox::new`: pooling allocator, epoch interruption,
//! the epoch ticker running). Every import is stubbed as a trap (the paths
//! measured call none) and the context handle is a bare borrow, so what is
//! left is wasmtime's own cost of a component call: through its async API
//! (what mta uses, a fiber per call) and through its sync API (what mta
//! could use for plugins that import nothing asynchronous). Comparing these
//! with `--bench sandbox` in the same run shows what mta adds per call.
//!
//! Run: `cargo xtask build && cargo bench -p mta --bench wasmtime_floor`.

mod common;

use common::{calls, fixtures_dir, report, wanted};
use std::time::Instant;
use wasmtime::component::{Component, Linker, Resource, ResourceType};
use wasmtime::{Engine, Store, UpdateDeadline};

/// The 0.2 world with synchronous exports.
mod sync_api {
    wasmtime::component::bindgen!({ path: "../wit/since_v0.2.0", world: "filter" });
}

/// The same world with asynchronous exports, as mta binds it.
mod async_api {
    wasmtime::component::bindgen!({
        path: "../wit/since_v0.2.0",
        world: "filter",
        exports: { default: async },
    });
}

/// A linker that defines the `context` resource as `T` and every other
/// import as a synchronous trap.
fn linker<T: 'static>(engine: &Engine, component: &Component) -> anyhow::Result<Linker<()>> {
    let mut linker = Linker::new(engine);
    linker.instance("mta:filter/facts@0.2.0")?.resource(
        "context",
        ResourceType::host::<T>(),
        |_, _| Ok(()),
    )?;
    linker.define_unknown_imports_as_traps(component)?;
    Ok(linker)
}

/// A store whose epoch callback keeps the guest going (sync: continue;
/// async: yield, as mta's does).
fn store(engine: &Engine, yield_on_tick: bool) -> Store<()> {
    let mut store = Store::new(engine, ());
    store.epoch_deadline_callback(move |_| {
        Ok(if yield_on_tick {
            UpdateDeadline::Yield(1)
        } else {
            UpdateDeadline::Continue(1)
        })
    });
    store.set_epoch_deadline(1);
    store
}

/// Time `calls()` runs of `call` after 1000 untimed ones.
fn timed(what: &str, mut call: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<()> {
    if !wanted(what) {
        return Ok(());
    }
    for _ in 0..1000 {
        call()?;
    }
    let n = calls();
    let t = Instant::now();
    for _ in 0..n {
        call()?;
    }
    report(what, n, t.elapsed());
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let looper = fixtures_dir().join("looper.wasm");
    anyhow::ensure!(
        looper.exists(),
        "{} missing: run `cargo xtask build` first",
        looper.display()
    );
    let dir = std::env::temp_dir().join(format!("mta-bench-floor-{}", std::process::id()));
    let mut config = mta::config::Config::default();
    config.explicit.insert(
        "plugin_cache_directory".into(),
        dir.join("cache").display().to_string(),
    );
    let sandbox = mta::sandbox::Sandbox::new(&config)?;
    let engine = sandbox.engine();
    let component = Component::from_file(engine, &looper)?;

    {
        use sync_api::mta::filter::{facts::Context, types::Address};
        let linker = linker::<Context>(engine, &component)?;
        let mut store = store(engine, false);
        let filter = sync_api::Filter::instantiate(&mut store, &component, &linker)?;
        let g = filter.mta_filter_plugin();
        let (reject, pass) = (address("bob@example.com"), address("pass@example.com"));
        fn address(a: &str) -> Address {
            Address {
                address: a.into(),
                params: Vec::new(),
            }
        }
        timed("wasmtime sync: connect, handle only, dunno", || {
            store.set_epoch_deadline(1);
            g.call_connect(&mut store, Resource::new_borrow(0))?;
            Ok(())
        })?;
        timed("wasmtime sync: rcpt, recipient in, dunno", || {
            store.set_epoch_deadline(1);
            g.call_rcpt(&mut store, Resource::new_borrow(0), &pass)?;
            Ok(())
        })?;
        timed("wasmtime sync: rcpt, recipient in, reject text out", || {
            store.set_epoch_deadline(1);
            g.call_rcpt(&mut store, Resource::new_borrow(0), &reject)?;
            Ok(())
        })?;
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        use async_api::mta::filter::{facts::Context, types::Address};
        let linker = linker::<Context>(engine, &component)?;
        let mut store = store(engine, true);
        let filter = async_api::Filter::instantiate_async(&mut store, &component, &linker).await?;
        let g = filter.mta_filter_plugin();
        let address = |a: &str| Address {
            address: a.into(),
            params: Vec::new(),
        };
        let (reject, pass) = (address("bob@example.com"), address("pass@example.com"));
        let sections: [(&str, Option<&Address>); 3] = [
            ("wasmtime async: connect, handle only, dunno", None),
            ("wasmtime async: rcpt, recipient in, dunno", Some(&pass)),
            (
                "wasmtime async: rcpt, recipient in, reject text out",
                Some(&reject),
            ),
        ];
        for (what, recipient) in sections {
            if !wanted(what) {
                continue;
            }
            let n = calls();
            let mut t = Instant::now();
            for i in 0..n + 1000 {
                if i == 1000 {
                    t = Instant::now();
                }
                store.set_epoch_deadline(1);
                match recipient {
                    None => drop(g.call_connect(&mut store, Resource::new_borrow(0)).await?),
                    Some(r) => drop(g.call_rcpt(&mut store, Resource::new_borrow(0), r).await?),
                }
            }
            report(what, n, t.elapsed());
        }
        anyhow::Ok(())
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
