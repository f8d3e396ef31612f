//! Relay control: permit_mynetworks, permit_sasl_authenticated and the
//! *_unauth_destination checks through the host's resolver. Expected replies
//! were taken from the reference Postfix 3.7 (`postfix-ref`) on the same lists.

mod common;

use common::{plugin, rcpt};
use mta_sdk::resolve::{AddressClass, Resolution};
use mta_sdk::testing::{ctx, TestHost};
use mta_sdk::Stage;

fn host() -> TestHost {
    let host = TestHost::new().install();
    host.route("example.com", AddressClass::Local, "local")
        .route("relay.example", AddressClass::Relay, "relay")
        .route("virt.example", AddressClass::VirtualMailbox, "virtual");
    host
}

#[test]
fn default_relay_restrictions_defer_strangers_and_let_mynetworks_relay() {
    let _host = host();
    let mut p = plugin(&[("mynetworks", "127.0.0.0/8")]);
    let outsider = ctx(Stage::Rcpt)
        .client("203.0.113.9", "unknown")
        .helo("x.example");
    assert_eq!(
        rcpt(&mut p, &outsider, "x@remote.test"),
        "454 4.7.1 <x@remote.test>: Relay access denied"
    );
    assert_eq!(rcpt(&mut p, &outsider, "x@example.com"), "DUNNO");
    assert_eq!(rcpt(&mut p, &outsider, "x@relay.example"), "DUNNO");
    assert_eq!(rcpt(&mut p, &outsider, "x@virt.example"), "DUNNO");
    let inside = ctx(Stage::Rcpt).client("127.0.0.1", "localhost");
    assert_eq!(
        rcpt(&mut p, &inside, "x@remote.test"),
        "DUNNO",
        "relay list permit ends only that list"
    );
    let authed = outsider.clone().sasl("PLAIN", "alice");
    assert_eq!(rcpt(&mut p, &authed, "x@remote.test"), "DUNNO");
}

#[test]
fn reject_unauth_destination_answers_554_and_treats_source_routes_as_relaying() {
    let _host = host();
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", ""),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, reject_unauth_destination",
        ),
        ("mynetworks", "127.0.0.1/32"),
    ]);
    let outsider = ctx(Stage::Rcpt).client("203.0.113.9", "unknown");
    assert_eq!(
        rcpt(&mut p, &outsider, "x@remote.test"),
        "554 5.7.1 <x@remote.test>: Relay access denied"
    );
    assert_eq!(rcpt(&mut p, &outsider, "x@example.com"), "DUNNO");
    // `u%remote@example.com` would leave again for remote: it is relaying.
    assert_eq!(
        rcpt(&mut p, &outsider, "u%remote.test@example.com"),
        "554 5.7.1 <u%remote.test@example.com>: Relay access denied"
    );
    assert_eq!(
        rcpt(
            &mut p,
            &ctx(Stage::Rcpt).client("127.0.0.1", "localhost"),
            "x@remote.test"
        ),
        "OK"
    );
}

#[test]
fn the_resolver_decides_not_the_plugin() {
    let host = host();
    // The host resolves "weird" to a local address: the check follows it.
    host.resolution(
        "weird@remote.test",
        Resolution {
            class: AddressClass::Local,
            address: "weird@example.com".into(),
            transport: "local".into(),
            nexthop: String::new(),
            routed: false,
        },
    );
    let mut p = plugin(&[("smtpd_relay_restrictions", "reject_unauth_destination")]);
    let outsider = ctx(Stage::Rcpt).client("203.0.113.9", "unknown");
    assert_eq!(rcpt(&mut p, &outsider, "weird@remote.test"), "DUNNO");
    // A resolver error is a syntax reply, never a silent pass.
    assert_eq!(
        rcpt(&mut p, &outsider, "\"unbalanced@remote.test"),
        "501 5.1.3 <\"unbalanced@remote.test>: Recipient address rejected: unbalanced quote in `\"unbalanced@remote.test`"
    );
}

#[test]
fn permit_auth_destination_permits_only_our_domains() {
    let _host = host();
    let mut p = plugin(&[
        ("smtpd_relay_restrictions", ""),
        (
            "smtpd_recipient_restrictions",
            "permit_auth_destination, reject",
        ),
    ]);
    let c = ctx(Stage::Rcpt).client("203.0.113.9", "unknown");
    assert_eq!(rcpt(&mut p, &c, "x@example.com"), "OK");
    assert_eq!(
        rcpt(&mut p, &c, "x@remote.test"),
        "554 5.7.1 <x@remote.test>: Recipient address rejected: Access denied"
    );
}

/// The howto's mistake (seed 004): a mynetworks that covers everything makes
/// permit_mynetworks permit every client: an open relay. The plugin does what
/// the operator wrote (as Postfix does) and warns loudly at init.
#[test]
fn mynetworks_covering_everything_is_an_open_relay() {
    let host = host();
    let mut p = plugin(&[
        ("mynetworks", "0.0.0.0/0 [::]/0"),
        ("smtpd_relay_restrictions", ""),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, check_relay_domains",
        ),
    ]);
    assert!(host.logged("open relay"), "init warns: {:?}", host.logs());
    for client in [
        "203.0.113.9",
        "198.51.100.7",
        "2001:db8::25",
        "::ffff:192.0.2.99",
    ] {
        let c = ctx(Stage::Rcpt).client(client, "unknown");
        assert_eq!(
            rcpt(&mut p, &c, "victim@remote.test"),
            "OK",
            "relaying permitted for {client}"
        );
    }
    // With the network narrowed, the same list refuses strangers.
    let mut p = plugin(&[
        ("mynetworks", "127.0.0.0/8 [::1]/128"),
        ("smtpd_relay_restrictions", ""),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, check_relay_domains",
        ),
    ]);
    let c = ctx(Stage::Rcpt).client("203.0.113.9", "unknown");
    assert_eq!(
        rcpt(&mut p, &c, "victim@remote.test"),
        "554 5.7.1 <victim@remote.test>: Relay access denied"
    );
    assert_eq!(
        rcpt(&mut p, &c, "x@example.com"),
        "OK",
        "check_relay_domains permits our domains"
    );
}

#[test]
fn mynetworks_names_tables_and_negation() {
    let host = host();
    host.table("cidr:/etc/postfix/nets", "198.51.100", "OK");
    let mut p = plugin(&[
        (
            "mynetworks",
            "!192.168.1.13, 192.168.1.0/24, cidr:/etc/postfix/nets, .trusted.example",
        ),
        (
            "smtpd_relay_restrictions",
            "permit_mynetworks, reject_unauth_destination",
        ),
    ]);
    let check = |p: &mut restrictions::Restrictions, address: &str, name: &str| {
        rcpt(p, &ctx(Stage::Rcpt).client(address, name), "x@remote.test")
    };
    assert_eq!(check(&mut p, "192.168.1.20", "unknown"), "DUNNO");
    assert_eq!(
        check(&mut p, "192.168.1.13", "unknown"),
        "554 5.7.1 <x@remote.test>: Relay access denied",
        "negated entry wins"
    );
    assert_eq!(
        check(&mut p, "198.51.100.4", "unknown"),
        "DUNNO",
        "table entry"
    );
    assert_eq!(
        check(&mut p, "203.0.113.5", "mx.trusted.example"),
        "DUNNO",
        "domain entry"
    );
    assert_eq!(
        check(&mut p, "203.0.113.5", "untrusted.example"),
        "554 5.7.1 <x@remote.test>: Relay access denied"
    );
}
