//! Restriction names and their parsing from main.cf lists.
//!
//! WHY parse once: init turns every list into a `Vec<Restriction>` so a typo
//! fails the plugin at load with the name and the parameter, instead of a
//! 451 in the middle of a transaction (which is what Postfix does).

/// Which access(5) query a `check_*_access` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// check_client_access: client name, parents, address, prefixes.
    Client,
    /// check_reverse_client_hostname_access: the PTR name instead.
    ReverseClient,
    /// check_helo_access: HELO name and parents.
    Helo,
    /// check_sender_access: sender address forms.
    Sender,
    /// check_recipient_access: recipient address forms.
    Recipient,
    /// check_etrn_access: ETRN domain and parents.
    Etrn,
}

/// Which `*_login_mismatch` check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMismatch {
    /// reject_sender_login_mismatch: both of the following.
    Any,
    /// reject_authenticated_sender_login_mismatch.
    Authenticated,
    /// reject_unauthenticated_sender_login_mismatch.
    Unauthenticated,
    /// reject_known_sender_login_mismatch.
    Known,
}

/// One element of a restriction list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restriction {
    /// permit
    Permit,
    /// reject
    Reject,
    /// defer
    Defer,
    /// defer_if_permit
    DeferIfPermit,
    /// defer_if_reject
    DeferIfReject,
    /// warn_if_reject: the next restriction only logs.
    WarnIfReject,
    /// permit_mynetworks
    PermitMynetworks,
    /// permit_sasl_authenticated
    PermitSaslAuthenticated,
    /// reject_unauth_destination
    RejectUnauthDestination,
    /// defer_unauth_destination
    DeferUnauthDestination,
    /// permit_auth_destination
    PermitAuthDestination,
    /// check_*_access TABLE (or a bare `type:name` in a list).
    Access(AccessKind, String),
    /// reject_invalid_helo_hostname
    RejectInvalidHeloHostname,
    /// reject_non_fqdn_helo_hostname
    RejectNonFqdnHeloHostname,
    /// reject_non_fqdn_sender
    RejectNonFqdnSender,
    /// reject_non_fqdn_recipient
    RejectNonFqdnRecipient,
    /// reject_unknown_client_hostname
    RejectUnknownClientHostname,
    /// reject_unknown_reverse_client_hostname
    RejectUnknownReverseClientHostname,
    /// reject_unknown_helo_hostname
    RejectUnknownHeloHostname,
    /// reject_unknown_sender_domain
    RejectUnknownSenderDomain,
    /// reject_unknown_recipient_domain
    RejectUnknownRecipientDomain,
    /// reject_unauth_pipelining
    RejectUnauthPipelining,
    /// reject_unlisted_recipient
    RejectUnlistedRecipient,
    /// reject_unlisted_sender
    RejectUnlistedSender,
    /// reject_*sender_login_mismatch (smtpd_sender_login_maps)
    SenderLoginMismatch(LoginMismatch),
    /// reject_multi_recipient_bounce
    RejectMultiRecipientBounce,
    /// reject_plaintext_session
    RejectPlaintextSession,
    /// permit_tls_all_clientcerts
    PermitTlsAllClientcerts,
    /// check_sasl_access TABLE: the SASL login name, exactly.
    SaslAccess(String),
    /// A DNS-list restriction (reject_rbl_client DOMAIN & co). The rbl plugin
    /// owns that logic; here it answers DUNNO.
    DnsList(String, String),
    /// A restriction class from smtpd_restriction_classes.
    Class(String),
    /// A drop-in plugin named in the list: the host calls it at this point
    /// and its verdict is applied like an access(5) result (see `eval`).
    Plugin(String),
}

