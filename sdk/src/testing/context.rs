//! A builder for hook contexts: `ctx(Stage::Rcpt).client("192.0.2.1",
//! "mail.example").helo("mail.example").sender("a@example.org")`.

use std::ops::Deref;

use crate::{
    Address, Context, Envelope, EsmtpParam, NameStatus, SaslInfo, Session, Stage, TlsInfo,
};

/// A context under construction. It dereferences to [`Context`], so
/// `&ctx(..)...` can be passed to a hook as it is.
#[derive(Clone, Debug)]
pub struct ContextBuilder(Context<'static>);

/// A context at `stage` for a client 192.0.2.1 without a name, on the `smtp`
/// listener at 127.0.0.1:25, speaking ESMTP, before HELO, with an empty
/// envelope.
pub fn ctx(stage: Stage) -> ContextBuilder {
    ContextBuilder(Context::given(
        stage,
        Session {
            id: "test-1".to_string(),
            client_address: "192.0.2.1".to_string(),
            client_port: 50_000,
            client_name: "unknown".to_string(),
            client_name_status: NameStatus::NotFound,
            reverse_client_name: "unknown".to_string(),
            reverse_client_name_status: NameStatus::NotFound,
            server_address: "127.0.0.1".to_string(),
            server_port: 25,
            listener: "smtp".to_string(),
            helo_name: None,
            protocol: "ESMTP".to_string(),
            tls: None,
            sasl: None,
            improper_pipelining: false,
            attributes: Vec::new(),
        },
        Envelope {
            sender: None,
            recipients: Vec::new(),
            queue_id: None,
            size: None,
        },
    ))
}

impl Deref for ContextBuilder {
    type Target = Context<'static>;
    fn deref(&self) -> &Context<'static> {
        &self.0
    }
}

impl From<ContextBuilder> for Context<'static> {
    fn from(b: ContextBuilder) -> Context<'static> {
        b.0
    }
}

impl ContextBuilder {
    /// The finished context.
    pub fn build(self) -> Context<'static> {
        self.0
    }

    fn session(&mut self) -> &mut Session {
        match self.0.given_mut() {
            Some((_, s, _)) => s,
            None => unreachable!("a builder's context holds its facts"),
        }
    }

    fn envelope(&mut self) -> &mut Envelope {
        match self.0.given_mut() {
            Some((_, _, e)) => e,
            None => unreachable!("a builder's context holds its facts"),
        }
    }

    /// Change the stage (e.g. to reuse one session across stages).
    pub fn stage(mut self, stage: Stage) -> Self {
        if let Some((st, _, _)) = self.0.given_mut() {
            *st = stage;
        }
        self
    }

    /// The client's address and its (forward-confirmed) name; `unknown`
    /// stands for a client without one.
    pub fn client(mut self, address: &str, name: &str) -> Self {
        let status = if name == "unknown" {
            NameStatus::NotFound
        } else {
            NameStatus::Ok
        };
        let s = self.session();
        s.client_address = address.to_string();
        s.client_name = name.to_string();
        s.client_name_status = status;
        s.reverse_client_name = name.to_string();
        s.reverse_client_name_status = status;
        self
    }

    /// A PTR name that does not map back: client name `unknown`, the
    /// reverse name kept.
    pub fn unverified_name(mut self, reverse_name: &str) -> Self {
        let s = self.session();
        s.client_name = "unknown".to_string();
        s.client_name_status = NameStatus::NotFound;
        s.reverse_client_name = reverse_name.to_string();
        s.reverse_client_name_status = NameStatus::Ok;
        self
    }

    /// The client's name lookups timed out: names `unknown`, status
    /// temporary failure (Postfix's "cannot find your reverse hostname" defer).
    pub fn name_lookup_failed(mut self) -> Self {
        let s = self.session();
        s.client_name = "unknown".to_string();
        s.client_name_status = NameStatus::TemporaryFailure;
        s.reverse_client_name = "unknown".to_string();
        s.reverse_client_name_status = NameStatus::TemporaryFailure;
        self
    }

    /// The client's port.
    pub fn client_port(mut self, port: u16) -> Self {
        self.session().client_port = port;
        self
    }

    /// The listener (master.cf service) and local address.
    pub fn listener(mut self, service: &str, address: &str, port: u16) -> Self {
        let s = self.session();
        s.listener = service.to_string();
        s.server_address = address.to_string();
        s.server_port = port;
        self
    }

    /// The HELO/EHLO name.
    pub fn helo(mut self, name: &str) -> Self {
        self.session().helo_name = Some(name.to_string());
        self
    }

    /// `SMTP` (after HELO) or `ESMTP` (after EHLO).
    pub fn protocol(mut self, protocol: &str) -> Self {
        self.session().protocol = protocol.to_string();
        self
    }

    /// A TLS session.
    pub fn tls(mut self, protocol: &str, cipher: &str) -> Self {
        self.session().tls = Some(TlsInfo {
            protocol: protocol.to_string(),
            cipher: cipher.to_string(),
            peer_subject: None,
            peer_verified: false,
        });
        self
    }

    /// The TLS client certificate (after [`Self::tls`]) with its subject,
    /// verified against a trusted authority or not.
    pub fn peer_certificate(mut self, subject: &str, verified: bool) -> Self {
        if let Some(t) = self.session().tls.as_mut() {
            t.peer_subject = Some(subject.to_string());
            t.peer_verified = verified;
        }
        self
    }

    /// A SASL-authenticated session.
    pub fn sasl(mut self, method: &str, username: &str) -> Self {
        self.session().sasl = Some(SaslInfo {
            method: method.to_string(),
            username: username.to_string(),
        });
        self
    }

    /// The client pipelined where it may not.
    pub fn improper_pipelining(mut self) -> Self {
        self.session().improper_pipelining = true;
        self
    }

    /// A policy-delegation attribute.
    pub fn attribute(mut self, name: &str, value: &str) -> Self {
        self.session()
            .attributes
            .push((name.to_string(), value.to_string()));
        self
    }

    /// The envelope sender (`""` for `<>`).
    pub fn sender(mut self, address: &str) -> Self {
        self.envelope().sender = Some(Address::new(address));
        self
    }

    /// An ESMTP parameter on the sender (call after [`Self::sender`]).
    pub fn sender_param(mut self, name: &str, value: Option<&str>) -> Self {
        if let Some(sender) = self.envelope().sender.as_mut() {
            sender.params.push(EsmtpParam::new(name, value));
        }
        self
    }

    /// An accepted recipient.
    pub fn rcpt(mut self, address: &str) -> Self {
        self.envelope().recipients.push(Address::new(address));
        self
    }

    /// The queue id.
    pub fn queue_id(mut self, id: &str) -> Self {
        self.envelope().queue_id = Some(id.to_string());
        self
    }

    /// The message size.
    pub fn size(mut self, bytes: u64) -> Self {
        self.envelope().size = Some(bytes);
        self
    }
}
