//! CONTRACT for smtpd: `StageRunner` answers one `Decision` per stage call.
//! Plugin faults never surface here as errors: the runner applies the
//! plugin's failure action (default `451 4.3.0`) and logs the plugin's name.
//!
//! Order: the built-ins first (restrictions, rbl, header-checks), then the
//! drop-ins by their sidecar `order`, then name. Only the hooks a plugin
//! declared are called. A drop-in named in a restriction list is called from
//! there instead, at that list's position (see `placed`). The first decisive verdict of a stage wins; `Warn` and
//! `Info` are logged and the stage goes on; `DeferIfPermit`/`DeferIfReject`
//! follow Postfix (a later permit, resp. reject, turns into the deferral).

use super::placed::{restrictions_with_drop_ins, Call};
use super::types::*;
use crate::sandbox::plugin::{Answer, Hook, Instance};
use crate::sandbox::Plugin;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The outcome of one stage: the decisive verdict and who gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// `Dunno` when no plugin was decisive; `Ok`, `Reject`, `Defer`, `Discard`,
    /// `Hold`, `Redirect`, `Bcc`, `Filter` otherwise. Warn/Info are logged by
    /// the runner and never returned.
    pub verdict: Verdict,
    /// The plugin that decided, for log lines.
    pub plugin: Option<String>,
}

impl Decision {
    pub fn dunno() -> Decision {
        Decision {
            verdict: Verdict::Dunno,
            plugin: None,
        }
    }
}

/// A verdict about one header or body line, tagged with its plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginVerdict {
    pub plugin: String,
    pub index: u32,
    pub verdict: Verdict,
}

/// The plugins of one listener, in order, ready to be called.
#[derive(Debug, Default)]
pub struct StageRunner {
    plugins: Vec<Arc<Plugin>>,
    refused: Vec<String>,
    stage_time_limit: Duration,
    /// Drop-ins named in a restriction list: called from the restrictions
    /// built-in at their position, not in the default order, at SMTP stages.
    placed: BTreeSet<String>,
}

const DEFAULT_STAGE_LIMIT: Duration = Duration::from_secs(30);

impl StageRunner {
    /// Load the built-in plugins (from `builtin_plugin_directory`) and the
    /// drop-ins (from `plugin_directory`) for a listener whose effective
    /// configuration (main.cf plus its master.cf `-o` overrides) is `config`.
    pub async fn load(
        sandbox: &crate::sandbox::Sandbox,
        config: &crate::config::Config,
        tables: &std::sync::Arc<crate::tables::Tables>,
        resolver: &crate::rewrite::Resolver,
        dns: &crate::dns::Dns,
    ) -> anyhow::Result<StageRunner> {
        Self::load_with(sandbox, config, tables, resolver, dns, true).await
    }

    /// Like [`StageRunner::load`] but without the built-ins: only the drop-ins
    /// of `plugin_directory` (tests, `mta plugin list` of a directory).
    pub async fn load_drop_ins(
        sandbox: &crate::sandbox::Sandbox,
        config: &crate::config::Config,
        tables: &std::sync::Arc<crate::tables::Tables>,
        resolver: &crate::rewrite::Resolver,
        dns: &crate::dns::Dns,
    ) -> anyhow::Result<StageRunner> {
        Self::load_with(sandbox, config, tables, resolver, dns, false).await
    }

    async fn load_with(
        sandbox: &crate::sandbox::Sandbox,
        config: &crate::config::Config,
        tables: &std::sync::Arc<crate::tables::Tables>,
        resolver: &crate::rewrite::Resolver,
        dns: &crate::dns::Dns,
        builtins: bool,
    ) -> anyhow::Result<StageRunner> {
        let services = crate::sandbox::load::Services {
            config,
            tables,
            resolver,
            dns,
        };
        let loaded = crate::sandbox::load::load_all(sandbox, &services, builtins).await?;
        let settings = crate::sandbox::settings::Settings::from_config(config)?;
        let drop_ins: Vec<String> = loaded
            .plugins
            .iter()
            .filter(|p| !p.builtin)
            .map(|p| p.name.clone())
            .collect();
        Ok(StageRunner {
            placed: super::placed::placed(config, &drop_ins),
            plugins: loaded.plugins,
            refused: loaded.refused,
            stage_time_limit: settings.stage_time_limit,
        })
    }

