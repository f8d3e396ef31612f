//! Every parameter name mta knows: Postfix 3.7's (with defaults from
//! `postconf -d`, see `postfix-defaults.cf`) plus mta's own, and which of
//! them mta actually honours.

use std::collections::HashMap;
use std::sync::OnceLock;

/// How mta treats a parameter name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// A Postfix parameter mta implements.
    Implemented,
    /// A Postfix parameter mta accepts but does not implement (a warning).
    PostfixOnly,
    /// One of mta's own parameters.
    Mta,
}

/// One known parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    /// The default as written (unexpanded); `@computed` for host-specific ones.
    pub default: &'static str,
    pub support: Support,
}

/// Marker in the defaults file for values worked out at run time.
pub const COMPUTED: &str = "@computed";

/// Whether smtpd offers STARTTLS (it does, with rustls). Were it not, a
/// configuration that *requires* TLS would be refused rather than silently
/// served in clear text. Implicit TLS (wrapper mode) is not offered.
pub const SMTPD_TLS_SUPPORTED: bool = true;
/// Whether smtpd offers AUTH (SASL, through a Dovecot auth server). Same
/// reasoning as for TLS.
pub const SMTPD_SASL_SUPPORTED: bool = true;

const POSTFIX_DEFAULTS: &str = include_str!("postfix-defaults.cf");

/// mta's own parameters and their defaults.
pub const MTA_PARAMS: &[(&str, &str)] = &[
    ("plugin_directory", "$config_directory/plugins"),
    ("builtin_plugin_directory", ""),
    ("plugin_time_limit", "1s"),
    ("plugin_stage_time_limit", "30s"),
    ("plugin_memory_limit", "67108864"),
    ("plugin_failure_action", "tempfail"),
    ("plugin_failure_limit", "5"),
    ("plugin_quarantine_time", "60s"),
    ("plugin_max_use", "1000"),
    ("plugin_isolation", "pool"),
    ("plugin_pool_size", "16"),
    ("plugin_strict_loading", "no"),
    ("plugin_instance_limit", "256"),
    ("plugin_cache_directory", "$queue_directory/plugin-cache"),
    ("dns_servers", ""),
    ("dns_timeout", "5s"),
    ("rbl_dns_failure_action", "dunno"),
    ("rbl_score_sites", ""),
    ("rbl_score_threshold", "1"),
    ("control_socket", "$queue_directory/control"),
    // header-checks: also match body_checks against decoded text parts.
    ("body_checks_decode", "no"),
];

/// Pre-3.x names that `postconf -d` no longer lists but that current
/// defaults still refer to (`virtual_alias_maps = $virtual_maps`) and old
/// configurations (the howtos) still set. Known, so never "unknown".
pub const LEGACY_PARAMS: &[(&str, &str, Support)] = &[
    ("virtual_maps", "", Support::Implemented),
    ("fallback_relay", "", Support::PostfixOnly),
    ("authorized_verp_clients", "", Support::PostfixOnly),
    ("postscreen_whitelist_interfaces", "", Support::PostfixOnly),
    ("postscreen_blacklist_action", "", Support::PostfixOnly),
    (
        "postscreen_dnsbl_whitelist_threshold",
        "",
        Support::PostfixOnly,
    ),
    ("postscreen_dnsbl_ttl", "", Support::PostfixOnly),
    (
        "smtpd_client_connection_limit_exceptions",
        "",
        Support::PostfixOnly,
    ),
    ("tlsproxy_client_policy", "", Support::PostfixOnly),
    ("tlsproxy_client_level", "", Support::PostfixOnly),
    ("lmtp_per_record_deadline", "no", Support::PostfixOnly),
    ("smtp_per_record_deadline", "no", Support::PostfixOnly),
    ("smtpd_per_record_deadline", "no", Support::PostfixOnly),
];

/// Parameters Postfix reads raw: their `$names` are macros filled in when
/// used (`$rbl_code`, `$home`, `$extension`, `$client_address`), so
/// `Config::get` returns them unexpanded; the user expands them with its
/// own macros (`Config::expand_with`).
pub const RAW_PARAMS: &[&str] = &[
    "default_rbl_reply",
    "forward_path",
    "mailbox_command",
    "luser_relay",
    "smtpd_reject_footer",
];

