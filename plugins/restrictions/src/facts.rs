//! What one hook call knows: the session and envelope facts the checks read,
//! copied out of the WIT context so the engine does not depend on the SDK.

/// The SMTP stage being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Client connected.
    Connect,
    /// HELO/EHLO.
    Helo,
    /// MAIL FROM.
    Mail,
    /// RCPT TO.
    Rcpt,
    /// VRFY (runs the recipient restrictions like RCPT).
    Vrfy,
    /// ETRN.
    Etrn,
    /// DATA, before content.
    Data,
    /// After the final dot.
    EndOfMessage,
}

impl Stage {
    /// The command name Postfix uses in its log lines (`reject: RCPT from ...`).
    pub fn command(self) -> &'static str {
        match self {
            Stage::Connect => "CONNECT",
            Stage::Helo => "HELO",
            Stage::Mail => "MAIL",
            Stage::Rcpt => "RCPT",
            Stage::Vrfy => "VRFY",
            Stage::Etrn => "ETRN",
            Stage::Data => "DATA",
            Stage::EndOfMessage => "END-OF-MESSAGE",
        }
    }
}

/// How a name lookup of the client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameStatus {
    /// Found (and, for the client name, forward-confirmed).
    Ok,
    /// Not found or not confirmed.
    NotFound,
    /// The DNS did not answer in time.
    TemporaryFailure,
}

/// The facts one hook call sees.
#[derive(Debug, Clone)]
pub struct Facts {
    /// The stage being judged.
    pub stage: Stage,
    /// Client IP address.
    pub client_address: String,
    /// Forward-confirmed client name or `unknown`.
    pub client_name: String,
    /// How the forward-confirmed lookup ended.
    pub client_name_status: NameStatus,
    /// PTR name or `unknown`.
    pub reverse_client_name: String,
    /// How the PTR lookup ended.
    pub reverse_client_name_status: NameStatus,
    /// HELO/EHLO argument, once given.
    pub helo: Option<String>,
    /// `SMTP` or `ESMTP`.
    pub protocol: String,
    /// SASL user name, once authenticated.
    pub sasl_username: Option<String>,
    /// TLS is active on the session.
    pub tls: bool,
    /// The client presented a certificate that chained to a trusted CA.
    pub tls_peer_verified: bool,
    /// The client pipelined where it must not.
    pub improper_pipelining: bool,
    /// The sender once MAIL was given (`""` for the null sender).
    pub sender: Option<String>,
    /// The recipient of this RCPT/VRFY call.
    pub recipient: Option<String>,
    /// How many recipients were accepted so far.
    pub recipient_count: usize,
    /// The ETRN destination.
    pub etrn_domain: Option<String>,
    /// The queue id, once the message has one.
    pub queue_id: Option<String>,
    /// Answers of the drop-in plugins named in the lists, in the order this
    /// call meets them: `(plugin name, access(5) action)`. The host fills
    /// this in as it resumes the evaluation (see `eval::plugins`).
    pub plugin_answers: Vec<(String, String)>,
}

impl Facts {
    /// A blank set of facts for `stage` from `address`, name unknown; tests and
    /// the adapter fill in the rest.
    pub fn new(stage: Stage, client_address: &str) -> Facts {
        Facts {
            stage,
            client_address: client_address.to_string(),
            client_name: "unknown".to_string(),
            client_name_status: NameStatus::NotFound,
            reverse_client_name: "unknown".to_string(),
            reverse_client_name_status: NameStatus::NotFound,
            helo: None,
            protocol: "SMTP".to_string(),
            sasl_username: None,
            tls: false,
            tls_peer_verified: false,
            improper_pipelining: false,
            sender: None,
            recipient: None,
            recipient_count: 0,
            etrn_domain: None,
            queue_id: None,
            plugin_answers: Vec::new(),
        }
    }

    /// `name[address]`, as Postfix names a client in replies and logs.
    pub fn namaddr(&self) -> String {
        format!("{}[{}]", self.client_name, self.client_address)
    }
}
