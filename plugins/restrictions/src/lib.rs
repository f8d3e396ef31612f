//! The restrictions plugin: Postfix's smtpd restriction lists
//! (smtpd_client/helo/sender/relay/recipient/data/end_of_data/etrn
//! restrictions and restriction classes) evaluated inside the sandbox.
//!
//! The engine (`eval`) is plain Rust over the `host::Host` trait; the SDK
//! glue maps WIT types onto it.

pub mod access;
pub mod dnscheck;
pub mod eval;
pub mod facts;
pub mod host;
pub mod hostname;
pub mod mynetworks;
pub mod outcome;
pub mod restriction;
pub mod settings;

mod plugin;
pub use plugin::{Restrictions, ANSWER_ATTRIBUTE, CALL_MARKER};

mta_sdk::export_plugin!(Restrictions);
