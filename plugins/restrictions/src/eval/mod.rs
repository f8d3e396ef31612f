//! Evaluation of the restriction lists for one hook call, after Postfix's
//! smtpd_check.c: lists run in stage order, the first decisive answer wins,
//! DUNNO goes on, OK (permit) ends only the list it is in.

mod access;
mod names;
mod plugins;
mod recipients;
mod relay;

use crate::facts::{Facts, Stage};
use crate::host::{Host, Level, LookupError, Query, Resolution};
use crate::hostname;
use crate::outcome::{Outcome, Reply};
use crate::restriction::Restriction;
use crate::settings::{Settings, TempfailAction};

/// Nesting limit for classes and restriction lists inside table values, so a
/// class that names itself cannot loop.
const MAX_DEPTH: usize = 20;

/// Who a reply talks about: `<name>: Class rejected: ...`.
#[derive(Debug, Clone)]
struct Subject {
    name: String,
    class: &'static str,
}

impl Subject {
    fn text(&self, detail: &str) -> String {
        format!("<{}>: {} rejected: {detail}", self.name, self.class)
    }
}

/// How a refusal is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Reject or defer by the reply code's class.
    Final,
    /// defer_if_permit
    IfPermit,
    /// defer_if_reject
    IfReject,
}

/// The result of one restriction or list.
#[derive(Debug)]
enum Step {
    Continue,
    Permit,
    Stop(Outcome),
}

/// State of one hook call.
struct Eval<'a, H: Host> {
    settings: &'a Settings,
    host: &'a mut H,
    facts: &'a Facts,
    defer_if_permit: Option<Reply>,
    defer_if_reject: Option<Reply>,
    side_actions: Vec<Outcome>,
    dns_list_skipped: bool,
    warn_next: bool,
    warn_active: bool,
    unlisted_recipient_done: bool,
    rcpt_resolution: Option<Result<Resolution, String>>,
    sender_resolution: Option<Result<Resolution, String>>,
    /// Drop-in entries met so far in this call (see `plugins`).
    plugins_met: usize,
}

/// Run the lists that belong to `facts.stage`.
pub fn evaluate<H: Host>(settings: &Settings, host: &mut H, facts: &Facts) -> Outcome {
    let mut eval = Eval {
        settings,
        host,
        facts,
        defer_if_permit: None,
        defer_if_reject: None,
        side_actions: Vec::new(),
        dns_list_skipped: false,
        warn_next: false,
        warn_active: false,
        unlisted_recipient_done: false,
        rcpt_resolution: None,
        sender_resolution: None,
        plugins_met: 0,
    };
    eval.run()
}