    /// A runner over already loaded plugins (tests, `mta plugin test`).
    pub fn from_plugins(plugins: Vec<Arc<Plugin>>, stage_time_limit: Duration) -> StageRunner {
        StageRunner {
            plugins,
            refused: Vec::new(),
            stage_time_limit,
            placed: BTreeSet::new(),
        }
    }

    /// The same runner keeping only the plugins `keep` accepts (pickup
    /// keeps the content checks; the SMTP-session policy does not apply to
    /// locally submitted mail).
    pub fn only(&self, keep: impl Fn(&Plugin) -> bool) -> StageRunner {
        StageRunner {
            plugins: self.plugins.iter().filter(|p| keep(p)).cloned().collect(),
            refused: self.refused.clone(),
            stage_time_limit: self.stage_time_limit,
            placed: self.placed.clone(),
        }
    }

    /// A runner with no plugins: every stage answers `Dunno`.
    pub fn empty() -> StageRunner {
        StageRunner {
            plugins: Vec::new(),
            refused: Vec::new(),
            stage_time_limit: DEFAULT_STAGE_LIMIT,
            placed: BTreeSet::new(),
        }
    }

    /// The plugins in calling order.
    pub fn plugins(&self) -> &[Arc<Plugin>] {
        &self.plugins
    }

    /// Drop-ins named in restriction lists (called from there).
    pub fn placed(&self) -> &BTreeSet<String> {
        &self.placed
    }

    /// Drop-ins refused at load (non-strict mode), with the reason.
    pub fn refused(&self) -> &[String] {
        &self.refused
    }

    fn deadline(&self) -> Instant {
        let limit = if self.stage_time_limit.is_zero() {
            DEFAULT_STAGE_LIMIT
        } else {
            self.stage_time_limit
        };
        Instant::now() + limit
    }

    /// Run the connect, helo, mail, data or end-of-message stage (by `ctx.stage`).
    /// A stage with its own method (rcpt, vrfy, etrn, headers, body) given
    /// here is a caller bug, answered `Dunno` and logged, never blamed on a plugin.
    pub async fn check(&self, ctx: &Context) -> Decision {
        match ctx.stage {
            Stage::Connect | Stage::Helo | Stage::Mail | Stage::Data | Stage::EndOfMessage => {
                self.verdict_stage(ctx, Call::Check).await
            }
            other => {
                tracing::error!(
                    "error: StageRunner::check called for stage {}; use its own method",
                    other.as_str()
                );
                Decision::dunno()
            }
        }
    }

    /// Run the rcpt (or vrfy) stage for one recipient.
    pub async fn rcpt(&self, ctx: &Context, recipient: &Address) -> Decision {
        self.verdict_stage(ctx, Call::Rcpt(recipient)).await
    }

    /// Run the etrn stage.
    pub async fn etrn(&self, ctx: &Context, destination: &str) -> Decision {
        self.verdict_stage(ctx, Call::Etrn(destination)).await
    }

    /// Run one verdict stage. The context is copied once into an `Arc` that
    /// every plugin's call shares (a 0.2 guest gets a handle to it).
    async fn verdict_stage(&self, ctx: &Context, call: Call<'_>) -> Decision {
        let shared = Arc::new(ctx.clone());
        let deadline = self.deadline();
        let mut combine = Combine::default();
        let at_stage = self
            .plugins
            .iter()
            .filter(|p| p.hooks(ctx.stage) && !self.placed.contains(&p.name));
        for p in at_stage {
            let (v, who) = if is_restrictions(p) && !self.placed.is_empty() {
                let mut r = Lent::new(p.clone());
                let mut drop_ins: Vec<Lent> = self
                    .plugins
                    .iter()
                    .filter(|d| self.placed.contains(&d.name))
                    .map(|d| Lent::new(d.clone()))
                    .collect();
                let answer =
                    restrictions_with_drop_ins(&mut r, &mut drop_ins, &shared, call, deadline)
                        .await;
                r.give_back();
                drop_ins.iter_mut().for_each(Lent::give_back);
                answer
            } else {
                let mut lent = None;
                let v = invoke(p, &mut lent, call.hook(&shared), ctx.stage, deadline).await;
                if let Some(i) = lent {
                    p.give_back(i);
                }
                let v = match v {
                    Answer::Verdict(v) => v,
                    Answer::Indexed(_) => Verdict::Dunno,
                };
                (v, p.name.clone())
            };
            if let Some(d) = combine.add(ctx, &who, v) {
                return d;
            }
        }
        combine.finish()
    }

