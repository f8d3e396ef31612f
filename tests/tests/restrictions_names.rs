//! Restrictions that judge names and manners, over SMTP against the real
//! daemon, with DNS from a loopback server of our own (`dns_servers`):
//! reject_unknown_client_hostname, reject_unknown_reverse_client_hostname,
//! reject_unknown_helo_hostname and reject_unauth_pipelining, plus
//! smtpd_helo_required. Where the reference Postfix sees the same DNS
//! (127.0.0.2 not forward-confirmed, NXDOMAIN under `.invalid`) the same
//! dialogue goes to both and the replies and log lines must agree.
//!
//! Needs `cargo xtask build`.

use mta_e2e::dnsd::{Behaviour, TestDns, ZoneSet};
use mta_e2e::restrictions_util::PostfixRef;
use mta_e2e::smtpd3_util::{dialogue_at, pipelined_at, reference_lines};
use mta_e2e::Daemon;

/// What both servers share: our own domain, no local recipient check, only
/// 127.0.0.1 trusted, relay control, no error sleep.
const SHARED: &str = "mydestination = mx.test\nlocal_recipient_maps =\nmynetworks = 127.0.0.1/32\n\
     smtpd_error_sleep_time = 0\n\
     smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n";

fn mta_cf(extra: &str) -> String {
    let plugins = std::env::var("CARGO_TARGET_DIR")
        .map(|t| format!("builtin_plugin_directory = {t}/plugins\n"))
        .unwrap_or_default();
    format!("{plugins}{SHARED}{extra}")
}

/// HELO names under `helo.test`: ok.helo.test exists, anything else is
/// NXDOMAIN; `broken.test` answers SERVFAIL. (Client names need no zone:
/// hickory answers the loopback reverse zone itself, RFC 6761, so every
/// 127/8 client's PTR is `localhost`, which resolves to 127.0.0.1 only.)
async fn zones() -> TestDns {
    ZoneSet::new()
        .zone("helo.test", Behaviour::Answer, 60)
        .a("ok.helo.test", "192.0.2.1".parse().unwrap(), 300)
        .zone("broken.test", Behaviour::ServFail, 60)
        .start()
        .await
        .expect("DNS server")
}

fn mail(helo: &str) -> [String; 3] {
    [
        format!("EHLO {helo}"),
        "MAIL FROM:<a@b.example>".to_string(),
        "RCPT TO:<u@mx.test>".to_string(),
    ]
}

async fn rcpt_reply(d: &Daemon, source: &str, helo: &str) -> String {
    let cmds = mail(helo);
    let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let r = dialogue_at(d.addr(), source, &cmds).await;
    assert!(r[1].starts_with("250 2.1.0"), "{source}: {r:?}");
    r[2].clone()
}

/// Each outcome of the client and HELO name checks, with our DNS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_client_and_helo_names_via_dns() {
    let dns = zones().await;
    let d = Daemon::start(
        "names-dns",
        &mta_cf(&format!(
            "dns_servers = {}\ndns_timeout = 2s\n\
             smtpd_client_restrictions = reject_unknown_reverse_client_hostname, \
             reject_unknown_client_hostname\n\
             smtpd_helo_restrictions = reject_unknown_helo_hostname\n",
            dns.addr()
        )),
        &[],
    );
    // 127.0.0.2: its PTR (localhost) exists, so the reverse check passes,
    // but does not resolve back to it: the forward-confirmed check refuses,
    // with Postfix's 4.7.25.
    assert_eq!(
        rcpt_reply(&d, "127.0.0.2", "ok.helo.test").await,
        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]"
    );
    // 127.0.0.1 is localhost both ways; its HELO name decides.
    assert!(rcpt_reply(&d, "127.0.0.1", "ok.helo.test")
        .await
        .starts_with("250 2.1.5"));
    assert_eq!(
        rcpt_reply(&d, "127.0.0.1", "nx.helo.test").await,
        "450 4.7.1 <nx.helo.test>: Helo command rejected: Host not found"
    );
    // SERVFAIL is a temporary failure: defer_if_permit
    // (unknown_helo_hostname_tempfail_action), which permit_mynetworks in
    // the relay list then turns into the deferral.
    assert_eq!(
        rcpt_reply(&d, "127.0.0.1", "x.broken.test").await,
        "450 4.7.1 <x.broken.test>: Helo command rejected: Host not found"
    );
    // Address literals are not looked up.
    assert!(rcpt_reply(&d, "127.0.0.1", "[127.0.0.1]")
        .await
        .starts_with("250 2.1.5"));
    let line = d.wait_for("reject: RCPT from localhost[127.0.0.1]: 450 4.7.1 <nx.helo.test>");
    assert!(
        line.contains(
            "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 450 4.7.1 \
             <nx.helo.test>: Helo command rejected: Host not found; from=<a@b.example> \
             to=<u@mx.test> proto=ESMTP helo=<nx.helo.test>"
        ),
        "{line}"
    );
    d.wait_for(
        "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 450 4.7.25 Client host rejected: \
         cannot find your hostname, [127.0.0.2]; from=<a@b.example> to=<u@mx.test> proto=ESMTP \
         helo=<ok.helo.test>",
    );
    assert!(dns.queries() > 0);
}

