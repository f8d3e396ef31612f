//! check_*_access and the access(5) actions. Reply texts as the reference
//! Postfix 3.7 answered for the same table values.

mod common;

use common::{line, mail, plugin, rcpt, NO_RELAY_CHECK};
use mta_sdk::testing::{ctx, TestHost};
use mta_sdk::{Plugin, Stage};

const CLIENTS: &str = "hash:/etc/postfix/client_access";

fn client_table(host: &TestHost) {
    for (key, value) in [
        ("127.0.0.5", "REJECT"),
        ("127.0.0.6", "REJECT go away"),
        ("127.0.0.7", "450 try later"),
        ("127.0.0.8", "550 5.7.0 custom text"),
        ("127.0.0.9", "DEFER"),
        ("127.0.0.10", "DEFER_IF_PERMIT"),
        ("127.0.0.11", "4.7.9 odd"),
        ("127.0.0.12", "classa"),
        ("127.0.0.13", "reject_unauth_destination"),
        ("127.0.0.14", "WARN hello"),
        ("127.0.0.15", "HOLD"),
        ("127.0.0.16", "OK"),
        ("127.0.0.17", "DUNNO"),
        ("127.0.0.18", "12345"),
        ("127.0.0.19", "DISCARD spam trap"),
        ("127.0.0.20", "permit_mynetworks, reject"),
        ("127.0.0.21", "DEFER_IF_REJECT"),
        ("127.0.0.22", "550 4.7.1 class mismatch"),
        ("127.0.0.23", "REDIRECT spam@example.com"),
        ("127.0.0", "REJECT whole net"),
    ] {
        host.table(CLIENTS, key, value);
    }
}

fn start() -> (TestHost, restrictions::Restrictions) {
    let host = TestHost::new().install();
    host.route(
        "example.com",
        mta_sdk::resolve::AddressClass::Local,
        "local",
    );
    client_table(&host);
    let p = plugin(&[
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_restriction_classes", "classa"),
        ("classa", "reject"),
        (
            "smtpd_client_restrictions",
            &format!("check_client_access {CLIENTS}"),
        ),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, reject_unauth_destination",
        ),
    ]);
    (host, p)
}

fn client(p: &mut restrictions::Restrictions, address: &str, to: &str) -> String {
    let c = ctx(Stage::Rcpt)
        .client(address, "unknown")
        .helo("ok.example.com")
        .sender("a@b.example.com");
    rcpt(p, &c, to)
}

#[test]
fn client_access_actions_match_postfix() {
    let (host, mut p) = start();
    let cases = [
        (
            "127.0.0.5",
            "554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: Access denied",
        ),
        (
            "127.0.0.6",
            "554 5.7.1 <unknown[127.0.0.6]>: Client host rejected: go away",
        ),
        (
            "127.0.0.7",
            "450 4.7.1 <unknown[127.0.0.7]>: Client host rejected: try later",
        ),
        (
            "127.0.0.8",
            "550 5.7.0 <unknown[127.0.0.8]>: Client host rejected: custom text",
        ),
        (
            "127.0.0.9",
            "450 4.7.1 <unknown[127.0.0.9]>: Client host rejected: Access denied",
        ),
        ("127.0.0.11", "451 4.3.5 Server configuration error"),
        (
            "127.0.0.12",
            "554 5.7.1 <unknown[127.0.0.12]>: Client host rejected: Access denied",
        ),
        (
            "127.0.0.20",
            "554 5.7.1 <unknown[127.0.0.20]>: Client host rejected: Access denied",
        ),
        (
            "127.0.0.22",
            "550 5.7.1 <unknown[127.0.0.22]>: Client host rejected: class mismatch",
        ),
        (
            "127.0.0.99",
            "554 5.7.1 <unknown[127.0.0.99]>: Client host rejected: whole net",
        ),
    ];
    for (address, expected) in cases {
        assert_eq!(
            client(&mut p, address, "x@example.com"),
            expected,
            "client {address}"
        );
    }
    assert!(
        host.logged("unknown restriction \"4.7.9\""),
        "{:?}",
        host.logs()
    );
}

