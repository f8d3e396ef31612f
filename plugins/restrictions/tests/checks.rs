//! The built-in checks that need no table: HELO syntax, FQDN rules, client
//! name status, DNS existence, pipelining, and the stage plumbing
//! (smtpd_delay_reject, smtpd_helo_required, data and end-of-data lists).

mod common;

use common::{line, mail, plugin, rcpt, NO_RELAY_CHECK};
use mta_sdk::dns::{DnsError, MxRecord, RecordType, ResourceRecord};
use mta_sdk::resolve::AddressClass;
use mta_sdk::testing::{ctx, TestHost};
use mta_sdk::{Plugin, Stage};

fn only_recipient_list(list: &str) -> Vec<(&'static str, String)> {
    vec![
        ("smtpd_relay_restrictions", NO_RELAY_CHECK.to_string()),
        ("smtpd_recipient_restrictions", list.to_string()),
    ]
}

fn start(settings: Vec<(&'static str, String)>) -> restrictions::Restrictions {
    let pairs: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    plugin(&pairs)
}

#[test]
fn helo_syntax_checks() {
    let _host = TestHost::new().install();
    let mut p = start(only_recipient_list(
        "reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname",
    ));
    let c = |helo: &str| ctx(Stage::Rcpt).helo(helo);
    assert_eq!(
        rcpt(&mut p, &c("bad_helo!"), "x@example.com"),
        "501 5.5.2 <bad_helo!>: Helo command rejected: Invalid name"
    );
    assert_eq!(
        rcpt(&mut p, &c("nodots"), "x@example.com"),
        "504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname"
    );
    assert_eq!(rcpt(&mut p, &c("[192.0.2.1]"), "x@example.com"), "DUNNO");
    // The rest as the reference Postfix 3.7 answered them.
    for (helo, expected) in [
        ("mail.example.com.", "DUNNO"),
        (
            "1.2.3.4",
            "504 5.5.2 <1.2.3.4>: Helo command rejected: need fully-qualified hostname",
        ),
        (
            "[300.1.1.1]",
            "501 5.5.2 <[300.1.1.1]>: Helo command rejected: invalid ip address",
        ),
        ("[IPv6:2001:db8::1]", "DUNNO"),
        ("under_score.example.com", "DUNNO"),
        (
            "-lead.example.com",
            "501 5.5.2 <-lead.example.com>: Helo command rejected: Invalid name",
        ),
        (
            "a..b.com",
            "501 5.5.2 <a..b.com>: Helo command rejected: Invalid name",
        ),
        ("mail.123", "DUNNO"),
        ("123.example.com", "DUNNO"),
    ] {
        assert_eq!(
            rcpt(&mut p, &c(helo), "x@example.com"),
            expected,
            "HELO {helo}"
        );
    }
    assert_eq!(
        rcpt(&mut p, &c("mail.example.com"), "x@example.com"),
        "DUNNO"
    );
    assert_eq!(
        rcpt(&mut p, &ctx(Stage::Rcpt), "x@example.com"),
        "DUNNO",
        "no HELO, nothing to check"
    );
}

#[test]
fn fqdn_address_checks() {
    let _host = TestHost::new().install();
    let mut p = start(only_recipient_list(
        "reject_non_fqdn_sender, reject_non_fqdn_recipient",
    ));
    let c = ctx(Stage::Rcpt).helo("a.b.c");
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("nofqdn"), "x@example.com"),
        "504 5.5.2 <nofqdn>: Sender address rejected: need fully-qualified address"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender(""), "x@example.com"),
        "DUNNO",
        "null sender passes"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("a@b.c"), "nofqdn"),
        "504 5.5.2 <nofqdn>: Recipient address rejected: need fully-qualified address"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("a@b.c"), "x@nofqdn"),
        "504 5.5.2 <x@nofqdn>: Recipient address rejected: need fully-qualified address"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("a@b.c"), "x@[192.0.2.1]"),
        "DUNNO"
    );
    for (sender, expected) in [
        (
            "a@b.",
            "504 5.5.2 <a@b.>: Sender address rejected: need fully-qualified address",
        ),
        ("a@b.c.", "DUNNO"),
        ("a@[1.2.3.4]", "DUNNO"),
        ("a@1.2.3.4", "DUNNO"),
    ] {
        assert_eq!(
            rcpt(&mut p, &c.clone().sender(sender), "x@example.com"),
            expected,
            "MAIL FROM:<{sender}>"
        );
    }
}

