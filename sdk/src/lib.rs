//! The guest SDK for mta filters.
//!
//! A filter is a type implementing [`Plugin`]: a description, an `init` that
//! turns the operator's configuration into the plugin's state, and one hook
//! per SMTP stage, each defaulting to "no opinion" ([`Verdict::Dunno`]).
//! [`export_plugin!`] turns that type into the WebAssembly component the
//! daemon loads.
//!
//! Capabilities ([`log`], [`lookup`], [`resolve`], [`dns`], [`kv`], [`clock`])
//! are plain functions. Built for `wasm32` they call the host's imports, and
//! only the ones a plugin calls become imports of its component, so a
//! component's import list *is* the capability list the operator must grant.
//! Built natively they call the fake host of [`testing`], so a filter is
//! unit-tested with plain `cargo test`.
//!
//! ```
//! use mta_sdk::{Address, Capability, Config, Context, Description, Plugin, Stage, Verdict};
//!
//! struct NoPostmasterSpam;
//!
//! impl Plugin for NoPostmasterSpam {
//!     fn describe() -> Description {
//!         Description::new("no-postmaster-spam", "1.0.0")
//!             .stages([Stage::Rcpt])
//!             .capabilities([Capability::Log])
//!     }
//!     fn init(_config: &Config) -> Result<Self, String> {
//!         Ok(NoPostmasterSpam)
//!     }
//!     fn rcpt(&mut self, ctx: &Context, rcpt: &Address) -> Verdict {
//!         if rcpt.local_part().eq_ignore_ascii_case("postmaster") && ctx.helo_name().is_none() {
//!             mta_sdk::log::info("postmaster mail without HELO refused");
//!             return Verdict::reject_with(550, "5.7.1", "Say HELO first");
//!         }
//!         Verdict::Dunno
//!     }
//! }
//!
//! mta_sdk::export_plugin!(NoPostmasterSpam);
//! ```

// The generated bindings and the export glue need `unsafe`; nothing else in
// the SDK does.
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/since_v0.2.0",
        world: "filter",
        // Let the export macro run in a plugin crate that depends on mta-sdk
        // alone: it is public, and finds the types and runtime through us.
        pub_export_macro: true,
        export_macro_name: "__export_filter_world",
        default_bindings_module: "::mta_sdk::bindings",
        runtime_path: "::mta_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
    });
}

// Lets `::mta_sdk::...` paths in generated code resolve inside this crate too.
extern crate self as mta_sdk;

mod caps;
mod context;
mod export;
mod helpers;
pub mod net;
pub mod params;
mod plugin;
mod verdict;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use caps::{clock, dns, kv, log, lookup, resolve};
pub use context::Context;
pub use plugin::Plugin;

pub use bindings::exports::mta::filter::plugin::{Capability, Config, Description, TableSource};
pub use bindings::mta::filter::types::{
    Address, BodyChunk, Envelope, EsmtpParam, Header, IndexedVerdict, NameStatus, Reply, SaslInfo,
    Session, Stage, TlsInfo, Verdict,
};

/// Items the macros use; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::export::{context, dispatch, Guest, Handle, State};
    pub use wit_bindgen;
}
