//! One binding module per served WIT version (Zed's pattern): each converts
//! between its generated types and the host's own (`stages::types`), so the
//! rest of the host never sees generated bindings and an old plugin keeps
//! working when the contract grows. [`Pre`] and [`Bindings`] hide which
//! version a plugin was built for from the rest of the sandbox.

mod glue;
pub mod since_v0_1_0;
pub mod since_v0_2_0;

use super::plugin::{Answer, Hook};
use super::state::HostState;
use crate::stages::types::Description;
use wasmtime::component::{InstancePre, Linker};
use wasmtime::Store;

/// The package every served version belongs to.
pub const PACKAGE: &str = "mta:filter";

/// The versions of `mta:filter` this host serves, newest first.
pub const SERVED_VERSIONS: &[&str] = &["0.2.0", "0.1.0"];

/// The served versions as `mta:filter@X.Y.Z`, for error messages.
pub fn offered() -> String {
    SERVED_VERSIONS
        .iter()
        .map(|v| format!("{PACKAGE}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Link every served version's imports.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    since_v0_1_0::add_to_linker(linker)?;
    since_v0_2_0::add_to_linker(linker)?;
    Ok(())
}

/// Which served version a component's `plugin` export belongs to.
pub fn version_of(exports: &[String]) -> Option<&'static str> {
    if exports.iter().any(|e| e == since_v0_2_0::PLUGIN_EXPORT) {
        Some("0.2.0")
    } else if exports.iter().any(|e| e == since_v0_1_0::PLUGIN_EXPORT) {
        Some("0.1.0")
    } else {
        None
    }
}

/// A component prepared for instantiation, typed by its contract version.
#[derive(Clone)]
pub enum Pre {
    V1(since_v0_1_0::FilterPre<HostState>),
    V2(since_v0_2_0::FilterPre<HostState>),
}

impl Pre {
    /// Type-check a linked component against the version it was built for.
    pub fn new(version: &str, pre: InstancePre<HostState>) -> wasmtime::Result<Pre> {
        Ok(match version {
            "0.2.0" => Pre::V2(since_v0_2_0::FilterPre::new(pre)?),
            _ => Pre::V1(since_v0_1_0::FilterPre::new(pre)?),
        })
    }

    /// The contract version, for `mta plugin list`.
    pub fn version(&self) -> &'static str {
        match self {
            Pre::V1(_) => "0.1.0",
            Pre::V2(_) => "0.2.0",
        }
    }

    pub async fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Bindings> {
        Ok(match self {
            Pre::V1(p) => Bindings::V1(p.instantiate_async(store).await?),
            Pre::V2(p) => Bindings::V2(p.instantiate_async(store).await?),
        })
    }
}

/// An instance's exports, typed by its contract version.
pub enum Bindings {
    V1(since_v0_1_0::Filter),
    V2(since_v0_2_0::Filter),
}

impl Bindings {
    pub async fn describe(&self, store: &mut Store<HostState>) -> wasmtime::Result<Description> {
        Ok(match self {
            Bindings::V1(b) => {
                since_v0_1_0::description(b.mta_filter_plugin().call_describe(store).await?)
            }
            Bindings::V2(b) => {
                since_v0_2_0::description(b.mta_filter_plugin().call_describe(store).await?)
            }
        })
    }

    /// Run `init`; `Ok(Err(text))` is the plugin refusing its configuration.
    pub async fn init(
        &self,
        store: &mut Store<HostState>,
        settings: &[(String, String)],
        tables: &[(String, Option<String>)],
    ) -> wasmtime::Result<Result<(), String>> {
        match self {
            Bindings::V1(b) => {
                let config = since_v0_1_0::config(settings, tables);
                b.mta_filter_plugin().call_init(store, &config).await
            }
            Bindings::V2(b) => {
                let config = since_v0_2_0::config(settings, tables);
                b.mta_filter_plugin().call_init(store, &config).await
            }
        }
    }

    pub async fn call(
        &self,
        store: &mut Store<HostState>,
        hook: Hook<'_>,
    ) -> wasmtime::Result<Answer> {
        match self {
            Bindings::V1(b) => since_v0_1_0::call(b, store, hook).await,
            Bindings::V2(b) => since_v0_2_0::call(b, store, hook).await,
        }
    }
}
