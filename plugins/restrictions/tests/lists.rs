//! Restriction classes, reject_unlisted_*, sender login maps, DNS-list
//! hand-off, init errors and the plugin's description.

mod common;

use common::{mail, plugin, rcpt, try_plugin, NO_RELAY_CHECK};
use mta_sdk::resolve::AddressClass;
use mta_sdk::testing::{check_description, ctx, TestHost};
use mta_sdk::{Capability, Plugin, Stage};
use restrictions::Restrictions;

#[test]
fn restriction_classes_from_table_values() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .table(
            "hash:/etc/postfix/recipient_access",
            "sales@example.com",
            "permissive",
        )
        .table(
            "hash:/etc/postfix/recipient_access",
            "abuse@example.com",
            "restrictive",
        )
        .table("hash:/etc/postfix/blocked", "spammer.test", "REJECT");
    let mut p = plugin(&[
        ("smtpd_restriction_classes", "permissive, restrictive"),
        ("permissive", "permit"),
        (
            "restrictive",
            "check_sender_access hash:/etc/postfix/blocked, permit",
        ),
        (
            "smtpd_relay_restrictions",
            "permit_mynetworks, reject_unauth_destination",
        ),
        (
            "smtpd_recipient_restrictions",
            "check_recipient_access hash:/etc/postfix/recipient_access, reject_non_fqdn_sender",
        ),
    ]);
    let c = ctx(Stage::Rcpt)
        .helo("h.example")
        .sender("x@mx.spammer.test");
    assert_eq!(rcpt(&mut p, &c, "sales@example.com"), "OK");
    assert_eq!(
        rcpt(&mut p, &c, "abuse@example.com"),
        "554 5.7.1 <x@mx.spammer.test>: Sender address rejected: Access denied"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &c.clone().sender("ok@good.example"),
            "abuse@example.com"
        ),
        "OK"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("nofqdn"), "other@example.com"),
        "504 5.5.2 <nofqdn>: Sender address rejected: need fully-qualified address"
    );
}

#[test]
fn a_class_that_names_itself_fails_safe() {
    let host = TestHost::new().install();
    let mut p = plugin(&[
        ("smtpd_restriction_classes", "loop"),
        ("loop", "loop"),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        ("smtpd_recipient_restrictions", "loop, permit"),
    ]);
    assert_eq!(
        rcpt(&mut p, &ctx(Stage::Rcpt), "x@example.com"),
        "451 4.3.5 Server configuration error"
    );
    assert!(host.logged("nests deeper"), "{:?}", host.logs());
}

#[test]
fn unlisted_recipients_by_address_class() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .route("alias.example", AddressClass::VirtualAlias, "virtual")
        .route("mbox.example", AddressClass::VirtualMailbox, "virtual")
        .route("relay.example", AddressClass::Relay, "relay")
        .table("unix:passwd.byname", "root", "x")
        .table("unix:passwd.byname", "alice", "x")
        .table("hash:/etc/aliases", "postmaster", "root")
        .table("hash:/etc/postfix/virtual", "info@alias.example", "alice")
        .table(
            "hash:/etc/postfix/vmailbox",
            "bob@mbox.example",
            "mbox.example/bob/",
        )
        .table("hash:/etc/postfix/relay_recipients", "@relay.example", "x");
    let settings = [
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "local_recipient_maps",
            "unix:passwd.byname, hash:/etc/aliases",
        ),
        ("virtual_alias_maps", "hash:/etc/postfix/virtual"),
        ("virtual_mailbox_maps", "hash:/etc/postfix/vmailbox"),
        ("relay_recipient_maps", "hash:/etc/postfix/relay_recipients"),
        ("recipient_delimiter", "+"),
    ];
    // smtpd_reject_unlisted_recipient = yes (default) runs it after the lists.
    let mut p = plugin(&settings);
    let c = ctx(Stage::Rcpt).helo("h.example").sender("s@a.example");
    for known in [
        "root@example.com",
        "alice+tag@example.com",
        "Alice@Example.COM",
        "postmaster@example.com",
        "info@alias.example",
        "bob@mbox.example",
        "anyone@relay.example",
        "x@remote.test",
    ] {
        assert_eq!(rcpt(&mut p, &c, known), "DUNNO", "{known}");
    }
    for (unknown, table) in [
        ("nobody@example.com", "local recipient"),
        ("nobody@alias.example", "virtual alias"),
        ("nobody@mbox.example", "virtual mailbox"),
    ] {
        assert_eq!(
            rcpt(&mut p, &c, unknown),
            format!(
                "550 5.1.1 <{unknown}>: Recipient address rejected: User unknown in {table} table"
            )
        );
    }
    // ... even after a permit, as Postfix does.
    let mut with_permit = settings.to_vec();
    with_permit.push(("smtpd_recipient_restrictions", "permit"));
    let mut p = plugin(&with_permit);
    assert_eq!(
        rcpt(&mut p, &c, "nobody@example.com"),
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table"
    );
    // Turned off, only the explicit restriction checks.
    let mut off = settings.to_vec();
    off.push(("smtpd_reject_unlisted_recipient", "no"));
    let mut p = plugin(&off);
    assert_eq!(rcpt(&mut p, &c, "nobody@example.com"), "DUNNO");
    off.push(("smtpd_recipient_restrictions", "reject_unlisted_recipient"));
    let mut p = plugin(&off);
    assert_eq!(
        rcpt(&mut p, &c, "nobody@example.com"),
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table"
    );
}