/// Old names from Postfix 1.x/2.x and what they became; logged once at init.
pub const OLD_NAMES: &[(&str, &str)] = &[
    (
        "check_relay_domains",
        "permit_mynetworks, permit_auth_destination, reject_unauth_destination",
    ),
    ("reject_unknown_client", "reject_unknown_client_hostname"),
    ("reject_invalid_hostname", "reject_invalid_helo_hostname"),
    ("reject_non_fqdn_hostname", "reject_non_fqdn_helo_hostname"),
    ("reject_unknown_hostname", "reject_unknown_helo_hostname"),
    (
        "reject_maps_rbl",
        "reject_rbl_client DOMAIN for each maps_rbl_domains entry",
    ),
];

/// DNS-list restrictions that take one domain argument.
const DNS_LISTS: &[&str] = &[
    "reject_rbl_client",
    "reject_rhsbl_client",
    "reject_rhsbl_reverse_client",
    "reject_rhsbl_helo",
    "reject_rhsbl_sender",
    "reject_rhsbl_recipient",
    "permit_dnswl_client",
    "permit_rhswl_client",
];

/// Postfix list syntax, shared with the host (see `mta_sdk::params`).
pub use mta_sdk::params::tokenize;

/// What a list parser needs to know besides the tokens.
pub struct ParseEnv<'a> {
    /// The parameter being parsed, for error messages.
    pub parameter: &'a str,
    /// What a bare `type:name` means in this list; `None` where Postfix
    /// has no default (data and end-of-data lists).
    pub bare_table: Option<AccessKind>,
    /// Names declared in smtpd_restriction_classes.
    pub classes: &'a [String],
    /// Names of the drop-in plugins the host loaded (empty in table values:
    /// a drop-in is named in restriction lists and classes only).
    pub plugins: &'a [String],
    /// maps_rbl_domains, for the old reject_maps_rbl.
    pub maps_rbl_domains: &'a [String],
    /// Old names met, for the one-time warning.
    pub old_names_seen: &'a mut Vec<String>,
}