/// The same checks against the reference Postfix where its DNS agrees with
/// ours (127.0.0.2 is not forward-confirmed, `.invalid` names do not exist);
/// the client check only warns, so both speak in one dialogue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_names_same_answers_as_reference_postfix() {
    if !PostfixRef::available() {
        eprintln!("postfix-ref not installed here: nothing to compare with");
        return;
    }
    let lists = "smtpd_client_restrictions = warn_if_reject reject_unknown_client_hostname\n\
                 smtpd_helo_restrictions = reject_unknown_helo_hostname\n";
    let dns = zones().await;
    let dir = mta_e2e::scratch("names-ref");
    let reference = PostfixRef::start(
        &dir.join("ref"),
        &format!("compatibility_level = 3.6\n{SHARED}{lists}"),
    );
    let d = Daemon::start(
        "names-ref-mta",
        &mta_cf(&format!(
            "dns_servers = {}\ndns_timeout = 2s\n{lists}",
            dns.addr()
        )),
        &[],
    );
    let cmds = mail("nx.helo.invalid");
    let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
    let ours = dialogue_at(d.addr(), "127.0.0.2", &cmds).await;
    let theirs = dialogue_at(reference.addr(), "127.0.0.2", &cmds).await;
    assert_eq!(ours[1..], theirs[1..]);
    assert_eq!(
        ours[2],
        "450 4.7.1 <nx.helo.invalid>: Helo command rejected: Host not found"
    );
    for kind in ["reject_warning", "reject"] {
        let lines = reference_lines(&reference, kind, 1);
        assert_eq!(lines.len(), 1, "reference log:\n{}", reference.log());
        d.wait_for(&format!(": {kind}: {}", lines[0]));
    }
}

/// smtpd_helo_required: MAIL before HELO/EHLO gets smtpd's own 503 before
/// any syntax check, ETRN its bare 503, and neither is a restriction reject
/// (no `reject:` log line), as the reference Postfix answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helo_required_is_answered_by_smtpd_as_postfix() {
    let cmds = [
        "MAIL FROM:<a@b.example>",
        "MAIL FROM:<a",
        "ETRN example.com",
        "HELO client.example",
        "MAIL FROM:<a@b.example>",
    ];
    let d = Daemon::start("helo-required", &mta_cf("smtpd_helo_required = yes\n"), &[]);
    let ours = dialogue_at(d.addr(), "127.0.0.2", &cmds).await;
    assert_eq!(
        ours[..3],
        [
            "503 5.5.1 Error: send HELO/EHLO first",
            "503 5.5.1 Error: send HELO/EHLO first",
            "503 Error: send HELO/EHLO first",
        ]
    );
    assert!(ours[3].starts_with("250 "), "{}", ours[3]);
    assert_eq!(ours[4], "250 2.1.0 Ok");
    d.wait_for("disconnect from unknown[127.0.0.2]");
    assert!(!d.output().contains("reject: MAIL"), "{}", d.output());
    if !PostfixRef::available() {
        eprintln!("postfix-ref not installed here: nothing to compare with");
        return;
    }
    let dir = mta_e2e::scratch("helo-required-ref");
    let reference = PostfixRef::start(
        &dir.join("ref"),
        &format!("compatibility_level = 3.6\n{SHARED}smtpd_helo_required = yes\n"),
    );
    let theirs = dialogue_at(reference.addr(), "127.0.0.2", &cmds).await;
    assert_eq!(ours[..3], theirs[..3]);
    assert_eq!(ours[4], theirs[4]);
    assert!(
        !reference.log().contains("reject: MAIL"),
        "{}",
        reference.log()
    );
}

/// reject_unauth_pipelining in smtpd_data_restrictions: MAIL, RCPT and DATA
/// sent in one write after HELO (which announced no PIPELINING) is refused
/// at DATA; after EHLO the same batch is fine. Same replies and reject
/// line as the reference Postfix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauth_pipelining_same_answers_as_reference_postfix() {
    let lists = "smtpd_data_restrictions = reject_unauth_pipelining\n";
    let batch = ["MAIL FROM:<a@b.example>", "RCPT TO:<u@mx.test>", "DATA"];
    let d = Daemon::start("unauth-pipelining", &mta_cf(lists), &[]);
    let ours = pipelined_at(d.addr(), "127.0.0.2", &["HELO client.example"], &batch).await;
    assert_eq!(ours[1], "250 2.1.0 Ok");
    assert!(ours[2].starts_with("250 2.1.5"), "{ours:?}");
    assert_eq!(
        ours[3],
        "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"
    );
    // After an accepted recipient the line carries the queue id.
    d.wait_for(
        ": reject: DATA from unknown[127.0.0.2]: 503 5.5.0 <DATA>: Data command \
         rejected: Improper use of SMTP command pipelining; from=<a@b.example> to=<u@mx.test> \
         proto=SMTP helo=<client.example>",
    );
    let ehlo = pipelined_at(d.addr(), "127.0.0.2", &["EHLO client.example"], &batch).await;
    assert!(ehlo[3].starts_with("354"), "{ehlo:?}");
    if !PostfixRef::available() {
        eprintln!("postfix-ref not installed here: nothing to compare with");
        return;
    }
    let dir = mta_e2e::scratch("unauth-pipelining-ref");
    let reference = PostfixRef::start(
        &dir.join("ref"),
        &format!("compatibility_level = 3.6\n{SHARED}{lists}"),
    );
    let theirs = pipelined_at(
        reference.addr(),
        "127.0.0.2",
        &["HELO client.example"],
        &batch,
    )
    .await;
    assert_eq!(ours[1..], theirs[1..]);
    let theirs = pipelined_at(
        reference.addr(),
        "127.0.0.2",
        &["EHLO client.example"],
        &batch,
    )
    .await;
    assert_eq!(ehlo[1..], theirs[1..]);
    let lines = reference_lines(&reference, "reject", 1);
    assert_eq!(lines.len(), 1, "reference log:\n{}", reference.log());
    d.wait_for(&format!(": reject: {}", lines[0]));
}
