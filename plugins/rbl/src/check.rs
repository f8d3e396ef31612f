//! The decision: which lists apply at a stage, one batched DNS call for all
//! of them, then the entries walked in list order (first decisive wins),
//! and a second call for the TXT reason only when a block list decided.
//!
//! The engine talks to the outside through [`Host`], so the same logic runs
//! in the wasm guest (SDK capabilities), in native tests (the SDK harness)
//! and in the benchmark (the host's real resolver).

use crate::names::{address_domain, domain_under, reversed_address};
use crate::reply::{expand, parse, printable, SmtpReply};
use crate::settings::{Entry, FailureAction, Kind, ListName, ScoreSite, Settings};
use std::net::Ipv4Addr;

/// The SMTP stage being judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    Helo,
    Mail,
    Rcpt,
}

/// The facts a DNS list is asked about.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub client_address: String,
    /// Verified client name or `unknown`.
    pub client_name: String,
    /// Unverified PTR name or `unknown`.
    pub reverse_client_name: String,
    pub helo_name: Option<String>,
    /// MAIL FROM address (empty = null sender).
    pub sender: Option<String>,
    /// The recipient being judged at RCPT.
    pub recipient: Option<String>,
    pub sasl_authenticated: bool,
}

/// Record types the engine asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    A,
    Txt,
}

/// One question for the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub qtype: QType,
}

/// The host's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A records (as addresses) or TXT strings; empty = NODATA.
    Records(Vec<String>),
    /// NXDOMAIN: not listed.
    NotFound,
    /// Timeout, SERVFAIL, not granted...: the text says which.
    Failed(String),
}

/// Log levels the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warning,
}

/// What the engine needs from its surroundings.
pub trait Host {
    /// Ask all questions at once; one answer per question, in order.
    fn dns(&mut self, questions: &[Question]) -> Vec<Lookup>;
    /// `rbl_reply_maps`: the template for `domain` in `table`, if any.
    fn reply_map(&mut self, table: &str, domain: &str) -> Result<Option<String>, String>;
    fn log(&mut self, level: Level, message: &str);
}

/// The engine's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Dunno,
    /// An allow list matched in the stage's last list.
    Permit,
    Reject(SmtpReply),
    Defer(SmtpReply),
    /// An allow-list lookup failed (Postfix: DEFER_IF_REJECT).
    DeferIfReject(SmtpReply),
}

/// The checker built once in `init`.
#[derive(Debug, Clone)]
pub struct Rbl {
    pub settings: Settings,
}

/// What one entry asked, kept to read the answer back.
struct Asked<'a> {
    domain: &'a str,
    kind: Kind,
    /// The listed entity (`$rbl_what`).
    what: String,
    /// Index into the batch, or None when the fact is unknown (skip).
    index: Option<usize>,
}

impl Rbl {
    pub fn new(pairs: &[(String, String)]) -> Result<Rbl, String> {
        Ok(Rbl {
            settings: Settings::parse(pairs)?,
        })
    }

