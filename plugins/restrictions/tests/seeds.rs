//! The restriction lists of the gateway howtos (/work/shared/seeds), run in
//! stage order. Table contents are the howtos' examples; regexp tables are
//! matched by the host, so the fake host holds their matching keys.

mod common;

use common::{line, mail, plugin, rcpt};
use mta_sdk::dns::{RecordType, ResourceRecord};
use mta_sdk::resolve::AddressClass;
use mta_sdk::testing::{ctx, TestHost};
use mta_sdk::{Plugin, Stage};

/// "Configuring Mail Gateway Using Postfix" (seed 003): every stage, with
/// smtpd_delay_reject = no so each list answers at its own command.
fn seed_003() -> (TestHost, restrictions::Restrictions) {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .table("hash:/etc/postfix/client_access", "10.0.0.1", "OK")
        .table(
            "regexp:/etc/postfix/helo_access",
            "smtp.goodfriend.com",
            "OK",
        )
        .table("hash:/etc/postfix/etrn_access", "other.com", "OK")
        .empty_table("hash:/etc/postfix/sender_access")
        .empty_table("hash:/etc/postfix/recipient_access")
        .dns_answer(
            "mail.example.net",
            RecordType::A,
            vec![ResourceRecord::A("198.51.100.2".into())],
        )
        .dns_answer(
            "example.net",
            RecordType::A,
            vec![ResourceRecord::A("198.51.100.3".into())],
        );
    let p = plugin(&[
        ("smtpd_delay_reject", "no"),
        ("smtpd_helo_required", "yes"),
        ("strict_rfc821_envelopes", "yes"),
        ("mynetworks", "192.168.1.0/24, 127.0.0.0/8"),
        ("maps_rbl_domains", "relays.ordb.org,\n        inputs.orbz.org"),
        (
            "smtpd_client_restrictions",
            "check_client_access hash:/etc/postfix/client_access,\n        reject_unauth_pipelining,\n        reject_unknown_client,\n        reject_maps_rbl",
        ),
        (
            "smtpd_helo_restrictions",
            "check_helo_access regexp:/etc/postfix/helo_access,\n        reject_invalid_hostname,\n        reject_unknown_hostname,\n        reject_non_fqdn_hostname",
        ),
        ("smtpd_etrn_restrictions", "check_etrn_access hash:/etc/postfix/etrn_access"),
        (
            "smtpd_sender_restrictions",
            "check_sender_access hash:/etc/postfix/sender_access,\n        reject_unknown_sender_domain,\n        reject_non_fqdn_sender",
        ),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access hash:/etc/postfix/recipient_access,\n        reject_unknown_recipient_domain,\n        reject_non_fqdn_recipient,\n        check_relay_domains",
        ),
    ]);
    (host, p)
}

#[test]
fn seed_003_connect_stage() {
    let (host, mut p) = seed_003();
    assert!(host.logged("\"reject_maps_rbl\" is obsolete"));
    let stranger = ctx(Stage::Connect).client("192.0.2.50", "unknown");
    assert_eq!(
        line(&p.connect(&stranger)),
        "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.50]"
    );
    // The friend without a PTR record, let in by client_access OK.
    assert_eq!(
        line(&p.connect(&ctx(Stage::Connect).client("10.0.0.1", "unknown"))),
        "OK"
    );
    // A named client passes; the DNS lists are the rbl plugin's (DUNNO here).
    assert_eq!(
        line(&p.connect(&ctx(Stage::Connect).client("198.51.100.2", "mail.example.net"))),
        "DUNNO"
    );
}

#[test]
fn seed_003_helo_and_etrn_stages() {
    let (_host, mut p) = seed_003();
    let helo = |name: &str| {
        ctx(Stage::Helo)
            .client("198.51.100.2", "mail.example.net")
            .helo(name)
    };
    assert_eq!(
        line(&p.helo(&helo("smtp.goodfriend.com"))),
        "OK",
        "friend with no DNS"
    );
    // The howto's imbad.spammer.com: "Host not found".
    assert_eq!(
        line(&p.helo(&helo("imbad.spammer.com"))),
        "450 4.7.1 <imbad.spammer.com>: Helo command rejected: Host not found"
    );
    assert_eq!(
        line(&p.helo(&helo("bad_helo!"))),
        "501 5.5.2 <bad_helo!>: Helo command rejected: Invalid name"
    );
    assert_eq!(line(&p.helo(&helo("mail.example.net"))), "DUNNO");
    let etrn = ctx(Stage::Etrn)
        .client("198.51.100.2", "mail.example.net")
        .helo("mail.example.net");
    assert_eq!(line(&p.etrn(&etrn, "other.com")), "OK");
    assert_eq!(line(&p.etrn(&etrn, "elsewhere.example")), "DUNNO");
    // ETRN or MAIL before HELO (smtpd_helo_required) never reaches the
    // plugin: smtpd answers its own 503 first, as Postfix
    // (tests/tests/restrictions_names.rs proves it over SMTP).
}

