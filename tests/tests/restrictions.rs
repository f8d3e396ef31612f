//! The restrictions built-in end to end: the real daemon, clients from
//! outside (127.0.0.2+), the restriction lists of the gateway howtos, access
//! tables built with `mta postmap`, and the `NOQUEUE: reject:` log lines.
//!
//! Needs the built-in plugins: `cargo xtask build` (into
//! `$CARGO_TARGET_DIR/plugins`, where `mta` finds them by default).

use mta_e2e::dnsd::{Behaviour, ZoneSet};
use mta_e2e::{mta_bin, run, Daemon, Smtp};

/// The plumbing every test shares: the built-in plugins, a destination of
/// our own, no local recipient check, only 127.0.0.1 trusted.
fn base(extra: &str) -> String {
    let plugins = std::env::var("CARGO_TARGET_DIR")
        .map(|t| format!("builtin_plugin_directory = {t}/plugins\n"))
        .unwrap_or_default();
    format!(
        "{plugins}mydestination = mx.test\nlocal_recipient_maps =\nmynetworks = 127.0.0.1/32\n{extra}\n"
    )
}

/// A client dialogue: each command and the reply's first line, trimmed.
async fn dialogue(d: &Daemon, source: &str, cmds: &[&str]) -> Vec<String> {
    let (mut c, banner) = Smtp::connect(d.addr(), source).await;
    assert!(banner.starts_with("220"), "{banner}");
    let mut out = Vec::new();
    for cmd in cmds {
        let r = c.cmd(cmd).await;
        // Multi-line replies (EHLO): the last line says it all.
        out.push(r.trim_end().lines().last().unwrap_or("").to_string());
    }
    c.cmd("QUIT").await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_control_and_log_line() {
    let d = Daemon::start(
        "restr-relay",
        &base(
            "relay_domains = relay.example\n\
             smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
        ),
        &[],
    );
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a@sender.example>",
            "RCPT TO:<x@elsewhere.example>",
            "RCPT TO:<u@mx.test>",
            "RCPT TO:<v@relay.example>",
        ],
    )
    .await;
    assert_eq!(
        r[2],
        "554 5.7.1 <x@elsewhere.example>: Relay access denied"
    );
    assert!(r[3].starts_with("250 2.1.5"), "{}", r[3]);
    assert!(r[4].starts_with("250 2.1.5"), "{}", r[4]);
    let line = d.wait_for("NOQUEUE: reject: RCPT from");
    assert!(
        line.contains(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <x@elsewhere.example>: \
             Relay access denied; from=<a@sender.example> to=<x@elsewhere.example> proto=ESMTP \
             helo=<client.example>"
        ),
        "{line}"
    );
    // The trusted client relays.
    let r = dialogue(
        &d,
        "127.0.0.1",
        &["EHLO me.example", "MAIL FROM:<a@mx.test>", "RCPT TO:<x@elsewhere.example>"],
    )
    .await;
    assert!(r[2].starts_with("250 2.1.5"), "{}", r[2]);
}
