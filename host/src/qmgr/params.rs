//! The queue manager's main.cf parameters, with Postfix's defaults.

use crate::config::Config;
use crate::delivery::smtp::param;
use std::time::Duration;

/// Scheduling and bounce settings read once at start.
#[derive(Debug, Clone)]
pub struct Params {
    pub active_limit: usize,
    pub destination_concurrency: usize,
    pub destination_recipients: usize,
    pub minimal_backoff: Duration,
    pub maximal_backoff: Duration,
    pub queue_run_delay: Duration,
    pub maximal_queue_lifetime: Duration,
    pub bounce_queue_lifetime: Duration,
    /// 0 = no delay warnings (Postfix's default).
    pub delay_warning: Duration,
    pub relayhost: String,
    pub myhostname: String,
    pub mydestination: Vec<String>,
    pub notify_classes: Vec<String>,
    pub bounce_notice_recipient: String,
    pub double_bounce_recipient: String,
    pub double_bounce_sender: String,
    pub queue_minfree: u64,
}

fn list(config: &Config, name: &str, default: &str) -> Vec<String> {
    param(config, name, default)
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

impl Params {
    pub fn from_config(config: &Config) -> Params {
        let myhostname = param(config, "myhostname", &crate::delivery::smtp::hostname());
        let mydomain = param(
            config,
            "mydomain",
            myhostname
                .split_once('.')
                .map(|x| x.1)
                .unwrap_or("localdomain"),
        );
        let mydestination = list(
            config,
            "mydestination",
            &format!("{myhostname}, localhost.{mydomain}, localhost"),
        )
        .into_iter()
        .map(|d| {
            d.replace("$myhostname", &myhostname)
                .replace("$mydomain", &mydomain)
        })
        .collect();
        let qualify = |a: String| {
            if a.contains('@') {
                a
            } else {
                format!("{a}@{myhostname}")
            }
        };
        Params {
            active_limit: config.get_u64("qmgr_message_active_limit").max(1) as usize,
            destination_concurrency: config
                .get_u64("default_destination_concurrency_limit")
                .max(1) as usize,
            destination_recipients: config.get_u64("default_destination_recipient_limit").max(1)
                as usize,
            // Bare numbers take the unit of Postfix's default: `maximal_queue_lifetime = 5`
            // is five days, `delay_warning_time = 4` four hours.
            minimal_backoff: config.get_time("minimal_backoff_time"),
            maximal_backoff: config.get_time("maximal_backoff_time"),
            queue_run_delay: config.get_time("queue_run_delay"),
            maximal_queue_lifetime: config.get_time("maximal_queue_lifetime"),
            bounce_queue_lifetime: config.get_time("bounce_queue_lifetime"),
            delay_warning: config.get_time("delay_warning_time"),
            relayhost: param(config, "relayhost", ""),
            mydestination,
            notify_classes: list(config, "notify_classes", "resource, software"),
            bounce_notice_recipient: qualify(param(
                config,
                "bounce_notice_recipient",
                "postmaster",
            )),
            double_bounce_recipient: qualify(param(
                config,
                "2bounce_notice_recipient",
                "postmaster",
            )),
            double_bounce_sender: qualify(param(config, "double_bounce_sender", "double-bounce")),
            queue_minfree: config.get_u64("queue_minfree"),
            myhostname,
        }
    }

    /// Wait after the `attempts`-th failed attempt: doubling from
    /// `minimal_backoff_time`, capped at `maximal_backoff_time`.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let shift = attempts.saturating_sub(1).min(20);
        self.minimal_backoff
            .saturating_mul(1u32 << shift)
            .min(self.maximal_backoff.max(self.minimal_backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_backoff() {
        let p = Params::from_config(&Config::default());
        assert_eq!(p.destination_concurrency, 20);
        assert_eq!(p.destination_recipients, 50);
        assert_eq!(p.minimal_backoff, Duration::from_secs(300));
        assert_eq!(p.backoff(1), Duration::from_secs(300));
        assert_eq!(p.backoff(2), Duration::from_secs(600));
        assert_eq!(p.backoff(5), Duration::from_secs(4000));
        assert_eq!(p.backoff(40), Duration::from_secs(4000));
        assert!(p.mydestination.contains(&"localhost".to_string()));
    }

    #[test]
    fn bare_numbers_take_the_unit_of_the_default() {
        // As Postfix: the unit is the one its default is written in.
        let c = Config::default().with_overrides(&[
            ("maximal_queue_lifetime".into(), "5".into()),
            ("delay_warning_time".into(), "4".into()),
            ("minimal_backoff_time".into(), "90".into()),
        ]);
        let p = Params::from_config(&c);
        assert_eq!(p.maximal_queue_lifetime, Duration::from_secs(5 * 86400));
        assert_eq!(p.delay_warning, Duration::from_secs(4 * 3600));
        assert_eq!(p.minimal_backoff, Duration::from_secs(90));
        assert_eq!(p.bounce_queue_lifetime, Duration::from_secs(5 * 86400));
    }
}
