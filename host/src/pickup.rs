//! pickup: locally submitted mail (`mta sendmail`) on its way into the
//! queue, through the same cleanup as mail from smtpd — header_checks and
//! body_checks, canonical and virtual alias rewriting, masquerading, header
//! address rewriting, and the missing Date:, Message-Id: and From: added —
//! as Postfix's pickup hands the maildrop to cleanup.
//!
//! Only the content plugins run (those hooking headers or body): the SMTP
//! restriction lists judge SMTP sessions, and Postfix does not apply them
//! to local submission either. The Received: header says who submitted
//! the mail (`from userid N`), as Postfix's does.

use crate::cleanup::{self, rewrite::Maps, Actions, Outcome};
use crate::config::Config;
use crate::queue::Queue;
use crate::stages::{Address, Context, Envelope, Session, Stage, StageRunner};
use std::sync::{Arc, RwLock};

/// What pickup needs, built per (re)load from main.cf.
pub struct Pickup {
    runner: Arc<StageRunner>,
    maps: Maps,
    myhostname: String,
    mail_name: String,
    header_size_limit: usize,
}

/// The pickup in force; replaced whole by `mta reload`.
pub type PickupCell = Arc<RwLock<Arc<Pickup>>>;

/// One locally submitted message.
#[derive(Debug, Clone)]
pub struct Submission {
    pub sender: String,
    pub recipients: Vec<String>,
    /// Header and body, CRLF line ends.
    pub data: Vec<u8>,
    /// The submitting user's uid (for Received: and the log).
    pub uid: u32,
}

impl Pickup {
    /// Pickup over the content plugins of `runner` and main.cf's maps.
    pub fn new(
        config: &Config,
        runner: &StageRunner,
        tables: &crate::tables::Tables,
    ) -> anyhow::Result<Pickup> {
        let limits = crate::smtpd::limits::Limits::from_config(config);
        Ok(Pickup {
            runner: Arc::new(runner.only(|p| p.hooks(Stage::Headers) || p.hooks(Stage::Body))),
            maps: Maps::from_config(config, tables)?,
            myhostname: limits.myhostname,
            mail_name: limits.mail_name,
            header_size_limit: limits.header_size_limit,
        })
    }

    /// Load the plugins and tables main.cf names and build a pickup (the
    /// sendmail command when no daemon runs).
    pub async fn load(config: &Config) -> anyhow::Result<Pickup> {
        use anyhow::Context as _;
        let sandbox = crate::sandbox::Sandbox::new(config).context("plugin sandbox")?;
        let tables = Arc::new(crate::tables::Tables::new(config));
        let resolver = crate::rewrite::Resolver::with_tables(config, tables.clone());
        let dns = crate::dns::Dns::new(config).context("DNS resolver")?;
        let runner = StageRunner::load(&sandbox, config, &tables, &resolver, &dns).await?;
        Pickup::new(config, &runner, &tables)
    }

    /// Shape and queue one message; the queue id, or the refusal as text
    /// (`550 5.7.1 ...`) for the submitter.
    pub async fn submit(&self, queue: &Queue, s: Submission) -> Result<String, String> {
        if s.recipients.is_empty() {
            return Err("no recipient addresses found".into());
        }
        let queue_id = queue.new_id();
        let addr = |a: &str| Address {
            address: a.to_string(),
            params: Vec::new(),
        };
        let first = s.recipients.first().cloned().unwrap_or_default();
        let ctx = Context {
            stage: Stage::EndOfMessage,
            session: Session {
                client_address: "127.0.0.1".into(),
                client_name: "localhost".into(),
                protocol: "LOCAL".into(),
                ..Session::default()
            },
            envelope: Envelope {
                sender: Some(addr(&s.sender)),
                recipients: s.recipients.iter().map(|r| addr(r)).collect(),
                queue_id: Some(queue_id.clone()),
                size: Some(s.data.len() as u64),
            },
        };
        let req = cleanup::Request {
            ctx,
            data: s.data,
            actions: Actions::default(),
            // Local submissions always get their headers rewritten and
            // completed, as Postfix's cleanup does for pickup.
            rewrite_headers: true,
            myhostname: self.myhostname.clone(),
            mail_name: self.mail_name.clone(),
            client: "local".into(),
            log_suffix: format!("from=<{}> to=<{first}>", s.sender),
            header_size_limit: self.header_size_limit,
            submitted_by: Some(s.uid),
            sasl_header: false,
        };
        match cleanup::cleanup(req, &self.runner, queue, &self.maps).await {
            Outcome::Queued(id) | Outcome::Discarded(id) => {
                tracing::info!("{id}: uid={} from=<{}>", s.uid, s.sender);
                Ok(id)
            }
            Outcome::Refused(r) => Err(r.to_string().trim_end().to_string()),
        }
    }
}