#[test]
fn unlisted_sender() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .table("unix:passwd.byname", "alice", "x");
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        ("smtpd_sender_restrictions", "reject_unlisted_sender"),
        ("local_recipient_maps", "unix:passwd.byname"),
        ("smtpd_reject_unlisted_recipient", "no"),
    ]);
    let c = ctx(Stage::Rcpt).helo("h.example");
    assert_eq!(
        rcpt(
            &mut p,
            &c.clone().sender("alice@example.com"),
            "x@example.com"
        ),
        "DUNNO"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("x@remote.test"), "x@example.com"),
        "DUNNO"
    );
    assert_eq!(
        rcpt(&mut p, &c.clone().sender("forged@example.com"), "x@example.com"),
        "550 5.1.1 <forged@example.com>: Sender address rejected: User unknown in local recipient table"
    );
}

/// Seed 004's fixed order: the login check first, then SASL, then relay control.
#[test]
fn sender_login_maps() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .table(
            "hash:/etc/postfix/controlled_envelope_senders",
            "alice@example.com",
            "alice",
        )
        .table(
            "hash:/etc/postfix/controlled_envelope_senders",
            "team@example.com",
            "alice bob",
        );
    let mut p = plugin(&[
        (
            "smtpd_sender_login_maps",
            "hash:/etc/postfix/controlled_envelope_senders",
        ),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "reject_sender_login_mismatch, permit_sasl_authenticated, reject_unauth_destination",
        ),
    ]);
    let c = ctx(Stage::Rcpt)
        .client("203.0.113.9", "unknown")
        .helo("h.example");
    let bob = c.clone().sasl("PLAIN", "bob");
    assert_eq!(
        rcpt(
            &mut p,
            &bob.clone().sender("team@example.com"),
            "x@remote.test"
        ),
        "OK"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &bob.clone().sender("alice@example.com"),
            "x@remote.test"
        ),
        "553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user bob"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &bob.clone().sender("random@elsewhere.example"),
            "x@remote.test"
        ),
        "553 5.7.1 <random@elsewhere.example>: Sender address rejected: not owned by user bob"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &c.clone().sender("alice@example.com"),
            "x@example.com"
        ),
        "553 5.7.1 <alice@example.com>: Sender address rejected: not logged in"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &c.clone().sender("stranger@remote.example"),
            "x@remote.test"
        ),
        "554 5.7.1 <x@remote.test>: Relay access denied"
    );
}

#[test]
fn dns_lists_are_left_to_the_rbl_plugin() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local");
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "reject_rbl_client zen.example, permit",
        ),
    ]);
    assert!(host.logged("rbl plugin"), "{:?}", host.logs());
    // Not OK: an OK would make the host skip the rbl plugin at this stage.
    assert_eq!(rcpt(&mut p, &ctx(Stage::Rcpt), "x@example.com"), "DUNNO");
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "permit, reject_rbl_client zen.example",
        ),
    ]);
    assert_eq!(
        rcpt(&mut p, &ctx(Stage::Rcpt), "x@example.com"),
        "OK",
        "list ended before the DNS list"
    );
}

