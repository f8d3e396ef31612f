//! The context a hook gets: the stage, the connection and the transaction.
//!
//! Inside the daemon the facts stay in the host and each is read on demand
//! (contract 0.2: a hook receives a handle, not a copy), so a plugin pays only
//! for what it looks at. [`Context::session`] and [`Context::envelope`] read
//! everything at once and keep it for the rest of the hook; the single-fact
//! accessors ([`Context::client_address`], [`Context::sender`], ...) are the
//! cheap way to read one or two facts. In native tests the context is built
//! by [`crate::testing::ctx`] and holds the facts itself.

use std::cell::{Cell, OnceCell};
use std::fmt;

use crate::bindings::mta::filter::facts;
use crate::{Address, Envelope, SaslInfo, Session, Stage, TlsInfo};

/// The context of one hook call. It lives only as long as the call.
pub struct Context<'a> {
    /// Read from the host on first use (many hooks never ask).
    stage: Cell<Option<Stage>>,
    source: Source<'a>,
}

enum Source<'a> {
    /// Facts held by the host, read through the call's handle; the whole
    /// records are fetched at most once per call.
    Host {
        handle: &'a facts::Context,
        session: OnceCell<Session>,
        envelope: OnceCell<Envelope>,
    },
    /// Facts given in full (native tests, the `mta plugin test` transcript).
    Given {
        session: Session,
        envelope: Envelope,
    },
}

impl<'a> Context<'a> {
    /// The context of a hook call, read through the host's handle.
    pub(crate) fn from_host(handle: &'a facts::Context) -> Context<'a> {
        Context {
            stage: Cell::new(None),
            source: Source::Host {
                handle,
                session: OnceCell::new(),
                envelope: OnceCell::new(),
            },
        }
    }
}

impl Context<'static> {
    /// A context holding its facts (what [`crate::testing::ctx`] builds).
    pub fn given(stage: Stage, session: Session, envelope: Envelope) -> Context<'static> {
        Context {
            stage: Cell::new(Some(stage)),
            source: Source::Given { session, envelope },
        }
    }

    /// Mutable access to given facts, for the test builder.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn given_mut(&mut self) -> Option<(&mut Stage, &mut Session, &mut Envelope)> {
        match &mut self.source {
            Source::Given { session, envelope } => {
                let stage = self.stage.get_mut().get_or_insert(Stage::Connect);
                Some((stage, session, envelope))
            }
            Source::Host { .. } => None,
        }
    }
}

impl Context<'_> {
    /// The stage being run ([`Stage::Vrfy`] for VRFY through the rcpt hook).
    pub fn stage(&self) -> Stage {
        if let Some(stage) = self.stage.get() {
            return stage;
        }
        let stage = match &self.source {
            Source::Host { handle, .. } => handle.stage(),
            // A given context always holds its stage.
            Source::Given { .. } => Stage::Connect,
        };
        self.stage.set(Some(stage));
        stage
    }

    /// Every connection fact (read from the host once per call).
    pub fn session(&self) -> &Session {
        match &self.source {
            Source::Given { session, .. } => session,
            Source::Host {
                handle, session, ..
            } => session.get_or_init(|| handle.session()),
        }
    }

    /// The whole transaction so far (read from the host once per call).
    pub fn envelope(&self) -> &Envelope {
        match &self.source {
            Source::Given { envelope, .. } => envelope,
            Source::Host {
                handle, envelope, ..
            } => envelope.get_or_init(|| handle.envelope()),
        }
    }

    /// One session fact: from the full record when it was read already,
    /// otherwise with one host call.
    fn fact<T>(
        &self,
        held: impl FnOnce(&Session) -> T,
        ask: impl FnOnce(&facts::Context) -> T,
    ) -> T {
        match &self.source {
            Source::Given { session, .. } => held(session),
            Source::Host {
                handle, session, ..
            } => match session.get() {
                Some(s) => held(s),
                None => ask(handle),
            },
        }
    }

    /// One envelope fact, likewise.
    fn envelope_fact<T>(
        &self,
        held: impl FnOnce(&Envelope) -> T,
        ask: impl FnOnce(&facts::Context) -> T,
    ) -> T {
        match &self.source {
            Source::Given { envelope, .. } => held(envelope),
            Source::Host {
                handle, envelope, ..
            } => match envelope.get() {
                Some(e) => held(e),
                None => ask(handle),
            },
        }
    }

    /// The client's IP address (IPv6 without brackets).
    pub fn client_address(&self) -> String {
        self.fact(|s| s.client_address.clone(), |h| h.client_address())
    }

    /// The forward-confirmed client name, or `unknown`.
    pub fn client_name(&self) -> String {
        self.fact(|s| s.client_name.clone(), |h| h.client_name())
    }

    /// The client's PTR name, or `unknown`.
    pub fn reverse_client_name(&self) -> String {
        self.fact(
            |s| s.reverse_client_name.clone(),
            |h| h.reverse_client_name(),
        )
    }

    /// The HELO/EHLO name, once given.
    pub fn helo_name(&self) -> Option<String> {
        self.fact(|s| s.helo_name.clone(), |h| h.helo_name())
    }

    /// The master.cf service of the listener, e.g. `smtp` or `submission`.
    pub fn listener(&self) -> String {
        self.fact(|s| s.listener.clone(), |h| h.listener())
    }

    /// TLS facts, once STARTTLS succeeded.
    pub fn tls(&self) -> Option<TlsInfo> {
        self.fact(|s| s.tls.clone(), |h| h.tls())
    }

    /// SASL facts, once AUTH succeeded.
    pub fn sasl(&self) -> Option<SaslInfo> {
        self.fact(|s| s.sasl.clone(), |h| h.sasl())
    }

    /// A policy-delegation attribute of the session, e.g. `encryption_keysize`.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.fact(
            |s| {
                s.attributes
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            },
            |h| h.attribute(name),
        )
    }

    /// The envelope sender with its parameters, once MAIL was accepted.
    pub fn sender_address(&self) -> Option<Address> {
        self.envelope_fact(|e| e.sender.clone(), |h| h.sender())
    }

    /// The envelope sender, once MAIL was accepted (`Some("")` for `<>`).
    pub fn sender(&self) -> Option<String> {
        self.envelope_fact(
            |e| e.sender.as_ref().map(|a| a.address.clone()),
            |h| h.sender().map(|a| a.address),
        )
    }

    /// How many recipients were accepted so far.
    pub fn recipient_count(&self) -> u32 {
        self.envelope_fact(
            |e| u32::try_from(e.recipients.len()).unwrap_or(u32::MAX),
            |h| h.recipient_count(),
        )
    }

    /// The queue id, once the message has one (from DATA on).
    pub fn queue_id(&self) -> Option<String> {
        self.envelope_fact(|e| e.queue_id.clone(), |h| h.queue_id())
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Context");
        d.field("stage", &self.stage.get());
        match &self.source {
            Source::Given { session, envelope } => {
                d.field("session", session).field("envelope", envelope);
            }
            Source::Host {
                session, envelope, ..
            } => {
                d.field("session", &session.get())
                    .field("envelope", &envelope.get());
            }
        }
        d.finish()
    }
}

impl Clone for Context<'static> {
    fn clone(&self) -> Self {
        Context::given(
            self.stage(),
            self.session().clone(),
            self.envelope().clone(),
        )
    }
}