#[test]
fn accepting_actions_end_only_the_client_list() {
    let (host, mut p) = start();
    // OK, DUNNO and all-numeric (pop-before-smtp) pass the client list; the
    // recipient list still refuses relaying.
    for address in ["127.0.0.16", "127.0.0.17", "127.0.0.18"] {
        assert_eq!(
            client(&mut p, address, "x@example.com"),
            "DUNNO",
            "client {address}"
        );
        assert_eq!(
            client(&mut p, address, "x@remote.test"),
            "554 5.7.1 <x@remote.test>: Relay access denied",
            "client {address}"
        );
    }
    // A restriction as the value applies to the recipient being checked.
    assert_eq!(client(&mut p, "127.0.0.13", "x@example.com"), "DUNNO");
    assert_eq!(
        client(&mut p, "127.0.0.13", "x@remote.test"),
        "554 5.7.1 <x@remote.test>: Relay access denied"
    );
    assert!(!host.logged("reject_warning"));
}

#[test]
fn conditional_and_side_actions() {
    let (host, mut p) = start();
    assert_eq!(
        client(&mut p, "127.0.0.10", "x@example.com"),
        "DEFER_IF_PERMIT 450 4.7.1 <unknown[127.0.0.10]>: Client host rejected: Service unavailable"
    );
    // A later reject beats defer_if_permit (Postfix answered 554 Relay access denied).
    assert_eq!(
        client(&mut p, "127.0.0.10", "x@remote.test"),
        "554 5.7.1 <x@remote.test>: Relay access denied"
    );
    // defer_if_reject turns a later reject into a deferral.
    assert_eq!(
        client(&mut p, "127.0.0.21", "x@remote.test"),
        "450 4.7.1 <unknown[127.0.0.21]>: Client host rejected: Service unavailable"
    );
    assert_eq!(
        client(&mut p, "127.0.0.21", "x@example.com"),
        "DEFER_IF_REJECT 450 4.7.1 <unknown[127.0.0.21]>: Client host rejected: Service unavailable"
    );
    assert_eq!(client(&mut p, "127.0.0.15", "x@example.com"), "HOLD ");
    assert_eq!(
        client(&mut p, "127.0.0.19", "x@example.com"),
        "DISCARD spam trap"
    );
    // DISCARD ends all judging (the reference answered 250 to a relay attempt).
    assert_eq!(
        client(&mut p, "127.0.0.19", "x@remote.test"),
        "DISCARD spam trap"
    );
    // HOLD does not: relay control still runs after it.
    assert_eq!(
        client(&mut p, "127.0.0.15", "x@remote.test"),
        "554 5.7.1 <x@remote.test>: Relay access denied"
    );
    assert_eq!(
        client(&mut p, "127.0.0.23", "x@example.com"),
        "REDIRECT spam@example.com"
    );
    assert_eq!(client(&mut p, "127.0.0.14", "x@example.com"), "DUNNO");
    assert!(
        host.logged("NOQUEUE: warn: RCPT from unknown[127.0.0.14]: hello; from=<a@b.example.com> to=<x@example.com> proto=ESMTP helo=<ok.example.com>"),
        "{:?}",
        host.logs()
    );
}

