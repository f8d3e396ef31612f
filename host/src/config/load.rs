//! `Config::load`: read main.cf and master.cf, classify every name, check
//! values, build the listeners.

use super::expand::{references, split_list};
use super::mastercf::{self, Service};
use super::registry::{self, Support, STANDARD_COMMANDS};
use super::values::{parse_bool, parse_time, parse_u64, time_unit};
use super::{maincf, Config, ConfigError, Listener};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::Path;

pub(super) fn load(dir: &Path) -> Result<Config, Vec<ConfigError>> {
    let main_path = dir.join("main.cf");
    let master_path = dir.join("master.cf");
    let mut errors = Vec::new();
    let err = |file: &Path, line: usize, message: String| ConfigError {
        file: file.to_path_buf(),
        line,
        message,
    };
    let main_text = match std::fs::read_to_string(&main_path) {
        Ok(t) => t,
        Err(e) => return Err(vec![err(&main_path, 0, format!("cannot read: {e}"))]),
    };
    let mut config = Config {
        dir: dir.to_path_buf(),
        ..Config::default()
    };
    let (entries, bad) = maincf::parse(&main_text);
    errors.extend(bad.into_iter().map(|(l, m)| err(&main_path, l, m)));
    let mut seen = std::collections::HashMap::new();
    for e in &entries {
        if let Some(prev) = seen.insert(e.name.clone(), e.line) {
            config.warnings.push(format!(
                "{}:{}: {} overrides the earlier entry on line {prev}",
                main_path.display(),
                e.line,
                e.name
            ));
        }
        config.explicit.insert(e.name.clone(), e.value.clone());
        config.origins.insert(
            e.name.clone(),
            format!("{}:{}", main_path.display(), e.line),
        );
    }

    let services = match std::fs::read_to_string(&master_path) {
        Ok(text) => {
            let (services, bad) = mastercf::parse(&text);
            errors.extend(bad.into_iter().map(|(l, m)| err(&master_path, l, m)));
            Some(services)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            errors.push(err(&master_path, 0, format!("cannot read: {e}")));
            None
        }
    };

    // Names something uses: `$name` references and restriction classes.
    let mut used: BTreeSet<String> = BTreeSet::new();
    for v in config.explicit.values() {
        used.extend(references(v));
    }
    for s in services.iter().flatten() {
        for (_, v) in &s.overrides {
            used.extend(references(v));
        }
        for a in &s.args {
            used.extend(references(a));
        }
    }
    used.extend(split_list(&config.get("smtpd_restriction_classes")));
    let service_names: BTreeSet<String> =
        services.iter().flatten().map(|s| s.name.clone()).collect();

    for e in &entries {
        let place = (&main_path, e.line);
        if let Some(problem) = classify(&e.name, &used, &service_names) {
            match problem {
                Problem::Warning(w) => {
                    config
                        .warnings
                        .push(format!("{}:{}: {w}", place.0.display(), place.1))
                }
                Problem::Error(m) => errors.push(err(place.0, place.1, m)),
            }
        }
    }
    // Values are checked once all of main.cf is in (they may refer ahead).
    for e in &entries {
        if let Some(m) = check_value(&config, &e.name, &config.get(&e.name)) {
            errors.push(err(&main_path, e.line, m));
        }
    }

    match services {
        Some(services) => {
            for s in &services {
                if let Err(mut e) = service(&mut config, s, &master_path, &used, &service_names) {
                    errors.append(&mut e);
                }
            }
        }
        None => match interface_addrs(&config, 25) {
            Ok(addrs) => config.listeners.push(Listener {
                service: "smtp".into(),
                addrs,
                overrides: Vec::new(),
            }),
            Err(m) => errors.push(err(&main_path, line_of(&config, "inet_interfaces"), m)),
        },
    }

    // As Postfix's smtpd: no listener may run without relay control.
    if let Some(m) = super::openrelay::missing_relay_guard(&config) {
        let name = if config.explicit.contains_key("smtpd_recipient_restrictions") {
            "smtpd_recipient_restrictions"
        } else {
            "smtpd_relay_restrictions"
        };
        errors.push(err(&main_path, line_of(&config, name), m));
    }

    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

fn line_of(config: &Config, name: &str) -> usize {
    config
        .origins
        .get(name)
        .and_then(|o| o.rsplit(':').next())
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

enum Problem {
    Warning(String),
    Error(String),
}

/// Is `name` something mta knows, a Postfix name it ignores, or a mistake?
fn classify(name: &str, used: &BTreeSet<String>, services: &BTreeSet<String>) -> Option<Problem> {
    match registry::lookup(name).map(|p| p.support) {
        Some(Support::Implemented | Support::Mta) => None,
        Some(Support::PostfixOnly) => Some(Problem::Warning(format!(
            "{name} is a Postfix parameter that mta does not implement; ignored"
        ))),
        None if used.contains(name) => None,
        None if per_service(name, services) => Some(Problem::Warning(format!(
            "{name} is a Postfix per-service parameter that mta does not implement; ignored"
        ))),
        None if is_restriction_name(name) => Some(Problem::Error(format!(
            "{name} is a restriction, not a parameter; list it in smtpd_{{client,helo,sender,recipient,relay}}_restrictions"
        ))),
        None => Some(Problem::Error(match registry::suggest(name) {
            Some(s) => format!("unknown parameter {name}; did you mean {s}?"),
            None => format!("unknown parameter {name}"),
        })),
    }
}

/// `check_recipient_access = hash:access` (a howto's mistake): a
/// restriction written as if it were a parameter.
fn is_restriction_name(name: &str) -> bool {
    (name.starts_with("check_") && name.ends_with("_access"))
        || name.starts_with("reject_")
        || name.starts_with("permit_")
        || name.starts_with("defer_")
}

/// Postfix's `service_name_parameter` (e.g. `relay_destination_concurrency_limit`):
/// a master.cf service name followed by a `default_` parameter's suffix.
fn per_service(name: &str, services: &BTreeSet<String>) -> bool {
    services.iter().any(|s| {
        name.strip_prefix(s.as_str())
            .and_then(|r| r.strip_prefix('_'))
            .is_some_and(|suffix| {
                registry::lookup(&format!("default_{suffix}")).is_some()
                    || registry::lookup(&format!("smtp_{suffix}")).is_some()
            })
    })
}

/// A value that cannot be used: wrong type, a setting mta must refuse.
fn check_value(config: &Config, name: &str, value: &str) -> Option<String> {
    if let Some(m) = registry::security_refusal(name, value) {
        return Some(m);
    }
    if name == "mynetworks" {
        for item in split_list(value) {
            let net = item.trim_start_matches('!');
            let looks_numeric =
                net.starts_with('[') || net.starts_with(|c: char| c.is_ascii_digit());
            if looks_numeric && !super::openrelay::is_network(net) {
                return Some(format!(
                    "mynetworks: \"{item}\" is not a valid network/prefix (write 192.0.2.0/24 or [2001:db8::]/32)"
                ));
            }
        }
    }
    let default = registry::lookup(name)?.default;
    if default == registry::COMPUTED {
        return None;
    }
    // Judge the type by the expanded default (`${stress?{10}:{300}}s`).
    let expanded = config.expand(default);
    let default = expanded.as_str();
    let allowed: &[&str] = match name {
        "mynetworks_style" => &["host", "subnet", "class"],
        "plugin_failure_action" => &["tempfail", "reject", "dunno", "hold"],
        "rbl_dns_failure_action" => &["dunno", "tempfail", "defer"],
        "smtpd_forbid_bare_newline" => &["normalize", "reject", "no", "yes", "note"],
        _ => &[],
    };
    // A parameter with its own list of words (smtpd_forbid_bare_newline
    // = reject, though its default is `no`) is judged by that list alone.
    let kind_ok = if !allowed.is_empty() {
        true
    } else if matches!(default, "yes" | "no") {
        parse_bool(value).is_some()
    } else if let Some(unit) = time_unit(default) {
        parse_time(value, unit).is_some()
    } else if !default.is_empty() && default.chars().all(|c| c.is_ascii_digit()) {
        parse_u64(value).is_some()
    } else {
        true
    };
    if !kind_ok {
        let what = if matches!(default, "yes" | "no") {
            "yes or no"
        } else if time_unit(default).is_some() {
            "a time such as 30s, 5m, 2h, 1d, 1w"
        } else {
            "a whole number"
        };
        return Some(format!("{name} = {value}: expected {what}"));
    }
    if !allowed.is_empty() && !allowed.contains(&value.trim()) {
        return Some(format!(
            "{name} = {value}: expected one of {}",
            allowed.join(", ")
        ));
    }
    None
}

/// One master.cf entry: a listener for inet smtpd, a note otherwise.
fn service(
    config: &mut Config,
    s: &Service,
    file: &Path,
    used: &BTreeSet<String>,
    services: &BTreeSet<String>,
) -> Result<(), Vec<ConfigError>> {
    let at = format!("{}:{}", file.display(), s.line);
    let err = |m: String| ConfigError {
        file: file.to_path_buf(),
        line: s.line,
        message: m,
    };
    let postscreen = s.command == "postscreen" && s.kind == "inet";
    if postscreen {
        // Postfix's postscreen hands clients to `smtpd pass`; mta has no
        // postscreen, so its smtpd takes the port directly.
        config.warnings.push(format!(
            "{at}: postscreen is not provided; mta's smtpd listens on {} directly (postscreen_* settings are ignored)",
            s.name
        ));
    }
    if s.kind == "pass" && s.command == "smtpd" {
        config.notes.push(format!(
            "{at}: smtpd pass service {} (behind postscreen) is not needed by mta; entry accepted",
            s.name
        ));
        return Ok(());
    }
    if s.command != "smtpd" && !postscreen {
        if !STANDARD_COMMANDS.contains(&s.command.as_str()) {
            config.warnings.push(format!(
                "{at}: service {} runs {}, which mta does not provide; ignored",
                s.name, s.command
            ));
        } else {
            config.notes.push(format!(
                "{at}: service {} ({}) is provided by mta itself; entry accepted, not used",
                s.name, s.command
            ));
        }
        return Ok(());
    }
    if s.kind != "inet" {
        config.warnings.push(format!(
            "{at}: smtpd service {} of type {} is not supported (only inet); ignored",
            s.name, s.kind
        ));
        return Ok(());
    }
    let mut errors = Vec::new();
    // Values that describe what mta does anyway pass silently; anything
    // else is a request mta cannot honour for this listener.
    for (column, value, as_mta_does) in [
        ("private", &s.private, &["n", "-"][..]),
        ("unpriv", &s.unpriv, &["-", "y"][..]),
        ("chroot", &s.chroot, &["n", "-"][..]),
        ("wakeup", &s.wakeup, &["-", "0"][..]),
        ("maxproc", &s.maxproc, &["-"][..]),
    ] {
        if !as_mta_does.contains(&value.as_str()) {
            config.notes.push(format!(
                "{at}: column {column} = {value} has no meaning in mta; ignored"
            ));
        }
    }
    if !s.args.is_empty() {
        config.notes.push(format!(
            "{at}: smtpd arguments {} ignored",
            s.args.join(" ")
        ));
    }
    let listener_config = config.with_overrides(&s.overrides);
    for (name, _) in &s.overrides {
        match classify(name, used, services) {
            Some(Problem::Error(m)) => errors.push(err(format!("-o {m}"))),
            Some(Problem::Warning(w)) => config.warnings.push(format!("{at}: -o {w}")),
            None => {}
        }
        if let Some(m) = check_value(&listener_config, name, &listener_config.get(name)) {
            errors.push(err(format!("-o {m}")));
        }
    }
    if !s.overrides.is_empty() {
        if let Some(m) = super::openrelay::missing_relay_guard(&listener_config) {
            errors.push(err(format!("service {}: {m}", s.name)));
        }
    }
    match listen_addrs(&listener_config, &s.name) {
        Ok(addrs) => config.listeners.push(Listener {
            service: s.name.clone(),
            addrs,
            overrides: s.overrides.clone(),
        }),
        Err(m) => errors.push(err(m)),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Addresses for a master.cf inet service name `[host:]port`.
fn listen_addrs(config: &Config, service: &str) -> Result<Vec<SocketAddr>, String> {
    let (host, port_name) = if let Some(rest) = service.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("bad service address \"{service}\" (expected [host]:port)"))?;
        (Some(h), p)
    } else {
        match service.rsplit_once(':') {
            Some((h, p)) => (Some(h), p),
            None => (None, service),
        }
    };
    let port = mastercf::port(port_name).ok_or_else(|| {
        format!("unknown service \"{port_name}\": not a port number nor in /etc/services")
    })?;
    match host {
        None | Some("") | Some("*") => interface_addrs(config, port),
        Some(h) => host_addrs(h, port),
    }
}

fn host_addrs(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (h, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve listen address {h}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("listen address {h} has no addresses"));
    }
    Ok(addrs)
}

/// `inet_interfaces` (with `inet_protocols`) as socket addresses on `port`.
fn interface_addrs(config: &Config, port: u16) -> Result<Vec<SocketAddr>, String> {
    let protocols = config.get("inet_protocols");
    let v6 = !protocols.contains("ipv4") || protocols.contains("ipv6");
    let v4 = protocols != "ipv6";
    let has_v6_loopback = super::system::local_networks()
        .iter()
        .any(|n| n.addr == IpAddr::V6(Ipv6Addr::LOCALHOST));
    let mut out = Vec::new();
    for item in config.get_list("inet_interfaces") {
        match item.as_str() {
            "all" => {
                if v4 {
                    out.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
                } else {
                    out.push(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port));
                }
            }
            "loopback-only" => {
                if v4 {
                    out.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
                }
                if v6 && has_v6_loopback {
                    out.push(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port));
                }
            }
            h => out.extend(host_addrs(h, port)?),
        }
    }
    // A host name may resolve to both families; keep those inet_protocols allows.
    out.retain(|a| (a.is_ipv4() && v4) || (a.is_ipv6() && v6));
    if out.is_empty() {
        return Err(format!(
            "inet_interfaces ({}) gives no address to listen on with inet_protocols = {protocols}",
            config.get("inet_interfaces")
        ));
    }
    out.dedup();
    Ok(out)
}
