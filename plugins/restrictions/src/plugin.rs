//! The SDK glue: WIT context in, WIT verdict out, capabilities through the
//! SDK's functions (imports on wasm, the fake host in native tests).

use crate::eval;
use crate::facts::{Facts, NameStatus, Stage};
use crate::host::{
    AddressClass, DnsError, Hit, Host, Level, LookupError, Query, Question, Record, RecordType,
    Resolution,
};
use crate::outcome::{Outcome, Reply};
use crate::settings::{Settings, PARAMETERS};
use mta_sdk::{Address, Capability, Config, Context, Description, Plugin, Verdict};

/// The session attribute through which the host hands over the answers of
/// drop-in plugins named in the lists: one `NAME ACTION` pair per plugin met,
/// in order (see `eval::plugins`)..
pub const ANSWER_ATTRIBUTE: &str = "mta.plugin_answer";

/// The text of the `info` verdict that asks the host to call a drop-in named
/// in a list: `mta.call-plugin NAME`. Only the host's runner reads it, and
/// only from this built-in.
pub const CALL_MARKER: &str = "mta.call-plugin ";

/// The plugin: the parsed settings of one instance.
pub struct Restrictions {
    settings: Settings,
}

/// The capabilities as the SDK offers them.
struct SdkHost;

impl Host for SdkHost {
    fn find(&mut self, table: &str, queries: &[Query]) -> Vec<Result<Option<Hit>, LookupError>> {
        use mta_sdk::lookup as l;
        let wit: Vec<l::Query> = queries
            .iter()
            .map(|q| match q {
                Query::Exact(k) => l::Query::Exact(k.clone()),
                Query::Address(a) => l::Query::Address(a.clone()),
                Query::Domain(d) => l::Query::Domain(d.clone()),
                Query::Client { name, address } => l::Query::client(name.clone(), address.clone()),
            })
            .collect();
        l::find(table, &wit)
            .into_iter()
            .map(|r| match r {
                Ok(hit) => Ok(hit.map(|h| Hit {
                    key: h.key,
                    value: h.value,
                })),
                Err(l::LookupError::NotGranted(w)) => Err(LookupError::NotGranted(w)),
                Err(l::LookupError::Unavailable(w)) => Err(LookupError::Unavailable(w)),
            })
            .collect()
    }

    fn resolve(&mut self, addresses: &[String]) -> Vec<Result<Resolution, String>> {
        use mta_sdk::resolve as r;
        r::resolve(addresses)
            .into_iter()
            .map(|res| {
                res.map(|res| Resolution {
                    class: match res.class {
                        r::AddressClass::Local => AddressClass::Local,
                        r::AddressClass::VirtualAlias => AddressClass::VirtualAlias,
                        r::AddressClass::VirtualMailbox => AddressClass::VirtualMailbox,
                        r::AddressClass::Relay => AddressClass::Relay,
                        r::AddressClass::Default => AddressClass::Default,
                    },
                    address: res.address,
                    transport: res.transport,
                    nexthop: res.nexthop,
                    routed: res.routed,
                })
            })
            .collect()
    }

    fn dns(&mut self, questions: &[Question]) -> Vec<Result<Vec<Record>, DnsError>> {
        use mta_sdk::dns as d;
        let wit: Vec<d::Question> = questions
            .iter()
            .map(|q| {
                d::Question::new(
                    q.name.clone(),
                    match q.record_type {
                        RecordType::A => d::RecordType::A,
                        RecordType::Aaaa => d::RecordType::Aaaa,
                        RecordType::Mx => d::RecordType::Mx,
                    },
                )
            })
            .collect();
        d::query(&wit)
            .into_iter()
            .map(|r| match r {
                Ok(answer) => Ok(answer
                    .records
                    .into_iter()
                    .map(|rr| match rr {
                        d::ResourceRecord::A(a) | d::ResourceRecord::Aaaa(a) => Record::Address(a),
                        d::ResourceRecord::Mx(mx) => Record::Mx(mx.exchange),
                        _ => Record::Other,
                    })
                    .collect()),
                Err(d::DnsError::NotFound) => Err(DnsError::NotFound),
                Err(d::DnsError::Timeout) => Err(DnsError::Timeout),
                Err(d::DnsError::ServerFailure(w)) => Err(DnsError::ServerFailure(w)),
                Err(d::DnsError::NotGranted(w)) => Err(DnsError::NotGranted(w)),
            })
            .collect()
    }

    fn log(&mut self, level: Level, message: &str) {
        match level {
            Level::Debug => mta_sdk::log::debug(message),
            Level::Info => mta_sdk::log::info(message),
            Level::Warning => mta_sdk::log::warning(message),
            Level::Error => mta_sdk::log::error(message),
        }
    }
}

fn name_status(status: mta_sdk::NameStatus) -> NameStatus {
    match status {
        mta_sdk::NameStatus::Ok => NameStatus::Ok,
        mta_sdk::NameStatus::NotFound => NameStatus::NotFound,
        mta_sdk::NameStatus::TemporaryFailure => NameStatus::TemporaryFailure,
    }
}