/// Defaults where mta deliberately differs from Postfix (see the README).
pub const MTA_OVERRIDES: &[(&str, &str)] = &[
    // mta's queue is not Postfix's; never share (or clobber) /var/spool/postfix.
    ("queue_directory", "/var/spool/mta"),
    // The banner and Received headers name the software that answers.
    ("mail_name", "mta"),
    // Only Dovecot's auth server is spoken (no Cyrus library): the default
    // type is the one that works, and its path is the one Dovecot's own
    // Postfix howto uses (Postfix's `smtpd` is a Cyrus application name).
    ("smtpd_sasl_type", "dovecot"),
    ("smtpd_sasl_path", "private/auth"),
    // mta has no NIS. Postfix's own default appends `nis:mail.aliases`, which
    // Postfix skips with a warning when no NIS domain is set (the usual case);
    // here an unreadable table in local_recipient_maps would turn every
    // unknown local user's 550 into a 451. An explicit `nis:` stays refused.
    ("alias_maps", "hash:/etc/aliases"),
];

/// Postfix parameters mta implements (smtpd, restrictions, tables, cleanup,
/// queue, delivery). Everything else Postfix knows draws a warning.
pub const IMPLEMENTED: &[&str] = &[
    // Identity, networks, address classes (config, rewrite).
    "compatibility_level",
    "config_directory",
    "queue_directory",
    "mail_name",
    "myhostname",
    "mydomain",
    "myorigin",
    "mydestination",
    "mynetworks",
    "mynetworks_style",
    "inet_interfaces",
    "inet_protocols",
    "proxy_interfaces",
    "relay_domains",
    "parent_domain_matches_subdomains",
    "append_at_myorigin",
    "virtual_alias_domains",
    "virtual_alias_maps",
    "virtual_mailbox_domains",
    "virtual_mailbox_maps",
    "relay_recipient_maps",
    "local_recipient_maps",
    "alias_maps",
    "alias_database",
    "relocated_maps",
    "transport_maps",
    "relayhost",
    "relay_transport",
    "default_transport",
    "local_transport",
    "virtual_transport",
    "swap_bangpath",
    "allow_percent_hack",
    "resolve_dequoted_address",
    "resolve_numeric_domain",
    "recipient_delimiter",
    // smtpd.
    "smtpd_banner",
    "smtpd_tls_security_level",
    "smtpd_tls_cert_file",
    "smtpd_tls_key_file",
    "smtpd_tls_auth_only",
    "smtpd_sasl_auth_enable",
    "smtpd_sasl_type",
    "smtpd_sasl_path",
    "smtpd_sasl_service",
    "smtpd_sasl_security_options",
    "smtpd_sasl_tls_security_options",
    "smtpd_sasl_authenticated_header",
    "broken_sasl_auth_clients",
    "default_process_limit",
    "smtpd_timeout",
    "line_length_limit",
    "message_size_limit",
    "smtpd_recipient_limit",
    "smtpd_soft_error_limit",
    "smtpd_hard_error_limit",
    "smtpd_error_sleep_time",
    "smtpd_junk_command_limit",
    "smtpd_client_connection_count_limit",
    "smtpd_client_connection_rate_limit",
    "smtpd_client_message_rate_limit",
    "smtpd_client_recipient_rate_limit",
    "smtpd_client_event_limit_exceptions",
    "anvil_rate_time_unit",
    "smtpd_forbid_bare_newline",
    "disable_vrfy_command",
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
    "smtpd_restriction_classes",
    "smtpd_null_access_lookup_key",
    "smtpd_sender_login_maps",
    "reject_tempfail_action",
    "multi_recipient_bounce_reject_code",
    "smtpd_delay_reject",
    "smtpd_helo_required",
    "strict_rfc821_envelopes",
    "smtpd_reject_unlisted_recipient",
    "smtpd_reject_unlisted_sender",
    "access_map_reject_code",
    "access_map_defer_code",
    "relay_domains_reject_code",
    "unknown_client_reject_code",
    "unknown_hostname_reject_code",
    "unknown_address_reject_code",
    "unknown_address_tempfail_action",
    "unknown_helo_hostname_tempfail_action",
    "unknown_relay_recipient_reject_code",
    "unknown_local_recipient_reject_code",
    "unknown_virtual_alias_reject_code",
    "unknown_virtual_mailbox_reject_code",
    "non_fqdn_reject_code",
    "invalid_hostname_reject_code",
    "reject_code",
    "defer_code",
    "plaintext_reject_code",
    "maps_rbl_domains",
    "maps_rbl_reject_code",
    "default_rbl_reply",
    "rbl_reply_maps",
    // cleanup.
    "header_checks",
    "body_checks",
    "mime_header_checks",
    "nested_header_checks",
    "body_checks_size_limit",
    "header_size_limit",
    "mime_nesting_limit",
    "disable_mime_input_processing",
    "header_address_token_limit",
    "canonical_maps",
    "sender_canonical_maps",
    "recipient_canonical_maps",
    "masquerade_domains",
    "masquerade_exceptions",
    "virtual_alias_recursion_limit",
    "virtual_alias_expansion_limit",
    "local_header_rewrite_clients",
    // queue, qmgr, delivery.
    "maximal_queue_lifetime",
    "bounce_queue_lifetime",
    "minimal_backoff_time",
    "maximal_backoff_time",
    "queue_run_delay",
    "delay_warning_time",
    "default_destination_concurrency_limit",
    "default_destination_recipient_limit",
    "default_privs",
    "smtp_data_done_timeout",
    "smtp_connection_cache_time_limit",
    "qmgr_message_active_limit",
    "queue_minfree",
    "notify_classes",
    "home_mailbox",
    "mail_spool_directory",
    "smtp_tls_security_level",
    "smtp_helo_name",
    "smtp_connect_timeout",
    "bounce_notice_recipient",
    "2bounce_notice_recipient",
    "double_bounce_sender",
];

