//! Delivering one message: route each recipient, call the agents, log each
//! result in Postfix's format, then finish, defer or bounce.

use super::bounces;
use super::params::Params;
use super::schedule::unix_now;
use crate::delivery::bounce::{Entry, Kind};
use crate::delivery::local::LocalAgent;
use crate::delivery::smtp::SmtpClient;
use crate::delivery::{RcptResult, Status};
use crate::queue::{Queue, QueueName, QueueRecord};
use crate::rewrite::{AddressClass, Resolver};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Everything a delivery task needs, shared by all of them.
pub struct Ctx {
    pub params: Params,
    pub queue: Queue,
    pub resolver: Resolver,
    pub smtp: SmtpClient,
    pub local: LocalAgent,
    /// Per-destination delivery slots (`default_destination_concurrency_limit`).
    pub slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Destinations down and coming back (shared across reloads).
    pub revive: Arc<super::revive::Revive>,
}

impl Ctx {
    fn slot(&self, destination: &str) -> Arc<Semaphore> {
        let mut m = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(destination.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.params.destination_concurrency)))
            .clone()
    }
}

/// Where one recipient goes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub transport: String,
    pub nexthop: String,
}

impl Route {
    /// The destination as concurrency slots and `revive` name it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.transport, self.nexthop)
    }
}

/// Route a recipient: a FILTER override wins; mydestination domains go to
/// local; `relayhost` replaces the recipient domain for remote mail.
pub fn route(params: &Params, resolver: &Resolver, filter: Option<&str>, rcpt: &str) -> Route {
    if let Some(f) = filter.filter(|f| !f.is_empty()) {
        let (t, n) = f.split_once(':').unwrap_or((f, ""));
        return Route {
            transport: t.to_string(),
            nexthop: n.to_string(),
        };
    }
    let domain = rcpt
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    let res = match resolver.resolve(rcpt) {
        Ok(r) => r,
        Err(e) => {
            return Route {
                transport: "error".into(),
                nexthop: e,
            }
        }
    };
    // The error transport (relocated_maps, an unknown virtual alias, an
    // `error:` transport_maps entry) wins over the address class.
    if res.transport == "error" {
        return Route {
            transport: "error".into(),
            nexthop: res.nexthop,
        };
    }
    let local = res.class == AddressClass::Local
        || res.transport == "local"
        || (res.transport == "smtp"
            && (domain.is_empty() || params.mydestination.contains(&domain)));
    if local {
        return Route {
            transport: "local".into(),
            nexthop: params.myhostname.clone(),
        };
    }
    let mut nexthop = res.nexthop;
    if matches!(res.transport.as_str(), "smtp" | "relay")
        && !params.relayhost.is_empty()
        && (nexthop.is_empty() || nexthop.eq_ignore_ascii_case(&domain))
    {
        nexthop = params.relayhost.clone();
    }
    if nexthop.is_empty() {
        nexthop = domain;
    }
    Route {
        transport: res.transport,
        nexthop,
    }
}

/// The error(8) and discard(8) pseudo-agents. As in Postfix, the next-hop
/// field is the reason logged (`discard:example.net` logs
/// `status=sent (example.net)`), and a leading RFC 3463 code becomes the dsn
/// (`error:5.1.1 User unknown` logs `dsn=5.1.1, status=bounced (User
/// unknown)`); error with a 4.x.x code defers instead of bouncing.
pub fn pseudo_agent(route: &Route) -> RcptResult {
    let discard = route.transport == "discard";
    let text = route.nexthop.trim();
    let (code, reason) = match crate::delivery::enhanced_code(text) {
        Some(c) if discard == c.starts_with('2') => {
            let rest = text[c.len()..].trim_start().to_string();
            (Some(c), rest)
        }
        _ => (None, text.to_string()),
    };
    if discard {
        let reason = if reason.is_empty() {
            "discarded".to_string()
        } else {
            reason
        };
        return RcptResult::new(
            Status::Sent,
            code.as_deref().unwrap_or("2.0.0"),
            "none",
            reason,
        );
    }
    let code = code.unwrap_or_else(|| "5.0.0".to_string());
    let status = if code.starts_with('4') {
        Status::Deferred
    } else {
        Status::Bounced
    };
    let reason = if reason.is_empty() {
        "delivery failed".to_string()
    } else {
        reason
    };
    RcptResult::new(status, &code, "none", reason)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 10.0 {
        format!("{s:.0}")
    } else {
        let t = format!("{s:.2}");
        let t = t.trim_end_matches('0').trim_end_matches('.');
        if t.is_empty() {
            "0".into()
        } else {
            t.to_string()
        }
    }
}

fn arrival_time(rec: &QueueRecord) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(rec.arrival_ms)
}