#[test]
fn seed_003_mail_and_rcpt_stages() {
    let (_host, mut p) = seed_003();
    let session = ctx(Stage::Mail)
        .client("198.51.100.2", "mail.example.net")
        .helo("mail.example.net");
    assert_eq!(
        mail(&mut p, &session.clone().sender("a@example.net")),
        "DUNNO"
    );
    assert_eq!(
        mail(&mut p, &session.clone().sender("a@nonexist.invalid")),
        "450 4.1.8 <a@nonexist.invalid>: Sender address rejected: Domain not found"
    );
    assert_eq!(
        mail(&mut p, &session.clone().sender("joe")),
        "504 5.5.2 <joe>: Sender address rejected: need fully-qualified address"
    );
    let session = session.sender("a@example.net");
    assert_eq!(rcpt(&mut p, &session, "niceguy@example.com"), "OK");
    // The howto predates smtpd_relay_restrictions: today's default relay
    // list (…, defer_unauth_destination) answers first, as Postfix 3 does.
    assert_eq!(
        rcpt(&mut p, &session, "victim@example.net"),
        "454 4.7.1 <victim@example.net>: Relay access denied"
    );
    // mynetworks relays through check_relay_domains.
    let inside = ctx(Stage::Rcpt)
        .client("192.168.1.20", "unknown")
        .helo("ws1.example.com")
        .sender("u@example.com");
    assert_eq!(rcpt(&mut p, &inside, "someone@example.net"), "OK");
    assert_eq!(
        rcpt(&mut p, &inside, "x@nonexist.invalid"),
        "450 4.1.2 <x@nonexist.invalid>: Recipient address rejected: Domain not found"
    );

    // With smtpd_delay_reject = no, RCPT does not rerun the client list.
    let stranger = ctx(Stage::Rcpt)
        .client("192.0.2.50", "unknown")
        .helo("mail.example.net")
        .sender("a@example.net");
    assert_eq!(rcpt(&mut p, &stranger, "niceguy@example.com"), "OK");
}

/// Seed 003's custom UCE restriction: a class named on a table's right-hand side.
#[test]
fn seed_003_restriction_class() {
    let host = TestHost::new().install();
    host.table(
        "regexp:/etc/postfix/helo_friends",
        "smtp.goodfriend.com",
        "friends_only",
    )
    .table("regexp:/etc/postfix/friends", "smtp.goodfriend.com", "OK")
    .table(
        "regexp:/etc/postfix/helo_friends",
        "smtp.fakefriend.com",
        "friends_only",
    );
    let mut p = plugin(&[
        ("smtpd_delay_reject", "no"),
        (
            "smtpd_helo_restrictions",
            "regexp:/etc/postfix/helo_friends,\n        reject_invalid_hostname,\n        reject_unknown_hostname,\n        reject_non_fqdn_hostname",
        ),
        ("smtpd_restriction_classes", "friends_only"),
        ("friends_only", "check_helo_access regexp:/etc/postfix/friends"),
    ]);
    let helo = |name: &str| ctx(Stage::Helo).helo(name);
    assert_eq!(line(&p.helo(&helo("smtp.goodfriend.com"))), "OK");
    // The class falls through for a name the friends table lacks: the
    // remaining checks run (and the DNS knows no such host).
    assert_eq!(
        line(&p.helo(&helo("smtp.fakefriend.com"))),
        "450 4.7.1 <smtp.fakefriend.com>: Helo command rejected: Host not found"
    );
}

/// "Postfix" (seed 002): an inbound gateway in front of Exchange that
/// accepts only listed recipients, via check_recipient_access in the
/// sender list (evaluated at RCPT under smtpd_delay_reject = yes).
#[test]
fn seed_002_inbound_recipient_filter() {
    let host = TestHost::new().install();
    host.route("example.org", AddressClass::Relay, "relay")
        .table("hash:/etc/postfix/access-inbound", "user@example.org", "OK")
        .table("hash:/etc/postfix/access-inbound", "example.org", "REJECT");
    let mut p = plugin(&[(
        "smtpd_sender_restrictions",
        "check_recipient_access\n hash:/etc/postfix/access-inbound",
    )]);
    let c = ctx(Stage::Rcpt)
        .client("203.0.113.9", "mx.sender.example")
        .helo("mx.sender.example")
        .sender("s@sender.example");
    assert_eq!(rcpt(&mut p, &c, "user@example.org"), "DUNNO");
    assert_eq!(
        rcpt(&mut p, &c, "nobody@example.org"),
        "554 5.7.1 <nobody@example.org>: Recipient address rejected: Access denied"
    );
    // Safe default relay restrictions still apply.
    assert_eq!(
        rcpt(&mut p, &c, "x@remote.test"),
        "454 4.7.1 <x@remote.test>: Relay access denied"
    );
}

/// Seed 001: the intended `[::ffff:127.0.0.0]/104 [::1]/128` lets loopback
/// clients relay and nobody else.
#[test]
fn seed_001_mynetworks() {
    let _host = TestHost::new().install();
    let mut p = plugin(&[("mynetworks", "[::ffff:127.0.0.0]/104 [::1]/128,")]);
    for (client, expected) in [
        ("::ffff:127.0.0.1", "DUNNO"),
        ("::1", "DUNNO"),
        (
            "203.0.113.9",
            "454 4.7.1 <x@remote.test>: Relay access denied",
        ),
        (
            "::ffff:203.0.113.9",
            "454 4.7.1 <x@remote.test>: Relay access denied",
        ),
    ] {
        assert_eq!(
            rcpt(
                &mut p,
                &ctx(Stage::Rcpt).client(client, "unknown"),
                "x@remote.test"
            ),
            expected,
            "{client}"
        );
    }
}