#[test]
fn old_names_are_accepted_with_one_warning_each() {
    let host = TestHost::new().install();
    let _p = plugin(&[
        ("maps_rbl_domains", "relays.ordb.org, inputs.orbz.org"),
        (
            "smtpd_client_restrictions",
            "reject_unknown_client, reject_maps_rbl",
        ),
        (
            "smtpd_helo_restrictions",
            "reject_invalid_hostname, reject_unknown_hostname, reject_non_fqdn_hostname",
        ),
        ("smtpd_recipient_restrictions", "check_relay_domains"),
        ("smtpd_etrn_restrictions", "reject_unknown_client"),
    ]);
    let warnings: Vec<String> = host
        .logs()
        .into_iter()
        .filter(|(_, m)| m.contains("is obsolete"))
        .map(|(_, m)| m)
        .collect();
    assert_eq!(warnings.len(), 6, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains(
        "\"reject_unknown_client\" is obsolete: using reject_unknown_client_hostname instead"
    )));
}

#[test]
fn init_errors_name_the_problem() {
    let _host = TestHost::new().install();
    let err = try_plugin(&[(
        "smtpd_recipient_restrictions",
        "permit_mynetworks, reject_unauth_destinaton",
    )])
    .err()
    .expect("typo refused");
    assert!(
        err.contains("reject_unauth_destinaton") && err.contains("smtpd_recipient_restrictions"),
        "{err}"
    );
    let err = try_plugin(&[("smtpd_restriction_classes", "friends_only")])
        .err()
        .expect("class without value");
    assert!(err.contains("friends_only"), "{err}");
    let err = try_plugin(&[("mynetworks", "[::ffff:]/104 [::1]/128")])
        .err()
        .expect("bad network");
    assert!(err.contains("[::ffff:]/104"), "{err}");
    let err = try_plugin(&[("smtpd_data_restrictions", "hash:/etc/postfix/x")])
        .err()
        .expect("bare table");
    assert!(err.contains("smtpd_data_restrictions"), "{err}");
    let err = try_plugin(&[("smtpd_delay_reject", "maybe")])
        .err()
        .expect("bad boolean");
    assert!(err.contains("smtpd_delay_reject"), "{err}");
    let err = try_plugin(&[("access_map_defer_code", "550")])
        .err()
        .expect("defer code must be 4xx");
    assert!(err.contains("access_map_defer_code"), "{err}");
    let err = try_plugin(&[(
        "smtpd_client_restrictions",
        "check_policy_service inet:127.0.0.1:10023",
    )])
    .err()
    .expect("unsupported restriction");
    assert!(err.contains("check_policy_service"), "{err}");
}

#[test]
fn description_asks_for_what_it_uses() {
    let d = Restrictions::describe();
    check_description(&d).expect("valid description");
    assert_eq!(d.name, "restrictions");
    assert_eq!(
        d.stages,
        vec![
            Stage::Connect,
            Stage::Helo,
            Stage::Mail,
            Stage::Rcpt,
            Stage::Etrn,
            Stage::Data,
            Stage::EndOfMessage
        ]
    );
    assert_eq!(
        d.capabilities,
        vec![
            Capability::Log,
            Capability::Lookup,
            Capability::Resolve,
            Capability::Dns
        ]
    );
    for param in [
        "smtpd_client_restrictions",
        "smtpd_helo_restrictions",
        "smtpd_sender_restrictions",
        "smtpd_relay_restrictions",
        "smtpd_recipient_restrictions",
        "smtpd_data_restrictions",
        "smtpd_end_of_data_restrictions",
        "smtpd_etrn_restrictions",
        "smtpd_restriction_classes",
        "smtpd_delay_reject",
        "smtpd_helo_required",
        "strict_rfc821_envelopes",
        "mynetworks",
        "maps_rbl_domains",
        "local_recipient_maps",
        "smtpd_sender_login_maps",
    ] {
        assert!(d.parameters.iter().any(|p| p == param), "{param} requested");
    }
}