    /// Lend instances of the content plugins for one message.
    pub async fn content(&self) -> ContentScan {
        let mut plugins: Vec<Lent> = self
            .plugins
            .iter()
            .filter(|p| {
                p.hooks(Stage::Headers) || p.hooks(Stage::Body) || p.hooks(Stage::EndOfMessage)
            })
            .map(|p| Lent::new(p.clone()))
            .collect();
        // header-checks sees the headers first, as Postfix's cleanup does.
        plugins.sort_by_key(|l| l.plugin.name != "header-checks");
        ContentScan {
            plugins,
            stage_time_limit: self.stage_time_limit,
            placed: self.placed.clone(),
        }
    }
}

/// The restrictions built-in, the one plugin that may name others.
fn is_restrictions(p: &Plugin) -> bool {
    p.builtin && p.name == "restrictions"
}

/// Call one plugin, applying the breaker, the stage deadline and the failure
/// policy. Never fails: a fault becomes the plugin's failure verdict.
async fn invoke(
    p: &Plugin,
    lent: &mut Option<Instance>,
    hook: Hook<'_>,
    stage: Stage,
    deadline: Instant,
) -> Answer {
    if !p.admit() {
        tracing::info!(plugin = %p.name, "plugin {} version {}: quarantined, {} applied at {}", p.name, p.version(), p.limits.failure_action.as_str(), stage.as_str());
        return Answer::Verdict(p.limits.failure_action.verdict());
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    let call = async {
        if lent.is_none() {
            *lent = Some(p.lend().await?);
        }
        match lent.as_mut() {
            Some(i) => i.call(p.limits.time, hook).await,
            None => Err(crate::sandbox::Fault {
                kind: crate::sandbox::FaultKind::Trap,
                detail: "no instance".into(),
            }),
        }
    };
    let fault = match tokio::time::timeout(remaining, call).await {
        Ok(Ok(answer)) => {
            p.succeeded();
            return answer;
        }
        Ok(Err(f)) => f,
        Err(_) => {
            if let Some(i) = lent.as_mut() {
                i.poison();
            }
            crate::sandbox::Fault {
                kind: crate::sandbox::FaultKind::Timeout,
                detail: "plugin_stage_time_limit exceeded".into(),
            }
        }
    };
    tracing::warn!(
        plugin = %p.name,
        "warning: plugin {} version {}: fault at {}: {}: {}",
        p.name,
        p.version(),
        stage.as_str(),
        fault.kind.as_str(),
        fault.detail
    );
    // The faulted instance is never reused.
    lent.take();
    p.faulted();
    Answer::Verdict(p.limits.failure_action.verdict())
}

/// Postfix's way of turning a stage's verdicts into one decision.
#[derive(Default)]
struct Combine {
    defer_if_permit: Option<(Reply, String)>,
    defer_if_reject: Option<(Reply, String)>,
}

fn log_verdict(ctx: &Context, kind: &str, text: &str, plugin: &str) {
    let s = &ctx.session;
    let qid = ctx.envelope.queue_id.as_deref().unwrap_or("NOQUEUE");
    let from = ctx
        .envelope
        .sender
        .as_ref()
        .map(|a| a.address.as_str())
        .unwrap_or("");
    let to = ctx
        .envelope
        .recipients
        .last()
        .map(|a| a.address.as_str())
        .unwrap_or("");
    let helo = s.helo_name.as_deref().unwrap_or("");
    let stage = ctx.stage.as_str().to_ascii_uppercase();
    let text = crate::sandbox::caps::escape(text);
    let line = format!(
        "{qid}: {kind}: {stage} from {}[{}]: {text}; from=<{from}> to=<{to}> proto={} helo=<{helo}> plugin={plugin}",
        s.client_name, s.client_address, s.protocol
    );
    if kind == "warn" {
        tracing::warn!(plugin, "{line}");
    } else {
        tracing::info!(plugin, "{line}");
    }
}

impl Combine {
    /// Take one plugin's verdict; `Some` ends the stage.
    fn add(&mut self, ctx: &Context, plugin: &str, v: Verdict) -> Option<Decision> {
        let decide = |verdict| {
            Some(Decision {
                verdict,
                plugin: Some(plugin.to_string()),
            })
        };
        match v {
            Verdict::Dunno
            | Verdict::Ignore
            | Verdict::Pass
            | Verdict::Strip(_)
            | Verdict::Prepend(_)
            | Verdict::Replace(_) => None,
            Verdict::Warn(t) => {
                log_verdict(ctx, "warn", &t, plugin);
                None
            }
            Verdict::Info(t) => {
                log_verdict(ctx, "info", &t, plugin);
                None
            }
            Verdict::DeferIfPermit(r) => {
                self.defer_if_permit.get_or_insert((r, plugin.to_string()));
                None
            }
            Verdict::DeferIfReject(r) => {
                self.defer_if_reject.get_or_insert((r, plugin.to_string()));
                None
            }
            Verdict::Reject(r) => match self.defer_if_reject.take() {
                Some((d, who)) => Some(Decision {
                    verdict: Verdict::Defer(d),
                    plugin: Some(who),
                }),
                None => decide(Verdict::Reject(r)),
            },
            Verdict::Ok => match self.defer_if_permit.take() {
                Some((d, who)) => Some(Decision {
                    verdict: Verdict::Defer(d),
                    plugin: Some(who),
                }),
                None => decide(Verdict::Ok),
            },
            other => decide(other),
        }
    }

    fn finish(mut self) -> Decision {
        match self.defer_if_permit.take() {
            Some((d, who)) => Decision {
                verdict: Verdict::Defer(d),
                plugin: Some(who),
            },
            None => Decision::dunno(),
        }
    }
}

/// One plugin's instance, lent for a stage or for the current message.
pub(super) struct Lent {
    pub(super) plugin: Arc<Plugin>,
    instance: Option<Instance>,
    /// A fault (or quarantine) already applied its failure action here.
    pub(super) faulted: bool,
    body_done: bool,
}

impl Lent {
    fn new(plugin: Arc<Plugin>) -> Lent {
        Lent {
            plugin,
            instance: None,
            faulted: false,
            body_done: false,
        }
    }

    fn give_back(&mut self) {
        if let Some(i) = self.instance.take() {
            self.plugin.give_back(i);
        }
    }
}

/// Content inspection of one message: headers, then body chunks, then end.
/// One instance per plugin serves all three, so a plugin may keep state
/// across them; the instances go back to their pools when this is dropped.
#[derive(Default)]
pub struct ContentScan {
    plugins: Vec<Lent>,
    stage_time_limit: Duration,
    /// As `StageRunner::placed`: called from smtpd_end_of_data_restrictions.
    placed: BTreeSet<String>,
}

impl std::fmt::Debug for ContentScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.plugins.iter().map(|l| &l.plugin.name))
            .finish()
    }
}

