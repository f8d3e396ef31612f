//! The rbl plugin through the SDK's native harness: hooks called as the
//! host calls them, DNS answers from the fake host.

use mta_sdk::dns::{DnsError, RecordType, ResourceRecord};
use mta_sdk::testing::{addr, ctx, start, ContextBuilder, TestHost};
use mta_sdk::{Config, Plugin, Reply, Stage, Verdict};
use rbl::plugin::RblPlugin;

fn plugin(settings: &[(&str, &str)]) -> RblPlugin {
    let mut c = Config::empty();
    for (k, v) in settings {
        c = c.with_setting(*k, *v);
    }
    start::<RblPlugin>(&c).expect("init")
}

fn a(ip: &str) -> Vec<ResourceRecord> {
    vec![ResourceRecord::A(ip.to_string())]
}

/// Lists used throughout: 192.0.2.1 is on zen (127.0.0.2, with a TXT),
/// 192.0.2.11 is on zen with code 127.0.0.11, 192.0.2.5 on the allow list.
fn host() -> TestHost {
    let h = TestHost::new().install();
    h.dns_answer("1.2.0.192.zen.example", RecordType::A, a("127.0.0.2"))
        .dns_answer(
            "1.2.0.192.zen.example",
            RecordType::Txt,
            vec![ResourceRecord::Txt(
                "https://zen.example/query/ip/192.0.2.1".into(),
            )],
        )
        .dns_answer("11.2.0.192.zen.example", RecordType::A, a("127.0.0.11"))
        .dns_answer("5.2.0.192.zen.example", RecordType::A, a("127.0.0.2"))
        .dns_answer("5.2.0.192.allow.example", RecordType::A, a("127.0.5.1"))
        .dns_answer("1.2.0.192.list.example", RecordType::A, a("127.0.0.3"))
        .dns_answer("bad.example.dbl.example", RecordType::A, a("127.0.1.2"))
        .dns_answer(
            "good.example.whitelist.example",
            RecordType::A,
            a("127.0.0.2"),
        )
        .dns_error("1.2.0.192.dead.example", RecordType::A, DnsError::Timeout)
        .dns_error(
            "1.2.0.192.broken.example",
            RecordType::A,
            DnsError::ServerFailure("SERVFAIL".into()),
        )
        .dns_error(
            "5.2.0.192.deadallow.example",
            RecordType::A,
            DnsError::Timeout,
        );
    h
}

fn rcpt_ctx(client: &str) -> ContextBuilder {
    ctx(Stage::Rcpt)
        .client(client, "unknown")
        .helo("helo.example")
        .sender("someone@sender.example")
}

fn reject(v: &Verdict) -> (u16, String, String) {
    match v {
        Verdict::Reject(Reply {
            code: Some(c),
            enhanced: Some(e),
            text: Some(t),
        }) => (*c, e.clone(), t.clone()),
        other => panic!("expected a reject with code, got {other:?}"),
    }
}

#[test]
fn listed_client_is_rejected_with_the_txt_reason() {
    let _h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example",
    )]);
    let v = p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@dest.example"));
    assert_eq!(
        reject(&v),
        (
            554,
            "5.7.1".into(),
            "Service unavailable; Client host [192.0.2.1] blocked using zen.example; https://zen.example/query/ip/192.0.2.1"
                .into()
        )
    );
}

#[test]
fn unlisted_client_passes() {
    let _h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example",
    )]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.99"), &addr("u@dest.example")),
        Verdict::Dunno
    );
}

#[test]
fn result_filters_keep_only_wanted_codes() {
    let _h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example=127.0.0.[2..10]",
    )]);
    // 127.0.0.11 is outside the filter: not listed for this entry.
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.11"), &addr("u@d.example")),
        Verdict::Dunno
    );
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example"))).0,
        554
    );
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example=127.0.0.[2;3]",
    )]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.11"), &addr("u@d.example")),
        Verdict::Dunno
    );
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example=127.0.0.11",
    )]);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.11"), &addr("u@d.example"))).0,
        554
    );
}

