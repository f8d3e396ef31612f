//! What the plugin reads from main.cf: the DNS-list entries of the
//! restriction lists (every other entry belongs to the restrictions plugin),
//! reply templates and codes, the scoring sites, and the failure policy.

use crate::filter::Filter;
use mta_sdk::net::Cidr;
use mta_sdk::params::split_list;
use std::net::IpAddr;

/// The main.cf parameters the plugin asks the host for.
pub const PARAMETERS: &[&str] = &[
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_delay_reject",
    "default_rbl_reply",
    "rbl_reply_maps",
    "maps_rbl_reject_code",
    "maps_rbl_domains",
    "rbl_score_sites",
    "rbl_score_threshold",
    "rbl_dns_failure_action",
    "mynetworks",
];

/// Postfix's default, which main.cf must not `$`-expand (it has its own
/// one-level expansion at reply time).
pub const DEFAULT_RBL_REPLY: &str =
    "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}";

/// The restriction lists, in the order Postfix evaluates them at RCPT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListName {
    Client,
    Helo,
    Sender,
    Relay,
    Recipient,
}

impl ListName {
    pub const ALL: [ListName; 5] = [
        ListName::Client,
        ListName::Helo,
        ListName::Sender,
        ListName::Relay,
        ListName::Recipient,
    ];

    pub fn parameter(self) -> &'static str {
        match self {
            ListName::Client => "smtpd_client_restrictions",
            ListName::Helo => "smtpd_helo_restrictions",
            ListName::Sender => "smtpd_sender_restrictions",
            ListName::Relay => "smtpd_relay_restrictions",
            ListName::Recipient => "smtpd_recipient_restrictions",
        }
    }
}

/// What a DNS-list entry looks up and what a hit means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// reject_rbl_client (and reject_maps_rbl): the client address.
    RblClient,
    /// reject_rhsbl_client: the verified client name.
    RhsblClient,
    /// reject_rhsbl_reverse_client: the unverified PTR name.
    RhsblReverseClient,
    /// reject_rhsbl_helo: the HELO/EHLO name.
    RhsblHelo,
    /// reject_rhsbl_sender: the MAIL FROM domain.
    RhsblSender,
    /// reject_rhsbl_recipient: the RCPT TO domain.
    RhsblRecipient,
    /// permit_dnswl_client: the client address, allow list.
    DnswlClient,
    /// permit_rhswl_client: the verified client name, allow list.
    RhswlClient,
}

impl Kind {
    fn from_keyword(k: &str) -> Option<Kind> {
        Some(match k {
            "reject_rbl_client" => Kind::RblClient,
            "reject_rhsbl_client" => Kind::RhsblClient,
            "reject_rhsbl_reverse_client" => Kind::RhsblReverseClient,
            "reject_rhsbl_helo" => Kind::RhsblHelo,
            "reject_rhsbl_sender" => Kind::RhsblSender,
            "reject_rhsbl_recipient" => Kind::RhsblRecipient,
            "permit_dnswl_client" => Kind::DnswlClient,
            "permit_rhswl_client" => Kind::RhswlClient,
            _ => return None,
        })
    }

    pub fn is_allow_list(self) -> bool {
        matches!(self, Kind::DnswlClient | Kind::RhswlClient)
    }

    /// `$rbl_class`.
    pub fn class(self) -> &'static str {
        match self {
            Kind::RblClient | Kind::RhsblClient | Kind::DnswlClient | Kind::RhswlClient => {
                "Client host"
            }
            Kind::RhsblReverseClient => "Unverified Client host",
            Kind::RhsblHelo => "Helo command",
            Kind::RhsblSender => "Sender address",
            Kind::RhsblRecipient => "Recipient address",
        }
    }
}

/// One entry of a restriction list that this plugin acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A DNS-list lookup.
    List {
        kind: Kind,
        /// The zone, as written (lower case, no trailing dot).
        domain: String,
        filter: Option<Filter>,
    },
    /// `permit_mynetworks`: ends the list for clients in `mynetworks`, so a
    /// DNS-list entry after it must not judge them.
    PermitMynetworks,
    /// `permit_sasl_authenticated`: likewise for logged-in clients.
    PermitSasl,
}

/// A postscreen-style weighted site: `zone[=filter][*weight]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreSite {
    pub domain: String,
    pub filter: Option<Filter>,
    pub weight: i64,
}

