//! The rbl built-in plugin in the real daemon, seen from outside clients
//! over SMTP: the points of issue #5 that tests/tests/rbl.rs does not
//! already cover (rhsbl sender, SERVFAIL and silent zones logged but not
//! fatal, the legacy reject_maps_rbl, the per-client DNS cache measured at
//! the DNS server, smtpd_delay_reject yes and no, `mta check`).
//!
//! Needs the built-in plugins: `cargo xtask build`.

use mta_e2e::dnsd::{Behaviour, TestDns, ZoneSet};
use mta_e2e::{Daemon, Smtp};

async fn zones() -> TestDns {
    ZoneSet::new()
        .zone("zen.test", Behaviour::Answer, 60)
        .zone("dbl.test", Behaviour::Answer, 60)
        .zone("dead.test", Behaviour::Drop, 60)
        .zone("broken.test", Behaviour::ServFail, 60)
        .a("2.0.0.127.zen.test", "127.0.0.2".parse().unwrap(), 300)
        .txt("2.0.0.127.zen.test", "listed for spam", 300)
        .a("spam.example.dbl.test", "127.0.1.2".parse().unwrap(), 300)
        // ::1 as 32 reversed nibbles.
        .a(
            &format!("1{}.zen.test", ".0".repeat(31)),
            "127.0.0.2".parse().unwrap(),
            300,
        )
        .txt(&format!("1{}.zen.test", ".0".repeat(31)), "v6 listed", 300)
        .start()
        .await
        .expect("DNS server")
}

fn main_cf(dns: &TestDns, extra: &str) -> String {
    mta_e2e::e2e_rbl_util::rbl_main_cf(dns, "1s", extra)
}