#[test]
fn ipv6_clients_are_asked_by_nibbles() {
    let h = host();
    h.dns_answer(
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.example",
        RecordType::A,
        a("127.0.0.2"),
    );
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example",
    )]);
    let (code, _, text) = reject(&p.rcpt(&rcpt_ctx("2001:db8::1"), &addr("u@d.example")));
    assert_eq!(code, 554);
    assert_eq!(
        text,
        "Service unavailable; Client host [2001:db8::1] blocked using zen.example"
    );
}

#[test]
fn allow_list_first_wins_and_permits_the_last_list() {
    let h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "permit_dnswl_client allow.example, reject_rbl_client zen.example",
    )]);
    // 192.0.2.5 is on both: the allow list comes first.
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.5"), &addr("u@d.example")),
        Verdict::Ok
    );
    assert!(h.logged("allowed by allow.example"));
    // In the client list (judged at RCPT under smtpd_delay_reject) the
    // permit ends that list only: the verdict stays DUNNO so later lists and
    // plugins still run, as in Postfix.
    let mut p = plugin(&[(
        "smtpd_client_restrictions",
        "permit_dnswl_client allow.example, reject_rbl_client zen.example",
    )]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.5"), &addr("u@d.example")),
        Verdict::Dunno
    );
    // ... while a later list still rejects.
    let mut p = plugin(&[
        (
            "smtpd_client_restrictions",
            "permit_dnswl_client allow.example",
        ),
        (
            "smtpd_recipient_restrictions",
            "reject_rbl_client zen.example",
        ),
    ]);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.5"), &addr("u@d.example"))).0,
        554
    );
}

#[test]
fn failed_allow_list_is_defer_if_reject() {
    let _h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "permit_dnswl_client deadallow.example, reject_rbl_client zen.example",
    )]);
    match p.rcpt(&rcpt_ctx("192.0.2.5"), &addr("u@d.example")) {
        Verdict::DeferIfReject(r) => assert_eq!(r.code, Some(451)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn dns_failures_never_reject() {
    let h = host();
    let lists = "reject_rbl_client dead.example, reject_rbl_client broken.example";
    let mut p = plugin(&[("smtpd_recipient_restrictions", lists)]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")),
        Verdict::Dunno
    );
    assert!(h.logged("dead.example: lookup error"), "{:?}", h.logs());
    assert!(h.logged("broken.example: lookup error"), "{:?}", h.logs());

    let mut p = plugin(&[
        ("smtpd_recipient_restrictions", lists),
        ("rbl_dns_failure_action", "defer"),
    ]);
    match p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")) {
        Verdict::Defer(r) => {
            assert_eq!((r.code, r.enhanced.as_deref()), (Some(451), Some("4.3.0")));
            assert!(r.text.unwrap().contains("dead.example"));
        }
        other => panic!("{other:?}"),
    }
    // A later list that does answer "listed" still rejects.
    let mut p = plugin(&[
        (
            "smtpd_recipient_restrictions",
            "reject_rbl_client dead.example, reject_rbl_client zen.example",
        ),
        ("rbl_dns_failure_action", "defer"),
    ]);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example"))).0,
        554
    );
}

#[test]
fn ungranted_zone_is_a_failure_not_a_listing() {
    let h = host();
    h.dns_zones(["zen.example"]);
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client list.example",
    )]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")),
        Verdict::Dunno
    );
    assert!(h.logged("not in the zones granted"), "{:?}", h.logs());
}

