//! The local delivery agent (Postfix's local(8)) for `mydestination`
//! recipients: `alias_maps` expansion (addresses, lists, `:include:`,
//! `/file` appends), then the user's Maildir (`home_mailbox = Maildir/`) or
//! mbox (`mail_spool_directory`, dot-lock plus flock). Alias targets outside
//! mydestination are forwarded as a new queued message.

mod aliases;
mod mailbox;

use super::{RcptResult, Status};
use crate::config::Config;
use crate::delivery::smtp::param;
use crate::queue::{NewMessage, NewRecipient, Queue};
use std::path::PathBuf;

/// Local delivery settings, read once at start.
#[derive(Debug, Clone)]
pub struct LocalAgent {
    queue: Queue,
    aliases: Vec<aliases::Map>,
    home_mailbox: String,
    spool: PathBuf,
    myhostname: String,
    mydestination: Vec<String>,
    passwd: PathBuf,
    /// Whose rights `/file` alias deliveries get (Postfix's `default_privs`).
    default_privs: String,
}

/// One place the message must go after alias expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    User(String),
    File(PathBuf),
    Remote(String),
    Command(String),
}

impl LocalAgent {
    pub fn new(config: &Config, queue: Queue) -> LocalAgent {
        let myhostname = param(config, "myhostname", &super::smtp::hostname());
        // Relative table names are relative to the configuration directory.
        let file = |p: &str| {
            let p = PathBuf::from(p);
            if p.is_relative() && !config.dir.as_os_str().is_empty() {
                config.dir.join(p)
            } else {
                p
            }
        };
        let tables = crate::tables::Tables::new(config);
        let aliases = config
            .get_list("alias_maps")
            .iter()
            .map(|spec| aliases::Map::open(spec, &tables, file))
            .collect();
        let mydomain = param(
            config,
            "mydomain",
            myhostname
                .split_once('.')
                .map(|x| x.1)
                .unwrap_or("localdomain"),
        );
        LocalAgent {
            queue,
            aliases,
            home_mailbox: param(config, "home_mailbox", ""),
            spool: PathBuf::from(param(config, "mail_spool_directory", "/var/mail")),
            mydestination: param(
                config,
                "mydestination",
                &format!("{myhostname}, localhost.{mydomain}, localhost"),
            )
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.replace("$myhostname", &myhostname)
                    .replace("$mydomain", &mydomain)
                    .to_ascii_lowercase()
            })
            .collect(),
            passwd: PathBuf::from("/etc/passwd"),
            default_privs: param(config, "default_privs", "nobody"),
            myhostname,
        }
    }

    /// Deliver to each recipient; one result per recipient.
    pub async fn deliver(
        &self,
        queue_id: &str,
        sender: &str,
        rcpts: &[String],
        body: &[u8],
    ) -> Vec<RcptResult> {
        let mut out = Vec::with_capacity(rcpts.len());
        for r in rcpts {
            out.push(self.one(queue_id, sender, r, body).await);
        }
        out
    }

    async fn one(&self, queue_id: &str, sender: &str, rcpt: &str, body: &[u8]) -> RcptResult {
        let local = rcpt
            .rsplit_once('@')
            .map(|(l, _)| l)
            .unwrap_or(rcpt)
            .to_ascii_lowercase();
        let table = match aliases::load(&self.aliases) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("warning: {queue_id}: {e}");
                return RcptResult::new(Status::Deferred, "4.3.0", "local", e);
            }
        };
        let targets = match aliases::expand(&table, &local, &self.mydestination) {
            Ok(t) => t,
            Err(aliases::ExpandError::Unavailable(e)) => {
                tracing::warn!("warning: {queue_id}: {e}");
                return RcptResult::new(Status::Deferred, "4.3.0", "local", e);
            }
            Err(aliases::ExpandError::Permanent(e)) => {
                return RcptResult::new(Status::Bounced, "5.3.0", "local", e)
            }
        };
        let mut notes = Vec::new();
        let mut remote = Vec::new();
        for t in targets {
            let res = match &t {
                Target::User(u) => self.to_user(u, sender, rcpt, body).await,
                Target::File(p) => {
                    let p = p.clone();
                    let data = mailbox::with_envelope_headers(sender, rcpt, body);
                    let sender = sender.to_string();
                    let privs = mailbox::lookup_user(&self.passwd, &self.default_privs)
                        .map(|pw| (pw.uid, pw.gid));
                    tokio::task::spawn_blocking(move || {
                        let Some((uid, gid)) = privs else {
                            return Err((
                                Status::Deferred,
                                "4.3.0",
                                "default_privs user not found".to_string(),
                            ));
                        };
                        mailbox::check_file_target(&p, uid, gid)?;
                        mailbox::append_mbox(&p, &sender, &data, Some((uid, gid)))
                            .map(|()| format!("delivered to file: {}", p.display()))
                    })
                    .await
                    .map_err(|e| (Status::Deferred, "4.3.0", e.to_string()))
                    .and_then(|r| r)
                }
                Target::Remote(a) => {
                    remote.push(a.clone());
                    continue;
                }
                Target::Command(c) => Err((
                    Status::Bounced,
                    "5.3.0",
                    format!("mail to command is not supported: {c}"),
                )),
            };
            match res {
                Ok(n) => notes.push(n),
                Err((status, dsn, reason)) => return RcptResult::new(status, dsn, "local", reason),
            }
        }
        if !remote.is_empty() {
            let nid = self.queue.new_id();
            let msg = NewMessage {
                queue_id: nid.clone(),
                sender: sender.to_string(),
                recipients: remote
                    .iter()
                    .map(|a| NewRecipient {
                        address: a.clone(),
                        original: rcpt.to_string(),
                    })
                    .collect(),
                data: body.to_vec(),
                arrival: std::time::SystemTime::now(),
                hold: false,
                filter: None,
                client: "local".into(),
            };
            match self.queue.enqueue(msg).await {
                Ok(()) => notes.push(format!("forwarded as {nid}")),
                Err(e) => {
                    return RcptResult::new(
                        Status::Deferred,
                        "4.3.0",
                        "local",
                        format!("cannot forward: {e}"),
                    )
                }
            }
        }
        let _ = queue_id;
        RcptResult::new(Status::Sent, "2.0.0", "local", notes.join(", "))
    }

    async fn to_user(
        &self,
        user: &str,
        sender: &str,
        rcpt: &str,
        body: &[u8],
    ) -> Result<String, (Status, &'static str, String)> {
        let Some(pw) = mailbox::lookup_user(&self.passwd, user) else {
            return Err((
                Status::Bounced,
                "5.1.1",
                format!("unknown user: \"{user}\""),
            ));
        };
        let data = mailbox::with_envelope_headers(sender, rcpt, body);
        let (home_mailbox, spool, host, sender) = (
            self.home_mailbox.clone(),
            self.spool.clone(),
            self.myhostname.clone(),
            sender.to_string(),
        );
        tokio::task::spawn_blocking(move || {
            if home_mailbox.ends_with('/') {
                let dir = pw.home.join(&home_mailbox);
                mailbox::deliver_maildir(&dir, &host, &data, Some((pw.uid, pw.gid)))
                    .map(|()| "delivered to maildir".to_string())
            } else {
                let path = if home_mailbox.is_empty() {
                    spool.join(&pw.name)
                } else {
                    pw.home.join(&home_mailbox)
                };
                mailbox::append_mbox(&path, &sender, &data, Some((pw.uid, pw.gid)))
                    .map(|()| "delivered to mailbox".to_string())?;
                let _ = std::os::unix::fs::chown(&path, Some(pw.uid), Some(pw.gid));
                Ok("delivered to mailbox".to_string())
            }
        })
        .await
        .map_err(|e| (Status::Deferred, "4.3.0", e.to_string()))?
    }
}
