//! Capability `kv`: a small persistent key-value store private to the
//! plugin, kept by the host apart from the queue. Entries may expire.

use super::backend;

/// The value stored under `key`, if any and not expired.
pub fn get(key: &str) -> Result<Option<Vec<u8>>, String> {
    backend::kv::get(key)
}

/// Store `value` under `key`, expiring after `ttl_seconds` if given.
pub fn set(key: &str, value: &[u8], ttl_seconds: Option<u32>) -> Result<(), String> {
    backend::kv::set(key, value, ttl_seconds)
}

/// Remove `key`; removing a missing key is not an error.
pub fn delete(key: &str) -> Result<(), String> {
    backend::kv::delete(key)
}
