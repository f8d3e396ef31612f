//! The wasmtime sandbox: one Engine, components compiled once (with an
//! on-disk cache), pools of initialised instances, epoch deadlines, memory
//! limits, and the capabilities each plugin is granted.

use crate::config::Config;

/// The wasmtime engine and compiled components, shared by every listener's
/// `StageRunner` and kept across reloads (the compile cache makes a reload
/// cheap).
#[derive(Debug, Clone, Default)]
pub struct Sandbox {}

impl Sandbox {
    /// Build the engine from `plugin_*` parameters.
    pub fn new(config: &Config) -> anyhow::Result<Sandbox> {
        let _ = config;
        Ok(Sandbox {})
    }
}
