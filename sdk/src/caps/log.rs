//! Capability `log`: lines in the daemon's log, tagged by the host with the
//! plugin's name and version. Never log message bodies.

pub use crate::bindings::mta::filter::log::Level;

use super::backend;

/// Write one line at `level`. The host escapes control characters.
pub fn write(level: Level, message: &str) {
    backend::log::write(level, message)
}

/// Detail for debugging a plugin.
pub fn debug(message: &str) {
    write(Level::Debug, message)
}

/// Normal operation.
pub fn info(message: &str) {
    write(Level::Info, message)
}

/// Something an operator should look at.
pub fn warning(message: &str) {
    write(Level::Warning, message)
}

/// Something failed.
pub fn error(message: &str) {
    write(Level::Error, message)
}
