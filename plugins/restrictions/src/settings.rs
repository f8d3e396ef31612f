//! The main.cf parameters the plugin reads, parsed once in `init`.

use crate::mynetworks::Mynetworks;
use crate::restriction::{parse_list, tokenize, AccessKind, ParseEnv, Restriction, OLD_NAMES};
use std::collections::BTreeMap;

/// The restriction-list parameters, in the order they run at RCPT, with what
/// a bare `type:name` means in each.
pub const LISTS: &[(&str, Option<AccessKind>)] = &[
    ("smtpd_client_restrictions", Some(AccessKind::Client)),
    ("smtpd_helo_restrictions", Some(AccessKind::Helo)),
    ("smtpd_sender_restrictions", Some(AccessKind::Sender)),
    ("smtpd_relay_restrictions", Some(AccessKind::Recipient)),
    ("smtpd_recipient_restrictions", Some(AccessKind::Recipient)),
    ("smtpd_etrn_restrictions", Some(AccessKind::Etrn)),
    ("smtpd_data_restrictions", None),
    ("smtpd_end_of_data_restrictions", None),
];

/// Every parameter the plugin asks the host for, with Postfix 3.x defaults
/// (used when a host leaves one out).
pub const PARAMETERS: &[(&str, &str)] = &[
    ("smtpd_client_restrictions", ""),
    ("smtpd_helo_restrictions", ""),
    ("smtpd_sender_restrictions", ""),
    (
        "smtpd_relay_restrictions",
        "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
    ),
    ("smtpd_recipient_restrictions", ""),
    ("smtpd_etrn_restrictions", ""),
    ("smtpd_data_restrictions", ""),
    ("smtpd_end_of_data_restrictions", ""),
    ("smtpd_restriction_classes", ""),
    ("smtpd_delay_reject", "yes"),
    ("smtpd_helo_required", "no"),
    ("strict_rfc821_envelopes", "no"),
    ("mynetworks", "127.0.0.0/8 [::1]/128"),
    ("maps_rbl_domains", ""),
    ("smtpd_null_access_lookup_key", "<>"),
    ("reject_code", "554"),
    ("defer_code", "450"),
    ("access_map_reject_code", "554"),
    ("access_map_defer_code", "450"),
    ("invalid_hostname_reject_code", "501"),
    ("non_fqdn_reject_code", "504"),
    ("unknown_address_reject_code", "450"),
    ("unknown_client_reject_code", "450"),
    ("unknown_hostname_reject_code", "450"),
    ("relay_domains_reject_code", "554"),
    ("unknown_local_recipient_reject_code", "550"),
    ("unknown_virtual_alias_reject_code", "550"),
    ("unknown_virtual_mailbox_reject_code", "550"),
    ("unknown_relay_recipient_reject_code", "550"),
    ("multi_recipient_bounce_reject_code", "550"),
    ("plaintext_reject_code", "450"),
    ("reject_tempfail_action", "defer_if_permit"),
    ("unknown_address_tempfail_action", "defer_if_permit"),
    ("unknown_helo_hostname_tempfail_action", "defer_if_permit"),
    ("smtpd_reject_unlisted_recipient", "yes"),
    ("smtpd_reject_unlisted_sender", "no"),
    ("local_recipient_maps", ""),
    ("virtual_alias_maps", ""),
    ("virtual_mailbox_maps", ""),
    ("relay_recipient_maps", ""),
    ("recipient_delimiter", ""),
    ("smtpd_sender_login_maps", ""),
];

/// The setting through which the host names the loaded drop-in plugins, so
/// they can be placed in restriction lists. Not a main.cf parameter (those
/// never contain a dot), so an operator cannot set it by accident.
pub const DROP_INS_SETTING: &str = "mta.drop_in_plugins";

/// What to do when DNS cannot answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempfailAction {
    /// Defer only if nothing else rejects.
    DeferIfPermit,
    /// Defer outright.
    Defer,
}