/// Parse one restriction list.
pub fn parse_list(value: &str, env: &mut ParseEnv<'_>) -> Result<Vec<Restriction>, String> {
    let tokens = tokenize(value).map_err(|e| format!("{}: {e}", env.parameter))?;
    let mut out = Vec::new();
    let mut iter = tokens.into_iter();
    while let Some(token) = iter.next() {
        let name = token.to_ascii_lowercase();
        let mut arg = |what: &str| -> Result<String, String> {
            iter.next().ok_or_else(|| {
                format!(
                    "{}: restriction \"{token}\" needs {what} after it",
                    env.parameter
                )
            })
        };
        let access = |kind: AccessKind, table: String| -> Result<Restriction, String> {
            if table.contains(':') {
                Ok(Restriction::Access(kind, table))
            } else {
                Err(format!(
                    "{}: \"{}\" needs a type:name lookup table, got \"{table}\"",
                    env.parameter, name
                ))
            }
        };
        if OLD_NAMES.iter().any(|(old, _)| *old == name)
            && !env.old_names_seen.iter().any(|n| n == &name)
        {
            env.old_names_seen.push(name.clone());
        }
        let r = match name.as_str() {
            "permit" => Restriction::Permit,
            "reject" => Restriction::Reject,
            "defer" => Restriction::Defer,
            "defer_if_permit" => Restriction::DeferIfPermit,
            "defer_if_reject" => Restriction::DeferIfReject,
            "warn_if_reject" => Restriction::WarnIfReject,
            "permit_mynetworks" => Restriction::PermitMynetworks,
            "permit_sasl_authenticated" => Restriction::PermitSaslAuthenticated,
            "reject_unauth_destination" => Restriction::RejectUnauthDestination,
            "defer_unauth_destination" => Restriction::DeferUnauthDestination,
            "permit_auth_destination" => Restriction::PermitAuthDestination,
            "check_client_access" => access(AccessKind::Client, arg("a table")?)?,
            "check_reverse_client_hostname_access" => {
                access(AccessKind::ReverseClient, arg("a table")?)?
            }
            "check_helo_access" => access(AccessKind::Helo, arg("a table")?)?,
            "check_sender_access" => access(AccessKind::Sender, arg("a table")?)?,
            "check_recipient_access" => access(AccessKind::Recipient, arg("a table")?)?,
            "check_etrn_access" => access(AccessKind::Etrn, arg("a table")?)?,
            "reject_invalid_helo_hostname" | "reject_invalid_hostname" => {
                Restriction::RejectInvalidHeloHostname
            }
            "reject_non_fqdn_helo_hostname" | "reject_non_fqdn_hostname" => {
                Restriction::RejectNonFqdnHeloHostname
            }
            "reject_non_fqdn_sender" => Restriction::RejectNonFqdnSender,
            "reject_non_fqdn_recipient" => Restriction::RejectNonFqdnRecipient,
            "reject_unknown_client_hostname" | "reject_unknown_client" => {
                Restriction::RejectUnknownClientHostname
            }
            "reject_unknown_reverse_client_hostname" => {
                Restriction::RejectUnknownReverseClientHostname
            }
            "reject_unknown_helo_hostname" | "reject_unknown_hostname" => {
                Restriction::RejectUnknownHeloHostname
            }
            "reject_unknown_sender_domain" => Restriction::RejectUnknownSenderDomain,
            "reject_unknown_recipient_domain" => Restriction::RejectUnknownRecipientDomain,
            "reject_unauth_pipelining" => Restriction::RejectUnauthPipelining,
            "reject_unlisted_recipient" | "check_recipient_maps" => {
                Restriction::RejectUnlistedRecipient
            }
            "reject_unlisted_sender" => Restriction::RejectUnlistedSender,
            "reject_sender_login_mismatch" => Restriction::SenderLoginMismatch(LoginMismatch::Any),
            "reject_authenticated_sender_login_mismatch" => {
                Restriction::SenderLoginMismatch(LoginMismatch::Authenticated)
            }
            "reject_unauthenticated_sender_login_mismatch" => {
                Restriction::SenderLoginMismatch(LoginMismatch::Unauthenticated)
            }
            "reject_known_sender_login_mismatch" => {
                Restriction::SenderLoginMismatch(LoginMismatch::Known)
            }
            "reject_multi_recipient_bounce" => Restriction::RejectMultiRecipientBounce,
            "reject_plaintext_session" => Restriction::RejectPlaintextSession,
            "permit_tls_all_clientcerts" => Restriction::PermitTlsAllClientcerts,
            "check_sasl_access" => {
                let table = arg("a table")?;
                if !table.contains(':') {
                    return Err(format!(
                        "{}: \"check_sasl_access\" needs a type:name lookup table, got \"{table}\"",
                        env.parameter
                    ));
                }
                Restriction::SaslAccess(table)
            }
            "check_relay_domains" => {
                out.push(Restriction::PermitMynetworks);
                out.push(Restriction::PermitAuthDestination);
                Restriction::RejectUnauthDestination
            }
            "reject_maps_rbl" => {
                for domain in env.maps_rbl_domains {
                    out.push(Restriction::DnsList(
                        "reject_rbl_client".to_string(),
                        domain.clone(),
                    ));
                }
                continue;
            }
            n if DNS_LISTS.contains(&n) => {
                Restriction::DnsList(name.clone(), arg("a DNS list domain")?)
            }
            _ if env.classes.iter().any(|c| c == &token) => Restriction::Class(token.clone()),
            _ if env.plugins.iter().any(|p| p == &token) => Restriction::Plugin(token.clone()),
            _ if token.contains(':') => match env.bare_table {
                Some(kind) => Restriction::Access(kind, token.clone()),
                None => {
                    return Err(format!(
                        "{}: a bare lookup table \"{token}\" has no meaning in this list; \
                         name the check, e.g. check_sender_access {token}",
                        env.parameter
                    ))
                }
            },
            "permit_mx_backup" => {
                return Err(format!(
                    "{}: restriction \"permit_mx_backup\" is not supported by mta \
                     (it trusts DNS MX records to authorize relaying); \
                     list the domains in relay_domains instead",
                    env.parameter
                ))
            }
            _ => {
                return Err(format!(
                    "{}: unknown restriction \"{token}\" (neither a Postfix restriction, \
                     a restriction class, nor a loaded drop-in plugin)",
                    env.parameter
                ))
            }
        };
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Vec<Restriction>, String> {
        let mut seen = Vec::new();
        let classes = vec!["friends_only".to_string()];
        let rbl = vec!["relays.ordb.org".to_string(), "inputs.orbz.org".to_string()];
        let mut env = ParseEnv {
            parameter: "smtpd_helo_restrictions",
            bare_table: Some(AccessKind::Helo),
            classes: &classes,
            plugins: &[],
            maps_rbl_domains: &rbl,
            old_names_seen: &mut seen,
        };
        parse_list(value, &mut env)
    }

    #[test]
    fn tokenizer_keeps_inline_tables_whole() {
        let t =
            tokenize("check_client_access inline:{ {1.2.3.4=REJECT go away}, 5.6.7.8=OK },permit")
                .expect("balanced");
        assert_eq!(
            t,
            vec![
                "check_client_access",
                "inline:{ {1.2.3.4=REJECT go away}, 5.6.7.8=OK }",
                "permit"
            ]
        );
        assert!(tokenize("inline:{a=b").is_err());
        assert!(tokenize("a}").is_err());
    }

    #[test]
    fn unknown_restriction_names_itself() {
        let err = parse("permit_mynetworks, reject_unath_destination").unwrap_err();
        assert!(err.contains("reject_unath_destination"), "{err}");
        assert!(err.contains("smtpd_helo_restrictions"), "{err}");
    }

    #[test]
    fn missing_table_argument_is_an_error() {
        let err = parse("check_client_access").unwrap_err();
        assert!(err.contains("needs a table"), "{err}");
        let err = parse("check_client_access permit").unwrap_err();
        assert!(err.contains("type:name"), "{err}");
    }

    #[test]
    fn old_names_map_to_modern_ones() {
        let mut seen = Vec::new();
        let rbl = vec!["relays.ordb.org".to_string(), "inputs.orbz.org".to_string()];
        let mut env = ParseEnv {
            parameter: "smtpd_client_restrictions",
            bare_table: Some(AccessKind::Client),
            classes: &[],
            plugins: &[],
            maps_rbl_domains: &rbl,
            old_names_seen: &mut seen,
        };
        let list = parse_list(
            "reject_unknown_client, reject_maps_rbl, reject_invalid_hostname, \
             reject_unknown_hostname, reject_non_fqdn_hostname, check_relay_domains",
            &mut env,
        )
        .expect("old names parse");
        assert_eq!(
            list,
            vec![
                Restriction::RejectUnknownClientHostname,
                Restriction::DnsList("reject_rbl_client".into(), "relays.ordb.org".into()),
                Restriction::DnsList("reject_rbl_client".into(), "inputs.orbz.org".into()),
                Restriction::RejectInvalidHeloHostname,
                Restriction::RejectUnknownHeloHostname,
                Restriction::RejectNonFqdnHeloHostname,
                Restriction::PermitMynetworks,
                Restriction::PermitAuthDestination,
                Restriction::RejectUnauthDestination,
            ]
        );
        assert_eq!(seen.len(), 6);
    }

    #[test]
    fn bare_tables_and_classes() {
        let list = parse("regexp:/etc/postfix/helo_friends, friends_only").expect("parses");
        assert_eq!(
            list,
            vec![
                Restriction::Access(AccessKind::Helo, "regexp:/etc/postfix/helo_friends".into()),
                Restriction::Class("friends_only".into()),
            ]
        );
        assert!(parse("permit_mx_backup")
            .unwrap_err()
            .contains("not supported"));
    }
}