#[test]
fn rhsbl_variants() {
    let _h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rhsbl_sender dbl.example",
    )]);
    let c = rcpt_ctx("192.0.2.99").sender("spam@bad.example");
    assert_eq!(
        reject(&p.rcpt(&c, &addr("u@d.example"))).2,
        "Service unavailable; Sender address [spam@bad.example] blocked using dbl.example"
    );
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.99"), &addr("u@d.example")),
        Verdict::Dunno
    );

    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rhsbl_recipient dbl.example",
    )]);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.99"), &addr("x@bad.example"))).2,
        "Service unavailable; Recipient address [x@bad.example] blocked using dbl.example"
    );

    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rhsbl_helo dbl.example",
    )]);
    let c = rcpt_ctx("192.0.2.99").helo("bad.example");
    assert_eq!(
        reject(&p.rcpt(&c, &addr("u@d.example"))).2,
        "Service unavailable; Helo command [bad.example] blocked using dbl.example"
    );

    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rhsbl_client dbl.example",
    )]);
    let c = rcpt_ctx("192.0.2.99").client("192.0.2.99", "bad.example");
    assert_eq!(reject(&p.rcpt(&c, &addr("u@d.example"))).0, 554);
    // An unknown client name is never looked up.
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.99"), &addr("u@d.example")),
        Verdict::Dunno
    );

    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rhsbl_reverse_client dbl.example",
    )]);
    let c = rcpt_ctx("192.0.2.99").unverified_name("bad.example");
    assert_eq!(
        reject(&p.rcpt(&c, &addr("u@d.example"))).2,
        "Service unavailable; Unverified Client host [bad.example] blocked using dbl.example"
    );

    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "permit_rhswl_client whitelist.example, reject_rbl_client zen.example",
    )]);
    let c = rcpt_ctx("192.0.2.1").client("192.0.2.1", "good.example");
    assert_eq!(p.rcpt(&c, &addr("u@d.example")), Verdict::Ok);
}

#[test]
fn legacy_maps_rbl_with_its_reject_code() {
    let h = host();
    let mut p = plugin(&[
        ("smtpd_client_restrictions", "reject_maps_rbl"),
        ("maps_rbl_domains", "zen.example"),
        ("maps_rbl_reject_code", "450"),
    ]);
    assert!(h.logged("reject_maps_rbl is deprecated"));
    match p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")) {
        Verdict::Defer(r) => {
            assert_eq!((r.code, r.enhanced.as_deref()), (Some(450), Some("4.7.1")));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reply_maps_and_templates() {
    let h = host();
    h.table(
        "hash:/etc/postfix/rbl_reply",
        "zen.example",
        "$rbl_code 5.7.1 Go away, $client_address (${rbl_reason?{$rbl_reason}:{no reason}}) from $sender_domain",
    );
    let mut p = plugin(&[
        (
            "smtpd_recipient_restrictions",
            "reject_rbl_client zen.example, reject_rbl_client list.example",
        ),
        ("rbl_reply_maps", "hash:/etc/postfix/rbl_reply"),
    ]);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example"))).2,
        "Go away, 192.0.2.1 (https://zen.example/query/ip/192.0.2.1) from sender.example"
    );
    let mut p = plugin(&[
        (
            "smtpd_recipient_restrictions",
            "reject_rbl_client zen.example",
        ),
        ("default_rbl_reply", "$rbl_code Blocked by $rbl_domain"),
    ]);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example"))),
        (554, "5.7.1".into(), "Blocked by zen.example".into())
    );
}

#[test]
fn txt_text_cannot_break_the_reply_line() {
    let h = host();
    h.dns_answer(
        "1.2.0.192.zen.example",
        RecordType::Txt,
        vec![ResourceRecord::Txt("evil\r\n250 OK".into())],
    );
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example",
    )]);
    let (_, _, text) = reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")));
    assert!(!text.contains('\r') && !text.contains('\n'), "{text:?}");
    assert!(text.ends_with("; evil??250 OK"), "{text:?}");
}