/// Attempt delivery of one message and record the outcome.
pub async fn message(ctx: &Ctx, mut rec: QueueRecord) {
    let id = rec.queue_id.clone();
    let active_at = SystemTime::now();
    let in_queue = active_at
        .duration_since(arrival_time(&rec))
        .unwrap_or_default();
    if rec.recipients.is_empty() {
        let _ = ctx.queue.remove(&id).await;
        tracing::info!("{id}: removed");
        return;
    }
    rec.queue = QueueName::Active;
    let _ = ctx.queue.update(rec.clone(), false).await;
    tracing::info!(
        "{id}: from=<{}>, size={}, nrcpt={} (queue active)",
        rec.sender,
        rec.size,
        rec.recipients.len()
    );
    let body = match ctx.queue.body(&rec).await {
        Ok(b) => Arc::new(b),
        Err(e) => {
            tracing::error!("warning: {id}: cannot read message content: {e:#}");
            let n = rec.recipients.len();
            let results =
                vec![
                    RcptResult::new(Status::Deferred, "4.3.0", "none", "queue file read error");
                    n
                ];
            finish(ctx, rec, results, Vec::new(), in_queue).await;
            return;
        }
    };

    // Group recipient indexes by route, then chunk by the recipient limit.
    let mut groups: BTreeMap<Route, Vec<usize>> = BTreeMap::new();
    for (i, r) in rec.recipients.iter().enumerate() {
        groups
            .entry(route(
                &ctx.params,
                &ctx.resolver,
                rec.filter.as_deref(),
                &r.address,
            ))
            .or_default()
            .push(i);
    }
    let mut results: Vec<Option<RcptResult>> = vec![None; rec.recipients.len()];
    let mut elapsed = vec![Duration::ZERO; rec.recipients.len()];
    let mut set = tokio::task::JoinSet::new();
    for (route, idxs) in groups {
        for chunk in idxs.chunks(ctx.params.destination_recipients) {
            let addrs: Vec<String> = chunk
                .iter()
                .map(|&i| rec.recipients[i].address.clone())
                .collect();
            let chunk = chunk.to_vec();
            let key = route.key();
            let slot = ctx.slot(&key);
            let (smtp, local, body, sender, route, qid) = (
                ctx.smtp.clone(),
                ctx.local.clone(),
                body.clone(),
                rec.sender.clone(),
                route.clone(),
                id.clone(),
            );
            set.spawn(async move {
                let _permit = slot.acquire_owned().await;
                let t0 = Instant::now();
                let res = match route.transport.as_str() {
                    "smtp" | "relay" => smtp.deliver(&route.nexthop, &sender, &addrs, &body).await,
                    "local" => local.deliver(&qid, &sender, &addrs, &body).await,
                    "error" | "discard" => vec![pseudo_agent(&route); addrs.len()],
                    other => {
                        let r = RcptResult::new(
                            Status::Deferred,
                            "4.3.0",
                            "none",
                            format!("mail transport unavailable: unknown transport {other}"),
                        );
                        vec![r; addrs.len()]
                    }
                };
                (chunk, res, t0.elapsed(), key)
            });
        }
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((chunk, res, took, key)) => {
                if res.iter().any(|r| r.status == Status::Sent) {
                    ctx.revive.succeeded(&key);
                } else if res.iter().any(|r| r.status == Status::Deferred) {
                    ctx.revive.failed(&key);
                }
                for (k, &i) in chunk.iter().enumerate() {
                    results[i] = res.get(k).cloned();
                    elapsed[i] = took;
                }
            }
            Err(e) => tracing::error!("warning: {id}: delivery task failed: {e}"),
        }
    }
    let results: Vec<RcptResult> = results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                RcptResult::new(Status::Deferred, "4.3.0", "none", "delivery agent crashed")
            })
        })
        .collect();
    for (i, r) in results.iter().enumerate() {
        let total = SystemTime::now()
            .duration_since(arrival_time(&rec))
            .unwrap_or_default();
        let rc = &rec.recipients[i];
        let orig = if !rc.original.is_empty() && rc.original != rc.address {
            format!(", orig_to=<{}>", rc.original)
        } else {
            String::new()
        };
        tracing::info!(
            "{id}: to=<{}>{orig}, relay={}, delay={}, delays={}/{}/0/{}, dsn={}, status={} ({})",
            rc.address,
            r.relay,
            secs(total),
            secs(in_queue),
            secs(total.saturating_sub(in_queue).saturating_sub(elapsed[i])),
            secs(elapsed[i]),
            r.dsn,
            r.status.as_str(),
            r.reason
        );
    }
    finish(ctx, rec, results, body.to_vec(), in_queue).await;
}