impl Drop for ContentScan {
    fn drop(&mut self) {
        self.plugins.iter_mut().for_each(Lent::give_back);
    }
}

/// Whether a content verdict settles the message's fate (later plugins are not asked).
fn ends_message(v: &Verdict) -> bool {
    matches!(
        v,
        Verdict::Reject(_) | Verdict::Defer(_) | Verdict::Discard(_)
    )
}

impl ContentScan {
    /// The most body bytes any content plugin wants; 0 = no body hook.
    pub fn body_limit(&self) -> u64 {
        self.plugins
            .iter()
            .filter_map(|l| l.plugin.body_limit())
            .max()
            .unwrap_or(0)
    }

    fn deadline(&self) -> Instant {
        let limit = if self.stage_time_limit.is_zero() {
            DEFAULT_STAGE_LIMIT
        } else {
            self.stage_time_limit
        };
        Instant::now() + limit
    }

    pub async fn headers(&mut self, ctx: &Context, headers: &[Header]) -> Vec<PluginVerdict> {
        let shared = Arc::new(ctx.clone());
        let deadline = self.deadline();
        let mut out = Vec::new();
        for l in self
            .plugins
            .iter_mut()
            .filter(|l| !l.faulted && l.plugin.hooks(Stage::Headers))
        {
            let answer =
                call_lent(l, Hook::Headers(&shared, headers), Stage::Headers, deadline).await;
            if push_indexed(&mut out, &l.plugin.name, answer) {
                break;
            }
        }
        out
    }

