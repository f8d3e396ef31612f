//! The resolved limits and switches of one listener, read once from its
//! effective configuration (main.cf plus master.cf `-o` overrides), with
//! Postfix's parameter names and defaults. Kept apart from the per-session
//! state so a session reads plain fields, not the config map.

use crate::config::Config;
use crate::tables::{Query, Table, Tables};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// What `smtpd_forbid_bare_newline` asks for (Postfix 3.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BareNewline {
    /// Accept a bare LF as a line end and store CRLF (the 3.9 default).
    Normalize,
    /// Refuse the message with `550 5.5.2 Error: bare <LF> received`.
    Reject,
}

/// `smtpd_tls_security_level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsLevel {
    None,
    May,
    Encrypt,
}

#[derive(Debug, Clone)]
pub struct Limits {
    /// `myhostname`, used in the banner, EHLO and 421 replies.
    pub myhostname: String,
    /// The greeting text after `220 ` (`smtpd_banner`).
    pub banner: String,
    pub timeout: Duration,
    pub line_length_limit: usize,
    pub message_size_limit: u64,
    pub recipient_limit: usize,
    pub soft_error_limit: u32,
    pub hard_error_limit: u32,
    pub error_sleep_time: Duration,
    pub junk_command_limit: u32,
    pub disable_vrfy_command: bool,
    /// `smtpd_helo_required`: MAIL before HELO/EHLO gets smtpd's own 503,
    /// as in Postfix (a protocol answer, not a restriction: no reject log).
    pub helo_required: bool,
    pub bare_newline: BareNewline,
    pub tls_level: TlsLevel,
    pub tls_cert_file: String,
    pub tls_key_file: String,
    /// `local_header_rewrite_clients` (which clients get missing headers added).
    pub local_header_rewrite_clients: Vec<String>,
    /// `header_size_limit`: the most bytes kept of one logical header.
    pub header_size_limit: usize,
    /// `mail_name`, for the banner and Received header.
    pub mail_name: String,
    /// SMTP AUTH (`smtpd_sasl_*`, `smtpd_tls_auth_only`).
    pub sasl: super::sasl::Settings,
    /// anvil rate limits (0: none): connections, MAIL and RCPT commands per
    /// client per `anvil_rate_time_unit`.
    pub connection_rate_limit: u32,
    pub message_rate_limit: u32,
    pub recipient_rate_limit: u32,
    pub rate_time_unit: Duration,
    /// `smtpd_client_event_limit_exceptions`: clients no count or rate limit
    /// applies to.
    pub event_limit_exceptions: ClientExceptions,
}

/// `smtpd_client_event_limit_exceptions`: a mynetworks-style list of
/// address blocks, host or domain names and `type:table` entries. Tables are
/// opened once, when the listener's limits are read, never per connection.
#[derive(Debug, Clone, Default)]
pub struct ClientExceptions {
    list: restrictions::mynetworks::Mynetworks,
    /// Each `type:table` entry that opened (one that did not exempts nobody:
    /// the limits stay on, the safe side).
    tables: HashMap<String, Arc<dyn Table>>,
    lookup: Arc<Tables>,
}

/// The value of `name`, or `default` when the configuration has none (the
/// config module returns "" for a parameter it does not know a default for).
fn get_or(c: &Config, name: &str, default: &str) -> String {
    let v = c.get(name);
    if v.trim().is_empty() {
        default.to_string()
    } else {
        v.trim().to_string()
    }
}

/// This machine's host name, as Postfix's default `myhostname`.
pub fn system_hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name = name.trim();
    if name.is_empty() {
        "localhost".to_string()
    } else {
        name.to_string()
    }
}

