//! DNS lists end to end: the real daemon, a client over SMTP from a
//! loopback address, the built-in rbl plugin in the sandbox, the host
//! resolver asking the loopback DNS server.
//!
//! Needs the built-in plugins: `cargo xtask build` (into
//! `$CARGO_TARGET_DIR/plugins`, where `mta` finds them by default).

use mta_e2e::dnsd::{Behaviour, TestDns, ZoneSet};
use mta_e2e::{Daemon, Smtp};

async fn zones() -> TestDns {
    ZoneSet::new()
        .zone("zen.example", Behaviour::Answer, 60)
        .zone("allow.example", Behaviour::Answer, 60)
        .zone("dead.example", Behaviour::Drop, 60)
        .zone("broken.example", Behaviour::ServFail, 60)
        // 127.0.0.2: listed, with a reason; 127.0.0.4: listed with a code
        // the filter drops; 127.0.0.5: listed but on the allow list too.
        .a("2.0.0.127.zen.example", "127.0.0.2".parse().unwrap(), 300)
        .txt(
            "2.0.0.127.zen.example",
            "https://zen.example/lookup?ip=127.0.0.2",
            300,
        )
        .a("4.0.0.127.zen.example", "127.0.0.11".parse().unwrap(), 300)
        .a("5.0.0.127.zen.example", "127.0.0.2".parse().unwrap(), 300)
        .a("5.0.0.127.allow.example", "127.0.5.1".parse().unwrap(), 300)
        .start()
        .await
        .expect("DNS server")
}

fn main_cf(dns: &TestDns, extra: &str) -> String {
    mta_e2e::e2e_rbl_util::rbl_main_cf(dns, "2s", extra)
}

/// EHLO, MAIL, RCPT from `source`; the RCPT reply.
async fn rcpt_from(d: &Daemon, source: &str) -> String {
    let (mut c, banner) = Smtp::connect(d.addr(), source).await;
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    assert!(c
        .cmd("MAIL FROM:<a@sender.example>")
        .await
        .starts_with("250"));
    let r = c.cmd("RCPT TO:<u@mx.test>").await;
    c.cmd("QUIT").await;
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_lists_over_smtp() {
    let dns = zones().await;
    let d = Daemon::start(
        "rbl-e2e",
        &main_cf(
            &dns,
            "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination, \
             permit_dnswl_client allow.example, reject_rbl_client zen.example=127.0.0.[2..10], \
             reject_rbl_client dead.example, reject_rbl_client broken.example",
        ),
        &[],
    );
    let r = rcpt_from(&d, "127.0.0.2").await;
    assert_eq!(
        r.trim_end(),
        "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.example; https://zen.example/lookup?ip=127.0.0.2"
    );
    let line = d.wait_for("NOQUEUE: reject: RCPT from");
    assert!(
        line.contains("[127.0.0.2]: 554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.example"),
        "{line}"
    );
    // Not listed (the dead and SERVFAIL lists never reject), filtered-out
    // code, allow list first.
    for source in ["127.0.0.3", "127.0.0.4", "127.0.0.5"] {
        let r = rcpt_from(&d, source).await;
        assert!(r.starts_with("250"), "{source}: {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_and_defer_over_smtp() {
    let dns = zones().await;
    let d = Daemon::start(
        "rbl-e2e-score",
        &main_cf(
            &dns,
            "rbl_score_sites = zen.example*3, allow.example*-5\nrbl_score_threshold = 3\n\
             smtpd_client_restrictions = reject_rbl_client dead.example\nrbl_dns_failure_action = defer",
        ),
        &[],
    );
    // 127.0.0.2 scores 3: rejected. 127.0.0.5 scores -2 but the dead list
    // in smtpd_client_restrictions cannot be asked: 451 with `defer`.
    let r = rcpt_from(&d, "127.0.0.2").await;
    assert!(
        r.starts_with(
            "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked using zen.example"
        ),
        "{r}"
    );
    let r = rcpt_from(&d, "127.0.0.5").await;
    assert!(r.starts_with("451 4.3.0"), "{r}");
    assert!(r.contains("dead.example"), "{r}");
}