/// Every reply of one dialogue from `source` with MAIL FROM `sender`:
/// banner, EHLO, MAIL, RCPT (stops early after a 5xx banner).
async fn dialogue(d: &Daemon, source: &str, sender: &str) -> Vec<String> {
    let (mut c, banner) = Smtp::connect(d.addr(), source).await;
    let mut out = vec![banner];
    out.push(c.cmd("EHLO client.example").await);
    out.push(c.cmd(&format!("MAIL FROM:<{sender}>")).await);
    out.push(c.cmd("RCPT TO:<u@mx.test>").await);
    c.cmd("QUIT").await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rhsbl_sender_and_repeat_client_cache() {
    let dns = zones().await;
    let d = Daemon::start(
        "rbl-smtp-rhsbl",
        &main_cf(
            &dns,
            "smtpd_recipient_restrictions = reject_rbl_client zen.test, \
             reject_rhsbl_sender dbl.test, permit",
        ),
        &[],
    );
    // Listed client: Postfix's reply with the TXT reason.
    let r = dialogue(&d, "127.0.0.2", "a@ok.example").await;
    assert_eq!(
        r[3].trim_end(),
        "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.test; listed for spam"
    );
    let after_first = dns.queries();
    assert!(after_first >= 1, "the DNS server saw no query");
    // The same client again: answered from the cache, the server sees nothing.
    let r = dialogue(&d, "127.0.0.2", "a@ok.example").await;
    assert!(r[3].starts_with("554 5.7.1"), "{r:?}");
    assert_eq!(
        dns.queries(),
        after_first,
        "a repeat client cost DNS queries"
    );

    // rhsbl sender: an unlisted client with a listed sender domain.
    let r = dialogue(&d, "127.0.0.3", "x@spam.example").await;
    assert!(
        r[3].starts_with("554 5.7.1 Service unavailable; Sender address ["),
        "{r:?}"
    );
    assert!(r[3].contains("blocked using dbl.test"), "{r:?}");
    let line = d.wait_for("blocked using dbl.test");
    assert!(
        line.contains(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.3]: 554 5.7.1 Service unavailable; \
             Sender address [x@spam.example] blocked using dbl.test; \
             from=<x@spam.example> to=<u@mx.test> proto=ESMTP helo=<client.example>"
        ),
        "{line}"
    );
    // Neither listed: accepted.
    let r = dialogue(&d, "127.0.0.3", "x@ok.example").await;
    assert!(r[3].starts_with("250"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_zones_are_logged_not_fatal() {
    let dns = zones().await;
    let d = Daemon::start(
        "rbl-smtp-fail",
        &main_cf(
            &dns,
            "smtpd_recipient_restrictions = reject_rbl_client broken.test, \
             reject_rbl_client dead.test, permit",
        ),
        &[],
    );
    let r = dialogue(&d, "127.0.0.2", "a@ok.example").await;
    assert!(r[3].starts_with("250"), "{r:?}");
    let line = d.wait_for("broken.test: lookup error for DNS query");
    assert!(line.contains("2.0.0.127.broken.test"), "{line}");
    let line = d.wait_for("dead.test: lookup error for DNS query");
    assert!(line.contains("2.0.0.127.dead.test"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_with_defer_answers_4xx() {
    let dns = zones().await;
    let d = Daemon::start(
        "rbl-smtp-defer",
        &main_cf(
            &dns,
            "rbl_dns_failure_action = defer\n\
             smtpd_recipient_restrictions = reject_rbl_client broken.test, permit",
        ),
        &[],
    );
    let r = dialogue(&d, "127.0.0.2", "a@ok.example").await;
    assert!(r[3].starts_with("451 4."), "{r:?}");
    assert!(r[3].contains("broken.test"), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_reject_maps_rbl_warns_and_rejects() {
    let dns = zones().await;
    let d = Daemon::start(
        "rbl-smtp-legacy",
        &main_cf(
            &dns,
            "maps_rbl_domains = zen.test\n\
             smtpd_recipient_restrictions = reject_maps_rbl, permit",
        ),
        &[],
    );
    let r = dialogue(&d, "127.0.0.2", "a@ok.example").await;
    assert!(
        r[3].starts_with(
            "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.test"
        ),
        "{r:?}"
    );
    let w = d.wait_for("reject_maps_rbl is deprecated");
    assert!(w.contains("warning"), "{w}");
}

/// The restrictions plugin answers DUNNO for the DNS-list entries and the
/// rbl plugin acts on them, both when rejects wait for RCPT and when they
/// happen at the stage that asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_restrictions_with_delay_reject_yes_and_no() {
    let dns = zones().await;
    for (delay, name) in [("yes", "rbl-smtp-delay-yes"), ("no", "rbl-smtp-delay-no")] {
        let d = Daemon::start(
            name,
            &main_cf(
                &dns,
                &format!(
                    "smtpd_delay_reject = {delay}\n\
                     smtpd_client_restrictions = reject_rbl_client zen.test"
                ),
            ),
            &[],
        );
        let r = dialogue(&d, "127.0.0.2", "a@ok.example").await;
        let blocked: Vec<&String> = r
            .iter()
            .filter(|x| x.contains("blocked using zen.test"))
            .collect();
        assert!(!blocked.is_empty(), "delay_reject={delay}: {r:?}");
        assert!(blocked[0].starts_with("554 5.7.1"), "{r:?}");
        assert!(
            !r[3].starts_with("250"),
            "delay_reject={delay}: RCPT accepted: {r:?}"
        );
        if delay == "no" {
            // Postfix: the reject replaces the greeting, and every later
            // command is refused.
            assert!(
                r[0].starts_with("554 5.7.1 Service unavailable; Client host [127.0.0.2]"),
                "{r:?}"
            );
            for x in &r[1..] {
                assert_eq!(
                    x.trim_end(),
                    "503 5.7.0 Error: access denied for unknown[127.0.0.2]"
                );
            }
        } else {
            // Postfix defers a client reject to RCPT TO.
            assert!(r[2].starts_with("250"), "MAIL: {r:?}");
            assert!(r[3].contains("blocked using zen.test"), "{r:?}");
        }
        let r = dialogue(&d, "127.0.0.3", "a@ok.example").await;
        assert!(r[3].starts_with("250"), "delay_reject={delay}: {r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mta_check_accepts_the_rbl_parameters() {
    let dir = mta_e2e::scratch("rbl-smtp-check");
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}\ndns_servers = 127.0.0.1:5353\ndns_timeout = 3s\n\
             rbl_score_sites = zen.test*3, dbl.test*2\nrbl_score_threshold = 4\n\
             rbl_dns_failure_action = defer\n\
             smtpd_recipient_restrictions = reject_rbl_client zen.test, permit\n",
            dir.join("spool").display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("master.cf"),
        "127.0.0.1:2525 inet n - n - - smtpd\n",
    )
    .unwrap();
    let d = dir.display().to_string();
    let (ok, out) = mta_e2e::run(mta_e2e::mta_bin().to_str().unwrap(), &["check", "-c", &d]);
    assert!(ok, "{out}");
    // A bad value is named.
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}\nrbl_dns_failure_action = explode\n",
            dir.join("spool").display()
        ),
    )
    .unwrap();
    let (ok, out) = mta_e2e::run(mta_e2e::mta_bin().to_str().unwrap(), &["check", "-c", &d]);
    assert!(!ok, "{out}");
    assert!(out.contains("rbl_dns_failure_action"), "{out}");
}

/// An IPv6 client (::1, outside mynetworks): its reversed nibbles are
/// looked up, and Postfix's reply carries the IPv6 address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_client_is_checked() {
    let dns = zones().await;
    let (d, addr) = mta_e2e::e2e_rbl_util::start_v6(
        "rbl-smtp-v6",
        &main_cf(
            &dns,
            "smtpd_recipient_restrictions = reject_rbl_client zen.test, permit",
        ),
    );
    let (mut c, banner) = mta_e2e::e2e_rbl_util::connect_v6(addr).await;
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    assert!(c.cmd("MAIL FROM:<a@ok.example>").await.starts_with("250"));
    let r = c.cmd("RCPT TO:<u@mx.test>").await;
    assert_eq!(
        r.trim_end(),
        "554 5.7.1 Service unavailable; Client host [::1] blocked using zen.test; v6 listed"
    );
    let line = d.wait_for("NOQUEUE: reject: RCPT from");
    assert!(line.contains("[::1]: 554 5.7.1"), "{line}");
}
