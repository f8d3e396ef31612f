//! Loading plugins: the built-ins from `builtin_plugin_directory` and every
//! `*.wasm` drop-in from `plugin_directory` with its optional sidecar
//! `NAME.toml`. A component's imports are its capability list (DESIGN
//! decision 7): they are checked against the grants before anything of it
//! runs, and a component built for a WIT version this host does not serve is
//! refused with the version it wants and the versions offered.

use super::caps::Capabilities;
use super::plugin::{Instance, Limits, Plugin};
use super::settings::{param, parse_size, parse_time, FailureAction, Isolation, Settings};
use super::wit;
use super::Sandbox;
use crate::config::Config;
use crate::stages::types::{Capability, Description, Stage};
use crate::tables::Tables;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use wasmtime::component::Component;

/// Host services the capabilities are backed by.
pub struct Services<'a> {
    pub config: &'a Config,
    pub tables: &'a Arc<Tables>,
    pub resolver: &'a crate::rewrite::Resolver,
    pub dns: &'a crate::dns::Dns,
}

/// The operator's per-plugin file beside a drop-in: `NAME.toml`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sidecar {
    /// `name = "value"` settings handed to `init` (they win over main.cf ones).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Capabilities granted: log, lookup, resolve, dns, kv, clock.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Lookup tables the plugin may query, by main.cf name (`hash:/etc/postfix/x`).
    #[serde(default)]
    pub tables: Vec<String>,
    /// DNS zones the plugin may query (with `dns`).
    #[serde(default)]
    pub dns_zones: Vec<String>,
    /// A subset of the declared stages to call.
    pub stages: Option<Vec<String>>,
    /// Position among drop-ins (lower first; default 100, then by name).
    pub order: Option<i64>,
    pub failure_action: Option<String>,
    pub time_limit: Option<String>,
    pub memory_limit: Option<String>,
    /// `pool` or `message` (overrides `plugin_isolation`).
    pub isolation: Option<String>,
}

/// The built-in plugins, in stage order.
pub const BUILTINS: &[&str] = &["restrictions", "rbl", "header-checks"];

const DROP_IN_ORDER: i64 = 100;

/// Postfix lookup table types, for spotting `type:name` tokens in parameter values.
const TABLE_TYPES: &[&str] = &[
    "btree",
    "cdb",
    "cidr",
    "environ",
    "fail",
    "hash",
    "inline",
    "internal",
    "ldap",
    "lmdb",
    "memcache",
    "mysql",
    "netmap",
    "nis",
    "nisplus",
    "pcre",
    "pgsql",
    "pipemap",
    "proxy",
    "randmap",
    "regexp",
    "sdbm",
    "socketmap",
    "sqlite",
    "static",
    "tcp",
    "texthash",
    "unionmap",
    "unix",
];

/// Restriction names that need the rbl plugin.
const RBL_WORDS: &[&str] = &[
    "reject_rbl_client",
    "reject_rhsbl_client",
    "reject_rhsbl_sender",
    "reject_rhsbl_helo",
    "reject_rhsbl_recipient",
    "reject_rhsbl_reverse_client",
    "permit_dnswl_client",
    "permit_rhswl_client",
];

const RESTRICTION_LISTS: &[&str] = &[
    "smtpd_client_restrictions",
    "smtpd_helo_restrictions",
    "smtpd_sender_restrictions",
    "smtpd_relay_restrictions",
    "smtpd_recipient_restrictions",
    "smtpd_data_restrictions",
    "smtpd_end_of_data_restrictions",
    "smtpd_etrn_restrictions",
];

const CONTENT_CHECKS: &[&str] = &[
    "header_checks",
    "mime_header_checks",
    "nested_header_checks",
    "body_checks",
];

/// A parameter value's items (Postfix list syntax, `mta_sdk::params`).
pub use mta_sdk::params::split_list as words;

