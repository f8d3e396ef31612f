//! The thin adapter between the SDK (hooks, capabilities) and the engine
//! in [`crate::check`], which knows nothing of WIT types.

use crate::check::{Decision, Facts, Host, Level, Lookup, QType, Question, Rbl, Stage};
use crate::settings::PARAMETERS;
use mta_sdk::dns::{self, DnsError, RecordType, ResourceRecord};
use mta_sdk::lookup::{self, Query};
use mta_sdk::{Address, Capability, Config, Context, Description, Plugin, Reply, Verdict};

/// The plugin instance: the parsed settings, built once in `init`.
pub struct RblPlugin {
    rbl: Rbl,
}

/// The engine's [`Host`] on top of the SDK capabilities.
struct SdkHost;

impl Host for SdkHost {
    fn dns(&mut self, questions: &[Question]) -> Vec<Lookup> {
        let qs: Vec<dns::Question> = questions
            .iter()
            .map(|q| {
                let t = match q.qtype {
                    QType::A => RecordType::A,
                    QType::Txt => RecordType::Txt,
                };
                dns::Question::new(q.name.clone(), t)
            })
            .collect();
        let mut out: Vec<Lookup> = dns::query(&qs)
            .into_iter()
            .map(|r| match r {
                Ok(answer) => Lookup::Records(
                    answer
                        .records
                        .into_iter()
                        .filter_map(|rec| match rec {
                            ResourceRecord::A(a) | ResourceRecord::Txt(a) => Some(a),
                            _ => None,
                        })
                        .collect(),
                ),
                Err(DnsError::NotFound) => Lookup::NotFound,
                Err(DnsError::Timeout) => Lookup::Failed("timeout".into()),
                Err(DnsError::ServerFailure(why)) => {
                    Lookup::Failed(format!("server failure: {why}"))
                }
                Err(DnsError::NotGranted(name)) => {
                    Lookup::Failed(format!("{name}: not in the zones granted to this plugin"))
                }
            })
            .collect();
        // A host that answers short must not make the engine index past it.
        out.resize(
            questions.len(),
            Lookup::Failed("no answer from host".into()),
        );
        out
    }

    fn reply_map(&mut self, table: &str, domain: &str) -> Result<Option<String>, String> {
        match lookup::find(table, &[Query::Exact(domain.to_string())])
            .into_iter()
            .next()
        {
            Some(Ok(hit)) => Ok(hit.map(|h| h.value)),
            Some(Err(e)) => Err(format!("{e:?}")),
            None => Ok(None),
        }
    }

    fn log(&mut self, level: Level, message: &str) {
        match level {
            Level::Info => mta_sdk::log::info(message),
            Level::Warning => mta_sdk::log::warning(message),
        }
    }
}

fn facts(ctx: &Context, rcpt: Option<&Address>) -> Facts {
    let s = ctx.session();
    Facts {
        client_address: s.client_address.clone(),
        client_name: s.client_name.clone(),
        reverse_client_name: s.reverse_client_name.clone(),
        helo_name: s.helo_name.clone(),
        sender: ctx.sender(),
        recipient: rcpt.map(|a| a.address.clone()),
        sasl_authenticated: s.sasl.is_some(),
    }
}

fn verdict(d: Decision) -> Verdict {
    match d {
        Decision::Dunno => Verdict::Dunno,
        Decision::Permit => Verdict::Ok,
        Decision::Reject(r) => Verdict::reject_with(r.code, r.enhanced, r.text),
        Decision::Defer(r) => Verdict::defer_with(r.code, r.enhanced, r.text),
        Decision::DeferIfReject(r) => {
            Verdict::DeferIfReject(Reply::full(r.code, r.enhanced, r.text))
        }
    }
}

impl RblPlugin {
    fn run(&self, stage: Stage, ctx: &Context, rcpt: Option<&Address>) -> Verdict {
        if !self.rbl.active_at(stage) {
            return Verdict::Dunno;
        }
        verdict(self.rbl.check(stage, &facts(ctx, rcpt), &mut SdkHost))
    }
}

impl Plugin for RblPlugin {
    fn describe() -> Description {
        // `describe` runs before the configuration is known, so every stage
        // a DNS list can act at is declared; inactive ones return at once.
        Description::new("rbl", env!("CARGO_PKG_VERSION"))
            .stages([
                mta_sdk::Stage::Connect,
                mta_sdk::Stage::Helo,
                mta_sdk::Stage::Mail,
                mta_sdk::Stage::Rcpt,
            ])
            .capabilities([Capability::Dns, Capability::Log, Capability::Lookup])
            .parameters(PARAMETERS.iter().copied())
    }

    fn init(config: &Config) -> Result<Self, String> {
        let rbl = Rbl::new(&config.settings)?;
        for w in &rbl.settings.warnings {
            mta_sdk::log::warning(w);
        }
        Ok(RblPlugin { rbl })
    }

    fn connect(&mut self, ctx: &Context) -> Verdict {
        self.run(Stage::Connect, ctx, None)
    }

    fn helo(&mut self, ctx: &Context) -> Verdict {
        self.run(Stage::Helo, ctx, None)
    }

    fn mail(&mut self, ctx: &Context) -> Verdict {
        self.run(Stage::Mail, ctx, None)
    }

    fn rcpt(&mut self, ctx: &Context, rcpt: &Address) -> Verdict {
        // VRFY reuses the rcpt hook; DNS lists judge real recipients only.
        if ctx.stage() == mta_sdk::Stage::Vrfy {
            return Verdict::Dunno;
        }
        self.run(Stage::Rcpt, ctx, Some(rcpt))
    }
}

mta_sdk::export_plugin!(RblPlugin);
