//! Native unit tests for filters, without wasm.
//!
//! [`TestHost`] is a fake host: lookup tables, a kv store with a settable
//! clock, DNS answers and resolver rules. Install it on the test's thread and
//! the capability functions ([`crate::kv`], [`crate::dns`], ...) talk to it.
//! Build hook arguments with [`ctx`], [`addr`], [`headers`] and [`body`], then
//! call the plugin's trait methods directly:
//!
//! ```
//! use mta_sdk::testing::{addr, ctx, TestHost};
//! use mta_sdk::{Config, Plugin, Stage};
//! # struct P;
//! # impl Plugin for P {
//! #     fn describe() -> mta_sdk::Description { mta_sdk::Description::new("p", "1") }
//! #     fn init(_: &Config) -> Result<Self, String> { Ok(P) }
//! # }
//! let host = TestHost::new().now(1_000).install();
//! let mut plugin = P::init(&Config::empty()).unwrap();
//! let verdict = plugin.rcpt(&ctx(Stage::Rcpt).client("192.0.2.1", "mail.example"), &addr("u@example.org"));
//! assert_eq!(verdict, mta_sdk::Verdict::Dunno);
//! assert!(host.logs().is_empty());
//! ```
//!
//! Natively, a capability called with no host installed gets a fresh empty
//! one for its thread (tests run on their own threads, so they never share).

mod context;
#[doc(hidden)]
pub mod fake;
mod host;
mod message;

pub use context::{ctx, ContextBuilder};
pub use host::TestHost;
pub use message::{addr, body, header, headers};

use crate::{Config, Description, Plugin};

/// Check a description the way the host does at load: a `[a-z0-9-]` name, a
/// version, at least one stage.
pub fn check_description(description: &Description) -> Result<(), String> {
    let name = &description.name;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!("plugin name `{name}` must be non-empty [a-z0-9-]"));
    }
    if description.version.is_empty() {
        return Err(format!("plugin `{name}` has an empty version"));
    }
    if description.stages.is_empty() {
        return Err(format!("plugin `{name}` hooks no stage"));
    }
    Ok(())
}

/// Describe and initialise a plugin as the host would: the description is
/// checked, then `init` runs with `config`.
pub fn start<P: Plugin>(config: &Config) -> Result<P, String> {
    check_description(&P::describe())?;
    P::init(config)
}
