//! The rbl plugin: Postfix's DNS-list restrictions (`reject_rbl_client`,
//! `reject_rhsbl_*`, `permit_dnswl_client`, `permit_rhswl_client`, the
//! legacy `reject_maps_rbl`) plus postscreen-style weighted scoring, running
//! in the sandbox with the host's `dns` capability.
//!
//! Split with the restrictions plugin: both read the same restriction list
//! parameters; the restrictions plugin answers DUNNO for DNS-list entries
//! and this plugin acts only on them. The host runs the restrictions plugin
//! first, so DNS-list entries run after the other entries of the same
//! stage: the one way this differs from Postfix's strict list order.
//! `permit_mynetworks` and `permit_sasl_authenticated` in front of a DNS
//! list are honoured here too, so a list never judges the operator's own
//! clients.

pub mod check;
pub mod filter;
pub mod names;
pub mod plugin;
pub mod reply;
pub mod settings;

pub use check::{Decision, Facts, Host, Level, Lookup, QType, Question, Rbl, Stage};