/// The `type:name` lookup tables named in a parameter value (not policy
/// service sockets, which look alike).
pub fn table_tokens(value: &str) -> Vec<String> {
    let w = words(value);
    let mut out = Vec::new();
    for (i, word) in w.iter().enumerate() {
        if i > 0 && w[i - 1] == "check_policy_service" {
            continue;
        }
        if let Some((ty, rest)) = word.split_once(':') {
            if TABLE_TYPES.contains(&ty.to_ascii_lowercase().as_str())
                && !rest.is_empty()
                && !out.contains(word)
            {
                out.push(word.clone());
            }
        }
    }
    out
}

fn parse_capability(s: &str) -> Option<Capability> {
    Some(match s.trim().to_ascii_lowercase().as_str() {
        "log" => Capability::Log,
        "lookup" => Capability::Lookup,
        "resolve" => Capability::Resolve,
        "dns" => Capability::Dns,
        "kv" => Capability::Kv,
        "clock" => Capability::Clock,
        _ => return None,
    })
}

fn parse_stage(s: &str) -> Option<Stage> {
    use Stage::*;
    [
        Connect,
        Helo,
        Mail,
        Rcpt,
        Vrfy,
        Etrn,
        Data,
        Headers,
        Body,
        EndOfMessage,
    ]
    .into_iter()
    .find(|st| st.as_str() == s.trim())
}

fn cap_list(c: &BTreeSet<Capability>) -> String {
    if c.is_empty() {
        return "none".into();
    }
    c.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

const ALL_CAPS: &str = "log, lookup, resolve, dns, kv, clock";

/// Check what a component exports and imports against what this host serves
/// and what the operator granted (`None`: skip the grant check for now).
/// Answers the contract version the component was built for.
pub fn check_interfaces(
    name: &str,
    engine: &wasmtime::Engine,
    component: &Component,
    granted: Option<&BTreeSet<Capability>>,
) -> anyhow::Result<&'static str> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_string()).collect();
    let plugin_exports: Vec<&String> = exports
        .iter()
        .filter(|n| n.starts_with("mta:filter/plugin"))
        .collect();
    let Some(served) = wit::version_of(&exports) else {
        let wanted = match plugin_exports.first() {
            Some(n) => n.replace("/plugin", ""),
            None => format!(
                "no mta:filter plugin interface (exports: {})",
                exports.join(", ")
            ),
        };
        anyhow::bail!(
            "plugin {name}: built for {wanted}; this host offers {}",
            wit::offered()
        );
    };
    for (import, _) in ty.imports(engine) {
        if import.starts_with("wasi:") {
            continue;
        }
        let Some(rest) = import.strip_prefix("mta:filter/") else {
            anyhow::bail!("plugin {name}: imports {import}, which this host does not provide");
        };
        let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
        if !wit::SERVED_VERSIONS.contains(&version) {
            anyhow::bail!("plugin {name}: built for mta:filter@{version} (imports {import}); this host offers {}", wit::offered());
        }
        if version != served {
            anyhow::bail!("plugin {name}: exports mta:filter/plugin@{served} but imports {import}: a component must be built against one version of mta:filter");
        }
        // The data types and the hook context are open to every plugin.
        if iface == "types" || iface == "facts" {
            continue;
        }
        let Some(cap) = parse_capability(iface) else {
            anyhow::bail!("plugin {name}: imports {import}, which this host does not provide");
        };
        if let Some(granted) = granted {
            if !granted.contains(&cap) {
                anyhow::bail!(
                    "plugin {name}: wants capability {} (imports {import}) which is not granted; granted: {}; capabilities offered: {ALL_CAPS}",
                    cap.as_str(),
                    cap_list(granted)
                );
            }
        }
    }
    Ok(served)
}

/// Everything loaded for one configuration, plus the drop-ins refused.
pub struct Loaded {
    pub plugins: Vec<Arc<Plugin>>,
    pub refused: Vec<String>,
    /// Worth telling the operator, not worth refusing to start (logged by
    /// `mta run`, printed by `mta check`).
    pub warnings: Vec<String>,
}

/// What decides how one file is loaded.
struct Spec {
    file: PathBuf,
    builtin: bool,
    sidecar: Sidecar,
    /// Settings the host adds for `init` (the drop-ins' names, for the
    /// restrictions built-in).
    extra_settings: Vec<(String, String)>,
    /// `mta check`: everything but opening the plugin's kv store, which a
    /// running daemon holds.
    check_only: bool,
}

