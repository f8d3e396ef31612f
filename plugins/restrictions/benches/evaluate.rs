//! How long one RCPT evaluation takes natively, for the seed 003 lists
//! (every stage's list at RCPT, smtpd_delay_reject = yes). Prints figures;
//! run with `cargo bench -p restrictions`.

use mta_sdk::dns::{RecordType, ResourceRecord};
use mta_sdk::resolve::AddressClass;
use mta_sdk::testing::{addr, ctx, start, TestHost};
use mta_sdk::{Config, Plugin, Stage};
use restrictions::Restrictions;
use std::time::Instant;

fn main() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .table("hash:/etc/postfix/client_access", "10.0.0.1", "OK")
        .empty_table("regexp:/etc/postfix/helo_access")
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
    let config = [
        ("mynetworks", "192.168.1.0/24, 127.0.0.0/8"),
        ("smtpd_client_restrictions", "check_client_access hash:/etc/postfix/client_access, reject_unauth_pipelining, reject_unknown_client_hostname"),
        ("smtpd_helo_restrictions", "check_helo_access regexp:/etc/postfix/helo_access, reject_invalid_helo_hostname, reject_unknown_helo_hostname, reject_non_fqdn_helo_hostname"),
        ("smtpd_sender_restrictions", "check_sender_access hash:/etc/postfix/sender_access, reject_unknown_sender_domain, reject_non_fqdn_sender"),
        ("smtpd_recipient_restrictions", "check_recipient_access hash:/etc/postfix/recipient_access, reject_unknown_recipient_domain, reject_non_fqdn_recipient, permit_mynetworks, reject_unauth_destination"),
    ]
    .iter()
    .fold(Config::empty(), |c, (k, v)| c.with_setting(*k, *v));

    let started = Instant::now();
    let rounds = 1_000u32;
    for _ in 0..rounds {
        let _ = start::<Restrictions>(&config).expect("init");
    }
    let init = started.elapsed() / rounds;

    let mut plugin = start::<Restrictions>(&config).expect("init");
    let session = ctx(Stage::Rcpt)
        .client("198.51.100.2", "mail.example.net")
        .helo("mail.example.net")
        .sender("a@example.net");
    let rcpt = addr("someone@example.com");
    let rounds = 20_000u32;
    let started = Instant::now();
    for _ in 0..rounds {
        let verdict = plugin.rcpt(&session, &rcpt);
        assert_eq!(verdict, mta_sdk::Verdict::Dunno);
    }
    let per_rcpt = started.elapsed() / rounds;
    println!("init (parse all lists): {init:?} per instance");
    println!("rcpt, seed 003 lists, 4 lookups + 2 DNS batches + 2 resolves (fake host): {per_rcpt:?} per call");
}
