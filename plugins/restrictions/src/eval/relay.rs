//! Relay control: mynetworks and the *_unauth_destination checks, decided
//! by the host's one address resolver so this check and routing never
//! disagree about `u%h@d`, `h!u@d` or `@a:u@b`.

use super::{Eval, Kind, Step};
use crate::host::{AddressClass, Host, LookupError, Query, Resolution};
use crate::mynetworks::{name_matches, Entry};
use crate::outcome::Reply;
use crate::restriction::Restriction;

impl<H: Host> Eval<'_, H> {
    pub(super) fn in_mynetworks(&mut self) -> Result<bool, (String, LookupError)> {
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

    pub(super) fn resolve_recipient(&mut self) -> Option<Result<Resolution, String>> {
        let rcpt = self.facts.recipient.clone()?;
        if self.rcpt_resolution.is_none() {
            let r = self.host.resolve(&[rcpt]).into_iter().next();
            self.rcpt_resolution =
                Some(r.unwrap_or_else(|| Err("the resolver returned no answer".into())));
        }
        self.rcpt_resolution.clone()
    }

    pub(super) fn resolve_sender(&mut self) -> Option<Result<Resolution, String>> {
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
    pub(super) fn relay_check(&mut self, r: &Restriction) -> Step {
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
}
