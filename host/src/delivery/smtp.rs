//! The SMTP client delivery agent (Postfix's smtp(8)).
//!
//! Next hop: `[host]:port` connects to that host without MX lookup;
//! `host[:port]` looks up MX records (preference order, null MX bounces,
//! no MX falls back to the host's A/AAAA). Each address is tried in turn
//! until one answers. One session: EHLO (HELO fallback), STARTTLS when
//! offered and `smtp_tls_security_level` allows, PIPELINING when offered,
//! then one result per recipient from the replies.

mod cache;
mod nexthop;
mod session;

use super::tls::Level;
use super::{RcptResult, Status};
use crate::config::Config;
use crate::dns::Dns;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

pub use nexthop::NextHop;

/// Settings of the SMTP client, read once from main.cf.
#[derive(Clone)]
pub struct SmtpClient {
    pub helo_name: String,
    pub tls_level: Level,
    tls: Arc<rustls::ClientConfig>,
    pub connect_timeout: Duration,
    pub reply_timeout: Duration,
    /// `smtp_connection_cache_time_limit`: how long an idle session is kept.
    pub cache_time: Duration,
    cache: Arc<cache::ConnCache>,
    dns: Dns,
}

impl std::fmt::Debug for SmtpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpClient")
            .field("helo_name", &self.helo_name)
            .field("tls_level", &self.tls_level)
            .finish()
    }
}

/// A parameter's value, or Postfix's default when unset.
pub(crate) fn param(config: &Config, name: &str, default: &str) -> String {
    let v = config.get(name);
    if v.trim().is_empty() {
        default.to_string()
    } else {
        v
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

impl SmtpClient {
    pub fn new(config: &Config, dns: Dns) -> anyhow::Result<SmtpClient> {
        let myhostname = param(config, "myhostname", &hostname());
        Ok(SmtpClient {
            helo_name: param(config, "smtp_helo_name", &myhostname),
            tls_level: Level::parse(&param(config, "smtp_tls_security_level", "may")),
            tls: super::tls::client_config()?,
            connect_timeout: config.get_time("smtp_connect_timeout"),
            reply_timeout: config.get_time("smtp_data_done_timeout"),
            cache_time: config.get_time("smtp_connection_cache_time_limit"),
            cache: Arc::default(),
            dns,
        })
    }

    /// Deliver one message to `nexthop` for `rcpts`; one result per recipient, in order.
    pub async fn deliver(
        &self,
        nexthop: &str,
        sender: &str,
        rcpts: &[String],
        data: &[u8],
    ) -> Vec<RcptResult> {
        let all = |status: Status, dsn: &str, reason: String| {
            rcpts
                .iter()
                .map(|_| RcptResult::new(status, dsn, "none", reason.clone()))
                .collect::<Vec<_>>()
        };
        if let Some(mut conn) = self.cache.take(nexthop) {
            match session::transact(&mut conn, self, sender, rcpts, data).await {
                session::Outcome::Done { results, reusable } => {
                    self.release(nexthop, conn, reusable).await;
                    return results;
                }
                // The cached session went away while idle: use a fresh one.
                session::Outcome::NotStarted(_) => {}
            }
        }
        let hop = match NextHop::parse(nexthop) {
            Ok(h) => h,
            Err(e) => return all(Status::Bounced, "5.4.4", e),
        };
        let targets = match nexthop::addresses(&self.dns, &hop).await {
            Ok(t) => t,
            Err((status, dsn, reason)) => return all(status, dsn, reason),
        };
        let mut last = format!("no usable address for {}", hop.host);
        for (name, ip) in targets {
            let addr = SocketAddr::new(ip, hop.port);
            let relay = format!("{name}[{}]:{}", ip_text(ip), hop.port);
            let tcp = match tokio::time::timeout(
                self.connect_timeout,
                tokio::net::TcpStream::connect(addr),
            )
            .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    last = format!("connect to {relay}: {}", io_reason(&e));
                    tracing::info!("connect to {relay}: {}", io_reason(&e));
                    continue;
                }
                Err(_) => {
                    last = format!("connect to {relay}: Connection timed out");
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let mut conn = match session::open(self, tcp, &name, &relay).await {
                Ok(c) => c,
                Err(reason) => {
                    last = reason;
                    continue;
                }
            };
            match session::transact(&mut conn, self, sender, rcpts, data).await {
                session::Outcome::Done { results, reusable } => {
                    self.release(nexthop, conn, reusable).await;
                    return results;
                }
                session::Outcome::NotStarted(reason) => last = reason,
            }
        }
        all(Status::Deferred, "4.4.1", last)
    }

    /// Cache a clean session for the next delivery to `nexthop`, else QUIT.
    async fn release(&self, nexthop: &str, conn: session::Conn, reusable: bool) {
        if reusable && !self.cache_time.is_zero() {
            self.cache.put(nexthop, conn, self.cache_time);
        } else {
            session::quit(conn, self.reply_timeout).await;
        }
    }

    pub(crate) fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }
}

fn ip_text(ip: IpAddr) -> String {
    ip.to_string()
}

/// An I/O error as Postfix words it (`Connection refused`, not `os error 111`).
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "Connection refused".into(),
        std::io::ErrorKind::TimedOut => "Connection timed out".into(),
        std::io::ErrorKind::ConnectionReset => "Connection reset by peer".into(),
        _ => e.to_string(),
    }
}