#[test]
fn mail_stage_is_quiet_with_delay_reject() {
    let _host = TestHost::new().install();
    let mut p = plugin(&[("smtpd_sender_restrictions", "reject")]);
    assert_eq!(
        mail(
            &mut p,
            &ctx(Stage::Mail).helo("h.example").sender("a@b.example")
        ),
        "DUNNO"
    );
}

#[test]
fn no_relay_control_is_refused_like_postfix() {
    let _host = TestHost::new().install();
    let err = try_plugin(&[
        ("smtpd_relay_restrictions", ""),
        ("smtpd_recipient_restrictions", "permit_mynetworks, permit"),
    ])
    .err()
    .expect("an open relay by omission is refused");
    assert!(
        err.contains("specify at least one working instance of"),
        "{err}"
    );
    // The old check_relay_domains counts, as it does in Postfix.
    assert!(try_plugin(&[
        ("smtpd_relay_restrictions", ""),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, check_relay_domains"
        ),
    ])
    .is_ok());
}

#[test]
fn tls_sasl_and_bounce_restrictions() {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .table(
            "hash:/etc/postfix/sasl_access",
            "mallory",
            "REJECT account locked",
        );
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", "permit_tls_all_clientcerts, reject_unauth_destination"),
        (
            "smtpd_recipient_restrictions",
            "reject_multi_recipient_bounce, check_sasl_access hash:/etc/postfix/sasl_access, reject_plaintext_session",
        ),
        ("smtpd_data_restrictions", "reject_multi_recipient_bounce"),
    ]);
    let plain = ctx(Stage::Rcpt)
        .client("203.0.113.9", "unknown")
        .helo("h.example")
        .sender("a@b.example");
    assert_eq!(
        rcpt(&mut p, &plain, "x@example.com"),
        "450 4.7.1 Session encryption is required"
    );
    let tls = plain.clone().tls("TLSv1.3", "TLS13_AES_256_GCM_SHA384");
    assert_eq!(rcpt(&mut p, &tls, "x@example.com"), "DUNNO");
    assert_eq!(
        rcpt(&mut p, &tls, "x@remote.test"),
        "554 5.7.1 <x@remote.test>: Relay access denied",
        "an unverified certificate does not relay"
    );
    let verified = tls.clone().peer_certificate("CN=client.test", true).build();
    assert_eq!(
        common::line(&p.rcpt(&verified, &mta_sdk::testing::addr("x@remote.test"))),
        "DUNNO"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &tls.clone().sasl("PLAIN", "mallory"),
            "x@example.com"
        ),
        "554 5.7.1 <unknown[203.0.113.9]>: Client host rejected: account locked"
    );
    // Reference Postfix: the second recipient of a null-sender message.
    let bounce = tls.clone().sender("").rcpt("a@example.com");
    assert_eq!(
        rcpt(&mut p, &bounce, "b@example.com"),
        "550 5.5.3 <b@example.com>: Recipient address rejected: Multi-recipient bounce"
    );
    assert_eq!(
        rcpt(&mut p, &tls.clone().sender(""), "a@example.com"),
        "DUNNO"
    );
    let data = bounce.rcpt("b@example.com").stage(Stage::Data);
    assert_eq!(
        common::line(&p.data(&data)),
        "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce"
    );
}

#[test]
fn empty_scalar_parameters_mean_postfix_defaults() {
    let _host = TestHost::new().install();
    // A host that does not know a parameter passes it empty.
    let mut p = plugin(&[
        ("reject_code", ""),
        ("smtpd_delay_reject", ""),
        ("unknown_address_tempfail_action", " "),
        ("smtpd_recipient_restrictions", "reject"),
    ]);
    let c = ctx(Stage::Rcpt).helo("h.example").sender("a@b.example");
    assert_eq!(
        rcpt(&mut p, &c, "x@example.com"),
        "454 4.7.1 <x@example.com>: Relay access denied",
        "default relay list first"
    );
    let mut p = plugin(&[
        ("reject_code", ""),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        ("smtpd_recipient_restrictions", "reject"),
    ]);
    assert_eq!(
        rcpt(&mut p, &c, "x@example.com"),
        "554 5.7.1 <x@example.com>: Recipient address rejected: Access denied"
    );
}
