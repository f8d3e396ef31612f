//! The capability functions. Each module wraps one WIT import: on `wasm32`
//! it calls the host; natively it calls the fake host of
//! [`crate::testing`]. A plugin that never calls a module's functions never
//! imports its interface, so its component asks for nothing it does not use.

pub mod clock;
pub mod dns;
pub mod kv;
pub mod log;
pub mod lookup;
pub mod resolve;

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::mta::filter as backend;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::fake as backend;
