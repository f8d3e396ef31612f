//! The wasmtime sandbox: one Engine, components compiled once (with an
//! on-disk cache), pools of initialised instances, epoch deadlines, memory
//! limits, and the capabilities each plugin is granted.
