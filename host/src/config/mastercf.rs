//! master.cf syntax: one service per logical line, eight columns.

use super::maincf::{logical_lines, parse_assignment};
use mta_sdk::params::split_words as tokens;

/// One master.cf service entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub line: usize,
    /// Service name: `smtp`, `submission`, `127.0.0.1:2525`, `pickup`, ...
    pub name: String,
    /// `inet`, `unix`, `unix-dgram`, `fifo`, `pass`.
    pub kind: String,
    pub private: String,
    pub unpriv: String,
    pub chroot: String,
    pub wakeup: String,
    pub maxproc: String,
    /// The program (`smtpd`, `qmgr`, ...).
    pub command: String,
    /// `-o name=value` overrides, in order.
    pub overrides: Vec<(String, String)>,
    /// Other arguments (`-v`, pipe's `flags=... argv=...`).
    pub args: Vec<String>,
}

/// Parse master.cf text; errors are (line, message).
pub fn parse(text: &str) -> (Vec<Service>, Vec<(usize, String)>) {
    let mut services = Vec::new();
    let mut errors = Vec::new();
    for l in logical_lines(text) {
        match parse_service(l.line, &l.text) {
            Ok(s) => services.push(s),
            Err(m) => errors.push((l.line, m)),
        }
    }
    (services, errors)
}

fn parse_service(line: usize, text: &str) -> Result<Service, String> {
    let words = tokens(text);
    if words.len() < 8 {
        return Err(format!(
            "expected 8 or more columns (service type private unpriv chroot wakeup maxproc command), found {}",
            words.len()
        ));
    }
    let kind = words[1].clone();
    if !matches!(
        kind.as_str(),
        "inet" | "unix" | "unix-dgram" | "fifo" | "pass"
    ) {
        return Err(format!(
            "unknown service type \"{kind}\" (expected inet, unix, unix-dgram, fifo or pass)"
        ));
    }
    let mut overrides = Vec::new();
    let mut args = Vec::new();
    let mut rest = words[8..].iter();
    while let Some(w) = rest.next() {
        if w == "-o" {
            let Some(kv) = rest.next() else {
                return Err("\"-o\" without name=value".into());
            };
            let kv = kv
                .strip_prefix('{')
                .and_then(|k| k.strip_suffix('}'))
                .unwrap_or(kv);
            overrides.push(parse_assignment(kv).map_err(|m| format!("-o {kv}: {m}"))?);
        } else if let Some(kv) = w.strip_prefix("-o") {
            overrides.push(parse_assignment(kv).map_err(|m| format!("-o{kv}: {m}"))?);
        } else {
            args.push(w.clone());
        }
    }
    Ok(Service {
        line,
        name: words[0].clone(),
        kind,
        private: words[2].clone(),
        unpriv: words[3].clone(),
        chroot: words[4].clone(),
        wakeup: words[5].clone(),
        maxproc: words[6].clone(),
        command: words[7].clone(),
        overrides,
        args,
    })
}

/// A port by number or by name from /etc/services (tcp).
pub fn port(name: &str) -> Option<u16> {
    if let Ok(p) = name.parse() {
        return Some(p);
    }
    let services = std::fs::read_to_string("/etc/services").unwrap_or_default();
    for line in services.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut f = line.split_whitespace();
        let (Some(svc), Some(pp)) = (f.next(), f.next()) else {
            continue;
        };
        let Some((p, proto)) = pp.split_once('/') else {
            continue;
        };
        if proto == "tcp" && (svc == name || f.any(|alias| alias == name)) {
            return p.parse().ok();
        }
    }
    // Without /etc/services, the well-known mail ports still work.
    match name {
        "smtp" => Some(25),
        "submission" => Some(587),
        "smtps" | "submissions" => Some(465),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_overrides() {
        let (s, errs) = parse(
            "smtp      inet  n       -       y       -       -       smtpd\n\
             submission inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n\
             127.0.0.1:2525 inet n - n - - smtpd -v\n\
             short inet n\n",
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].0, 6);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].chroot, "y");
        assert_eq!(
            s[1].overrides,
            vec![
                ("smtpd_tls_security_level".into(), "encrypt".into()),
                (
                    "smtpd_client_restrictions".into(),
                    "permit_sasl_authenticated, reject".into()
                )
            ]
        );
        assert_eq!(s[2].args, vec!["-v"]);
        assert_eq!(port("smtp"), Some(25));
        assert_eq!(port("submission"), Some(587));
        assert_eq!(port("2525"), Some(2525));
        assert_eq!(port("no-such-service"), None);
    }
}