#[test]
fn client_name_checks_use_the_session_facts() {
    let _host = TestHost::new().install();
    let mut p = start(only_recipient_list(
        "reject_unknown_reverse_client_hostname, reject_unknown_client_hostname",
    ));
    let unknown = ctx(Stage::Rcpt).client("127.0.0.2", "unknown");
    assert_eq!(
        rcpt(&mut p, &unknown, "x@example.com"),
        "450 4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.2]"
    );
    let unconfirmed = ctx(Stage::Rcpt)
        .client("127.0.0.2", "unknown")
        .unverified_name("ptr.example");
    assert_eq!(
        rcpt(&mut p, &unconfirmed, "x@example.com"),
        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &ctx(Stage::Rcpt).client("192.0.2.1", "mx.example"),
            "x@example.com"
        ),
        "DUNNO"
    );
    let temp = ctx(Stage::Rcpt)
        .client("127.0.0.2", "unknown")
        .name_lookup_failed()
        .build();
    assert_eq!(
        line(&p.rcpt(&temp, &mta_sdk::testing::addr("x@example.com"))),
        "DEFER_IF_PERMIT 450 4.7.1 Client host rejected: cannot find your reverse hostname, [127.0.0.2]"
    );
    // The configured code applies to the definite failure.
    let mut p = start(vec![
        ("smtpd_relay_restrictions", NO_RELAY_CHECK.to_string()),
        (
            "smtpd_recipient_restrictions",
            "reject_unknown_client".into(),
        ),
        ("unknown_client_reject_code", "550".into()),
    ]);
    assert_eq!(
        rcpt(&mut p, &unknown, "x@example.com"),
        "550 5.7.25 Client host rejected: cannot find your hostname, [127.0.0.2]"
    );
}

#[test]
fn unknown_helo_hostname_asks_the_dns() {
    let host = TestHost::new().install();
    host.dns_answer(
        "mail.example.org",
        RecordType::A,
        vec![ResourceRecord::A("192.0.2.5".into())],
    )
    .dns_error("slow.example.org", RecordType::A, DnsError::Timeout);
    let mut p = start(only_recipient_list("reject_unknown_helo_hostname"));
    let c = |h: &str| ctx(Stage::Rcpt).helo(h);
    assert_eq!(
        rcpt(&mut p, &c("mail.example.org"), "x@example.com"),
        "DUNNO"
    );
    assert_eq!(rcpt(&mut p, &c("[192.0.2.1]"), "x@example.com"), "DUNNO");
    assert_eq!(
        rcpt(&mut p, &c("nonexist.invalid"), "x@example.com"),
        "450 4.7.1 <nonexist.invalid>: Helo command rejected: Host not found"
    );
    assert_eq!(
        rcpt(&mut p, &c("slow.example.org"), "x@example.com"),
        "DEFER_IF_PERMIT 450 4.7.1 <slow.example.org>: Helo command rejected: Host not found"
    );
}

