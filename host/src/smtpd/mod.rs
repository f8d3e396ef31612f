//! smtpd: the ESMTP server. One tokio task per session; every decision about
//! the client, HELO, sender, recipients and content is asked of the stage
//! runner (plugins in the sandbox).
//!
//! Layout (one concern per file, Stalwart-style): `listener` accepts and
//! caps connections, `session` runs the command loop, one file per verb
//! (`ehlo`, `mail`, `rcpt`, `data`, `misc`, `tls`), `address` parses
//! envelope addresses, `conn` owns the byte stream, `reply` formats replies,
//! `limits` reads the Postfix parameters once, `auth` and `sasl` do SMTP
//! AUTH through Dovecot, `facts` does the client's
//! reverse lookups.

pub mod address;
pub mod anvil;
mod auth;
pub mod conn;
mod counts;
mod data;
mod ehlo;
pub mod facts;
pub mod limits;
pub mod listener;
mod mail;
mod misc;
mod rcpt;
pub mod reply;
pub mod sasl;
pub mod session;
pub mod tls;

use crate::config::Config;
use crate::dns::Dns;
use crate::qmgr::Qmgr;
use crate::queue::Queue;
use crate::stages::StageRunner;
use limits::Limits;
use std::sync::Arc;

pub use session::Session;

/// Everything a session of one listener needs, built once per (re)load. A
/// reload builds a new `Shared` and swaps it in; sessions in flight keep the
/// `Arc` they started with, so their plugins and limits never change under
/// them.
pub struct Shared {
    /// master.cf service name, for logs and the `listener` fact.
    pub listener: String,
    pub limits: Limits,
    pub runner: Arc<StageRunner>,
    pub queue: Queue,
    /// `None` in tests without DNS: clients stay `unknown`.
    pub dns: Option<Dns>,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// For ETRN.
    pub qmgr: Option<Arc<Qmgr>>,
    /// cleanup's canonical/virtual/masquerade maps.
    pub maps: Arc<crate::cleanup::rewrite::Maps>,
    /// Client rate counters, shared by every listener and kept across reloads.
    pub anvil: Arc<anvil::Anvil>,
}

impl Shared {
    /// Build the listener state from its effective configuration.
    pub fn new(
        listener: &str,
        config: &Config,
        runner: Arc<StageRunner>,
        queue: Queue,
        dns: Option<Dns>,
        qmgr: Option<Arc<Qmgr>>,
    ) -> anyhow::Result<Shared> {
        let limits = Limits::from_config(config);
        let tls = tls::acceptor(
            limits.tls_level,
            &limits.tls_cert_file,
            &limits.tls_key_file,
        )?;
        Ok(Shared {
            maps: Arc::new(crate::cleanup::rewrite::Maps::default()),
            anvil: Arc::default(),
            listener: listener.to_string(),
            limits,
            runner,
            queue,
            dns,
            tls,
            qmgr,
        })
    }

    /// Use these address rewriting maps (opened by the daemon from the
    /// listener's tables).
    pub fn with_maps(mut self, maps: crate::cleanup::rewrite::Maps) -> Shared {
        self.maps = Arc::new(maps);
        self
    }

    /// Count client events in `anvil` (the daemon's one set of counters).
    pub fn with_anvil(mut self, anvil: Arc<anvil::Anvil>) -> Shared {
        self.anvil = anvil;
        self
    }

    /// `local_header_rewrite_clients`: whether cleanup may add missing
    /// headers for this client. `permit_inet_interfaces` means the client
    /// connected from one of this machine's addresses, which we know when it
    /// is the address it reached us on (or the loopback address itself).
    pub fn rewrite_headers_for(&self, facts: &crate::stages::Session) -> bool {
        self.limits
            .local_header_rewrite_clients
            .iter()
            .any(|item| match item.as_str() {
                "permit_inet_interfaces" => {
                    facts.client_address == facts.server_address
                        || facts.client_address == "127.0.0.1"
                        || facts.client_address == "::1"
                }
                "static:all" => true,
                _ => false,
            })
    }
}

#[cfg(test)]
mod tests;
