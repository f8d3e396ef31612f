//! Name checks: the client's reverse and forward-confirmed names (facts the
//! host established at connect), and HELO/sender/recipient domains in DNS.

use super::{Eval, Kind, Step};
use crate::dnscheck::{self, DomainStatus};
use crate::facts::NameStatus;
use crate::host::{AddressClass, Host};
use crate::hostname;
use crate::outcome::Reply;

impl<H: Host> Eval<'_, H> {
    /// `enhanced` is the detail of the enhanced code: Postfix 3.x answers
    /// `4.7.25` (RFC 7372) for a client name that does not resolve back,
    /// `4.7.1` for a missing reverse name.
    pub(super) fn unknown_client(
        &mut self,
        status: NameStatus,
        detail: &str,
        enhanced: &str,
    ) -> Step {
        let text = format!(
            "Client host rejected: {detail}, [{}]",
            self.facts.client_address
        );
        match status {
            NameStatus::Ok => Step::Continue,
            NameStatus::NotFound => self.refuse(
                Reply::new(self.settings.codes.unknown_client, enhanced, text),
                Kind::Final,
            ),
            NameStatus::TemporaryFailure => self.tempfail(
                self.settings.reject_tempfail,
                Reply::new(450, enhanced, text),
            ),
        }
    }

    pub(super) fn unknown_helo(&mut self) -> Step {
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

    pub(super) fn unknown_domain(&mut self, sender: bool) -> Step {
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
}