/// What a DNS failure (timeout, SERVFAIL) of a block list does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
    /// Treat as not listed (Postfix's behaviour).
    Dunno,
    /// Answer 4xx so the client retries.
    Defer,
}

/// Everything `init` parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// DNS-list entries per restriction list, in list order.
    pub lists: Vec<(ListName, Vec<Entry>)>,
    pub delay_reject: bool,
    pub default_rbl_reply: String,
    pub rbl_reply_maps: Vec<String>,
    pub reject_code: u16,
    pub score_sites: Vec<ScoreSite>,
    pub score_threshold: i64,
    pub failure: FailureAction,
    /// `mynetworks` as network blocks with their `!` (table references and
    /// names are skipped); the first block holding the client decides.
    pub mynetworks: Vec<(bool, Cidr)>,
    /// Problems worth a warning at init, not worth refusing to start.
    pub warnings: Vec<String>,
}

/// `zone` or `zone=d.d.d.d`.
fn zone_and_filter(arg: &str) -> Result<(String, Option<Filter>), String> {
    let (zone, filter) = match arg.split_once('=') {
        Some((z, f)) => (z, Some(Filter::parse(f)?)),
        None => (arg, None),
    };
    let zone = zone.trim().trim_end_matches('.').to_ascii_lowercase();
    if zone.is_empty() || zone.contains(['$', '{', '}', '@']) {
        return Err(format!("bad DNS list domain {arg:?}"));
    }
    Ok((zone, filter))
}

