//! The restrictions built-in end to end: the real daemon, clients from
//! outside (127.0.0.2+), the restriction lists of the gateway howtos, access
//! tables built with `mta postmap`, and the `NOQUEUE: reject:` log lines.
//!
//! Needs the built-in plugins: `cargo xtask build` (into
//! `$CARGO_TARGET_DIR/plugins`, where `mta` finds them by default).

use mta_e2e::dnsd::{Behaviour, ZoneSet};
use mta_e2e::smtpd3_util::dialogue_at;
use mta_e2e::{mta_bin, run, Daemon};

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
    dialogue_at(d.addr(), source, cmds).await
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
    assert_eq!(r[2], "554 5.7.1 <x@elsewhere.example>: Relay access denied");
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
        &[
            "EHLO me.example",
            "MAIL FROM:<a@mx.test>",
            "RCPT TO:<x@elsewhere.example>",
        ],
    )
    .await;
    assert!(r[2].starts_with("250 2.1.5"), "{}", r[2]);
}

/// Build `hash:` access tables with `mta postmap` in a directory of their
/// own (the daemon's scratch directory is made fresh by `Daemon::start`).
fn tables(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = mta_e2e::scratch(name);
    std::fs::write(dir.join("main.cf"), "").expect("main.cf");
    for (file, text) in files {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("table source");
        let spec = format!("hash:{}", path.display());
        let (ok, out) = run(
            mta_bin().to_str().expect("utf-8 path"),
            &["postmap", "-c", dir.to_str().expect("utf-8 path"), &spec],
        );
        assert!(ok, "mta postmap {spec}: {out}");
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tables_and_cidr_client_access() {
    let t = tables(
        "restr-tables",
        &[
            (
                "sender_access",
                "spam.example REJECT\nrude.example REJECT go away\nslow.example 450 try later\n\
                 friend.example OK\n",
            ),
            ("client.cidr", "127.0.0.3/32 REJECT\n127.0.0.4/32 OK\n"),
        ],
    );
    let d = Daemon::start(
        "restr-access",
        &base(&format!(
            "smtpd_client_restrictions = check_client_access cidr:{t}/client.cidr\n\
             smtpd_sender_restrictions = check_sender_access hash:{t}/sender_access\n\
             smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
            t = t.display()
        )),
        &[],
    );
    let mail = |from: &'static str| {
        [
            "EHLO client.example".to_string(),
            format!("MAIL FROM:<{from}>"),
            "RCPT TO:<u@mx.test>".to_string(),
        ]
    };
    let cases = [
        (
            "a@spam.example",
            "554 5.7.1 <a@spam.example>: Sender address rejected: Access denied",
        ),
        (
            "a@rude.example",
            "554 5.7.1 <a@rude.example>: Sender address rejected: go away",
        ),
        (
            "a@slow.example",
            "450 4.7.1 <a@slow.example>: Sender address rejected: try later",
        ),
    ];
    for (from, want) in cases {
        let cmds = mail(from);
        let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
        let r = dialogue(&d, "127.0.0.2", &cmds).await;
        // smtpd_delay_reject = yes (the default): MAIL is accepted, RCPT
        // carries the sender's verdict.
        assert!(r[1].starts_with("250 2.1.0"), "{from}: {}", r[1]);
        assert_eq!(r[2], want, "{from}");
    }
    let line = d.wait_for("<a@rude.example>: Sender address rejected: go away;");
    assert!(
        line.contains(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <a@rude.example>: Sender \
             address rejected: go away; from=<a@rude.example> to=<u@mx.test> proto=ESMTP \
             helo=<client.example>"
        ),
        "{line}"
    );
    // OK in the sender table: accepted. The cidr table refuses 127.0.0.3;
    // its OK for 127.0.0.4 ends only the client list, so the sender list
    // still refuses a bad sender.
    let r = dialogue(
        &d,
        "127.0.0.2",
        &mail("a@friend.example").each_ref().map(String::as_str),
    )
    .await;
    assert!(r[2].starts_with("250 2.1.5"), "{}", r[2]);
    let r = dialogue(
        &d,
        "127.0.0.3",
        &mail("a@friend.example").each_ref().map(String::as_str),
    )
    .await;
    assert_eq!(
        r[2],
        "554 5.7.1 <unknown[127.0.0.3]>: Client host rejected: Access denied"
    );
    let r = dialogue(
        &d,
        "127.0.0.4",
        &mail("a@spam.example").each_ref().map(String::as_str),
    )
    .await;
    assert_eq!(
        r[2],
        "554 5.7.1 <a@spam.example>: Sender address rejected: Access denied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_reject_helo_required_and_fqdn() {
    let lists = "smtpd_helo_required = yes\n\
                 smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n\
                 smtpd_sender_restrictions = reject_non_fqdn_sender\n\
                 smtpd_recipient_restrictions = reject_non_fqdn_recipient\n";
    // Delayed (the default): every verdict waits for RCPT.
    let d = Daemon::start("restr-delay", &base(lists), &[]);
    let r = dialogue(&d, "127.0.0.2", &["MAIL FROM:<a@sender.example>"]).await;
    assert_eq!(r[0], "503 5.5.1 Error: send HELO/EHLO first");
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client",
            "MAIL FROM:<a@sender.example>",
            "RCPT TO:<u@mx.test>",
        ],
    )
    .await;
    assert!(r[0].starts_with("250 "), "{}", r[0]);
    assert!(r[1].starts_with("250 2.1.0"), "{}", r[1]);
    assert_eq!(
        r[2],
        "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname"
    );
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a>",
            "RCPT TO:<u@mx.test>",
        ],
    )
    .await;
    assert_eq!(
        r[2],
        "504 5.5.2 <a>: Sender address rejected: need fully-qualified address"
    );
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a@sender.example>",
            "RCPT TO:<u>",
        ],
    )
    .await;
    assert_eq!(
        r[2],
        "504 5.5.2 <u>: Recipient address rejected: need fully-qualified address"
    );
    drop(d);
    // Not delayed: HELO and MAIL answer for themselves.
    let d = Daemon::start(
        "restr-nodelay",
        &base(&format!("{lists}smtpd_delay_reject = no\n")),
        &[],
    );
    // As the reference Postfix: a refused EHLO is no greeting at all.
    let r = dialogue(&d, "127.0.0.2", &["EHLO client", "MAIL FROM:<a>"]).await;
    assert_eq!(
        r[0],
        "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname"
    );
    assert_eq!(r[1], "503 5.5.1 Error: send HELO/EHLO first");
    let line = d.wait_for("NOQUEUE: reject: EHLO from");
    assert!(
        line.contains(
            "NOQUEUE: reject: EHLO from unknown[127.0.0.2]: 504 5.5.2 <client>: Helo command \
             rejected: need fully-qualified hostname; proto=SMTP helo=<client>"
        ),
        "{line}"
    );
    let r = dialogue(&d, "127.0.0.2", &["EHLO client.example", "MAIL FROM:<a>"]).await;
    assert_eq!(
        r[1],
        "504 5.5.2 <a>: Sender address rejected: need fully-qualified address"
    );
    let line = d.wait_for("NOQUEUE: reject: MAIL from unknown[127.0.0.2]: 504");
    assert!(
        line.contains(
            "NOQUEUE: reject: MAIL from unknown[127.0.0.2]: 504 5.5.2 <a>: Sender address \
             rejected: need fully-qualified address; from=<a> proto=ESMTP helo=<client.example>"
        ),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_sender_domain_via_dns() {
    let dns = ZoneSet::new()
        .zone("sender.example", Behaviour::Answer, 60)
        .a("ok.sender.example", "192.0.2.1".parse().unwrap(), 300)
        .start()
        .await
        .expect("DNS server");
    let d = Daemon::start(
        "restr-unknown",
        &base(&format!(
            "dns_servers = {}\ndns_timeout = 2s\n\
             smtpd_sender_restrictions = reject_unknown_sender_domain\n",
            dns.addr()
        )),
        &[],
    );
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a@nx.sender.example>",
            "RCPT TO:<u@mx.test>",
        ],
    )
    .await;
    assert_eq!(
        r[2],
        "450 4.1.8 <a@nx.sender.example>: Sender address rejected: Domain not found"
    );
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a@ok.sender.example>",
            "RCPT TO:<u@mx.test>",
        ],
    )
    .await;
    assert!(r[2].starts_with("250 2.1.5"), "{}", r[2]);
    assert!(dns.queries() > 0, "the sender domain was never looked up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_relay_mynetworks_relays_and_check_warns() {
    let cf = base("smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n")
        .replace("mynetworks = 127.0.0.1/32", "mynetworks = 0.0.0.0/0");
    let d = Daemon::start("restr-open", &cf, &[]);
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a@sender.example>",
            "RCPT TO:<x@elsewhere.example>",
        ],
    )
    .await;
    assert!(
        r[2].starts_with("250 2.1.5"),
        "open relay should relay: {}",
        r[2]
    );
    let (_, out) = run(
        mta_bin().to_str().expect("utf-8 path"),
        &["check", "-c", d.dir.to_str().expect("utf-8 path")],
    );
    assert!(
        out.contains("open relay: mynetworks") && out.contains("0.0.0.0/0"),
        "mta check said:\n{out}"
    );
}

