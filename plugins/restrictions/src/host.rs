//! The capabilities the restriction engine needs, as a small trait.
//!
//! WHY a trait of our own: the engine is plain Rust that can be unit-tested
//! without any WebAssembly, and the SDK glue (`plugin.rs`) is the only place
//! that knows about the generated WIT types. The shapes mirror the WIT
//! interfaces `lookup`, `resolve`, `dns` and `log` one to one, so the adapter
//! is a field-by-field copy.

/// One access(5) query; the host expands it into the keys access(5) tries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Exactly this key.
    Exact(String),
    /// `user@domain`, the domain and its parents, then `user@`.
    Address(String),
    /// A host or domain name and its parent domains.
    Domain(String),
    /// A client name and its parents, then its address and shorter prefixes.
    Client {
        /// The client name or `unknown`.
        name: String,
        /// The client IP address.
        address: String,
    },
}

/// The key that matched and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The key or pattern that matched.
    pub key: String,
    /// The table's value for it.
    pub value: String,
}

/// Why a lookup could not be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The table is not configured for this plugin.
    NotGranted(String),
    /// The table could not be read right now.
    Unavailable(String),
}

/// Postfix's address classes, from the host's resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// mydestination or this host's address literals.
    Local,
    /// virtual_alias_domains.
    VirtualAlias,
    /// virtual_mailbox_domains.
    VirtualMailbox,
    /// relay_domains.
    Relay,
    /// Anything else: the Internet.
    Default,
}

/// Where an address goes, as the host's resolver says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The address class.
    pub class: AddressClass,
    /// The canonical address.
    pub address: String,
    /// The transport that would deliver it; `error` (with the reason in
    /// `nexthop`, e.g. `5.1.6 User has moved to ...` from relocated_maps)
    /// means the host would refuse to deliver it.
    pub transport: String,
    /// The next hop, or the `error` transport's reason.
    pub nexthop: String,
    /// Whether sender-specified routing (`%`, `!`, `@a:`) was used.
    pub routed: bool,
}

/// The DNS record types the engine asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Mail exchanger.
    Mx,
}

/// One DNS question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked about.
    pub name: String,
    /// The record type asked for.
    pub record_type: RecordType,
}

/// One answer record (only the kinds the engine looks at are typed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// An address record (A or AAAA).
    Address(String),
    /// An MX record's exchange (`.` for a null MX).
    Mx(String),
    /// Anything else.
    Other,
}

/// Why a DNS question has no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// NXDOMAIN.
    NotFound,
    /// No answer in time.
    Timeout,
    /// SERVFAIL, REFUSED, network error.
    ServerFailure(String),
    /// Outside the plugin's granted zones.
    NotGranted(String),
}

/// Log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something an operator should look at.
    Warning,
    /// Something failed.
    Error,
}

/// The host capabilities the engine calls. Every call is a batch, as in WIT.
pub trait Host {
    /// lookup::find.
    fn find(&mut self, table: &str, queries: &[Query]) -> Vec<Result<Option<Hit>, LookupError>>;
    /// resolve::resolve.
    fn resolve(&mut self, addresses: &[String]) -> Vec<Result<Resolution, String>>;
    /// dns::query. `Ok(records)`, where an empty list means NODATA.
    fn dns(&mut self, questions: &[Question]) -> Vec<Result<Vec<Record>, DnsError>>;
    /// log::write.
    fn log(&mut self, level: Level, message: &str);
}
