//! Capability `resolve`: the host's address resolver (Postfix's
//! trivial-rewrite), so a plugin and the router agree on where mail goes.

pub use crate::bindings::mta::filter::resolve::{AddressClass, Resolution};

use super::backend;

/// Resolve several addresses; one result per address, in order. An error
/// names what is malformed.
pub fn resolve(addresses: &[String]) -> Vec<Result<Resolution, String>> {
    backend::resolve::resolve(addresses)
}

/// Resolve one address: the common case of [`resolve`].
pub fn resolve_one(address: &str) -> Result<Resolution, String> {
    resolve(&[address.to_string()])
        .into_iter()
        .next()
        .unwrap_or_else(|| Err("the host answered no result".to_string()))
}