/// Apply the results: remove finished recipients, bounce failures, defer the rest.
async fn finish(
    ctx: &Ctx,
    mut rec: QueueRecord,
    results: Vec<RcptResult>,
    body: Vec<u8>,
    _in_queue: Duration,
) {
    let id = rec.queue_id.clone();
    let now = SystemTime::now();
    let age = now.duration_since(arrival_time(&rec)).unwrap_or_default();
    let lifetime = if rec.sender.is_empty() {
        ctx.params.bounce_queue_lifetime
    } else {
        ctx.params.maximal_queue_lifetime
    };
    let expired = age >= lifetime;
    let mut failed = Vec::new();
    let mut delayed = Vec::new();
    let mut remaining = Vec::new();
    for (rc, r) in rec.recipients.drain(..).zip(results) {
        match r.status {
            Status::Sent => {}
            Status::Bounced => failed.push(Entry {
                recipient: rc.address,
                original: rc.original,
                result: r,
            }),
            Status::Deferred if expired => {
                tracing::info!(
                    "{id}: to=<{}>, relay=none, dsn={}, status=expired, returned to sender ({})",
                    rc.address,
                    r.dsn,
                    r.reason
                );
                failed.push(Entry {
                    recipient: rc.address,
                    original: rc.original,
                    result: r,
                });
            }
            Status::Deferred => {
                let mut rc = rc;
                rc.last_reason = Some(r.reason.clone());
                delayed.push(Entry {
                    recipient: rc.address.clone(),
                    original: rc.original.clone(),
                    result: r,
                });
                remaining.push(rc);
            }
        }
    }
    if !failed.is_empty() {
        bounces::send(ctx, &rec, &failed, Kind::Failure, &body).await;
    }
    if remaining.is_empty() {
        match ctx.queue.remove(&id).await {
            Ok(()) => tracing::info!("{id}: removed"),
            Err(e) => tracing::error!("warning: {id}: cannot remove queue file: {e:#}"),
        }
        return;
    }
    let warn_due =
        !ctx.params.delay_warning.is_zero() && !rec.warned && age >= ctx.params.delay_warning;
    if warn_due && !rec.sender.is_empty() {
        bounces::send(ctx, &rec, &delayed, Kind::Delay, &body).await;
        rec.warned = true;
    }
    rec.recipients = remaining;
    rec.attempts = rec.attempts.saturating_add(1);
    rec.next_attempt = unix_now() + ctx.params.backoff(rec.attempts).as_secs();
    rec.queue = QueueName::Deferred;
    // An operator may have put it on hold (or deleted it) while it was
    // being delivered: the hold wins; a deleted message stays deleted.
    if let Ok(Some(current)) = ctx.queue.get(&id) {
        if current.queue == QueueName::Hold {
            rec.queue = QueueName::Hold;
        }
    }
    if let Err(e) = ctx.queue.update(rec, true).await {
        tracing::error!("warning: {id}: cannot update queue file: {e:#}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn routes_relayhost_local_and_filter() {
        let mut c = Config::default();
        c.explicit
            .insert("relayhost".into(), "[127.0.0.1]:2526".into());
        c.explicit
            .insert("mydestination".into(), "mx.example.org, localhost".into());
        let p = Params::from_config(&c);
        let r = Resolver::new(&c);
        assert_eq!(
            route(&p, &r, None, "u@example.net").nexthop,
            "[127.0.0.1]:2526"
        );
        assert_eq!(route(&p, &r, None, "u@localhost").transport, "local");
        let f = route(&p, &r, Some("smtp:[10.0.0.1]:10025"), "u@example.net");
        assert_eq!(
            (f.transport.as_str(), f.nexthop.as_str()),
            ("smtp", "[10.0.0.1]:10025")
        );
        assert_eq!(secs(Duration::from_millis(120)), "0.12");
        assert_eq!(secs(Duration::ZERO), "0");
    }

    fn pseudo(transport: &str, nexthop: &str) -> (Status, String, String) {
        let r = pseudo_agent(&Route {
            transport: transport.into(),
            nexthop: nexthop.into(),
        });
        (r.status, r.dsn, r.reason)
    }

    /// discard(8) and error(8) log the next hop as the reason, as Postfix's do.
    #[test]
    fn pseudo_agents_log_the_next_hop_as_reason() {
        let s = |x: &str| x.to_string();
        assert_eq!(
            pseudo("discard", "example.net"),
            (Status::Sent, s("2.0.0"), s("example.net"))
        );
        assert_eq!(
            pseudo("discard", ""),
            (Status::Sent, s("2.0.0"), s("discarded"))
        );
        assert_eq!(
            pseudo("error", "5.1.1 User unknown in virtual alias table"),
            (
                Status::Bounced,
                s("5.1.1"),
                s("User unknown in virtual alias table")
            )
        );
        assert_eq!(
            pseudo("error", "4.3.5 try later"),
            (Status::Deferred, s("4.3.5"), s("try later"))
        );
        assert_eq!(
            pseudo("error", "no such route"),
            (Status::Bounced, s("5.0.0"), s("no such route"))
        );
    }
}