/// Postfix's standard internal services (master.cf commands) that mta
/// replaces with its own machinery: accepted in master.cf without comment.
pub const STANDARD_COMMANDS: &[&str] = &[
    "pickup",
    "cleanup",
    "qmgr",
    "oqmgr",
    "tlsmgr",
    "trivial-rewrite",
    "bounce",
    "verify",
    "flush",
    "proxymap",
    "smtp",
    "showq",
    "error",
    "discard",
    "local",
    "virtual",
    "lmtp",
    "anvil",
    "scache",
    "postlogd",
    "pipe",
    "spawn",
    "qmqpd",
    "postscreen",
    "dnsblog",
    "tlsproxy",
];

fn registry() -> &'static HashMap<&'static str, Param> {
    static REGISTRY: OnceLock<HashMap<&'static str, Param>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut map = HashMap::new();
        for line in POSTFIX_DEFAULTS.lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((name, default)) = line.split_once(" =") else {
                continue;
            };
            let name = name.trim();
            let default = MTA_OVERRIDES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
                .unwrap_or(default.trim());
            let support = if IMPLEMENTED.contains(&name) {
                Support::Implemented
            } else {
                Support::PostfixOnly
            };
            map.insert(
                name,
                Param {
                    name,
                    default,
                    support,
                },
            );
        }
        for (name, default) in MTA_PARAMS {
            map.insert(
                name,
                Param {
                    name,
                    default,
                    support: Support::Mta,
                },
            );
        }
        map
    })
}

/// The parameter called `name`, if it is one.
pub fn lookup(name: &str) -> Option<Param> {
    registry().get(name).copied().or_else(|| {
        LEGACY_PARAMS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(name, default, support)| Param {
                name,
                default,
                support: *support,
            })
    })
}

/// Every known parameter, sorted by name (for `postconf -d`).
pub fn all() -> Vec<Param> {
    let mut v: Vec<Param> = registry().values().copied().collect();
    v.sort_by(|a, b| a.name.cmp(b.name));
    v
}