    /// The lists judged at `stage` (smtpd_delay_reject moves the client,
    /// HELO and sender lists to RCPT, as in Postfix).
    pub fn lists_at(&self, stage: Stage) -> &'static [ListName] {
        use ListName::*;
        match (stage, self.settings.delay_reject) {
            (Stage::Connect, false) => &[Client],
            (Stage::Helo, false) => &[Helo],
            (Stage::Mail, false) => &[Sender],
            (Stage::Rcpt, false) => &[Relay, Recipient],
            (Stage::Rcpt, true) => &[Client, Helo, Sender, Relay, Recipient],
            _ => &[],
        }
    }

    /// Scoring is about the client, so it runs where the client list does.
    fn scores_at(&self, stage: Stage) -> bool {
        !self.settings.score_sites.is_empty()
            && stage
                == if self.settings.delay_reject {
                    Stage::Rcpt
                } else {
                    Stage::Connect
                }
    }

    /// Whether any hook at `stage` can do anything (the SDK adapter uses it
    /// to declare only the stages that matter).
    pub fn active_at(&self, stage: Stage) -> bool {
        self.scores_at(stage)
            || self
                .lists_at(stage)
                .iter()
                .any(|l| !self.settings.entries(*l).is_empty())
    }

    pub fn check(&self, stage: Stage, facts: &Facts, host: &mut dyn Host) -> Decision {
        let lists = self.lists_at(stage);
        let scoring = self.scores_at(stage);
        if !scoring && lists.iter().all(|l| self.settings.entries(*l).is_empty()) {
            return Decision::Dunno;
        }

        // 1. Every A question of every list (and the scoring sites), asked once.
        let mut questions: Vec<Question> = Vec::new();
        let mut ask = |name: String| -> usize {
            if let Some(i) = questions.iter().position(|q| q.name == name) {
                return i;
            }
            questions.push(Question {
                name,
                qtype: QType::A,
            });
            questions.len() - 1
        };
        let mut plan: Vec<(ListName, Vec<Option<Asked>>)> = Vec::new();
        for list in lists {
            let mut asked = Vec::new();
            for entry in self.settings.entries(*list) {
                asked.push(match entry {
                    Entry::List { kind, domain, .. } => {
                        let (what, name) = subject(*kind, domain, facts);
                        Some(Asked {
                            domain,
                            kind: *kind,
                            what,
                            index: name.map(&mut ask),
                        })
                    }
                    _ => None,
                });
            }
            plan.push((*list, asked));
        }
        let score_index: Vec<Option<usize>> = if scoring {
            self.settings
                .score_sites
                .iter()
                .map(|s| reversed_address(&facts.client_address, &s.domain).map(&mut ask))
                .collect()
        } else {
            Vec::new()
        };
        let answers = if questions.is_empty() {
            Vec::new()
        } else {
            host.dns(&questions)
        };
        let answer = |i: Option<usize>| i.and_then(|i| answers.get(i));

        // 2. Walk the lists in order.
        let mut failures: Vec<(String, Kind, String, String)> = Vec::new();
        let last = lists.last().copied();
        let mut permitted_last = false;
        for (list, asked) in &plan {
            let entries = self.settings.entries(*list);
            'entries: for (entry, asked) in entries.iter().zip(asked) {
                let (filter, a) = match (entry, asked) {
                    (Entry::PermitMynetworks, _) => {
                        if self.settings.in_mynetworks(&facts.client_address) {
                            break 'entries;
                        }
                        continue;
                    }
                    (Entry::PermitSasl, _) => {
                        if facts.sasl_authenticated {
                            break 'entries;
                        }
                        continue;
                    }
                    (Entry::List { filter, .. }, Some(a)) => (filter, a),
                    _ => continue,
                };
                let hit = match answer(a.index) {
                    None => continue,
                    Some(Lookup::NotFound) => continue,
                    Some(Lookup::Failed(why)) => {
                        host.log(
                            Level::Warning,
                            &format!(
                                "{}: lookup error for DNS query {}: {why}",
                                a.domain,
                                questions[a.index.unwrap_or(0)].name
                            ),
                        );
                        if a.kind.is_allow_list() {
                            // Postfix: DEFER_IF_REJECT when allowlist lookup fails.
                            return Decision::DeferIfReject(temp_reply(a.kind, &a.what, a.domain));
                        }
                        failures.push((a.domain.to_string(), a.kind, a.what.clone(), why.clone()));
                        continue;
                    }
                    Some(Lookup::Records(recs)) => matching_codes(recs, filter.as_ref()),
                };
                let Some(code) = hit else { continue };
                if a.kind.is_allow_list() {
                    host.log(
                        Level::Info,
                        &format!(
                            "{} [{}] allowed by {} ({code})",
                            a.kind.class(),
                            a.what,
                            a.domain
                        ),
                    );
                    if Some(*list) == last {
                        permitted_last = true;
                    }
                    break 'entries;
                }
                return self.listed(
                    a.kind,
                    &a.what,
                    a.domain,
                    &questions[a.index.unwrap_or(0)].name,
                    facts,
                    host,
                );
            }
        }

        // 3. Scoring (postscreen-style), after the lists of the client stage.
        if scoring && !permitted_last {
            let mut score = 0i64;
            let mut top: Option<&ScoreSite> = None;
            let mut failed = Vec::new();
            for (site, idx) in self.settings.score_sites.iter().zip(&score_index) {
                match answer(*idx) {
                    Some(Lookup::Records(recs))
                        if matching_codes(recs, site.filter.as_ref()).is_some() =>
                    {
                        score += site.weight;
                        if top.is_none_or(|t| site.weight > t.weight) {
                            top = Some(site);
                        }
                    }
                    Some(Lookup::Failed(why)) => {
                        host.log(
                            Level::Warning,
                            &format!(
                                "{}: lookup error for client {}: {why}",
                                site.domain, facts.client_address
                            ),
                        );
                        if site.weight > 0 {
                            failed.push(site);
                        }
                    }
                    _ => {}
                }
            }
            if score >= self.settings.score_threshold {
                if let Some(top) = top.filter(|t| t.weight > 0) {
                    host.log(
                        Level::Info,
                        &format!(
                            "DNSBL rank {score} for [{}] (threshold {})",
                            facts.client_address, self.settings.score_threshold
                        ),
                    );
                    let name =
                        reversed_address(&facts.client_address, &top.domain).unwrap_or_default();
                    return self.listed(
                        Kind::RblClient,
                        &facts.client_address,
                        &top.domain,
                        &name,
                        facts,
                        host,
                    );
                }
            }
            if let Some(site) = failed.first() {
                if self.settings.failure == FailureAction::Defer {
                    return Decision::Defer(temp_reply(
                        Kind::RblClient,
                        &facts.client_address,
                        &site.domain,
                    ));
                }
            }
        }

        if let Some((domain, kind, what, _)) = failures.first() {
            if self.settings.failure == FailureAction::Defer {
                return Decision::Defer(temp_reply(*kind, what, domain));
            }
        }
        if permitted_last {
            Decision::Permit
        } else {
            Decision::Dunno
        }
    }

    /// A block list matched: fetch the TXT reason and build the reply.
    fn listed(
        &self,
        kind: Kind,
        what: &str,
        domain: &str,
        name: &str,
        facts: &Facts,
        host: &mut dyn Host,
    ) -> Decision {
        let reason = match host
            .dns(&[Question {
                name: name.to_string(),
                qtype: QType::Txt,
            }])
            .into_iter()
            .next()
        {
            Some(Lookup::Records(txt)) => txt.first().map(|t| printable(t)).unwrap_or_default(),
            _ => String::new(),
        };
        let mut template = self.settings.default_rbl_reply.clone();
        for table in &self.settings.rbl_reply_maps {
            match host.reply_map(table, domain) {
                Ok(Some(t)) => {
                    template = t;
                    break;
                }
                Ok(None) => {}
                Err(e) => host.log(Level::Warning, &format!("rbl_reply_maps {table}: {e}")),
            }
        }
        let code = self.settings.reject_code.to_string();
        let vars = |n: &str| -> Option<String> {
            Some(
                match n {
                    "rbl_code" => code.clone(),
                    "rbl_class" => kind.class().to_string(),
                    "rbl_what" => what.to_string(),
                    "rbl_domain" => domain.to_string(),
                    "rbl_reason" => reason.clone(),
                    "rbl_txt" => reason.clone(),
                    "client" => format!("{}[{}]", facts.client_name, facts.client_address),
                    "client_address" => facts.client_address.clone(),
                    "client_name" => facts.client_name.clone(),
                    "reverse_client_name" => facts.reverse_client_name.clone(),
                    "helo_name" => facts.helo_name.clone().unwrap_or_default(),
                    "sender" => or_null(facts.sender.as_deref()),
                    "sender_name" => or_null(facts.sender.as_deref().map(local_part)),
                    "sender_domain" => facts
                        .sender
                        .as_deref()
                        .and_then(address_domain)
                        .unwrap_or("")
                        .to_string(),
                    "recipient" => or_null(facts.recipient.as_deref()),
                    "recipient_name" => or_null(facts.recipient.as_deref().map(local_part)),
                    "recipient_domain" => facts
                        .recipient
                        .as_deref()
                        .and_then(address_domain)
                        .unwrap_or("")
                        .to_string(),
                    _ => return None,
                }
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect(),
            )
        };
        let reply = match parse(&expand(&template, &vars)) {
            Ok(r) => r,
            Err(e) => {
                host.log(
                    Level::Warning,
                    &format!("rbl reply template for {domain}: {e}; using the default"),
                );
                match parse(&expand(crate::settings::DEFAULT_RBL_REPLY, &vars)) {
                    Ok(r) => r,
                    Err(_) => SmtpReply {
                        code: self.settings.reject_code,
                        enhanced: "5.7.1".into(),
                        text: "Service unavailable".into(),
                    },
                }
            }
        };
        if reply.code >= 500 {
            Decision::Reject(reply)
        } else {
            Decision::Defer(reply)
        }
    }
}

