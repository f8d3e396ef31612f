//! Address ownership: reject_unlisted_recipient/sender against the table of
//! the address class, and smtpd_sender_login_maps.

use super::{Eval, Kind, Step};
use crate::host::{AddressClass, Host, Level, LookupError, Query};
use crate::outcome::Reply;
use crate::restriction::LoginMismatch;

impl<H: Host> Eval<'_, H> {
    /// reject_unlisted_recipient / reject_unlisted_sender: the address must
    /// be known in the table of its address class.
    pub(super) fn unlisted(&mut self, sender: bool, implicit: bool) -> Step {
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
        // The resolver's error transport (relocated_maps: "5.1.6 User has
        // moved to ..."): Postfix's check_rcpt_maps refuses it here, before
        // the table of the class is consulted. The virtual alias class is
        // always `error` until cleanup rewrites it; its table decides.
        if res.transport == "error" && res.class != AddressClass::VirtualAlias {
            let (dsn, text) = res
                .nexthop
                .split_once(' ')
                .filter(|(d, _)| {
                    let p: Vec<&str> = d.split('.').collect();
                    p.len() == 3
                        && matches!(p[0], "4" | "5")
                        && p[1..]
                            .iter()
                            .all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit()))
                })
                .unwrap_or(("5.1.1", res.nexthop.as_str()));
            let code = if dsn.starts_with('4') { 450 } else { 550 };
            return self.refuse(Reply::new(code, &dsn[2..], subject.text(text)), Kind::Final);
        }
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
                        self.log(
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

    pub(super) fn login_mismatch(&mut self, mode: LoginMismatch) -> Step {
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