#[test]
fn delay_reject_decides_the_stage() {
    let _h = host();
    let lists = [("smtpd_client_restrictions", "reject_rbl_client zen.example")];
    let mut p = plugin(&lists);
    let c = ctx(Stage::Connect).client("192.0.2.1", "unknown");
    assert_eq!(
        p.connect(&c),
        Verdict::Dunno,
        "smtpd_delay_reject=yes waits for RCPT"
    );
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example"))).0,
        554
    );

    let mut p = plugin(&[lists[0], ("smtpd_delay_reject", "no")]);
    assert_eq!(reject(&p.connect(&c)).0, 554);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")),
        Verdict::Dunno
    );

    let mut p = plugin(&[
        (
            "smtpd_sender_restrictions",
            "reject_rhsbl_sender dbl.example",
        ),
        ("smtpd_delay_reject", "no"),
    ]);
    let c = ctx(Stage::Mail)
        .client("192.0.2.99", "unknown")
        .sender("a@bad.example");
    assert_eq!(reject(&p.mail(&c)).0, 554);
}

#[test]
fn own_networks_and_logged_in_clients_are_not_judged() {
    let _h = host();
    let mut p = plugin(&[
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, reject_rbl_client zen.example",
        ),
        ("mynetworks", "127.0.0.0/8 192.0.2.0/30"),
    ]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")),
        Verdict::Dunno
    );
    let mut p = plugin(&[
        (
            "smtpd_recipient_restrictions",
            "permit_sasl_authenticated, reject_rbl_client zen.example",
        ),
        ("mynetworks", "127.0.0.0/8"),
    ]);
    let c = rcpt_ctx("192.0.2.1").sasl("PLAIN", "alice");
    assert_eq!(p.rcpt(&c, &addr("u@d.example")), Verdict::Dunno);
    assert_eq!(
        reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example"))).0,
        554
    );
}

#[test]
fn scoring_adds_weights_against_a_threshold() {
    let h = host();
    let sites = (
        "rbl_score_sites",
        "zen.example*3, list.example=127.0.0.2*2, allow.example*-5",
    );
    let mut p = plugin(&[sites, ("rbl_score_threshold", "3")]);
    // 192.0.2.1: zen (3) + list.example answers 127.0.0.3, filtered out → 3.
    let (code, _, text) = reject(&p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")));
    assert_eq!(code, 554);
    assert!(text.contains("blocked using zen.example"), "{text}");
    assert!(h.logged("DNSBL rank 3 for [192.0.2.1]"));
    // 192.0.2.5: zen (3) + allow (-5) = -2.
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.5"), &addr("u@d.example")),
        Verdict::Dunno
    );
    // A higher threshold lets 192.0.2.1 through.
    let mut p = plugin(&[sites, ("rbl_score_threshold", "4")]);
    assert_eq!(
        p.rcpt(&rcpt_ctx("192.0.2.1"), &addr("u@d.example")),
        Verdict::Dunno
    );
    // Without smtpd_delay_reject the score is judged at connect.
    let mut p = plugin(&[
        sites,
        ("rbl_score_threshold", "3"),
        ("smtpd_delay_reject", "no"),
    ]);
    assert_eq!(
        reject(&p.connect(&ctx(Stage::Connect).client("192.0.2.1", "unknown"))).0,
        554
    );
}

#[test]
fn bad_configuration_is_refused_at_init() {
    let _h = host();
    let mut c = Config::empty().with_setting(
        "smtpd_client_restrictions",
        "reject_rbl_client zen.example=1.2.3",
    );
    let err = start::<RblPlugin>(&c).err().expect("must fail");
    assert!(err.contains("bad result filter"), "{err}");
    c = Config::empty().with_setting("rbl_score_sites", "zen.example*x");
    assert!(start::<RblPlugin>(&c).is_err());
    let d = RblPlugin::describe();
    assert_eq!(d.name, "rbl");
    assert!(d.parameters.iter().any(|p| p == "default_rbl_reply"));
}

#[test]
fn vrfy_is_not_judged() {
    let _h = host();
    let mut p = plugin(&[(
        "smtpd_recipient_restrictions",
        "reject_rbl_client zen.example",
    )]);
    let c = rcpt_ctx("192.0.2.1").stage(Stage::Vrfy);
    assert_eq!(p.rcpt(&c, &addr("u@d.example")), Verdict::Dunno);
}
