//! One binding module per served WIT version (Zed's pattern): each converts
//! between its generated types and the host's own (`stages::types`), so the
//! rest of the host never sees generated bindings and an old plugin keeps
//! working when the contract grows.

pub mod since_v0_1_0;

/// The package every served version belongs to.
pub const PACKAGE: &str = "mta:filter";

/// The versions of `mta:filter` this host serves, newest first.
pub const SERVED_VERSIONS: &[&str] = &["0.1.0"];

/// The served versions as `mta:filter@X.Y.Z`, for error messages.
pub fn offered() -> String {
    SERVED_VERSIONS
        .iter()
        .map(|v| format!("{PACKAGE}@{v}"))
        .collect::<Vec<_>>()
        .join(", ")
}