impl Settings {
    /// Parse from `name = value` pairs (later pairs win).
    pub fn parse(pairs: &[(String, String)]) -> Result<Settings, String> {
        let get = |name: &str| -> Option<&str> {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let mut warnings = Vec::new();
        let maps_rbl_domains = split_list(get("maps_rbl_domains").unwrap_or(""));
        let mut lists = Vec::new();
        for list in ListName::ALL {
            let tokens = split_list(get(list.parameter()).unwrap_or(""));
            let mut entries = Vec::new();
            let mut i = 0;
            while i < tokens.len() {
                let t = tokens[i].as_str();
                if let Some(kind) = Kind::from_keyword(t) {
                    let arg = tokens
                        .get(i + 1)
                        .ok_or_else(|| format!("{}: {t} needs a domain", list.parameter()))?;
                    let (domain, filter) = zone_and_filter(arg)
                        .map_err(|e| format!("{}: {t}: {e}", list.parameter()))?;
                    entries.push(Entry::List {
                        kind,
                        domain,
                        filter,
                    });
                    i += 2;
                    continue;
                }
                match t {
                    "reject_maps_rbl" => {
                        warnings.push(format!(
                            "{}: reject_maps_rbl is deprecated; use reject_rbl_client with each of maps_rbl_domains",
                            list.parameter()
                        ));
                        for d in &maps_rbl_domains {
                            let (domain, filter) =
                                zone_and_filter(d).map_err(|e| format!("maps_rbl_domains: {e}"))?;
                            entries.push(Entry::List {
                                kind: Kind::RblClient,
                                domain,
                                filter,
                            });
                        }
                    }
                    "permit_mynetworks" => entries.push(Entry::PermitMynetworks),
                    "permit_sasl_authenticated" => entries.push(Entry::PermitSasl),
                    _ => {}
                }
                i += 1;
            }
            // Permits only matter in front of a DNS-list entry.
            while matches!(
                entries.last(),
                Some(Entry::PermitMynetworks | Entry::PermitSasl)
            ) {
                entries.pop();
            }
            if !entries.is_empty() {
                lists.push((list, entries));
            }
        }

        let delay_reject = !matches!(get("smtpd_delay_reject"), Some("no" | "false" | "0"));
        let mut default_rbl_reply = get("default_rbl_reply")
            .filter(|v| !v.trim().is_empty())
            .unwrap_or(DEFAULT_RBL_REPLY)
            .to_string();
        if !default_rbl_reply.contains("$rbl_code")
            && crate::reply::parse(&default_rbl_reply).is_err()
        {
            warnings.push(format!(
                "default_rbl_reply {default_rbl_reply:?} has no SMTP code (was it $-expanded by main.cf?); using the Postfix default"
            ));
            default_rbl_reply = DEFAULT_RBL_REPLY.to_string();
        }
        let reject_code = match get("maps_rbl_reject_code").map(str::trim) {
            None | Some("") => 554,
            Some(v) => v
                .parse::<u16>()
                .ok()
                .filter(|c| (400..600).contains(c))
                .ok_or_else(|| format!("maps_rbl_reject_code: {v:?} is not a 4xx or 5xx code"))?,
        };
        let mut score_sites = Vec::new();
        for item in split_list(get("rbl_score_sites").unwrap_or("")) {
            let (site, weight) = match item.rsplit_once('*') {
                Some((s, w)) => (
                    s,
                    w.parse::<i64>()
                        .map_err(|_| format!("rbl_score_sites: bad weight in {item:?}"))?,
                ),
                None => (item.as_str(), 1),
            };
            let (domain, filter) =
                zone_and_filter(site).map_err(|e| format!("rbl_score_sites: {e}"))?;
            score_sites.push(ScoreSite {
                domain,
                filter,
                weight,
            });
        }
        let score_threshold = match get("rbl_score_threshold").map(str::trim) {
            None | Some("") => 1,
            Some(v) => v
                .parse::<i64>()
                .map_err(|_| format!("rbl_score_threshold: {v:?} is not a number"))?,
        };
        let failure = match get("rbl_dns_failure_action").map(str::trim) {
            None | Some("") | Some("dunno") => FailureAction::Dunno,
            Some("defer" | "tempfail") => FailureAction::Defer,
            Some(v) => {
                return Err(format!(
                    "rbl_dns_failure_action: {v:?} is neither dunno nor defer"
                ))
            }
        };
        let mut mynetworks = Vec::new();
        for item in split_list(get("mynetworks").unwrap_or("")) {
            let (negated, net) = match item.strip_prefix('!') {
                Some(net) => (true, net),
                None => (false, item.as_str()),
            };
            match Cidr::parse(net) {
                Ok(net) => mynetworks.push((negated, net)),
                Err(_) if negated => {
                    // An exclusion this plugin cannot judge: keeping the
                    // rest would let excluded clients skip the DNS lists,
                    // so permit_mynetworks here matches no client at all.
                    warnings.push(format!(
                        "mynetworks: {item:?} is not an address or network; permit_mynetworks in front of a DNS list matches no client"
                    ));
                    mynetworks.clear();
                    break;
                }
                Err(_) => warnings.push(format!(
                    "mynetworks: {item:?} is not an address or network; permit_mynetworks in front of a DNS list ignores it"
                )),
            }
        }
        Ok(Settings {
            lists,
            delay_reject,
            default_rbl_reply,
            rbl_reply_maps: split_list(get("rbl_reply_maps").unwrap_or("")),
            reject_code,
            score_sites,
            score_threshold,
            failure,
            mynetworks,
            warnings,
        })
    }

    /// Every zone the plugin may ask about: what the host's `dns` grant
    /// for this plugin should allow.
    pub fn zones(&self) -> Vec<String> {
        let mut z: Vec<String> = self
            .lists
            .iter()
            .flat_map(|(_, es)| es.iter())
            .filter_map(|e| match e {
                Entry::List { domain, .. } => Some(domain.clone()),
                _ => None,
            })
            .chain(self.score_sites.iter().map(|s| s.domain.clone()))
            .collect();
        z.sort();
        z.dedup();
        z
    }

    pub fn entries(&self, list: ListName) -> &[Entry] {
        self.lists
            .iter()
            .find(|(l, _)| *l == list)
            .map(|(_, e)| e.as_slice())
            .unwrap_or(&[])
    }

    pub fn in_mynetworks(&self, addr: &str) -> bool {
        let Ok(ip) = addr.parse::<IpAddr>() else {
            return false;
        };
        self.mynetworks
            .iter()
            .find(|(_, net)| net.contains(ip))
            .is_some_and(|(negated, _)| !negated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn picks_only_dns_list_entries() {
        let s = Settings::parse(&pairs(&[(
            "smtpd_recipient_restrictions",
            "permit_mynetworks, reject_unauth_destination, check_client_access hash:/x,\n reject_rbl_client zen.example=127.0.0.[2..11], permit_dnswl_client list.dnswl.example, reject_rhsbl_sender dbl.example",
        )]))
        .unwrap();
        let e = s.entries(ListName::Recipient);
        assert_eq!(e.len(), 4);
        assert_eq!(e[0], Entry::PermitMynetworks);
        assert!(
            matches!(&e[1], Entry::List { kind: Kind::RblClient, domain, filter: Some(_) } if domain == "zen.example")
        );
        assert!(matches!(
            &e[2],
            Entry::List {
                kind: Kind::DnswlClient,
                ..
            }
        ));
        assert!(matches!(
            &e[3],
            Entry::List {
                kind: Kind::RhsblSender,
                ..
            }
        ));
        assert_eq!(
            s.zones(),
            vec!["dbl.example", "list.dnswl.example", "zen.example"]
        );
        assert!(s.delay_reject);
        assert_eq!(s.reject_code, 554);
        assert_eq!(s.failure, FailureAction::Dunno);
    }

    #[test]
    fn legacy_maps_rbl_and_scores() {
        let s = Settings::parse(&pairs(&[
            ("smtpd_client_restrictions", "reject_maps_rbl"),
            ("maps_rbl_domains", "a.example, b.example"),
            (
                "rbl_score_sites",
                "zen.example*3, list.example=127.0.0.2*2, allow.example*-5",
            ),
            ("rbl_score_threshold", "3"),
            ("smtpd_delay_reject", "no"),
            ("rbl_dns_failure_action", "defer"),
        ]))
        .unwrap();
        assert_eq!(s.entries(ListName::Client).len(), 2);
        assert!(!s.warnings.is_empty());
        assert_eq!(s.score_sites.len(), 3);
        assert_eq!(s.score_sites[2].weight, -5);
        assert!(s.score_sites[1].filter.is_some());
        assert_eq!(s.score_threshold, 3);
        assert!(!s.delay_reject);
        assert_eq!(s.failure, FailureAction::Defer);
    }

    #[test]
    fn errors_name_the_problem() {
        let e = Settings::parse(&pairs(&[(
            "smtpd_client_restrictions",
            "reject_rbl_client",
        )]))
        .unwrap_err();
        assert!(e.contains("needs a domain"), "{e}");
        let e = Settings::parse(&pairs(&[(
            "smtpd_client_restrictions",
            "reject_rbl_client z.example=127.0.0",
        )]))
        .unwrap_err();
        assert!(e.contains("bad result filter"), "{e}");
        let e = Settings::parse(&pairs(&[("maps_rbl_reject_code", "250")])).unwrap_err();
        assert!(e.contains("maps_rbl_reject_code"), "{e}");
        let e = Settings::parse(&pairs(&[("rbl_dns_failure_action", "reject")])).unwrap_err();
        assert!(e.contains("rbl_dns_failure_action"), "{e}");
    }

    #[test]
    fn expanded_default_reply_falls_back() {
        let s = Settings::parse(&pairs(&[(
            "default_rbl_reply",
            " Service unavailable;  [] blocked using ",
        )]))
        .unwrap();
        assert_eq!(s.default_rbl_reply, DEFAULT_RBL_REPLY);
        assert_eq!(s.warnings.len(), 1);
    }

    #[test]
    fn mynetworks_cidr() {
        let s = Settings::parse(&pairs(&[(
            "mynetworks",
            "127.0.0.1/32 [::1]/128 10.0.0.0/8 hash:/etc/x",
        )]))
        .unwrap();
        assert!(s.in_mynetworks("127.0.0.1"));
        assert!(!s.in_mynetworks("127.0.0.2"));
        assert!(s.in_mynetworks("10.1.2.3"));
        assert!(s.in_mynetworks("::1"));
        assert!(s.in_mynetworks("::ffff:10.9.9.9"));
        assert_eq!(s.warnings.len(), 1);
        // A `!` entry excludes, first match wins, as in Postfix.
        let s = Settings::parse(&pairs(&[("mynetworks", "!10.0.0.5 10.0.0.0/8")])).unwrap();
        assert!(!s.in_mynetworks("10.0.0.5"));
        assert!(s.in_mynetworks("10.0.0.6"));
        // An exclusion it cannot judge turns the whole list off.
        let s = Settings::parse(&pairs(&[("mynetworks", "!hash:/etc/x 10.0.0.0/8")])).unwrap();
        assert!(!s.in_mynetworks("10.0.0.6"));
        assert_eq!(s.warnings.len(), 1);
    }
}
