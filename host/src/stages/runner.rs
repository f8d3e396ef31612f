//! CONTRACT for smtpd: `StageRunner` answers one `Decision` per stage call.
//! Plugin faults never surface here as errors: the runner applies the
//! plugin's failure action (default `451 4.3.0`) and logs the plugin's name.

use super::types::*;

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
        Decision { verdict: Verdict::Dunno, plugin: None }
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
pub struct StageRunner {}

impl StageRunner {
    /// Load the built-in plugins (from `daemon_directory`) and the drop-ins
    /// (from `plugin_directory`) for a listener whose effective configuration
    /// (main.cf plus its master.cf `-o` overrides) is `config`.
    pub async fn load(
        sandbox: &crate::sandbox::Sandbox,
        config: &crate::config::Config,
        tables: &std::sync::Arc<crate::tables::Tables>,
        resolver: &crate::rewrite::Resolver,
        dns: &crate::dns::Dns,
    ) -> anyhow::Result<StageRunner> {
        let _ = (sandbox, config, tables, resolver, dns);
        Ok(StageRunner {})
    }

    /// A runner with no plugins: every stage answers `Dunno`.
    pub fn empty() -> StageRunner {
        StageRunner {}
    }

    /// Run the connect, helo, mail, data or end-of-message stage (by `ctx.stage`).
    pub async fn check(&self, ctx: &Context) -> Decision {
        let _ = ctx;
        Decision::dunno()
    }

    /// Run the rcpt (or vrfy) stage for one recipient.
    pub async fn rcpt(&self, ctx: &Context, recipient: &Address) -> Decision {
        let _ = (ctx, recipient);
        Decision::dunno()
    }

    /// Run the etrn stage.
    pub async fn etrn(&self, ctx: &Context, destination: &str) -> Decision {
        let _ = (ctx, destination);
        Decision::dunno()
    }

    /// Lend instances of the content plugins for one message.
    pub async fn content(&self) -> ContentScan {
        ContentScan {}
    }
}

/// Content inspection of one message: headers, then body chunks, then end.
#[derive(Debug, Default)]
pub struct ContentScan {}

impl ContentScan {
    /// The most body bytes any content plugin wants; 0 = no body hook.
    pub fn body_limit(&self) -> u64 {
        0
    }

    pub async fn headers(&mut self, ctx: &Context, headers: &[Header]) -> Vec<PluginVerdict> {
        let _ = (ctx, headers);
        Vec::new()
    }

    pub async fn body(&mut self, ctx: &Context, chunk: &BodyChunk) -> Vec<PluginVerdict> {
        let _ = (ctx, chunk);
        Vec::new()
    }

    pub async fn end(&mut self, ctx: &Context) -> Decision {
        let _ = ctx;
        Decision::dunno()
    }
}