/// Reply codes from main.cf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codes {
    /// reject_code
    pub reject: u16,
    /// defer_code
    pub defer: u16,
    /// access_map_reject_code
    pub access_reject: u16,
    /// access_map_defer_code
    pub access_defer: u16,
    /// invalid_hostname_reject_code
    pub invalid_hostname: u16,
    /// non_fqdn_reject_code
    pub non_fqdn: u16,
    /// unknown_address_reject_code
    pub unknown_address: u16,
    /// unknown_client_reject_code
    pub unknown_client: u16,
    /// unknown_hostname_reject_code
    pub unknown_hostname: u16,
    /// relay_domains_reject_code
    pub relay: u16,
    /// unknown_local_recipient_reject_code
    pub unknown_local: u16,
    /// unknown_virtual_alias_reject_code
    pub unknown_virtual_alias: u16,
    /// unknown_virtual_mailbox_reject_code
    pub unknown_virtual_mailbox: u16,
    /// unknown_relay_recipient_reject_code
    pub unknown_relay: u16,
    /// multi_recipient_bounce_reject_code
    pub multi_recipient_bounce: u16,
    /// plaintext_reject_code
    pub plaintext: u16,
}

/// Everything `init` parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Restriction lists by parameter name.
    pub lists: BTreeMap<String, Vec<Restriction>>,
    /// Restriction classes by name.
    pub classes: BTreeMap<String, Vec<Restriction>>,
    /// The drop-in plugins the host loaded (placeable in lists by name).
    pub plugins: Vec<String>,
    /// smtpd_delay_reject
    pub delay_reject: bool,
    /// smtpd_helo_required (enforced by smtpd itself, which answers MAIL
    /// before HELO/EHLO with its own 503 as Postfix does; kept for logs)
    pub helo_required: bool,
    /// strict_rfc821_envelopes (enforced by the host's parser; kept for logs)
    pub strict_rfc821_envelopes: bool,
    /// mynetworks
    pub mynetworks: Mynetworks,
    /// smtpd_null_access_lookup_key
    pub null_sender_key: String,
    /// Reply codes.
    pub codes: Codes,
    /// unknown_address_tempfail_action
    pub address_tempfail: TempfailAction,
    /// unknown_helo_hostname_tempfail_action
    pub helo_tempfail: TempfailAction,
    /// reject_tempfail_action (client name lookups)
    pub reject_tempfail: TempfailAction,
    /// smtpd_reject_unlisted_recipient
    pub reject_unlisted_recipient: bool,
    /// smtpd_reject_unlisted_sender
    pub reject_unlisted_sender: bool,
    /// local_recipient_maps
    pub local_recipient_maps: Vec<String>,
    /// virtual_alias_maps
    pub virtual_alias_maps: Vec<String>,
    /// virtual_mailbox_maps
    pub virtual_mailbox_maps: Vec<String>,
    /// relay_recipient_maps
    pub relay_recipient_maps: Vec<String>,
    /// recipient_delimiter characters
    pub recipient_delimiter: String,
    /// smtpd_sender_login_maps
    pub sender_login_maps: Vec<String>,
    /// Old restriction names met, with what they became (for the init warning).
    pub old_names: Vec<(String, String)>,
    /// Warnings to log once at init (open relay, DNS lists left to the rbl plugin).
    pub warnings: Vec<String>,
}

fn bool_param(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" => Ok(false),
        other => Err(format!("{name}: expected yes or no, got \"{other}\"")),
    }
}

fn code_param(name: &str, value: &str, class: u16) -> Result<u16, String> {
    let code: u16 = value
        .trim()
        .parse()
        .map_err(|_| format!("{name}: expected a reply code, got \"{value}\""))?;
    if !(400..600).contains(&code) {
        return Err(format!("{name}: {code} is not a 4xx or 5xx reply code"));
    }
    if class == 4 && code >= 500 {
        return Err(format!("{name}: {code} must be a 4xx code"));
    }
    Ok(code)
}

fn tempfail_param(name: &str, value: &str) -> Result<TempfailAction, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "defer_if_permit" => Ok(TempfailAction::DeferIfPermit),
        "defer" => Ok(TempfailAction::Defer),
        other => Err(format!(
            "{name}: expected defer_if_permit or defer, got \"{other}\""
        )),
    }
}

fn map_list(value: &str) -> Result<Vec<String>, String> {
    tokenize(value)
}

