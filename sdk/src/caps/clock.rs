//! Capability `clock`: wall-clock time. Without the grant the host shows a
//! clock stopped at the epoch.

pub use crate::bindings::mta::filter::clock::Datetime;

use super::backend;

/// The current time.
pub fn now() -> Datetime {
    backend::clock::now()
}

/// The current time in whole seconds since the epoch.
pub fn now_seconds() -> u64 {
    now().seconds
}