/// Load the built-ins this configuration needs (when `builtins`) and every drop-in.
pub async fn load_all(
    sandbox: &Sandbox,
    services: &Services<'_>,
    builtins: bool,
) -> anyhow::Result<Loaded> {
    load_all_for(sandbox, services, builtins, false).await
}

/// What `mta check` loads: as `load_all` with the built-ins, so the same
/// code refuses the same configuration (an unknown name in a restriction
/// list, a table the plugin cannot use), without touching the kv stores a
/// running daemon holds open.
pub async fn check_all(sandbox: &Sandbox, services: &Services<'_>) -> anyhow::Result<Loaded> {
    load_all_for(sandbox, services, true, true).await
}

async fn load_all_for(
    sandbox: &Sandbox,
    services: &Services<'_>,
    builtins: bool,
    check_only: bool,
) -> anyhow::Result<Loaded> {
    let settings = Settings::from_config(services.config)?;
    let mut specs = Vec::new();
    let names: &[&str] = if builtins { BUILTINS } else { &[] };
    let restrictions_text: String = RESTRICTION_LISTS
        .iter()
        .map(|p| param(services.config, p))
        .collect::<Vec<_>>()
        .join(" ");
    for name in names {
        let file = settings.builtin_directory.join(format!("{name}.wasm"));
        let required = match *name {
            "restrictions" => true,
            "rbl" => words(&restrictions_text)
                .iter()
                .any(|w| RBL_WORDS.contains(&w.as_str())),
            _ => CONTENT_CHECKS
                .iter()
                .any(|p| !param(services.config, p).is_empty()),
        };
        let optional_rbl = *name == "rbl" && file.exists();
        if !required && !optional_rbl {
            continue;
        }
        if !file.exists() {
            anyhow::bail!(
                "built-in plugin {name}: {} not found (build the plugins with `cargo xtask build`, or set builtin_plugin_directory)",
                file.display()
            );
        }
        specs.push(Spec {
            file,
            builtin: true,
            sidecar: Sidecar::default(),
            extra_settings: Vec::new(),
            check_only,
        });
    }
    let mut refused = Vec::new();
    let mut drop_ins = Vec::new();
    match std::fs::read_dir(&settings.plugin_directory) {
        Ok(rd) => {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().and_then(|x| x.to_str()) == Some("wasm") {
                    drop_ins.push(p);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            let msg = format!(
                "plugin_directory {}: {e}",
                settings.plugin_directory.display()
            );
            if settings.strict {
                anyhow::bail!(msg);
            }
            tracing::warn!("warning: {msg}");
            refused.push(msg);
        }
    }
    drop_ins.sort();
    let mut drop_in_specs = Vec::new();
    for file in drop_ins {
        match read_sidecar(&file) {
            Ok(sidecar) => drop_in_specs.push(Spec {
                file,
                builtin: false,
                sidecar,
                extra_settings: Vec::new(),
                check_only,
            }),
            Err(e) => refuse(&settings, &mut refused, e)?,
        }
    }
    // Drop-ins first: the restrictions built-in must know their names to
    // accept them in restriction lists (and to refuse any other name).
    let mut plugins: Vec<Arc<Plugin>> = Vec::new();
    let builtin_specs = std::mem::replace(&mut specs, drop_in_specs);
    let builtin_names: Vec<String> = builtin_specs.iter().map(|s| file_stem(&s.file)).collect();
    specs.extend(builtin_specs);
    for mut spec in specs {
        if spec.builtin && file_stem(&spec.file) == "restrictions" {
            let names: Vec<&str> = plugins
                .iter()
                .filter(|p| !p.builtin)
                .map(|p| p.name.as_str())
                .collect();
            spec.extra_settings.push((
                crate::stages::placed::DROP_INS_SETTING.to_string(),
                names.join(" "),
            ));
        }
        let builtin = spec.builtin;
        match load_one(sandbox, services, &settings, spec).await {
            // Drop-ins load first, so one named like a built-in is refused
            // by name here rather than by the built-in failing later.
            Ok(p)
                if plugins.iter().any(|q| q.name == p.name)
                    || (!builtin && builtin_names.contains(&p.name)) =>
            {
                let e = anyhow::anyhow!(
                    "plugin {}: {}: that name is already taken (by another drop-in, or a built-in: {})",
                    p.name,
                    p.file.display(),
                    BUILTINS.join(", ")
                );
                if builtin {
                    return Err(e);
                }
                refuse(&settings, &mut refused, e)?;
            }
            Ok(p) => {
                tracing::info!(plugin = %p.name, "plugin {} version {} (mta:filter@{}) loaded from {}", p.name, p.version(), p.contract(), p.file.display());
                plugins.push(Arc::new(p));
            }
            Err(e) if builtin => {
                return Err(e.context("a built-in plugin failed to load; refusing to start"))
            }
            Err(e) => refuse(&settings, &mut refused, e)?,
        }
    }
    plugins.sort_by(|a, b| (a.order, &a.name).cmp(&(b.order, &b.name)));
    let drop_ins: Vec<(String, Vec<Stage>)> = plugins
        .iter()
        .filter(|p| !p.builtin)
        .map(|p| (p.name.clone(), p.stages.iter().copied().collect()))
        .collect();
    let warnings = crate::stages::placed::never_called(services.config, &drop_ins);
    for w in &warnings {
        tracing::warn!("warning: {w}");
    }
    Ok(Loaded {
        plugins,
        refused,
        warnings,
    })
}

fn refuse(settings: &Settings, refused: &mut Vec<String>, e: anyhow::Error) -> anyhow::Result<()> {
    if settings.strict {
        return Err(e.context("plugin_strict_loading = yes"));
    }
    tracing::warn!("warning: {e:#}; plugin skipped");
    refused.push(format!("{e:#}"));
    Ok(())
}

/// Load one file as a drop-in, with the sidecar beside it (if any) and
/// `extra_grants` on top (`mta plugin test --grant`).
pub async fn load_file(
    sandbox: &Sandbox,
    services: &Services<'_>,
    file: &Path,
    mut sidecar: Sidecar,
) -> anyhow::Result<Plugin> {
    let settings = Settings::from_config(services.config)?;
    sidecar.order.get_or_insert(DROP_IN_ORDER);
    load_one(
        sandbox,
        services,
        &settings,
        Spec {
            file: file.to_path_buf(),
            builtin: false,
            sidecar,
            extra_settings: Vec::new(),
            check_only: false,
        },
    )
    .await
}

/// The sidecar beside `file`, if any (unknown keys refused).
pub fn read_sidecar(file: &Path) -> anyhow::Result<Sidecar> {
    let path = file.with_extension("toml");
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Sidecar::default()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

fn file_stem(file: &Path) -> String {
    file.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin")
        .to_string()
}

async fn load_one(
    sandbox: &Sandbox,
    services: &Services<'_>,
    settings: &Settings,
    spec: Spec,
) -> anyhow::Result<Plugin> {
    let stem = file_stem(&spec.file);
    let engine = sandbox.engine();
    let component = Component::from_file(engine, &spec.file)
        .map_err(|e| anyhow::anyhow!("plugin {stem}: {}: {e:#}", spec.file.display()))?;
    let sc = &spec.sidecar;
    // Drop-ins: grants come from the operator, checked before anything runs.
    // `log` is harmless (tagged, escaped) and granted to every plugin.
    let mut granted: BTreeSet<Capability> = BTreeSet::from([Capability::Log]);
    for c in &sc.capabilities {
        granted.insert(parse_capability(c).ok_or_else(|| {
            anyhow::anyhow!(
                "plugin {stem}: unknown capability \"{c}\"; capabilities offered: {ALL_CAPS}"
            )
        })?);
    }
    let version = check_interfaces(
        &stem,
        engine,
        &component,
        if spec.builtin { None } else { Some(&granted) },
    )?;
    let pre = sandbox
        .linker()
        .instantiate_pre(&component)
        .and_then(|pre| wit::Pre::new(version, pre))
        .map_err(|e| anyhow::anyhow!("plugin {stem}: cannot link: {e:#}"))?;

    let limits = limits(settings, sc).map_err(|e| anyhow::anyhow!("plugin {stem}: {e:#}"))?;
    // Describe on a fresh instance that can reach nothing.
    let probe = Arc::new(capabilities(
        services,
        stem.clone(),
        BTreeSet::new(),
        BTreeMap::new(),
        None,
        None,
    ));
    let mut first = Instance::instantiate(engine, &pre, &probe, &limits)
        .await
        .map_err(|f| anyhow::anyhow!("plugin {stem}: instantiation failed: {f}"))?;
    let description: Description = first
        .describe(limits.time)
        .await
        .map_err(|f| anyhow::anyhow!("plugin {stem}: describe() failed: {f}"))?;
    let name = description.name.clone();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        anyhow::bail!(
            "plugin {stem}: describe() gave the name \"{}\", expected [a-z0-9-]+",
            caps_escape(&name)
        );
    }
    if spec.builtin {
        granted.extend(description.capabilities.iter().copied());
        check_interfaces(&name, engine, &component, Some(&granted))?;
    }
    let declared: BTreeSet<Stage> = description.stages.iter().copied().collect();
    let stages = match &sc.stages {
        None => declared.clone(),
        Some(list) => {
            let mut s = BTreeSet::new();
            for st in list {
                let st = parse_stage(st)
                    .ok_or_else(|| anyhow::anyhow!("plugin {name}: unknown stage \"{st}\""))?;
                if !declared.contains(&st) {
                    anyhow::bail!(
                        "plugin {name}: stage {} is not among those it declares",
                        st.as_str()
                    );
                }
                s.insert(st);
            }
            s
        }
    };

    // Settings: requested main.cf parameters, then the sidecar's (which win).
    // A plugin that asks for `smtpd_restriction_classes` also gets each
    // class's own parameter: their names are the operator's, so they cannot
    // be listed in `describe()`.
    let mut parameters = description.parameters.clone();
    if parameters.iter().any(|p| p == "smtpd_restriction_classes") {
        for class in services.config.get_list("smtpd_restriction_classes") {
            if !parameters.contains(&class) {
                parameters.push(class);
            }
        }
    }
    let mut init_settings: Vec<(String, String)> = parameters
        .iter()
        .map(|p| (p.clone(), services.config.get(p)))
        .collect();
    init_settings.extend(spec.extra_settings.iter().cloned());
    init_settings.extend(sc.settings.iter().map(|(k, v)| (k.clone(), v.clone())));
    let table_names: Vec<String> = if spec.builtin {
        let mut t = Vec::new();
        for p in &parameters {
            for tok in table_tokens(&services.config.get(p)) {
                if !t.contains(&tok) {
                    t.push(tok);
                }
            }
        }
        t
    } else {
        sc.tables.clone()
    };
    if !table_names.is_empty() {
        granted.insert(Capability::Lookup);
    }
    let mut tables = BTreeMap::new();
    let mut init_tables = Vec::new();
    for t in &table_names {
        match services.tables.open(t) {
            Ok(table) => {
                init_tables.push((t.clone(), table.source()));
                tables.insert(t.clone(), Ok(table));
            }
            Err(e) => {
                // Table errors name their table already; say it once.
                let why = e.to_string();
                let what = if why.starts_with(t.as_str()) {
                    why
                } else {
                    format!("{t}: {why}")
                };
                tracing::warn!(plugin = %name, "warning: plugin {name}: table {what}");
                init_tables.push((t.clone(), None));
                tables.insert(t.clone(), Err(e.to_string()));
            }
        }
    }
    let dns_zones = if spec.builtin {
        None
    } else {
        Some(sc.dns_zones.clone())
    };
    let kv = if granted.contains(&Capability::Kv) && !spec.check_only {
        let path = settings
            .kv_path
            .clone()
            .ok_or_else(|| anyhow::anyhow!("plugin {name}: kv needs queue_directory to be set"))?;
        Some(sandbox.kv(&path)?.store(&name))
    } else {
        None
    };
    let caps = capabilities(services, name.clone(), granted, tables, dns_zones, kv);
    let _ = caps.version.set(description.version.clone());
    let caps = Arc::new(caps);

    // The first real instance: initialised, then pooled.
    let mut first_real = Instance::instantiate(engine, &pre, &caps, &limits)
        .await
        .map_err(|f| anyhow::anyhow!("plugin {name}: instantiation failed: {f}"))?;
    drop(first);
    match first_real
        .init(limits.init_time, &init_settings, &init_tables)
        .await
    {
        Ok(Ok(())) => {}
        Ok(Err(text)) => anyhow::bail!(
            "plugin {name}: init refused its configuration: {}",
            caps_escape(&text)
        ),
        Err(f) => anyhow::bail!("plugin {name}: init failed: {f}"),
    }
    let order = if spec.builtin {
        i64::MIN
            + BUILTINS
                .iter()
                .position(|b| *b == name)
                .unwrap_or(BUILTINS.len()) as i64
    } else {
        sc.order.unwrap_or(DROP_IN_ORDER)
    };
    Ok(Plugin::new(
        name,
        spec.file,
        spec.builtin,
        description,
        stages,
        order,
        limits,
        caps,
        engine.clone(),
        pre,
        init_settings,
        init_tables,
        first_real,
    ))
}

fn caps_escape(s: &str) -> String {
    super::caps::escape(s)
}

fn capabilities(
    services: &Services<'_>,
    plugin: String,
    granted: BTreeSet<Capability>,
    tables: BTreeMap<String, Result<Arc<dyn crate::tables::Table>, String>>,
    dns_zones: Option<Vec<String>>,
    kv: Option<super::kv::KvStore>,
) -> Capabilities {
    Capabilities {
        plugin,
        version: OnceLock::new(),
        granted,
        tables,
        lookup: services.tables.clone(),
        resolver: services.resolver.clone(),
        dns: services.dns.clone(),
        dns_zones,
        kv,
    }
}

fn limits(s: &Settings, sc: &Sidecar) -> anyhow::Result<Limits> {
    let isolation = match &sc.isolation {
        Some(i) => Isolation::parse("isolation", i)?,
        None => s.isolation,
    };
    let memory = match &sc.memory_limit {
        Some(m) => {
            let m = parse_size("memory_limit", m)?;
            if m > s.memory_limit {
                anyhow::bail!(
                    "memory_limit {m} exceeds plugin_memory_limit {}",
                    s.memory_limit
                );
            }
            m
        }
        None => s.memory_limit,
    };
    Ok(Limits {
        time: match &sc.time_limit {
            Some(t) => parse_time("time_limit", t)?,
            None => s.time_limit,
        },
        memory,
        failure_action: match &sc.failure_action {
            Some(a) => FailureAction::parse(a)?,
            None => s.failure_action,
        },
        max_use: if isolation == Isolation::Message {
            1
        } else {
            s.max_use
        },
        isolation,
        pool_size: s.pool_size,
        failure_limit: s.failure_limit,
        quarantine_time: s.quarantine_time,
        init_time: s.stage_time_limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_tokens_skip_policy_services_and_keep_inline_whole() {
        let v = "permit_mynetworks, check_client_access hash:/etc/postfix/access, \
                 check_policy_service unix:private/policy, check_sender_access inline:{ a@b=OK, c=REJECT }, \
                 reject_rbl_client zen.spamhaus.org";
        assert_eq!(
            table_tokens(v),
            vec![
                "hash:/etc/postfix/access".to_string(),
                "inline:{ a@b=OK, c=REJECT }".to_string()
            ]
        );
    }

    #[test]
    fn sidecar_refuses_unknown_keys() {
        let ok: Sidecar =
            toml::from_str("capabilities = [\"dns\"]\norder = 5\n[settings]\nx = \"1\"\n")
                .expect("valid");
        assert_eq!(ok.order, Some(5));
        assert_eq!(ok.settings.get("x").map(String::as_str), Some("1"));
        assert!(toml::from_str::<Sidecar>("capabilties = [\"dns\"]\n").is_err());
    }
}