#[test]
fn every_access_check_uses_its_own_key_and_reply_name() {
    let host = TestHost::new().install();
    host.table("hash:helo", "badhelo.test", "REJECT")
        .table("hash:sender", "bad@sender.test", "REJECT")
        .table("hash:sender", "<>", "550 5.7.1 no bounces here")
        .table(
            "hash:sender",
            "spammer.test",
            "REJECT Geeks have no time for this",
        )
        .table("hash:rcpt", "rej@example.com", "REJECT")
        .table("hash:rcpt", "def@example.com", "DEFER")
        .table("hash:rcpt", "rej2@example.com", "reject")
        .table("hash:rcpt", "postmaster@", "OK")
        .table("hash:etrn", "x.y", "REJECT")
        .table("hash:rev", "ptr.example", "REJECT not you");
    let mut p = plugin(&[
        ("smtpd_helo_restrictions", "check_helo_access hash:helo"),
        (
            "smtpd_sender_restrictions",
            "check_sender_access hash:sender",
        ),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access hash:rcpt",
        ),
        ("smtpd_etrn_restrictions", "check_etrn_access hash:etrn"),
        (
            "smtpd_client_restrictions",
            "check_reverse_client_hostname_access hash:rev",
        ),
    ]);
    let base = ctx(Stage::Rcpt)
        .client("192.0.2.1", "unknown")
        .helo("a.b.c")
        .sender("a@b.c");
    assert_eq!(
        rcpt(&mut p, &base.clone().helo("badhelo.test"), "x@example.com"),
        "554 5.7.1 <badhelo.test>: Helo command rejected: Access denied"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &base.clone().sender("bad@sender.test"),
            "x@example.com"
        ),
        "554 5.7.1 <bad@sender.test>: Sender address rejected: Access denied"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &base.clone().sender("someone@mx.spammer.test"),
            "x@example.com"
        ),
        "554 5.7.1 <someone@mx.spammer.test>: Sender address rejected: Geeks have no time for this"
    );
    assert_eq!(
        rcpt(&mut p, &base.clone().sender(""), "x@example.com"),
        "550 5.7.1 <>: Sender address rejected: no bounces here"
    );
    assert_eq!(
        rcpt(&mut p, &base, "rej@example.com"),
        "554 5.7.1 <rej@example.com>: Recipient address rejected: Access denied"
    );
    assert_eq!(
        rcpt(&mut p, &base, "def@example.com"),
        "450 4.7.1 <def@example.com>: Recipient address rejected: Access denied"
    );
    assert_eq!(
        rcpt(&mut p, &base, "rej2@example.com"),
        "554 5.7.1 <rej2@example.com>: Recipient address rejected: Access denied"
    );
    assert_eq!(rcpt(&mut p, &base, "postmaster@anything.example"), "OK");
    assert_eq!(
        rcpt(
            &mut p,
            &base.clone().unverified_name("host.ptr.example"),
            "x@example.com"
        ),
        "554 5.7.1 <host.ptr.example[192.0.2.1]>: Client host rejected: not you"
    );
    let etrn = ctx(Stage::Etrn).helo("a.b.c");
    assert_eq!(
        line(&p.etrn(&etrn, "x.y")),
        "554 5.7.1 <x.y>: Etrn command rejected: Access denied"
    );
    assert_eq!(line(&p.etrn(&etrn, "other.example")), "DUNNO");
    // Nothing looked at before MAIL when smtpd_delay_reject = yes.
    assert_eq!(
        mail(&mut p, &base.clone().sender("bad@sender.test")),
        "DUNNO"
    );
}

#[test]
fn table_failures_answer_451_never_pass() {
    let host = TestHost::new().install();
    host.table_unavailable("hash:down");
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access hash:down, permit",
        ),
    ]);
    let c = ctx(Stage::Rcpt);
    assert_eq!(
        rcpt(&mut p, &c, "x@example.com"),
        "451 4.3.0 <x@example.com>: Temporary lookup failure"
    );
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access hash:not-granted, permit",
        ),
    ]);
    assert_eq!(
        rcpt(&mut p, &c, "x@example.com"),
        "451 4.3.5 Server configuration error"
    );
    assert!(
        host.logged("hash:not-granted: table not granted"),
        "{:?}",
        host.logs()
    );
}

#[test]
fn warn_if_reject_logs_instead_of_rejecting() {
    let host = TestHost::new().install();
    host.table("hash:rcpt", "w@example.com", "warn_if_reject reject");
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access hash:rcpt, warn_if_reject reject_non_fqdn_recipient, permit",
        ),
    ]);
    let c = ctx(Stage::Rcpt)
        .client("192.0.2.1", "unknown")
        .helo("h.example")
        .sender("s@a.example");
    assert_eq!(rcpt(&mut p, &c, "w@example.com"), "OK");
    assert_eq!(rcpt(&mut p, &c, "x@nofqdn"), "OK");
    assert!(host.logged(
        "NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 504 5.5.2 <x@nofqdn>: Recipient address rejected: need fully-qualified address; from=<s@a.example> to=<x@nofqdn> proto=ESMTP helo=<h.example>"
    ), "{:?}", host.logs());
    assert!(host.logged("554 5.7.1 <w@example.com>: Recipient address rejected: Access denied"));
}
