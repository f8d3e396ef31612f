//! Host-side mirror of the WIT types (`wit/since_v0.1.0/types.wit`).
//!
//! The host works with these, never with generated bindings: each served WIT
//! version has its own binding module in `sandbox::wit` that converts to and
//! from these types, so an old plugin keeps working when the contract grows.

/// The point of the SMTP dialogue a hook runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    Connect,
    Helo,
    Mail,
    Rcpt,
    Vrfy,
    Etrn,
    Data,
    Headers,
    Body,
    EndOfMessage,
}

impl Stage {
    /// Name as written in WIT, sidecar files and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Connect => "connect",
            Stage::Helo => "helo",
            Stage::Mail => "mail",
            Stage::Rcpt => "rcpt",
            Stage::Vrfy => "vrfy",
            Stage::Etrn => "etrn",
            Stage::Data => "data",
            Stage::Headers => "headers",
            Stage::Body => "body",
            Stage::EndOfMessage => "end-of-message",
        }
    }
}

/// An SMTP reply a verdict asks for; missing parts take Postfix's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub code: Option<u16>,
    pub enhanced: Option<String>,
    pub text: Option<String>,
}

/// A plugin's decision, mirroring access(5) and header_checks(5) actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Dunno,
    Ok,
    Reject(Reply),
    Defer(Reply),
    DeferIfPermit(Reply),
    DeferIfReject(Reply),
    Discard(Option<String>),
    Hold(Option<String>),
    Warn(String),
    Info(String),
    Ignore,
    Pass,
    Strip(Option<String>),
    Prepend(String),
    Replace(String),
    Redirect(String),
    Bcc(String),
    Filter(String),
}

/// How a DNS name lookup about the client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameStatus {
    Ok,
    #[default]
    NotFound,
    TemporaryFailure,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsInfo {
    pub protocol: String,
    pub cipher: String,
    pub peer_subject: Option<String>,
    pub peer_verified: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslInfo {
    pub method: String,
    pub username: String,
}

/// Facts about the connection, gathered natively by smtpd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub client_address: String,
    pub client_port: u16,
    pub client_name: String,
    pub client_name_status: NameStatus,
    pub reverse_client_name: String,
    pub reverse_client_name_status: NameStatus,
    pub server_address: String,
    pub server_port: u16,
    pub listener: String,
    pub helo_name: Option<String>,
    pub protocol: String,
    pub tls: Option<TlsInfo>,
    pub sasl: Option<SaslInfo>,
    pub improper_pipelining: bool,
    pub attributes: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsmtpParam {
    pub name: String,
    pub value: Option<String>,
}

/// An envelope address (empty for the null sender) and its ESMTP parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub address: String,
    pub params: Vec<EsmtpParam>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Envelope {
    pub sender: Option<Address>,
    pub recipients: Vec<Address>,
    pub queue_id: Option<String>,
    pub size: Option<u64>,
}

/// Everything a hook sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub stage: Stage,
    pub session: Session,
    pub envelope: Envelope,
}

/// One logical header; `value` is the raw bytes after the colon with folding
/// kept as `\n` + whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Vec<u8>,
}

/// Line-aligned body piece; lines carry no line ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyChunk {
    pub offset: u64,
    pub lines: Vec<Vec<u8>>,
    pub last: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedVerdict {
    pub index: u32,
    pub verdict: Verdict,
}

/// A capability an operator can grant a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Capability {
    Log,
    Lookup,
    Resolve,
    Dns,
    Kv,
    Clock,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Log => "log",
            Capability::Lookup => "lookup",
            Capability::Resolve => "resolve",
            Capability::Dns => "dns",
            Capability::Kv => "kv",
            Capability::Clock => "clock",
        }
    }
}

/// What a plugin's `describe()` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub name: String,
    pub version: String,
    pub stages: Vec<Stage>,
    pub capabilities: Vec<Capability>,
    pub parameters: Vec<String>,
    pub body_limit: Option<u64>,
}