impl Limits {
    pub fn from_config(c: &Config) -> Limits {
        let myhostname = get_or(c, "myhostname", &system_hostname());
        let mail_name = get_or(c, "mail_name", "mta");
        let banner = {
            let b = get_or(c, "smtpd_banner", "");
            if b.is_empty() || b.contains('$') {
                // The config module expands `$name`; this fallback covers a
                // config that did not (only the default's two names).
                let b = if b.is_empty() {
                    "$myhostname ESMTP $mail_name".to_string()
                } else {
                    b
                };
                b.replace("${myhostname}", &myhostname)
                    .replace("$myhostname", &myhostname)
                    .replace("${mail_name}", &mail_name)
                    .replace("$mail_name", &mail_name)
            } else {
                b
            }
        };
        // Postfix 3.9: `normalize` (default) and its alias `yes`; `reject`;
        // `no` (legacy, which would also take `<LF>.<LF>` as end-of-data) is
        // treated as `normalize` on purpose: only CRLF.CRLF ever ends DATA.
        let bare_newline = match get_or(c, "smtpd_forbid_bare_newline", "normalize").as_str() {
            "reject" => BareNewline::Reject,
            _ => BareNewline::Normalize,
        };
        let tls_level = match get_or(c, "smtpd_tls_security_level", "").as_str() {
            "may" => TlsLevel::May,
            "encrypt" => TlsLevel::Encrypt,
            _ => TlsLevel::None,
        };
        Limits {
            banner,
            timeout: c.get_time("smtpd_timeout"),
            line_length_limit: c.get_u64("line_length_limit").max(64) as usize,
            message_size_limit: c.get_u64("message_size_limit"),
            recipient_limit: c.get_u64("smtpd_recipient_limit") as usize,
            soft_error_limit: c.get_u64("smtpd_soft_error_limit") as u32,
            hard_error_limit: c.get_u64("smtpd_hard_error_limit") as u32,
            error_sleep_time: c.get_time("smtpd_error_sleep_time"),
            junk_command_limit: c.get_u64("smtpd_junk_command_limit") as u32,
            disable_vrfy_command: c.get_bool("disable_vrfy_command"),
            helo_required: c.get_bool("smtpd_helo_required"),
            bare_newline,
            tls_level,
            tls_cert_file: get_or(c, "smtpd_tls_cert_file", ""),
            tls_key_file: get_or(c, "smtpd_tls_key_file", ""),
            local_header_rewrite_clients: {
                let l = c.get_list("local_header_rewrite_clients");
                if l.is_empty() {
                    vec!["permit_inet_interfaces".to_string()]
                } else {
                    l
                }
            },
            header_size_limit: c.get_u64("header_size_limit").max(100) as usize,
            mail_name,
            myhostname,
            sasl: super::sasl::Settings::from_config(c),
            connection_rate_limit: c.get_u64("smtpd_client_connection_rate_limit") as u32,
            message_rate_limit: c.get_u64("smtpd_client_message_rate_limit") as u32,
            recipient_rate_limit: c.get_u64("smtpd_client_recipient_rate_limit") as u32,
            rate_time_unit: c.get_time("anvil_rate_time_unit"),
            event_limit_exceptions: exceptions(c),
        }
    }
}

/// `smtpd_client_event_limit_exceptions`, parsed as a mynetworks-style list.
/// A list that does not parse exempts nobody (the limits stay on) and says so.
fn exceptions(c: &Config) -> ClientExceptions {
    let name = "smtpd_client_event_limit_exceptions";
    let list = match restrictions::mynetworks::Mynetworks::parse(&c.get(name)) {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("warning: {name}: {e}; no client is exempt from the client limits");
            return ClientExceptions::default();
        }
    };
    let lookup = Arc::new(Tables::new(c));
    let mut tables = HashMap::new();
    for (_, entry) in &list.entries {
        if let restrictions::mynetworks::Entry::Table(spec) = entry {
            match lookup.open(spec) {
                Ok(t) => {
                    tables.insert(spec.clone(), t);
                }
                Err(e) => {
                    tracing::warn!("warning: {name}: {e}; the entry {spec} exempts no client")
                }
            }
        }
    }
    ClientExceptions {
        list,
        tables,
        lookup,
    }
}

