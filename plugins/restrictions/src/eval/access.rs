//! check_*_access: build the access(5) query for the check, then apply the
//! table's right-hand side (an action, a reply, or more restrictions).

use super::{Eval, Kind, Step, Subject, MAX_DEPTH};
use crate::access::{self, Action};
use crate::host::{Host, Level, Query};
use crate::outcome::{Outcome, Reply};
use crate::restriction::{parse_list, AccessKind, ParseEnv};

impl<H: Host> Eval<'_, H> {
    pub(super) fn access(&mut self, kind: AccessKind, table: &str, depth: usize) -> Step {
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
    pub(super) fn access_action(
        &mut self,
        table: &str,
        value: &str,
        subject: &Subject,
        depth: usize,
    ) -> Step {
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
                    plugins: &[],
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

    pub(super) fn side(&mut self, outcome: Outcome) -> Step {
        self.side_actions.push(outcome);
        Step::Continue
    }
}
