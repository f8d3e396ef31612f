//! The resolved limits and switches of one listener, read once from its
//! effective configuration (main.cf plus master.cf `-o` overrides), with
//! Postfix's parameter names and defaults. Kept apart from the per-session
//! state so a session reads plain fields, not the config map.

use crate::config::Config;
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

fn u64_or(c: &Config, name: &str, default: u64) -> u64 {
    parse_size(&c.get(name)).unwrap_or(default)
}

fn parse_size(v: &str) -> Option<u64> {
    v.trim().parse().ok()
}

/// A Postfix time value: a number with an optional unit s, m, h, d, w.
pub fn parse_time(v: &str) -> Option<Duration> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let (num, unit) = match v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&v[..i], &v[i..]),
        None => (v, "s"),
    };
    let n: u64 = num.parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        "w" => 604800,
        _ => return None,
    };
    Some(Duration::from_secs(n.saturating_mul(mult)))
}

fn time_or(c: &Config, name: &str, default: &str) -> Duration {
    parse_time(&c.get(name))
        .or_else(|| parse_time(default))
        .unwrap_or_default()
}

fn bool_or(c: &Config, name: &str, default: bool) -> bool {
    match c.get(name).trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" => true,
        "no" | "false" | "0" | "off" => false,
        _ => default,
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
            timeout: time_or(c, "smtpd_timeout", "300s"),
            line_length_limit: u64_or(c, "line_length_limit", 2048).max(64) as usize,
            message_size_limit: u64_or(c, "message_size_limit", 10_240_000),
            recipient_limit: u64_or(c, "smtpd_recipient_limit", 1000) as usize,
            soft_error_limit: u64_or(c, "smtpd_soft_error_limit", 10) as u32,
            hard_error_limit: u64_or(c, "smtpd_hard_error_limit", 20) as u32,
            error_sleep_time: time_or(c, "smtpd_error_sleep_time", "1s"),
            junk_command_limit: u64_or(c, "smtpd_junk_command_limit", 100) as u32,
            disable_vrfy_command: bool_or(c, "disable_vrfy_command", false),
            helo_required: bool_or(c, "smtpd_helo_required", false),
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
            header_size_limit: u64_or(c, "header_size_limit", 102_400).max(100) as usize,
            mail_name,
            myhostname,
            sasl: super::sasl::Settings::from_config(c),
        }
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
            client_connection_count_limit: u64_or(c, "smtpd_client_connection_count_limit", 50)
                as usize,
            process_limit: u64_or(c, "default_process_limit", 100).max(1) as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn times() {
        assert_eq!(parse_time("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_time("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_time("x"), None);
    }
}