/// The same main.cf and the same dialogues against mta and the reference
/// Postfix 3.7: every reply and every `NOQUEUE: reject:` line must agree.
/// Stage order (client, helo, sender, relay, recipient under
/// smtpd_delay_reject), a restriction class reached from an access table,
/// hash: and cidr: tables, custom text and 4xx from access(5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_answers_as_reference_postfix() {
    use mta_e2e::restrictions_util::PostfixRef;
    if !PostfixRef::available() {
        eprintln!("postfix-ref not installed here: nothing to compare with");
        return;
    }
    let t = tables(
        "restr-ref-tables",
        &[
            (
                "sender_access",
                "spam.example REJECT\nrude.example REJECT go away\nslow.example 450 try later\n",
            ),
            (
                "rcpt_access",
                "strict@mx.test strict\nbanned@mx.test 550 no such person here\n",
            ),
            ("client.cidr", "127.0.0.3/32 REJECT\n"),
        ],
    );
    let shared = format!(
        "mydestination = mx.test\nlocal_recipient_maps =\nmynetworks = 127.0.0.1/32\n\
         smtpd_error_sleep_time = 0\nrelay_domains = relay.example\n\
         smtpd_restriction_classes = strict\n\
         strict = reject_non_fqdn_sender, reject_unknown_sender_domain\n\
         smtpd_client_restrictions = check_client_access cidr:{t}/client.cidr\n\
         smtpd_helo_restrictions = reject_invalid_helo_hostname\n\
         smtpd_sender_restrictions = check_sender_access hash:{t}/sender_access\n\
         smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n\
         smtpd_recipient_restrictions = check_recipient_access hash:{t}/rcpt_access, \
         reject_non_fqdn_recipient\n",
        t = t.display()
    );
    // Postfix's smtpd opens its tables when it starts (the tool's greeting
    // check starts one): build them first, with Debian's postmap.
    for f in ["sender_access", "rcpt_access"] {
        let (ok, out) = run("postmap", &[&format!("hash:{}/{f}", t.display())]);
        assert!(ok, "postmap {f}: {out}");
    }
    let reference = PostfixRef::start(&t.join("ref"), &shared);
    let d = Daemon::start("restr-ref", &base(&shared), &[]);
    let dialogues: &[(&str, &[&str])] = &[
        (
            "127.0.0.2",
            &[
                "EHLO client.example",
                "MAIL FROM:<a@sender.example>",
                "RCPT TO:<x@elsewhere.example>",
                "RCPT TO:<u@mx.test>",
                "RCPT TO:<v@relay.example>",
                "RCPT TO:<banned@mx.test>",
                "RCPT TO:<u>",
            ],
        ),
        (
            "127.0.0.2",
            &[
                "EHLO client.example",
                "MAIL FROM:<a@spam.example>",
                "RCPT TO:<u@mx.test>",
            ],
        ),
        (
            "127.0.0.2",
            &[
                "EHLO client.example",
                "MAIL FROM:<a@rude.example>",
                "RCPT TO:<u@mx.test>",
            ],
        ),
        (
            "127.0.0.2",
            &[
                "EHLO client.example",
                "MAIL FROM:<a@slow.example>",
                "RCPT TO:<u@mx.test>",
            ],
        ),
        (
            "127.0.0.2",
            &[
                "EHLO client.example",
                "MAIL FROM:<a>",
                "RCPT TO:<strict@mx.test>",
            ],
        ),
        (
            "127.0.0.2",
            &[
                "EHLO bad_name!",
                "MAIL FROM:<a@sender.example>",
                "RCPT TO:<u@mx.test>",
            ],
        ),
        (
            "127.0.0.3",
            &[
                "EHLO client.example",
                "MAIL FROM:<a@sender.example>",
                "RCPT TO:<u@mx.test>",
            ],
        ),
    ];
    let mut rejects = 0;
    for (source, cmds) in dialogues {
        let ours = dialogue(&d, source, cmds).await;
        let theirs = dialogue_at(reference.addr(), source, cmds).await;
        // EHLO answers name different hosts and extensions: compare codes.
        assert_eq!(ours[0].get(..3), theirs[0].get(..3), "EHLO from {source}");
        assert_eq!(ours[1..], theirs[1..], "{source}: {cmds:?}");
        rejects += ours
            .iter()
            .filter(|r| r.starts_with('4') || r.starts_with('5'))
            .count();
    }
    assert!(
        rejects >= 8,
        "the dialogues should exercise refusals: {rejects}"
    );
    // Postfix's reject log lines, each found in ours.
    let start = std::time::Instant::now();
    let theirs: Vec<String> = loop {
        let log = reference.log();
        let lines: Vec<String> = log
            .lines()
            // `NOQUEUE: reject:` before the first accepted recipient,
            // `QUEUEID: reject:` after it: the text after `reject: ` agrees.
            .filter_map(|l| l.split_once(": reject: ").map(|(_, r)| r.to_string()))
            .collect();
        if lines.len() >= rejects || start.elapsed() > mta_e2e::DEADLINE {
            break lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(theirs.len(), rejects, "reference log:\n{}", reference.log());
    for line in &theirs {
        d.wait_for(&format!("reject: {line}"));
    }
}

/// The seeds' old names work in the daemon: mapped to today's
/// restrictions, each logged once as obsolete when the plugin starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_restriction_names_from_the_seeds() {
    let d = Daemon::start(
        "restr-old",
        &base(
            "smtpd_helo_restrictions = reject_non_fqdn_hostname, reject_invalid_hostname\n\
             smtpd_relay_restrictions =\n\
             smtpd_recipient_restrictions = check_relay_domains\n",
        ),
        &[],
    );
    d.wait_for("restriction \"check_relay_domains\" is obsolete: using permit_mynetworks, permit_auth_destination, reject_unauth_destination instead");
    d.wait_for("restriction \"reject_non_fqdn_hostname\" is obsolete: using reject_non_fqdn_helo_hostname instead");
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client.example",
            "MAIL FROM:<a@sender.example>",
            "RCPT TO:<x@elsewhere.example>",
            "RCPT TO:<u@mx.test>",
        ],
    )
    .await;
    assert_eq!(r[2], "554 5.7.1 <x@elsewhere.example>: Relay access denied");
    assert!(r[3].starts_with("250 2.1.5"), "{}", r[3]);
    let r = dialogue(
        &d,
        "127.0.0.2",
        &[
            "EHLO client",
            "MAIL FROM:<a@sender.example>",
            "RCPT TO:<u@mx.test>",
        ],
    )
    .await;
    assert_eq!(
        r[2],
        "504 5.5.2 <client>: Helo command rejected: need fully-qualified hostname"
    );
    // check_relay_domains' permit_mynetworks: the trusted client relays.
    let r = dialogue(
        &d,
        "127.0.0.1",
        &[
            "EHLO me.example",
            "MAIL FROM:<a@mx.test>",
            "RCPT TO:<x@elsewhere.example>",
        ],
    )
    .await;
    assert!(r[2].starts_with("250 2.1.5"), "{}", r[2]);
}
