//! SMTP AUTH (RFC 4954) through a Dovecot auth server, as Postfix's
//! `smtpd_sasl_type = dovecot`. This module holds the listener's SASL
//! settings and the mechanism policy; `dovecot` speaks the auth protocol,
//! `base64` checks what clients send; the AUTH verb is `smtpd/auth.rs`.

pub mod base64;
pub mod dovecot;

use crate::config::Config;
use std::path::PathBuf;

/// The SASL parameters of one listener (main.cf plus its `-o` overrides).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `smtpd_sasl_auth_enable`.
    pub enabled: bool,
    /// `smtpd_sasl_path`, resolved against `queue_directory` when relative
    /// (Postfix's rule for `private/auth`).
    pub path: PathBuf,
    /// `smtpd_sasl_service`, sent as `service=`.
    pub service: String,
    /// `smtpd_tls_auth_only`: no AUTH before STARTTLS.
    pub tls_auth_only: bool,
    /// `smtpd_sasl_security_options` (plaintext sessions).
    pub security_options: Vec<String>,
    /// `smtpd_sasl_tls_security_options` (sessions under TLS).
    pub tls_security_options: Vec<String>,
    /// `smtpd_sasl_authenticated_header`: name the user in Received.
    pub authenticated_header: bool,
    /// `broken_sasl_auth_clients`: also say `AUTH=...` (Outlook Express 4).
    pub broken_clients: bool,
}

fn yes(c: &Config, name: &str) -> bool {
    matches!(
        c.get(name).trim().to_ascii_lowercase().as_str(),
        "yes" | "true"
    )
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        let path = PathBuf::from(c.get("smtpd_sasl_path").trim());
        let path = if path.is_absolute() {
            path
        } else {
            PathBuf::from(c.get("queue_directory").trim()).join(path)
        };
        let options = |name: &str| -> Vec<String> {
            c.get_list(name)
                .into_iter()
                .map(|o| o.to_ascii_lowercase())
                .collect()
        };
        let service = c.get("smtpd_sasl_service").trim().to_string();
        Settings {
            enabled: yes(c, "smtpd_sasl_auth_enable"),
            path,
            service: if service.is_empty() {
                "smtp".into()
            } else {
                service
            },
            tls_auth_only: yes(c, "smtpd_tls_auth_only"),
            security_options: options("smtpd_sasl_security_options"),
            tls_security_options: options("smtpd_sasl_tls_security_options"),
            authenticated_header: yes(c, "smtpd_sasl_authenticated_header"),
            broken_clients: yes(c, "broken_sasl_auth_clients"),
        }
    }

    /// Whether a mechanism may be offered and used in this session, by
    /// the security options for its TLS state (Postfix's `noanonymous`,
    /// `noplaintext`, `nodictionary`, `noactive`, `mutual_auth`,
    /// `forward_secrecy`). Dovecot's `private` mechanisms are never offered.
    pub fn allows(&self, mech: &dovecot::Mech, tls: bool) -> bool {
        let opts = if tls {
            &self.tls_security_options
        } else {
            &self.security_options
        };
        if mech.has("private") {
            return false;
        }
        opts.iter().all(|o| match o.as_str() {
            "noanonymous" => !mech.has("anonymous"),
            "noplaintext" => !mech.has("plaintext"),
            "nodictionary" => !mech.has("dictionary"),
            "noactive" => !mech.has("active"),
            "mutual_auth" => mech.has("mutual-auth"),
            "forward_secrecy" => mech.has("forward-secrecy"),
            _ => true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::dovecot::Mech;
    use super::*;

    fn mech(name: &str, flags: &[&str]) -> Mech {
        Mech {
            name: name.into(),
            flags: flags.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn security_options_filter_mechanisms() {
        let s = Settings {
            security_options: vec!["noanonymous".into(), "noplaintext".into()],
            tls_security_options: vec!["noanonymous".into()],
            ..Default::default()
        };
        let plain = mech("PLAIN", &["plaintext"]);
        let anon = mech("ANONYMOUS", &["anonymous"]);
        let cram = mech("CRAM-MD5", &["dictionary", "active"]);
        assert!(!s.allows(&plain, false));
        assert!(s.allows(&plain, true));
        assert!(!s.allows(&anon, true));
        assert!(s.allows(&cram, false));
        assert!(!s.allows(&mech("X", &["private"]), true));
    }

    #[test]
    fn relative_path_is_under_the_queue() {
        let mut c = Config::default();
        c.explicit
            .insert("queue_directory".into(), "/var/spool/mta".into());
        let s = Settings::from_config(&c);
        assert_eq!(s.path, PathBuf::from("/var/spool/mta/private/auth"));
        assert_eq!(s.security_options, vec!["noanonymous".to_string()]);
        assert_eq!(s.tls_security_options, vec!["noanonymous".to_string()]);
        assert!(!s.enabled && !s.tls_auth_only);
        c.explicit
            .insert("smtpd_sasl_path".into(), "/run/dovecot/auth-client".into());
        assert_eq!(
            Settings::from_config(&c).path,
            PathBuf::from("/run/dovecot/auth-client")
        );
    }
}
