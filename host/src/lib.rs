//! mta: a secure SMTP gateway in the spirit of Postfix.
//!
//! Every stage that judges untrusted mail runs as a WebAssembly component in a
//! capability-limited sandbox (`sandbox`, driven by `stages`); everything that
//! must never lose mail (`queue`, `qmgr`, `delivery`) stays native. Modules are
//! named after the Postfix role they play, so a reader finds a Postfix concept
//! by its Postfix name.

pub mod cleanup;
pub mod cli;
pub mod config;
pub mod control;
pub mod delivery;
pub mod dns;
pub mod maillog;
pub mod master;
pub mod pickup;
pub mod qmgr;
pub mod queue;
pub mod rewrite;
pub mod sandbox;
pub mod smtpd;
pub mod stages;
pub mod tables;
