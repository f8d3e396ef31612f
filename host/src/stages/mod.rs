//! The stage runner: calls the plugins hooked at each SMTP stage, in order,
//! and turns their verdicts into one decision. Failure policy (a plugin that
//! traps, times out or runs out of memory) and the circuit breaker live here,
//! so smtpd never sees a plugin fault, only a decision.

pub mod types;

pub use types::*;
pub mod placed;
pub mod runner;

pub use runner::*;