#[test]
fn unknown_sender_and_recipient_domains() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .dns_answer(
            "good.example",
            RecordType::Mx,
            vec![ResourceRecord::Mx(MxRecord {
                preference: 10,
                exchange: "mx.good.example".into(),
            })],
        )
        .dns_answer(
            "v6only.example",
            RecordType::Aaaa,
            vec![ResourceRecord::Aaaa("2001:db8::1".into())],
        )
        .dns_answer(
            "nullmx.example",
            RecordType::Mx,
            vec![ResourceRecord::Mx(MxRecord {
                preference: 0,
                exchange: ".".into(),
            })],
        )
        .dns_error(
            "servfail.example",
            RecordType::Mx,
            DnsError::ServerFailure("SERVFAIL".into()),
        );
    let mut p = start(only_recipient_list(
        "reject_unknown_sender_domain, reject_unknown_recipient_domain",
    ));
    let from = |s: &str| ctx(Stage::Rcpt).helo("h.example").sender(s);
    assert_eq!(
        rcpt(&mut p, &from("a@good.example"), "b@v6only.example"),
        "DUNNO"
    );
    assert_eq!(rcpt(&mut p, &from(""), "b@good.example"), "DUNNO");
    assert_eq!(
        rcpt(&mut p, &from("a@nonexist.invalid"), "b@good.example"),
        "450 4.1.8 <a@nonexist.invalid>: Sender address rejected: Domain not found"
    );
    assert_eq!(
        rcpt(&mut p, &from("a@nullmx.example"), "b@good.example"),
        "556 5.7.27 <a@nullmx.example>: Sender address rejected: Domain nullmx.example does not accept mail (nullMX)"
    );
    assert_eq!(
        rcpt(&mut p, &from("a@servfail.example"), "b@good.example"),
        "DEFER_IF_PERMIT 450 4.1.8 <a@servfail.example>: Sender address rejected: Domain not found"
    );
    assert_eq!(
        rcpt(&mut p, &from("a@good.example"), "b@nonexist.invalid"),
        "450 4.1.2 <b@nonexist.invalid>: Recipient address rejected: Domain not found"
    );
    assert_eq!(
        rcpt(&mut p, &from("a@good.example"), "b@nullmx.example"),
        "556 5.1.10 <b@nullmx.example>: Recipient address rejected: Domain nullmx.example does not accept mail (nullMX)"
    );
    // Our own domains are not looked up in DNS.
    assert_eq!(
        rcpt(&mut p, &from("a@example.com"), "b@example.com"),
        "DUNNO"
    );
    // unknown_address_tempfail_action = defer makes the DNS failure final.
    let mut p = start(vec![
        ("smtpd_relay_restrictions", NO_RELAY_CHECK.to_string()),
        (
            "smtpd_recipient_restrictions",
            "reject_unknown_sender_domain, permit".into(),
        ),
        ("unknown_address_tempfail_action", "defer".into()),
    ]);
    assert_eq!(
        rcpt(&mut p, &from("a@servfail.example"), "b@good.example"),
        "450 4.1.8 <a@servfail.example>: Sender address rejected: Domain not found"
    );
}

#[test]
fn unauth_pipelining_data_and_end_of_data() {
    let host = TestHost::new().install();
    host.table("hash:s", "d@a.b", "reject")
        .table("hash:s", "e@a.b", "reject");
    let mut p = start(vec![
        (
            "smtpd_data_restrictions",
            "check_sender_access hash:s, reject_unauth_pipelining".into(),
        ),
        ("smtpd_end_of_data_restrictions", "reject".into()),
    ]);
    let c = ctx(Stage::Data)
        .helo("localhost")
        .sender("a@localhost")
        .rcpt("root@example.com");
    assert_eq!(line(&p.data(&c)), "DUNNO");
    assert_eq!(
        line(&p.data(&c.clone().improper_pipelining())),
        "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining"
    );
    assert_eq!(
        line(&p.data(&c.clone().sender("d@a.b"))),
        "554 5.7.1 <d@a.b>: Sender address rejected: Access denied"
    );
    assert_eq!(
        line(&p.end_of_message(&c.clone().stage(Stage::EndOfMessage))),
        "554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied"
    );
    let mut p = start(vec![("smtpd_etrn_restrictions", "reject".into())]);
    assert_eq!(
        line(&p.etrn(&ctx(Stage::Etrn).helo("a.b.c"), "example.com")),
        "554 5.7.1 <example.com>: Etrn command rejected: Access denied"
    );
}

