//! Evaluation of the restriction lists for one hook call, after Postfix's
//! smtpd_check.c: lists run in stage order, the first decisive answer wins,
//! DUNNO goes on, OK (permit) ends only the list it is in.

use crate::access::{self, Action};
use crate::dnscheck::{self, DomainStatus};
use crate::facts::{Facts, NameStatus, Stage};
use crate::host::{AddressClass, Host, Level, LookupError, Query, Resolution};
use crate::hostname;
use crate::mynetworks::{name_matches, Entry};
use crate::outcome::{Outcome, Reply};
use crate::restriction::{parse_list, AccessKind, LoginMismatch, ParseEnv, Restriction};
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
    };
    eval.run()
}

impl<H: Host> Eval<'_, H> {
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
            Stage::Mail | Stage::Etrn if s.helo_required && f.helo.is_none() => {
                return Outcome::Reject(Reply::new(
                    503,
                    "5.1",
                    "Error: send HELO/EHLO first".into(),
                ))
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
                self.host.log(
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
        self.host.log(level, &line);
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
                self.host.log(
                    Level::Error,
                    &format!("{table}: table not granted to the restrictions plugin: {why}"),
                );
                Reply::new(451, "3.5", "Server configuration error".to_string())
            }
        };
        Step::Stop(Outcome::Defer(reply))
    }

    fn config_error(&mut self, message: &str) -> Step {
        self.host.log(Level::Error, message);
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
                self.unknown_client(f.client_name_status, "cannot find your hostname")
            }
            Restriction::RejectUnknownReverseClientHostname => self.unknown_client(
                f.reverse_client_name_status,
                "cannot find your reverse hostname",
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
                let count = f.recipients.len() + usize::from(f.recipient.is_some());
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
                self.host.log(
                    Level::Debug,
                    &format!("{name} {domain}: DUNNO here, left to the rbl plugin"),
                );
                Step::Continue
            }
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

    fn in_mynetworks(&mut self) -> Result<bool, (String, LookupError)> {
        let f = self.facts;
        let ip = f.client_address.parse::<std::net::IpAddr>().ok();
        for (negated, entry) in &self.settings.mynetworks.entries {
            let matched = match entry {
                Entry::Cidr(c) => ip.is_some_and(|ip| c.contains(ip)),
                Entry::Name(domain) => {
                    f.client_name != "unknown" && name_matches(&f.client_name, domain)
                }
                Entry::Table(table) => {
                    let q = Query::Client {
                        name: f.client_name.clone(),
                        address: f.client_address.clone(),
                    };
                    match self.host.find(table, &[q]).into_iter().next() {
                        Some(Ok(hit)) => hit.is_some(),
                        Some(Err(e)) => return Err((table.clone(), e)),
                        None => false,
                    }
                }
            };
            if matched {
                return Ok(!negated);
            }
        }
        Ok(false)
    }

    fn resolve_recipient(&mut self) -> Option<Result<Resolution, String>> {
        let rcpt = self.facts.recipient.clone()?;
        if self.rcpt_resolution.is_none() {
            let r = self.host.resolve(&[rcpt]).into_iter().next();
            self.rcpt_resolution =
                Some(r.unwrap_or_else(|| Err("the resolver returned no answer".into())));
        }
        self.rcpt_resolution.clone()
    }

    fn resolve_sender(&mut self) -> Option<Result<Resolution, String>> {
        let sender = self.facts.sender.clone().filter(|s| !s.is_empty())?;
        if self.sender_resolution.is_none() {
            let r = self.host.resolve(&[sender]).into_iter().next();
            self.sender_resolution =
                Some(r.unwrap_or_else(|| Err("the resolver returned no answer".into())));
        }
        self.sender_resolution.clone()
    }

    /// reject_unauth_destination & co: the host's resolver decides whether
    /// the domain is ours (local, virtual, relay) and whether the sender
    /// tried source routing, so this check and routing never disagree.
    fn relay_check(&mut self, r: &Restriction) -> Step {
        let Some(resolution) = self.resolve_recipient() else {
            return Step::Continue;
        };
        let subject = self.recipient_subject();
        let res = match resolution {
            Ok(res) => res,
            Err(why) => {
                return self.refuse(Reply::new(501, "1.3", subject.text(&why)), Kind::Final);
            }
        };
        let authorized = !res.routed
            && matches!(
                res.class,
                AddressClass::Local
                    | AddressClass::VirtualAlias
                    | AddressClass::VirtualMailbox
                    | AddressClass::Relay
            );
        let denied = format!("<{}>: Relay access denied", subject.name);
        match r {
            Restriction::PermitAuthDestination if authorized => Step::Permit,
            Restriction::RejectUnauthDestination if !authorized => self.refuse(
                Reply::new(self.settings.codes.relay, "7.1", denied),
                Kind::Final,
            ),
            // Postfix answers 454 here whatever defer_code says.
            Restriction::DeferUnauthDestination if !authorized => {
                self.refuse(Reply::new(454, "7.1", denied), Kind::Final)
            }
            _ => Step::Continue,
        }
    }

    fn access(&mut self, kind: AccessKind, table: &str, depth: usize) -> Step {
        let f = self.facts;
        let (query, subject) = match kind {
            AccessKind::Client => (
                Query::Client {
                    name: f.client_name.clone(),
                    address: f.client_address.clone(),
                },
                self.client_subject(),
            ),
            AccessKind::ReverseClient => (
                Query::Client {
                    name: f.reverse_client_name.clone(),
                    address: f.client_address.clone(),
                },
                Subject {
                    name: format!("{}[{}]", f.reverse_client_name, f.client_address),
                    class: "Client host",
                },
            ),
            AccessKind::Helo => match &f.helo {
                Some(h) => (Query::Domain(h.clone()), self.helo_subject()),
                None => return Step::Continue,
            },
            AccessKind::Sender => match &f.sender {
                Some(s) if s.is_empty() => (
                    Query::Exact(self.settings.null_sender_key.clone()),
                    self.sender_subject(),
                ),
                Some(s) => (Query::Address(s.clone()), self.sender_subject()),
                None => return Step::Continue,
            },
            AccessKind::Recipient => match &f.recipient {
                Some(r) => (Query::Address(r.clone()), self.recipient_subject()),
                None => return Step::Continue,
            },
            AccessKind::Etrn => match &f.etrn_domain {
                Some(d) => (Query::Domain(d.clone()), self.etrn_subject()),
                None => return Step::Continue,
            },
        };
        match self.host.find(table, &[query]).into_iter().next() {
            None | Some(Ok(None)) => Step::Continue,
            Some(Ok(Some(hit))) => self.access_action(table, &hit.value, &subject, depth),
            Some(Err(e)) => self.lookup_failure(table, &subject, &e),
        }
    }

    /// Apply an access(5) right-hand side.
    fn access_action(&mut self, table: &str, value: &str, subject: &Subject, depth: usize) -> Step {
        let codes = &self.settings.codes;
        let with_text = |code: u16, text: Option<String>, default: &str| {
            let text = text.unwrap_or_default();
            let (enhanced, rest) = access::split_enhanced(&text);
            let detail = if rest.is_empty() { default } else { rest };
            let mut reply = Reply::new(code, "7.1", subject.text(detail));
            if let Some(e) = enhanced {
                // The class digit always follows the reply code.
                reply.enhanced = format!("{}{}", code / 100, &e[1..]);
            }
            reply
        };
        match access::parse(value) {
            Action::Ok => Step::Permit,
            Action::Dunno => Step::Continue,
            Action::Reject(t) => self.refuse(
                with_text(codes.access_reject, t, "Access denied"),
                Kind::Final,
            ),
            Action::Defer(t) => self.refuse(
                with_text(codes.access_defer, t, "Access denied"),
                Kind::Final,
            ),
            Action::DeferIfPermit(t) => self.refuse(
                with_text(codes.access_defer, t, "Service unavailable"),
                Kind::IfPermit,
            ),
            Action::DeferIfReject(t) => self.refuse(
                with_text(codes.access_defer, t, "Service unavailable"),
                Kind::IfReject,
            ),
            Action::Code(code, t) => self.refuse(with_text(code, t, "Access denied"), Kind::Final),
            Action::Hold(t) => {
                self.side_actions.push(Outcome::Hold(t));
                Step::Continue
            }
            // Postfix stops judging the transaction once DISCARD fires: the
            // reference answered 250 even to a recipient it would not relay.
            Action::Discard(t) => Step::Stop(Outcome::Discard(t)),
            Action::Filter(t) => self.side(Outcome::Filter(t)),
            Action::Redirect(t) => self.side(Outcome::Redirect(t)),
            Action::Bcc(t) => self.side(Outcome::Bcc(t)),
            Action::Prepend(t) => self.side(Outcome::Prepend(t)),
            // Postfix logs the text alone, or a generic line without one.
            Action::Warn(t) => {
                let detail = if t.is_empty() {
                    format!("<{}>: {} triggers WARN action", subject.name, subject.class)
                } else {
                    t
                };
                self.log_event(Level::Warning, "warn", &detail);
                Step::Continue
            }
            Action::Info(t) => {
                let detail = if t.is_empty() {
                    format!("<{}>: {} triggers INFO action", subject.name, subject.class)
                } else {
                    t
                };
                self.log_event(Level::Info, "info", &detail);
                Step::Continue
            }
            Action::Restrictions(list) => {
                if value.bytes().all(|b| b.is_ascii_digit()) {
                    // "An all-numerical result is treated as OK" (access(5)).
                    return Step::Permit;
                }
                if depth >= MAX_DEPTH {
                    return self.config_error(&format!(
                        "{table}: restrictions in table values nest deeper than {MAX_DEPTH} levels"
                    ));
                }
                let class_names: Vec<String> = self.settings.classes.keys().cloned().collect();
                let mut seen = Vec::new();
                let mut env = ParseEnv {
                    parameter: table,
                    bare_table: None,
                    classes: &class_names,
                    maps_rbl_domains: &[],
                    old_names_seen: &mut seen,
                };
                match parse_list(&list, &mut env) {
                    Ok(parsed) => self.run_list(&parsed, subject, depth + 1),
                    Err(e) => self.config_error(&format!("{e} (value \"{value}\")")),
                }
            }
        }
    }

    fn side(&mut self, outcome: Outcome) -> Step {
        self.side_actions.push(outcome);
        Step::Continue
    }

    fn unknown_client(&mut self, status: NameStatus, detail: &str) -> Step {
        let text = format!(
            "Client host rejected: {detail}, [{}]",
            self.facts.client_address
        );
        match status {
            NameStatus::Ok => Step::Continue,
            NameStatus::NotFound => self.refuse(
                Reply::new(self.settings.codes.unknown_client, "7.1", text),
                Kind::Final,
            ),
            NameStatus::TemporaryFailure => {
                self.tempfail(self.settings.reject_tempfail, Reply::new(450, "7.1", text))
            }
        }
    }

    fn unknown_helo(&mut self) -> Step {
        let Some(helo) = self.facts.helo.clone() else {
            return Step::Continue;
        };
        if hostname::is_literal(&helo) {
            return Step::Continue;
        }
        let text = self.helo_subject().text("Host not found");
        match dnscheck::domain_status(self.host, &helo) {
            DomainStatus::Found | DomainStatus::NullMx => Step::Continue,
            DomainStatus::NotFound => self.refuse(
                Reply::new(self.settings.codes.unknown_hostname, "7.1", text),
                Kind::Final,
            ),
            DomainStatus::TempFail => {
                self.tempfail(self.settings.helo_tempfail, Reply::new(450, "7.1", text))
            }
        }
    }

    fn unknown_domain(&mut self, sender: bool) -> Step {
        let (address, subject, resolution) = if sender {
            let r = self.resolve_sender();
            (self.facts.sender.clone(), self.sender_subject(), r)
        } else {
            let r = self.resolve_recipient();
            (self.facts.recipient.clone(), self.recipient_subject(), r)
        };
        let Some(address) = address.filter(|a| !a.is_empty()) else {
            return Step::Continue;
        };
        let Some(domain) = hostname::domain_of(&address).map(str::to_string) else {
            return Step::Continue;
        };
        if hostname::is_literal(&domain) {
            return Step::Continue;
        }
        // Postfix checks only domains it is not the final destination for.
        if let Some(Ok(res)) = &resolution {
            if matches!(
                res.class,
                AddressClass::Local | AddressClass::VirtualAlias | AddressClass::VirtualMailbox
            ) {
                return Step::Continue;
            }
        }
        let detail = if sender { "1.8" } else { "1.2" };
        let not_found = subject.text("Domain not found");
        match dnscheck::domain_status(self.host, &domain) {
            DomainStatus::Found => Step::Continue,
            DomainStatus::NotFound => self.refuse(
                Reply::new(self.settings.codes.unknown_address, detail, not_found),
                Kind::Final,
            ),
            DomainStatus::NullMx => self.refuse(
                Reply::new(
                    556,
                    if sender { "7.27" } else { "1.10" },
                    subject.text(&format!("Domain {domain} does not accept mail (nullMX)")),
                ),
                Kind::Final,
            ),
            DomainStatus::TempFail => self.tempfail(
                self.settings.address_tempfail,
                Reply::new(450, detail, not_found),
            ),
        }
    }

    /// reject_unlisted_recipient / reject_unlisted_sender: the address must
    /// be known in the table of its address class.
    fn unlisted(&mut self, sender: bool, implicit: bool) -> Step {
        let s = self.settings;
        let (address, subject, resolution) = if sender {
            let r = self.resolve_sender();
            (self.facts.sender.clone(), self.sender_subject(), r)
        } else {
            let r = self.resolve_recipient();
            (self.facts.recipient.clone(), self.recipient_subject(), r)
        };
        let Some(address) = address.filter(|a| !a.is_empty()) else {
            return Step::Continue;
        };
        let Some(Ok(res)) = resolution else {
            return Step::Continue;
        };
        let (maps, code, what): (Vec<&String>, u16, &str) = match res.class {
            AddressClass::Local => (
                s.local_recipient_maps.iter().collect(),
                s.codes.unknown_local,
                "local recipient",
            ),
            AddressClass::VirtualAlias => (
                s.virtual_alias_maps.iter().collect(),
                s.codes.unknown_virtual_alias,
                "virtual alias",
            ),
            AddressClass::VirtualMailbox => (
                s.virtual_mailbox_maps
                    .iter()
                    .chain(&s.virtual_alias_maps)
                    .collect(),
                s.codes.unknown_virtual_mailbox,
                "virtual mailbox",
            ),
            AddressClass::Relay => (
                s.relay_recipient_maps.iter().collect(),
                s.codes.unknown_relay,
                "relay recipient",
            ),
            AddressClass::Default => return Step::Continue,
        };
        if maps.is_empty() {
            return Step::Continue;
        }
        let keys = unlisted_keys(&res.address, &address, res.class, &s.recipient_delimiter);
        for table in maps {
            let queries: Vec<Query> = keys.iter().cloned().map(Query::Exact).collect();
            for result in self.host.find(table, &queries) {
                match result {
                    Ok(Some(_)) => return Step::Continue,
                    Ok(None) => {}
                    Err(LookupError::NotGranted(why)) if implicit => {
                        self.host.log(
                            Level::Warning,
                            &format!("{table}: not granted to the restrictions plugin ({why}); implicit reject_unlisted check skipped"),
                        );
                        return Step::Continue;
                    }
                    Err(e) => return self.lookup_failure(table, &subject, &e),
                }
            }
        }
        self.refuse(
            Reply::new(
                code,
                "1.1",
                subject.text(&format!("User unknown in {what} table")),
            ),
            Kind::Final,
        )
    }

    fn login_mismatch(&mut self, mode: LoginMismatch) -> Step {
        let Some(sender) = self.facts.sender.clone().filter(|s| !s.is_empty()) else {
            return Step::Continue;
        };
        let maps = self.settings.sender_login_maps.clone();
        let mut owners: Option<Vec<String>> = None;
        for table in &maps {
            match self
                .host
                .find(table, &[Query::Address(sender.clone())])
                .into_iter()
                .next()
            {
                Some(Ok(Some(hit))) => {
                    owners = Some(crate::restriction::tokenize(&hit.value).unwrap_or_default());
                    break;
                }
                Some(Ok(None)) | None => {}
                Some(Err(e)) => {
                    let subject = self.sender_subject();
                    return self.lookup_failure(table, &subject, &e);
                }
            }
        }
        let user = self.facts.sasl_username.clone();
        let subject = self.sender_subject();
        let owned_by = |u: &str| owners.as_ref().is_some_and(|o| o.iter().any(|x| x == u));
        let check_auth = matches!(
            mode,
            LoginMismatch::Any | LoginMismatch::Authenticated | LoginMismatch::Known
        );
        let check_unauth = matches!(mode, LoginMismatch::Any | LoginMismatch::Unauthenticated);
        match user {
            Some(u) if check_auth && !owned_by(&u) => {
                if mode == LoginMismatch::Known && owners.is_none() {
                    return Step::Continue;
                }
                self.refuse(
                    Reply::new(553, "7.1", subject.text(&format!("not owned by user {u}"))),
                    Kind::Final,
                )
            }
            None if check_unauth && owners.is_some() => self.refuse(
                Reply::new(553, "7.1", subject.text("not logged in")),
                Kind::Final,
            ),
            _ => Step::Continue,
        }
    }
}

/// The exact keys reject_unlisted_* tries: the address, for local domains
/// the bare local part, each without its extension, and `@domain` for
/// virtual and relay classes. Folded to lower case, as Postfix folds
/// addresses before these lookups.
fn unlisted_keys(
    canonical: &str,
    given: &str,
    class: AddressClass,
    delimiters: &str,
) -> Vec<String> {
    let address = if canonical.is_empty() {
        given.to_ascii_lowercase()
    } else {
        canonical.to_ascii_lowercase()
    };
    let address = address.as_str();
    let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
    let mut keys = vec![address.to_string()];
    let base = delimiters
        .chars()
        .filter_map(|d| local.split_once(d).map(|(b, _)| b))
        .next();
    if let Some(base) = base {
        if !domain.is_empty() {
            keys.push(format!("{base}@{domain}"));
        }
    }
    if class == AddressClass::Local {
        keys.push(local.to_string());
        if let Some(base) = base {
            keys.push(base.to_string());
        }
    } else if !domain.is_empty() {
        keys.push(format!("@{domain}"));
    }
    keys.dedup();
    keys
}
