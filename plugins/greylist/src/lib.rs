//! Example filter: greylisting (RFC 6647) at RCPT TO.
//!
//! The first time a triplet (client network, sender, recipient) is seen the
//! recipient is deferred with `450 4.2.0`. A retry before `greylist_delay`
//! is deferred again; a retry after it passes, and the triplet is then
//! remembered for `greylist_ttl`, refreshed on every use, so regular
//! correspondents are delayed only once. Clients are grouped by IPv4 /24 and
//! IPv6 /64 because large senders retry from another host of the same farm.
//!
//! Capabilities: `kv` (the triplets), `clock` (their ages), `log`.
//!
//! Settings (Postfix time syntax: `300`, `300s`, `5m`, `35d`, `1w`):
//! - `greylist_delay` (default 300s): how long a new triplet must wait;
//! - `greylist_retry_window` (default 2d): how long a deferred triplet
//!   waits for its retry before it counts as new again;
//! - `greylist_ttl` (default 35d): how long a passed triplet is remembered;
//! - `greylist_text` (default `Greylisted, see RFC 6647`): the reply text.
//!
//! SASL-authenticated sessions and VRFY are never greylisted. When the kv
//! store fails the recipient passes (and the failure is logged): greylisting
//! is a delay, not a reason to lose mail.

mod triplet;

use mta_sdk::{log, Address, Capability, Config, Context, Description, Plugin, Stage, Verdict};

pub use triplet::{client_network, triplet_key, Entry};

/// Defaults, as the module documentation gives them.
pub const DEFAULT_DELAY: u64 = 300;
/// Two days for a deferred sender to come back.
pub const DEFAULT_RETRY_WINDOW: u64 = 2 * 86_400;
/// 35 days, Postgrey's default.
pub const DEFAULT_TTL: u64 = 35 * 86_400;
/// The reply text when `greylist_text` is not set.
pub const DEFAULT_TEXT: &str = "Greylisted, see RFC 6647";

/// The parsed settings of one instance.
pub struct Greylist {
    delay: u64,
    retry_window: u32,
    ttl: u32,
    text: String,
}

impl Plugin for Greylist {
    fn describe() -> Description {
        Description::new("greylist", env!("CARGO_PKG_VERSION"))
            .stages([Stage::Rcpt])
            .capabilities([Capability::Kv, Capability::Clock, Capability::Log])
    }

    fn init(config: &Config) -> Result<Self, String> {
        let delay = config
            .time_setting("greylist_delay")?
            .unwrap_or(DEFAULT_DELAY);
        let retry_window = kv_ttl(config, "greylist_retry_window", DEFAULT_RETRY_WINDOW)?;
        let ttl = kv_ttl(config, "greylist_ttl", DEFAULT_TTL)?;
        if u64::from(retry_window) <= delay {
            return Err(format!(
                "greylist_retry_window ({retry_window}s) must be longer than greylist_delay ({delay}s)"
            ));
        }
        let text = config.setting_or("greylist_text", DEFAULT_TEXT).to_string();
        if text.contains(['\r', '\n']) {
            return Err("greylist_text must be one line".to_string());
        }
        Ok(Greylist {
            delay,
            retry_window,
            ttl,
            text,
        })
    }

    fn rcpt(&mut self, ctx: &Context, rcpt: &Address) -> Verdict {
        if ctx.stage() == Stage::Vrfy || ctx.sasl().is_some() {
            return Verdict::Dunno;
        }
        let key = triplet_key(
            &ctx.client_address(),
            ctx.sender().as_deref().unwrap_or(""),
            &rcpt.address,
        );
        let now = mta_sdk::clock::now_seconds();
        match self.check(&key, now) {
            Ok(verdict) => verdict,
            Err(e) => {
                log::error(&format!(
                    "greylist: kv store failed, letting {key} pass: {e}"
                ));
                Verdict::Dunno
            }
        }
    }
}

impl Greylist {
    /// The verdict for a triplet at `now`, updating the store.
    fn check(&self, key: &str, now: u64) -> Result<Verdict, String> {
        let stored = mta_sdk::kv::get(key)?;
        let entry = stored.as_deref().map(Entry::decode);
        match entry {
            Some(Some(Entry::Passed)) => {
                // Refresh, so an active correspondent never expires.
                mta_sdk::kv::set(key, &Entry::Passed.encode(), Some(self.ttl))?;
                Ok(Verdict::Dunno)
            }
            Some(Some(Entry::Pending { first_seen })) => {
                let waited = now.saturating_sub(first_seen);
                if waited < self.delay {
                    log::info(&format!(
                        "greylist: {key} retried after {waited}s, {}s too early",
                        self.delay - waited
                    ));
                    return Ok(self.defer());
                }
                mta_sdk::kv::set(key, &Entry::Passed.encode(), Some(self.ttl))?;
                log::info(&format!("greylist: {key} passed after {waited}s"));
                Ok(Verdict::Dunno)
            }
            Some(None) | None => {
                if entry.is_some() {
                    log::warning(&format!(
                        "greylist: unreadable entry for {key}, starting over"
                    ));
                }
                let pending = Entry::Pending { first_seen: now };
                mta_sdk::kv::set(key, &pending.encode(), Some(self.retry_window))?;
                log::info(&format!("greylist: {key} greylisted"));
                Ok(self.defer())
            }
        }
    }

    fn defer(&self) -> Verdict {
        Verdict::defer_with(450, "4.2.0", self.text.as_str())
    }
}

/// A time setting that must fit the kv store's TTL (a u32 of seconds).
fn kv_ttl(config: &Config, name: &str, default: u64) -> Result<u32, String> {
    let seconds = config.time_setting(name)?.unwrap_or(default);
    match u32::try_from(seconds) {
        Ok(0) => Err(format!("{name} must be more than 0s")),
        Ok(s) => Ok(s),
        Err(_) => Err(format!(
            "{name} = {seconds}s is too long (at most {}s)",
            u32::MAX
        )),
    }
}

mta_sdk::export_plugin!(Greylist);

#[cfg(test)]
mod tests;