#[test]
fn delay_reject_decides_where_client_helo_and_sender_lists_run() {
    let host = TestHost::new().install();
    host.table("hash:c", "192.0.2.66", "REJECT")
        .route("example.com", AddressClass::Local, "local");
    let lists = |delay: &str| {
        vec![
            ("smtpd_delay_reject", delay.to_string()),
            (
                "smtpd_client_restrictions",
                "check_client_access hash:c".to_string(),
            ),
            (
                "smtpd_helo_restrictions",
                "reject_non_fqdn_helo_hostname".to_string(),
            ),
            (
                "smtpd_sender_restrictions",
                "reject_non_fqdn_sender".to_string(),
            ),
        ]
    };
    let bad = ctx(Stage::Connect).client("192.0.2.66", "unknown");
    let client_reject = "554 5.7.1 <unknown[192.0.2.66]>: Client host rejected: Access denied";
    // yes (default): nothing before RCPT, then everything at RCPT.
    let mut p = start(lists("yes"));
    assert_eq!(line(&p.connect(&bad)), "DUNNO");
    assert_eq!(
        line(&p.helo(&bad.clone().stage(Stage::Helo).helo("nodots"))),
        "DUNNO"
    );
    assert_eq!(
        mail(&mut p, &bad.clone().helo("nodots").sender("x")),
        "DUNNO"
    );
    assert_eq!(rcpt(&mut p, &bad, "u@example.com"), client_reject);
    let good = ctx(Stage::Rcpt).client("192.0.2.1", "unknown");
    assert_eq!(
        rcpt(&mut p, &good.clone().helo("nodots"), "u@example.com"),
        "504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &good.clone().helo("a.b.c").sender("x"),
            "u@example.com"
        ),
        "504 5.5.2 <x>: Sender address rejected: need fully-qualified address"
    );
    // no: each list at its own command, not again at RCPT.
    let mut p = start(lists("no"));
    assert_eq!(line(&p.connect(&bad)), client_reject);
    assert_eq!(
        line(&p.helo(&good.clone().stage(Stage::Helo).helo("nodots"))),
        "504 5.5.2 <nodots>: Helo command rejected: need fully-qualified hostname"
    );
    assert_eq!(
        mail(&mut p, &good.clone().helo("a.b.c").sender("x")),
        "504 5.5.2 <x>: Sender address rejected: need fully-qualified address"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &bad.clone().helo("nodots").sender("x"),
            "u@example.com"
        ),
        "DUNNO"
    );
}

/// smtpd_helo_required is smtpd's own protocol check (a 503 before any
/// restriction runs, with no reject log line, as Postfix); the plugin no
/// longer answers for it, so a MAIL that reaches it is judged by the lists.
#[test]
fn helo_required_is_left_to_smtpd() {
    let _host = TestHost::new().install();
    let mut p = start(vec![("smtpd_helo_required", "yes".into())]);
    assert_eq!(
        mail(&mut p, &ctx(Stage::Mail).sender("a@b.example")),
        "DUNNO"
    );
}

/// Reference Postfix: with `smtpd_helo_restrictions = reject` and no HELO,
/// RCPT got 250; after HELO it got the HELO reject.
#[test]
fn helo_list_is_skipped_without_helo() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local");
    let mut p = start(vec![("smtpd_helo_restrictions", "reject".into())]);
    let c = ctx(Stage::Rcpt)
        .client("127.0.0.1", "localhost")
        .sender("a@b.c");
    assert_eq!(rcpt(&mut p, &c, "x@example.com"), "DUNNO");
    assert_eq!(
        rcpt(&mut p, &c.clone().helo("h.example"), "x@example.com"),
        "554 5.7.1 <h.example>: Helo command rejected: Access denied"
    );
}

#[test]
fn etrn_runs_the_delayed_client_and_helo_lists_first() {
    let host = TestHost::new().install();
    host.table("hash:c", "192.0.2.66", "REJECT");
    let mut p = start(vec![
        (
            "smtpd_client_restrictions",
            "check_client_access hash:c".into(),
        ),
        ("smtpd_etrn_restrictions", "permit".into()),
    ]);
    let bad = ctx(Stage::Etrn)
        .client("192.0.2.66", "unknown")
        .helo("h.example");
    assert_eq!(
        line(&p.etrn(&bad, "example.com")),
        "554 5.7.1 <unknown[192.0.2.66]>: Client host rejected: Access denied"
    );
    let good = ctx(Stage::Etrn)
        .client("192.0.2.1", "unknown")
        .helo("h.example");
    assert_eq!(line(&p.etrn(&good, "example.com")), "OK");
}

#[test]
fn a_broken_mynetworks_table_defers_instead_of_relaying() {
    let host = TestHost::new().install();
    host.table_unavailable("cidr:/etc/postfix/nets");
    let mut p = start(vec![("mynetworks", "cidr:/etc/postfix/nets".into())]);
    let c = ctx(Stage::Rcpt).client("198.51.100.4", "unknown");
    assert_eq!(
        rcpt(&mut p, &c, "x@remote.test"),
        "451 4.3.0 <unknown[198.51.100.4]>: Temporary lookup failure"
    );
}