    pub async fn body(&mut self, ctx: &Context, chunk: &BodyChunk) -> Vec<PluginVerdict> {
        let shared = Arc::new(ctx.clone());
        let deadline = self.deadline();
        let mut out = Vec::new();
        for l in self
            .plugins
            .iter_mut()
            .filter(|l| !l.faulted && !l.body_done && l.plugin.hooks(Stage::Body))
        {
            let limit = l.plugin.body_limit().unwrap_or(0);
            if chunk.offset >= limit {
                l.body_done = true;
                continue;
            }
            let size: u64 = chunk.lines.iter().map(|x| x.len() as u64 + 2).sum();
            let answer = if chunk.offset + size > limit && !chunk.last {
                // The last piece this plugin will see: mark it so.
                let mut c = chunk.clone();
                c.last = true;
                l.body_done = true;
                call_lent(l, Hook::Body(&shared, &c), Stage::Body, deadline).await
            } else {
                l.body_done = chunk.last;
                call_lent(l, Hook::Body(&shared, chunk), Stage::Body, deadline).await
            };
            if push_indexed(&mut out, &l.plugin.name, answer) {
                break;
            }
        }
        out
    }

    pub async fn end(&mut self, ctx: &Context) -> Decision {
        let shared = Arc::new(ctx.clone());
        let deadline = self.deadline();
        let mut combine = Combine::default();
        for i in 0..self.plugins.len() {
            let l = &self.plugins[i];
            if l.faulted
                || !l.plugin.hooks(Stage::EndOfMessage)
                || self.placed.contains(&l.plugin.name)
            {
                continue;
            }
            let (v, who) = if is_restrictions(&l.plugin) && !self.placed.is_empty() {
                // The drop-ins it names keep the instances that saw this
                // message's headers and body.
                let mut r = self.plugins.remove(i);
                let answer = restrictions_with_drop_ins(
                    &mut r,
                    &mut self.plugins,
                    &shared,
                    Call::Check,
                    deadline,
                )
                .await;
                self.plugins.insert(i, r);
                answer
            } else {
                let l = &mut self.plugins[i];
                let v =
                    match call_lent(l, Hook::Check(&shared), Stage::EndOfMessage, deadline).await {
                        Answer::Verdict(v) => v,
                        Answer::Indexed(_) => Verdict::Dunno,
                    };
                (v, l.plugin.name.clone())
            };
            if let Some(d) = combine.add(ctx, &who, v) {
                return d;
            }
        }
        combine.finish()
    }
}

pub(super) async fn call_lent(
    l: &mut Lent,
    hook: Hook<'_>,
    stage: Stage,
    deadline: Instant,
) -> Answer {
    let answer = invoke(&l.plugin, &mut l.instance, hook, stage, deadline).await;
    // `invoke` drops the instance on a fault, and a quarantined plugin never
    // gets one: either way its failure verdict already applies to this
    // message, so it is not called again for it.
    if l.instance.is_none() {
        l.faulted = true;
    }
    answer
}

/// Tag a plugin's content verdicts; true when the message's fate is settled.
fn push_indexed(out: &mut Vec<PluginVerdict>, plugin: &str, answer: Answer) -> bool {
    let list = match answer {
        Answer::Indexed(list) => list,
        // A fault or quarantine: the failure verdict applies to the message.
        Answer::Verdict(Verdict::Dunno) => Vec::new(),
        Answer::Verdict(v) => vec![IndexedVerdict {
            index: 0,
            verdict: v,
        }],
    };
    let mut settled = false;
    for v in list {
        settled |= ends_message(&v.verdict);
        out.push(PluginVerdict {
            plugin: plugin.to_string(),
            index: v.index,
            verdict: v.verdict,
        });
    }
    settled
}