/// The known name nearest to a misspelt one, if any is plausibly meant.
pub fn suggest(name: &str) -> Option<&'static str> {
    let limit = (name.len() / 4).clamp(2, 4);
    registry()
        .keys()
        .map(|k| (distance(name, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| k)
}

/// Levenshtein distance (bytes; parameter names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Why mta must refuse `name = value` rather than ignore it: a setting
/// whose absence would weaken security (a listener demanding TLS or AUTH
/// mta cannot give, a milter or content filter that would be skipped).
pub fn security_refusal(name: &str, value: &str) -> Option<String> {
    let v = value.trim().to_ascii_lowercase();
    let yes = matches!(v.as_str(), "yes" | "true");
    match name {
        "smtpd_tls_security_level" if !SMTPD_TLS_SUPPORTED && v == "encrypt" => Some(format!(
            "{name} = {value} demands TLS, but mta's smtpd does not offer STARTTLS; refusing to serve this listener in clear text"
        )),
        "smtpd_enforce_tls" if !SMTPD_TLS_SUPPORTED && yes => {
            Some(format!(
                "{name} = {value} demands TLS, but mta's smtpd does not offer it"
            ))
        }
        "smtpd_tls_wrappermode" if yes => {
            Some(format!(
                "{name} = {value} demands TLS, but mta's smtpd does not offer it"
            ))
        }
        "smtpd_sasl_auth_enable" if !SMTPD_SASL_SUPPORTED && yes => Some(format!(
            "{name} = {value} asks for SMTP AUTH, which mta's smtpd does not offer; clients relying on it would be refused or mishandled"
        )),
        "smtpd_sasl_type" if v != "dovecot" => Some(format!(
            "{name} = {value}: only smtpd_sasl_type = dovecot is supported (mta has no Cyrus SASL); AUTH would not work as configured"
        )),
        "smtpd_milters" | "non_smtpd_milters" if !v.is_empty() => Some(format!(
            "{name} = {value}: milters are not supported; mail would skip them (run the filter as a plugin instead)"
        )),
        "content_filter" | "smtpd_proxy_filter" if !v.is_empty() => Some(format!(
            "{name} = {value}: external content filters are not supported; mail would skip the filter"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_postfix_and_mta_names() {
        let p = lookup("smtpd_relay_restrictions").unwrap();
        assert_eq!(
            p.default,
            "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination"
        );
        assert_eq!(p.support, Support::Implemented);
        assert_eq!(lookup("mynetworks_style").unwrap().default, "host");
        assert_eq!(lookup("biff").unwrap().support, Support::PostfixOnly);
        assert_eq!(lookup("plugin_time_limit").unwrap().support, Support::Mta);
        assert_eq!(lookup("queue_directory").unwrap().default, "/var/spool/mta");
        assert!(lookup("smtp_helo_restrictions").is_none());
        assert_eq!(
            lookup("virtual_maps").unwrap().support,
            Support::Implemented
        );
        assert!(!all().iter().any(|p| p.name == "virtual_maps"));
        assert!(all().len() > 1000);
        for name in IMPLEMENTED {
            assert!(lookup(name).is_some(), "{name} is not a Postfix parameter");
        }
    }

    #[test]
    fn suggests_the_nearest_name() {
        assert_eq!(
            suggest("smtp_helo_restrictions"),
            Some("smtpd_helo_restrictions")
        );
        assert_eq!(suggest("mynetwork"), Some("mynetworks"));
        assert_eq!(suggest("completely_unrelated_thing_xyz"), None);
    }

    /// The sandbox keeps its own list of the parameters it reads; each must be
    /// known here with the same default, or `mta check` would refuse it.
    #[test]
    fn sandbox_parameters_are_registered_with_their_defaults() {
        for (name, default) in crate::sandbox::settings::PARAMETERS {
            let p = lookup(name).unwrap_or_else(|| panic!("{name} is not registered"));
            assert_eq!(p.default, *default, "{name}");
        }
    }

    #[test]
    fn refuses_what_would_weaken_security() {
        // smtpd offers STARTTLS, so demanding it is honoured, not refused;
        // implicit TLS (wrapper mode) is not offered, so it is refused.
        assert!(security_refusal("smtpd_tls_security_level", "encrypt").is_none());
        assert!(security_refusal("smtpd_tls_wrappermode", "yes").is_some());
        assert!(security_refusal("smtpd_tls_security_level", "may").is_none());
        assert!(security_refusal("smtpd_sasl_auth_enable", "yes").is_none());
        assert!(security_refusal("smtpd_sasl_type", "cyrus").is_some());
        assert!(security_refusal("smtpd_sasl_type", "dovecot").is_none());
        assert!(security_refusal("smtpd_sasl_auth_enable", "no").is_none());
        assert!(security_refusal("smtpd_milters", "inet:localhost:8891").is_some());
        assert!(security_refusal("smtpd_milters", "").is_none());
    }
}