/// `<>` for the null address, as Postfix's reply attributes do.
fn or_null(a: Option<&str>) -> String {
    match a {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => "<>".to_string(),
    }
}

fn local_part(a: &str) -> &str {
    a.rsplit_once('@').map(|(l, _)| l).unwrap_or(a)
}

/// The name asked for an entry, and what `$rbl_what` will say.
fn subject(kind: Kind, zone: &str, f: &Facts) -> (String, Option<String>) {
    match kind {
        Kind::RblClient | Kind::DnswlClient => (
            f.client_address.clone(),
            reversed_address(&f.client_address, zone),
        ),
        Kind::RhsblClient | Kind::RhswlClient => {
            (f.client_name.clone(), domain_under(&f.client_name, zone))
        }
        Kind::RhsblReverseClient => (
            f.reverse_client_name.clone(),
            domain_under(&f.reverse_client_name, zone),
        ),
        Kind::RhsblHelo => {
            let h = f.helo_name.clone().unwrap_or_default();
            let name = domain_under(&h, zone);
            (h, name)
        }
        Kind::RhsblSender => {
            let s = f.sender.clone().unwrap_or_default();
            let name = address_domain(&s).and_then(|d| domain_under(d, zone));
            (s, name)
        }
        Kind::RhsblRecipient => {
            let r = f.recipient.clone().unwrap_or_default();
            let name = address_domain(&r).and_then(|d| domain_under(d, zone));
            (r, name)
        }
    }
}

/// The first A record that is an address the filter accepts (any address
/// without a filter).
fn matching_codes(records: &[String], filter: Option<&crate::filter::Filter>) -> Option<String> {
    records
        .iter()
        .filter_map(|r| r.parse::<Ipv4Addr>().ok())
        .find(|ip| filter.is_none_or(|f| f.matches(*ip)))
        .map(|ip| ip.to_string())
}

/// The 4xx for a list that could not be asked (rbl_dns_failure_action =
/// defer, or a failed allow list).
fn temp_reply(kind: Kind, what: &str, domain: &str) -> SmtpReply {
    SmtpReply {
        code: 451,
        enhanced: "4.3.0".into(),
        text: format!(
            "{} [{}]: Temporary lookup failure using {domain}",
            kind.class(),
            printable(what)
        ),
    }
}