impl Settings {
    /// Parse settings given as `name = value` pairs (later pairs win, so the
    /// plugin's sidecar settings override main.cf as the contract says).
    pub fn parse(pairs: &[(String, String)]) -> Result<Settings, String> {
        let mut values: BTreeMap<&str, &str> = PARAMETERS.iter().copied().collect();
        for (k, v) in pairs {
            values.insert(k.as_str(), v.as_str());
        }
        let get = |name: &str| -> &str { values.get(name).copied().unwrap_or("") };
        // A host that does not know a scalar parameter passes it empty; an
        // empty reply code or boolean means "Postfix's default", never an
        // error. (Empty lists stay empty: that is meaningful.)
        let default_of = |name: &str| -> &str {
            PARAMETERS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
                .unwrap_or("")
        };
        let scalar = |name: &str| -> &str {
            let value = get(name);
            if value.trim().is_empty() {
                default_of(name)
            } else {
                value
            }
        };

        let class_names = tokenize(get("smtpd_restriction_classes"))?;
        let maps_rbl_domains = tokenize(get("maps_rbl_domains"))?;
        let plugins = tokenize(get(DROP_INS_SETTING))?;
        if let Some(both) = plugins.iter().find(|p| class_names.contains(p)) {
            return Err(format!(
                "smtpd_restriction_classes: \"{both}\" is also the name of a drop-in plugin; \
                 rename the class so a list entry means one thing"
            ));
        }
        let mut old_seen = Vec::new();
        let mut lists = BTreeMap::new();
        for (param, bare) in LISTS {
            let mut env = ParseEnv {
                parameter: param,
                bare_table: *bare,
                classes: &class_names,
                plugins: &plugins,
                maps_rbl_domains: &maps_rbl_domains,
                old_names_seen: &mut old_seen,
            };
            lists.insert(param.to_string(), parse_list(get(param), &mut env)?);
        }
        let mut classes = BTreeMap::new();
        for class in &class_names {
            let Some(value) = values.get(class.as_str()) else {
                return Err(format!(
                    "smtpd_restriction_classes: class \"{class}\" has no parameter \
                     \"{class} = ...\" (the host must pass each class's value to the plugin)"
                ));
            };
            let mut env = ParseEnv {
                parameter: class,
                bare_table: None,
                classes: &class_names,
                plugins: &plugins,
                maps_rbl_domains: &maps_rbl_domains,
                old_names_seen: &mut old_seen,
            };
            classes.insert(class.clone(), parse_list(value, &mut env)?);
        }
        let old_names = old_seen
            .into_iter()
            .map(|old| {
                let modern = OLD_NAMES
                    .iter()
                    .find(|(o, _)| *o == old)
                    .map(|(_, m)| m.to_string())
                    .unwrap_or_default();
                (old, modern)
            })
            .collect();

        let codes = Codes {
            reject: code_param("reject_code", scalar("reject_code"), 5)?,
            defer: code_param("defer_code", scalar("defer_code"), 4)?,
            access_reject: code_param(
                "access_map_reject_code",
                scalar("access_map_reject_code"),
                5,
            )?,
            access_defer: code_param("access_map_defer_code", scalar("access_map_defer_code"), 4)?,
            invalid_hostname: code_param(
                "invalid_hostname_reject_code",
                scalar("invalid_hostname_reject_code"),
                5,
            )?,
            non_fqdn: code_param("non_fqdn_reject_code", scalar("non_fqdn_reject_code"), 5)?,
            unknown_address: code_param(
                "unknown_address_reject_code",
                scalar("unknown_address_reject_code"),
                5,
            )?,
            unknown_client: code_param(
                "unknown_client_reject_code",
                scalar("unknown_client_reject_code"),
                5,
            )?,
            unknown_hostname: code_param(
                "unknown_hostname_reject_code",
                scalar("unknown_hostname_reject_code"),
                5,
            )?,
            relay: code_param(
                "relay_domains_reject_code",
                scalar("relay_domains_reject_code"),
                5,
            )?,
            unknown_local: code_param(
                "unknown_local_recipient_reject_code",
                scalar("unknown_local_recipient_reject_code"),
                5,
            )?,
            unknown_virtual_alias: code_param(
                "unknown_virtual_alias_reject_code",
                scalar("unknown_virtual_alias_reject_code"),
                5,
            )?,
            unknown_virtual_mailbox: code_param(
                "unknown_virtual_mailbox_reject_code",
                scalar("unknown_virtual_mailbox_reject_code"),
                5,
            )?,
            unknown_relay: code_param(
                "unknown_relay_recipient_reject_code",
                scalar("unknown_relay_recipient_reject_code"),
                5,
            )?,
            multi_recipient_bounce: code_param(
                "multi_recipient_bounce_reject_code",
                scalar("multi_recipient_bounce_reject_code"),
                5,
            )?,
            plaintext: code_param("plaintext_reject_code", scalar("plaintext_reject_code"), 5)?,
        };

        // Postfix refuses to start without relay control at RCPT; so do we.
        let has_relay_control = ["smtpd_relay_restrictions", "smtpd_recipient_restrictions"]
            .iter()
            .flat_map(|p| lists.get(*p).into_iter().flatten())
            .any(|r| {
                matches!(
                    r,
                    Restriction::RejectUnauthDestination
                        | Restriction::DeferUnauthDestination
                        | Restriction::Reject
                        | Restriction::Defer
                        | Restriction::DeferIfPermit
                )
            });
        if !has_relay_control {
            return Err(
                "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, \
                 specify at least one working instance of: reject_unauth_destination, \
                 defer_unauth_destination, reject, defer, defer_if_permit or check_relay_domains"
                    .to_string(),
            );
        }
        let mynetworks = Mynetworks::parse(get("mynetworks"))?;
        let mut warnings = Vec::new();
        if mynetworks.covers_everything() {
            warnings.push(
                "mynetworks covers every address: permit_mynetworks makes this an open relay"
                    .to_string(),
            );
        }
        let all_lists = lists.values().chain(classes.values());
        if all_lists
            .flatten()
            .any(|r| matches!(r, Restriction::DnsList(..)))
        {
            warnings.push(
                "DNS-list restrictions (reject_rbl_client & co) answer DUNNO here; \
                 the rbl plugin, which runs after this one, applies them"
                    .to_string(),
            );
        }

        Ok(Settings {
            lists,
            classes,
            plugins,
            delay_reject: bool_param("smtpd_delay_reject", scalar("smtpd_delay_reject"))?,
            helo_required: bool_param("smtpd_helo_required", scalar("smtpd_helo_required"))?,
            strict_rfc821_envelopes: bool_param(
                "strict_rfc821_envelopes",
                scalar("strict_rfc821_envelopes"),
            )?,
            mynetworks,
            null_sender_key: scalar("smtpd_null_access_lookup_key").trim().to_string(),
            codes,
            address_tempfail: tempfail_param(
                "unknown_address_tempfail_action",
                scalar("unknown_address_tempfail_action"),
            )?,
            helo_tempfail: tempfail_param(
                "unknown_helo_hostname_tempfail_action",
                scalar("unknown_helo_hostname_tempfail_action"),
            )?,
            reject_tempfail: tempfail_param(
                "reject_tempfail_action",
                scalar("reject_tempfail_action"),
            )?,
            reject_unlisted_recipient: bool_param(
                "smtpd_reject_unlisted_recipient",
                scalar("smtpd_reject_unlisted_recipient"),
            )?,
            reject_unlisted_sender: bool_param(
                "smtpd_reject_unlisted_sender",
                scalar("smtpd_reject_unlisted_sender"),
            )?,
            local_recipient_maps: map_list(get("local_recipient_maps"))?,
            virtual_alias_maps: map_list(get("virtual_alias_maps"))?,
            virtual_mailbox_maps: map_list(get("virtual_mailbox_maps"))?,
            relay_recipient_maps: map_list(get("relay_recipient_maps"))?,
            recipient_delimiter: get("recipient_delimiter").trim().to_string(),
            sender_login_maps: map_list(get("smtpd_sender_login_maps"))?,
            old_names,
            warnings,
        })
    }

    /// The list for a parameter (empty if none).
    pub fn list(&self, parameter: &str) -> &[Restriction] {
        self.lists.get(parameter).map(Vec::as_slice).unwrap_or(&[])
    }
}