/// Copy what the checks read out of the WIT context.
fn facts(ctx: &Context, stage: Stage) -> Facts {
    let s = ctx.session();
    Facts {
        stage,
        client_address: s.client_address.clone(),
        client_name: s.client_name.clone(),
        client_name_status: name_status(s.client_name_status),
        reverse_client_name: s.reverse_client_name.clone(),
        reverse_client_name_status: name_status(s.reverse_client_name_status),
        helo: s.helo_name.clone(),
        protocol: s.protocol.clone(),
        sasl_username: s.sasl.as_ref().map(|a| a.username.clone()),
        tls: s.tls.is_some(),
        tls_peer_verified: s.tls.as_ref().is_some_and(|t| t.peer_verified),
        improper_pipelining: s.improper_pipelining,
        sender: ctx.sender(),
        recipient: None,
        recipient_count: ctx.recipient_count() as usize,
        etrn_domain: None,
        queue_id: ctx.queue_id(),
        plugin_answers: s
            .attributes
            .iter()
            .filter(|(k, _)| k == ANSWER_ATTRIBUTE)
            .filter_map(|(_, v)| v.split_once(' '))
            .map(|(name, action)| (name.to_string(), action.to_string()))
            .collect(),
    }
}

fn wit_reply(reply: Reply) -> mta_sdk::Reply {
    mta_sdk::Reply::full(reply.code, reply.enhanced, reply.text)
}

/// The engine's outcome as a WIT verdict.
fn verdict(outcome: Outcome) -> Verdict {
    match outcome {
        Outcome::Dunno => Verdict::Dunno,
        Outcome::Permit => Verdict::Ok,
        Outcome::Reject(r) => Verdict::Reject(wit_reply(r)),
        Outcome::Defer(r) => Verdict::Defer(wit_reply(r)),
        Outcome::DeferIfPermit(r) => Verdict::DeferIfPermit(wit_reply(r)),
        Outcome::DeferIfReject(r) => Verdict::DeferIfReject(wit_reply(r)),
        Outcome::Hold(t) => Verdict::Hold(t),
        Outcome::Discard(t) => Verdict::Discard(t),
        Outcome::Filter(t) => Verdict::Filter(t),
        Outcome::Redirect(t) => Verdict::Redirect(t),
        Outcome::Bcc(t) => Verdict::Bcc(t),
        Outcome::Prepend(t) => Verdict::Prepend(t),
        Outcome::Call(name) => Verdict::Info(format!("{CALL_MARKER}{name}")),
    }
}

impl Restrictions {
    fn run(&self, facts: &Facts) -> Verdict {
        verdict(eval::evaluate(&self.settings, &mut SdkHost, facts))
    }

    /// The parsed settings (for tests and `mta plugin test`).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
}

impl Plugin for Restrictions {
    fn describe() -> Description {
        use mta_sdk::Stage as S;
        Description::new("restrictions", env!("CARGO_PKG_VERSION"))
            .stages([
                S::Connect,
                S::Helo,
                S::Mail,
                S::Rcpt,
                S::Etrn,
                S::Data,
                S::EndOfMessage,
            ])
            .capabilities([
                Capability::Log,
                Capability::Lookup,
                Capability::Resolve,
                Capability::Dns,
            ])
            .parameters(PARAMETERS.iter().map(|(name, _)| *name))
    }

    fn init(config: &Config) -> Result<Self, String> {
        let settings = Settings::parse(&config.settings)?;
        for (old, modern) in &settings.old_names {
            mta_sdk::log::warning(&format!(
                "restriction \"{old}\" is obsolete: using {modern} instead"
            ));
        }
        for warning in &settings.warnings {
            mta_sdk::log::warning(warning);
        }
        Ok(Restrictions { settings })
    }

    fn connect(&mut self, ctx: &Context) -> Verdict {
        self.run(&facts(ctx, Stage::Connect))
    }

    fn helo(&mut self, ctx: &Context) -> Verdict {
        self.run(&facts(ctx, Stage::Helo))
    }

    fn mail(&mut self, ctx: &Context) -> Verdict {
        self.run(&facts(ctx, Stage::Mail))
    }

    fn rcpt(&mut self, ctx: &Context, rcpt: &Address) -> Verdict {
        let stage = if ctx.stage() == mta_sdk::Stage::Vrfy {
            Stage::Vrfy
        } else {
            Stage::Rcpt
        };
        let mut f = facts(ctx, stage);
        f.recipient = Some(rcpt.address.clone());
        self.run(&f)
    }

    fn etrn(&mut self, ctx: &Context, destination: &str) -> Verdict {
        let mut f = facts(ctx, Stage::Etrn);
        f.etrn_domain = Some(destination.to_string());
        self.run(&f)
    }

    fn data(&mut self, ctx: &Context) -> Verdict {
        self.run(&facts(ctx, Stage::Data))
    }

    fn end_of_message(&mut self, ctx: &Context) -> Verdict {
        self.run(&facts(ctx, Stage::EndOfMessage))
    }
}