impl<H: Host> Eval<'_, H> {
    /// Log through the host, except while replaying the part of the lists
    /// an earlier call (the one that stopped at a drop-in) already logged.
    fn log(&mut self, level: Level, message: &str) {
        if !self.replaying() {
            self.host.log(level, message);
        }
    }

    fn client_subject(&self) -> Subject {
        Subject {
            name: self.facts.namaddr(),
            class: "Client host",
        }
    }

    fn helo_subject(&self) -> Subject {
        Subject {
            name: self.facts.helo.clone().unwrap_or_default(),
            class: "Helo command",
        }
    }

    fn sender_subject(&self) -> Subject {
        Subject {
            name: self.facts.sender.clone().unwrap_or_default(),
            class: "Sender address",
        }
    }

    fn recipient_subject(&self) -> Subject {
        Subject {
            name: self.facts.recipient.clone().unwrap_or_default(),
            class: "Recipient address",
        }
    }

    fn etrn_subject(&self) -> Subject {
        Subject {
            name: self.facts.etrn_domain.clone().unwrap_or_default(),
            class: "Etrn command",
        }
    }

    fn run(&mut self) -> Outcome {
        let s = self.settings;
        let f = self.facts;
        let mut lists: Vec<(&str, Subject)> = Vec::new();
        match f.stage {
            Stage::Connect if !s.delay_reject => {
                lists.push(("smtpd_client_restrictions", self.client_subject()))
            }
            Stage::Helo if !s.delay_reject => {
                lists.push(("smtpd_helo_restrictions", self.helo_subject()))
            }
            Stage::Mail if !s.delay_reject => {
                lists.push(("smtpd_sender_restrictions", self.sender_subject()))
            }
            Stage::Rcpt | Stage::Vrfy => {
                if s.delay_reject {
                    lists.push(("smtpd_client_restrictions", self.client_subject()));
                    // Without HELO, Postfix skips the HELO list (checked
                    // against the reference: `reject` there let mail through).
                    if f.helo.is_some() {
                        lists.push(("smtpd_helo_restrictions", self.helo_subject()));
                    }
                    lists.push(("smtpd_sender_restrictions", self.sender_subject()));
                }
                lists.push(("smtpd_relay_restrictions", self.recipient_subject()));
                lists.push(("smtpd_recipient_restrictions", self.recipient_subject()));
            }
            Stage::Etrn => {
                if s.delay_reject {
                    lists.push(("smtpd_client_restrictions", self.client_subject()));
                    if f.helo.is_some() {
                        lists.push(("smtpd_helo_restrictions", self.helo_subject()));
                    }
                }
                lists.push(("smtpd_etrn_restrictions", self.etrn_subject()));
            }
            Stage::Data => lists.push((
                "smtpd_data_restrictions",
                Subject {
                    name: "DATA".into(),
                    class: "Data command",
                },
            )),
            Stage::EndOfMessage => lists.push((
                "smtpd_end_of_data_restrictions",
                Subject {
                    name: "END-OF-MESSAGE".into(),
                    class: "End-of-data",
                },
            )),
            _ => {}
        }

        let mut last_permitted = false;
        for (param, subject) in &lists {
            self.warn_next = false;
            match self.run_list(s.list(param), subject, 0) {
                Step::Stop(outcome) => return outcome,
                Step::Permit => last_permitted = true,
                Step::Continue => last_permitted = false,
            }
        }

        // Postfix's implicit checks, after the lists (even after a permit).
        if matches!(f.stage, Stage::Rcpt | Stage::Vrfy) {
            if s.reject_unlisted_sender {
                if let Step::Stop(o) = self.unlisted(true, true) {
                    return o;
                }
            }
            if s.reject_unlisted_recipient && !self.unlisted_recipient_done {
                if let Step::Stop(o) = self.unlisted(false, true) {
                    return o;
                }
            }
        }

        if let Some(reply) = self.defer_if_permit.take() {
            return Outcome::DeferIfPermit(reply);
        }
        if let Some(side) = self.pick_side_action() {
            return side;
        }
        if let Some(reply) = self.defer_if_reject.take() {
            return Outcome::DeferIfReject(reply);
        }
        if last_permitted && !self.dns_list_skipped {
            Outcome::Permit
        } else {
            Outcome::Dunno
        }
    }

    /// One verdict slot, several access side actions: HOLD beats the last
    /// REDIRECT, the last FILTER, the last BCC, then the first PREPEND. The
    /// ones that do not fit are logged, so an operator can see them.
    /// (DISCARD never gets here: it ends the evaluation at once.)
    fn pick_side_action(&mut self) -> Option<Outcome> {
        let actions = std::mem::take(&mut self.side_actions);
        let find = |pred: fn(&Outcome) -> bool, last: bool| {
            let mut it = actions.iter().filter(|o| pred(o));
            if last {
                it.next_back().cloned()
            } else {
                it.next().cloned()
            }
        };
        let chosen = find(|o| matches!(o, Outcome::Hold(_)), false)
            .or_else(|| find(|o| matches!(o, Outcome::Redirect(_)), true))
            .or_else(|| find(|o| matches!(o, Outcome::Filter(_)), true))
            .or_else(|| find(|o| matches!(o, Outcome::Bcc(_)), true))
            .or_else(|| find(|o| matches!(o, Outcome::Prepend(_)), false));
        if let Some(kept) = &chosen {
            for dropped in actions.iter().filter(|a| *a != kept) {
                self.log(
                    Level::Info,
                    &format!(
                        "access action {dropped:?} not applied: only {kept:?} fits one verdict"
                    ),
                );
            }
        }
        chosen
    }

    fn run_list(&mut self, list: &[Restriction], subject: &Subject, depth: usize) -> Step {
        for restriction in list {
            if *restriction == Restriction::WarnIfReject {
                self.warn_next = true;
                continue;
            }
            let saved = self.warn_active;
            if std::mem::take(&mut self.warn_next) {
                self.warn_active = true;
            }
            let step = self.apply(restriction, subject, depth);
            self.warn_active = saved;
            match step {
                Step::Continue => {}
                other => return other,
            }
        }
        Step::Continue
    }

    /// Log a line in Postfix's format: `reject_warning: RCPT from h[a]: 554 ...; from=<> to=<> proto=SMTP helo=<h>`.
    fn log_event(&mut self, level: Level, what: &str, detail: &str) {
        let f = self.facts;
        let mut line = format!(
            "{}: {what}: {} from {}: {detail};",
            f.queue_id.as_deref().unwrap_or("NOQUEUE"),
            f.stage.command(),
            f.namaddr()
        );
        if let Some(sender) = &f.sender {
            line.push_str(&format!(" from=<{sender}>"));
        }
        if let Some(rcpt) = &f.recipient {
            line.push_str(&format!(" to=<{rcpt}>"));
        }
        line.push_str(&format!(" proto={}", f.protocol));
        if let Some(helo) = &f.helo {
            line.push_str(&format!(" helo=<{helo}>"));
        }
        self.log(level, &line);
    }

    /// Every refusal goes through here: warn_if_reject, defer_if_permit and
    /// defer_if_reject are applied in one place, as smtpd_check_reject() does.
    fn refuse(&mut self, reply: Reply, kind: Kind) -> Step {
        if self.warn_active {
            self.log_event(Level::Warning, "reject_warning", &reply.line());
            return Step::Continue;
        }
        match kind {
            Kind::IfPermit => {
                if self.defer_if_permit.is_none() {
                    self.defer_if_permit = Some(reply);
                }
                Step::Continue
            }
            Kind::IfReject => {
                if self.defer_if_reject.is_none() {
                    self.defer_if_reject = Some(reply);
                }
                Step::Continue
            }
            Kind::Final if reply.is_permanent() => match self.defer_if_reject.take() {
                Some(deferred) => Step::Stop(Outcome::Defer(deferred)),
                None => Step::Stop(Outcome::Reject(reply)),
            },
            Kind::Final => Step::Stop(Outcome::Defer(reply)),
        }
    }

    fn tempfail(&mut self, action: TempfailAction, reply: Reply) -> Step {
        match action {
            TempfailAction::DeferIfPermit => self.refuse(reply, Kind::IfPermit),
            TempfailAction::Defer => self.refuse(reply, Kind::Final),
        }
    }

    /// A table could not be consulted: Postfix answers 451 rather than
    /// guessing, so a broken table never turns into an open door.
    fn lookup_failure(&mut self, table: &str, subject: &Subject, error: &LookupError) -> Step {
        let reply = match error {
            LookupError::Unavailable(why) => {
                self.host
                    .log(Level::Warning, &format!("{table}: lookup failed: {why}"));
                Reply::new(
                    451,
                    "3.0",
                    format!("<{}>: Temporary lookup failure", subject.name),
                )
            }
            LookupError::NotGranted(why) => {
                self.log(
                    Level::Error,
                    &format!("{table}: table not granted to the restrictions plugin: {why}"),
                );
                Reply::new(451, "3.5", "Server configuration error".to_string())
            }
        };
        Step::Stop(Outcome::Defer(reply))
    }

    fn config_error(&mut self, message: &str) -> Step {
        self.log(Level::Error, message);
        Step::Stop(Outcome::Defer(Reply::new(
            451,
            "3.5",
            "Server configuration error".into(),
        )))
    }

    fn apply(&mut self, r: &Restriction, subject: &Subject, depth: usize) -> Step {
        let s = self.settings;
        let f = self.facts;
        match r {
            Restriction::Permit => Step::Permit,
            Restriction::Reject => self.refuse(
                Reply::new(s.codes.reject, "7.1", subject.text("Access denied")),
                Kind::Final,
            ),
            Restriction::Defer => self.refuse(
                Reply::new(s.codes.defer, "7.1", subject.text("Access denied")),
                Kind::Final,
            ),
            Restriction::DeferIfPermit => self.refuse(
                Reply::new(s.codes.defer, "7.1", subject.text("Service unavailable")),
                Kind::IfPermit,
            ),
            Restriction::DeferIfReject => self.refuse(
                Reply::new(s.codes.defer, "7.1", subject.text("Service unavailable")),
                Kind::IfReject,
            ),
            Restriction::WarnIfReject => Step::Continue,
            Restriction::PermitMynetworks => match self.in_mynetworks() {
                Ok(true) => Step::Permit,
                Ok(false) => Step::Continue,
                Err((table, e)) => {
                    let subject = self.client_subject();
                    self.lookup_failure(&table, &subject, &e)
                }
            },
            Restriction::PermitSaslAuthenticated => {
                if f.sasl_username.is_some() {
                    Step::Permit
                } else {
                    Step::Continue
                }
            }
            Restriction::RejectUnauthDestination
            | Restriction::DeferUnauthDestination
            | Restriction::PermitAuthDestination => self.relay_check(r),
            Restriction::Access(kind, table) => self.access(*kind, table, depth),
            Restriction::RejectInvalidHeloHostname => {
                match f.helo.as_deref().and_then(hostname::invalid_helo_reason) {
                    Some(reason) => self.refuse(
                        Reply::new(
                            s.codes.invalid_hostname,
                            "5.2",
                            self.helo_subject().text(reason),
                        ),
                        Kind::Final,
                    ),
                    None => Step::Continue,
                }
            }
            Restriction::RejectNonFqdnHeloHostname => match &f.helo {
                Some(h) if !hostname::fqdn_helo(h) => self.refuse(
                    Reply::new(
                        s.codes.non_fqdn,
                        "5.2",
                        self.helo_subject().text("need fully-qualified hostname"),
                    ),
                    Kind::Final,
                ),
                _ => Step::Continue,
            },
            Restriction::RejectNonFqdnSender => match &f.sender {
                Some(a) if !a.is_empty() && !hostname::fqdn_address(a) => self.refuse(
                    Reply::new(
                        s.codes.non_fqdn,
                        "5.2",
                        self.sender_subject().text("need fully-qualified address"),
                    ),
                    Kind::Final,
                ),
                _ => Step::Continue,
            },
            Restriction::RejectNonFqdnRecipient => match &f.recipient {
                Some(a) if !hostname::fqdn_address(a) => self.refuse(
                    Reply::new(
                        s.codes.non_fqdn,
                        "5.2",
                        self.recipient_subject()
                            .text("need fully-qualified address"),
                    ),
                    Kind::Final,
                ),
                _ => Step::Continue,
            },
            Restriction::RejectUnknownClientHostname => {
                self.unknown_client(f.client_name_status, "cannot find your hostname", "7.25")
            }
            Restriction::RejectUnknownReverseClientHostname => self.unknown_client(
                f.reverse_client_name_status,
                "cannot find your reverse hostname",
                "7.1",
            ),
            Restriction::RejectUnknownHeloHostname => self.unknown_helo(),
            Restriction::RejectUnknownSenderDomain => self.unknown_domain(true),
            Restriction::RejectUnknownRecipientDomain => self.unknown_domain(false),
            Restriction::RejectUnauthPipelining => {
                if f.improper_pipelining {
                    self.refuse(
                        Reply::new(
                            503,
                            "5.0",
                            subject.text("Improper use of SMTP command pipelining"),
                        ),
                        Kind::Final,
                    )
                } else {
                    Step::Continue
                }
            }
            Restriction::RejectUnlistedRecipient => {
                self.unlisted_recipient_done = true;
                self.unlisted(false, false)
            }
            Restriction::RejectUnlistedSender => self.unlisted(true, false),
            Restriction::SenderLoginMismatch(mode) => self.login_mismatch(*mode),
            Restriction::RejectMultiRecipientBounce => {
                // At RCPT the recipient being checked comes on top of those
                // already accepted; at DATA and later all are in the envelope.
                let count = f.recipient_count + usize::from(f.recipient.is_some());
                if f.sender.as_deref() == Some("") && count > 1 {
                    self.refuse(
                        Reply::new(
                            s.codes.multi_recipient_bounce,
                            "5.3",
                            subject.text("Multi-recipient bounce"),
                        ),
                        Kind::Final,
                    )
                } else {
                    Step::Continue
                }
            }
            Restriction::RejectPlaintextSession => {
                if f.tls {
                    Step::Continue
                } else {
                    self.refuse(
                        Reply::new(
                            s.codes.plaintext,
                            "7.1",
                            "Session encryption is required".to_string(),
                        ),
                        Kind::Final,
                    )
                }
            }
            Restriction::PermitTlsAllClientcerts => {
                if f.tls && f.tls_peer_verified {
                    Step::Permit
                } else {
                    Step::Continue
                }
            }
            Restriction::SaslAccess(table) => match f.sasl_username.clone() {
                None => Step::Continue,
                Some(user) => {
                    let subject = self.client_subject();
                    match self
                        .host
                        .find(table, &[Query::Exact(user)])
                        .into_iter()
                        .next()
                    {
                        None | Some(Ok(None)) => Step::Continue,
                        Some(Ok(Some(hit))) => {
                            self.access_action(table, &hit.value, &subject, depth)
                        }
                        Some(Err(e)) => self.lookup_failure(table, &subject, &e),
                    }
                }
            },
            Restriction::DnsList(name, domain) => {
                self.dns_list_skipped = true;
                self.log(
                    Level::Debug,
                    &format!("{name} {domain}: DUNNO here, left to the rbl plugin"),
                );
                Step::Continue
            }
            Restriction::Plugin(name) => self.plugin_entry(name, subject, depth),
            Restriction::Class(name) => {
                if depth >= MAX_DEPTH {
                    return self.config_error(&format!(
                        "restriction class \"{name}\" nests deeper than {MAX_DEPTH} levels"
                    ));
                }
                match s.classes.get(name) {
                    Some(list) => self.run_list(list, subject, depth + 1),
                    None => self.config_error(&format!("unknown restriction class \"{name}\"")),
                }
            }
        }
    }
}