impl Limits {
    /// Whether the client limits spare this client: the first entry of
    /// `smtpd_client_event_limit_exceptions` that matches decides (a `!`
    /// entry says no), as Postfix's match lists. A table entry matches when
    /// the table has the client's name or address (access(5) order); a
    /// table that cannot answer exempts nobody and is logged.
    pub fn exempt_from_client_limits(&self, ip: std::net::IpAddr, client_name: &str) -> bool {
        use restrictions::mynetworks::{name_matches, Entry};
        let ex = &self.event_limit_exceptions;
        for (negated, entry) in &ex.list.entries {
            let hit = match entry {
                Entry::Cidr(c) => c.contains(ip),
                Entry::Name(d) => client_name != "unknown" && name_matches(client_name, d),
                Entry::Table(spec) => ex.tables.get(spec).is_some_and(|t| {
                    let q = Query::Client {
                        name: client_name.to_string(),
                        address: ip.to_string(),
                    };
                    ex.lookup.find(t.as_ref(), &q).unwrap_or_else(|e| {
                        tracing::warn!(
                            "warning: smtpd_client_event_limit_exceptions: {spec}: lookup error: {e}"
                        );
                        None
                    })
                    .is_some()
                }),
            };
            if hit {
                return !negated;
            }
        }
        false
    }
}

/// Limits that apply to the whole daemon, not one session.
#[derive(Debug, Clone)]
pub struct DaemonLimits {
    /// `smtpd_client_connection_count_limit`: sessions per client address.
    pub client_connection_count_limit: usize,
    /// The cap on concurrent sessions (Postfix's master.cf process limit,
    /// `default_process_limit`).
    pub process_limit: usize,
}

impl DaemonLimits {
    pub fn from_config(c: &Config) -> DaemonLimits {
        DaemonLimits {
            client_connection_count_limit: c.get_u64("smtpd_client_connection_count_limit")
                as usize,
            process_limit: c.get_u64("default_process_limit").max(1) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_limits_spare_mynetworks_by_default() {
        // ${smtpd_client_connection_limit_exceptions:$mynetworks}, as Postfix.
        let l = Limits::from_config(&Config::default());
        assert!(l.exempt_from_client_limits("127.0.0.1".parse().unwrap(), "localhost"));
        assert!(!l.exempt_from_client_limits("192.0.2.1".parse().unwrap(), "unknown"));
        assert_eq!(
            (
                l.connection_rate_limit,
                l.message_rate_limit,
                l.recipient_rate_limit
            ),
            (0, 0, 0)
        );
        assert_eq!(l.rate_time_unit, Duration::from_secs(60));
        let c = Config::default().with_overrides(&[(
            "smtpd_client_event_limit_exceptions".into(),
            "!192.0.2.9, 192.0.2.0/24, .example.net".into(),
        )]);
        let l = Limits::from_config(&c);
        assert!(l.exempt_from_client_limits("192.0.2.1".parse().unwrap(), "unknown"));
        assert!(!l.exempt_from_client_limits("192.0.2.9".parse().unwrap(), "unknown"));
        assert!(l.exempt_from_client_limits("198.51.100.1".parse().unwrap(), "mx.example.net"));
        assert!(!l.exempt_from_client_limits("127.0.0.1".parse().unwrap(), "localhost"));
        // Table entries: the client's address or name is looked up; the
        // first entry that matches decides; an unopenable table spares nobody.
        let c = Config::default().with_overrides(&[(
            "smtpd_client_event_limit_exceptions".into(),
            "!192.0.2.9, cidr:{{192.0.2.0/24 ok}}, inline:{{mx.example.org=ok}}, \
             hash:/nonexistent/exempt"
                .into(),
        )]);
        let l = Limits::from_config(&c);
        assert!(l.exempt_from_client_limits("192.0.2.1".parse().unwrap(), "unknown"));
        assert!(!l.exempt_from_client_limits("192.0.2.9".parse().unwrap(), "unknown"));
        assert!(l.exempt_from_client_limits("203.0.113.5".parse().unwrap(), "mx.example.org"));
        assert!(!l.exempt_from_client_limits("203.0.113.5".parse().unwrap(), "unknown"));
    }

    #[test]
    fn defaults_are_postfix() {
        let l = Limits::from_config(&Config::default());
        assert_eq!(l.timeout, Duration::from_secs(300));
        assert_eq!(l.line_length_limit, 2048);
        assert_eq!(l.message_size_limit, 10_240_000);
        assert_eq!(l.recipient_limit, 1000);
        assert_eq!((l.soft_error_limit, l.hard_error_limit), (10, 20));
        assert_eq!(l.bare_newline, BareNewline::Normalize);
        assert!(l.banner.ends_with(" ESMTP mta"), "{}", l.banner);
    }
}
