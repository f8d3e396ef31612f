//! Drop-in plugins named in restriction lists: the evaluation stops at a
//! drop-in whose answer it lacks (asking the host to call it), and resumes
//! with the answers handed back in the session attributes, applying each
//! like an access(5) result at its position.

mod common;

use common::{line, plugin, try_plugin, NO_RELAY_CHECK};
use mta_sdk::resolve::AddressClass;
use mta_sdk::testing::{addr, ctx, ContextBuilder, TestHost};
use mta_sdk::{Plugin, Stage, Verdict};
use restrictions::{Restrictions, ANSWER_ATTRIBUTE, CALL_MARKER};

fn start(recipient_list: &str) -> Restrictions {
    plugin(&[
        ("mta.drop_in_plugins", "greylist, scripted"),
        ("mynetworks", "127.0.0.1/32"),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        ("smtpd_recipient_restrictions", recipient_list),
    ])
}

fn session(source: &str) -> ContextBuilder {
    ctx(Stage::Rcpt)
        .client(source, "unknown")
        .helo("client.example")
        .sender("s@sender.example")
}

/// RCPT with the answers given so far, as the host would call it.
fn rcpt_with(p: &mut Restrictions, c: &ContextBuilder, rcpt: &str, answers: &[&str]) -> Verdict {
    let c = answers
        .iter()
        .fold(c.clone(), |c, a| c.attribute(ANSWER_ATTRIBUTE, a));
    p.rcpt(&c.build(), &addr(rcpt))
}

fn call(name: &str) -> Verdict {
    Verdict::Info(format!("{CALL_MARKER}{name}"))
}

#[test]
fn stops_at_the_drop_in_then_applies_its_answer_in_place() {
    let host = TestHost::new().install();
    host.route("mx.test", AddressClass::Local, "local");
    let mut p = start("permit_mynetworks, greylist, reject_unauth_destination");
    let outside = session("192.0.2.1");
    // Not answered yet: ask the host for greylist.
    assert_eq!(
        rcpt_with(&mut p, &outside, "u@mx.test", &[]),
        call("greylist")
    );
    // Its answers, like an access table's at that position.
    assert_eq!(
        line(&rcpt_with(
            &mut p,
            &outside,
            "u@mx.test",
            &["greylist 450 4.2.0 Greylisted, try later"]
        )),
        "450 4.2.0 <u@mx.test>: Recipient address rejected: Greylisted, try later"
    );
    assert_eq!(
        line(&rcpt_with(
            &mut p,
            &outside,
            "x@elsewhere.example",
            &["greylist DUNNO"]
        )),
        "554 5.7.1 <x@elsewhere.example>: Relay access denied"
    );
    // OK ends the list, as an access-table OK: reject_unauth_destination
    // after it is not reached.
    assert_eq!(
        line(&rcpt_with(
            &mut p,
            &outside,
            "x@elsewhere.example",
            &["greylist OK"]
        )),
        "OK"
    );
    // A decisive entry before it: the drop-in is never asked.
    let trusted = session("127.0.0.1");
    assert_eq!(
        line(&rcpt_with(&mut p, &trusted, "x@elsewhere.example", &[])),
        "OK"
    );
}

#[test]
fn several_drop_ins_in_order_and_warn_if_reject_carried() {
    let host = TestHost::new().install();
    host.route("mx.test", AddressClass::Local, "local");
    let mut p = start("warn_if_reject greylist, scripted, reject_unauth_destination");
    let c = session("192.0.2.1");
    assert_eq!(rcpt_with(&mut p, &c, "u@mx.test", &[]), call("greylist"));
    // greylist's reject only warns (warn_if_reject before it), then scripted
    // is asked; the warning is logged once, not again on the next replay.
    assert_eq!(
        rcpt_with(&mut p, &c, "u@mx.test", &["greylist REJECT no"]),
        call("scripted")
    );
    let warned = |host: &TestHost| {
        host.logs()
            .iter()
            .filter(|(_, l)| l.contains("reject_warning: RCPT from unknown[192.0.2.1]: 554 5.7.1 <u@mx.test>: Recipient address rejected: no;"))
            .count()
    };
    assert_eq!(warned(&host), 1, "{:?}", host.logs());
    assert_eq!(
        line(&rcpt_with(
            &mut p,
            &c,
            "u@mx.test",
            &["greylist REJECT no", "scripted DUNNO"]
        )),
        "DUNNO"
    );
    assert_eq!(warned(&host), 1, "{:?}", host.logs());
    // Answers out of step (a table changed between calls): 451, never the
    // wrong plugin's answer.
    assert_eq!(
        line(&rcpt_with(&mut p, &c, "u@mx.test", &["scripted REJECT"])),
        "451 4.3.5 Server configuration error"
    );
}

#[test]
fn drop_ins_in_classes_and_unknown_names() {
    let host = TestHost::new().install();
    host.route("mx.test", AddressClass::Local, "local");
    let mut p = plugin(&[
        ("mta.drop_in_plugins", "greylist"),
        ("smtpd_restriction_classes", "checked"),
        ("checked", "greylist"),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        ("smtpd_recipient_restrictions", "checked"),
    ]);
    let c = session("192.0.2.1");
    assert_eq!(rcpt_with(&mut p, &c, "u@mx.test", &[]), call("greylist"));
    // A name that is no restriction, class or loaded drop-in is refused at
    // init, naming it.
    let err = try_plugin(&[
        ("mta.drop_in_plugins", "greylist"),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
        (
            "smtpd_recipient_restrictions",
            "permit_mynetworks, graylist, reject_unauth_destination",
        ),
    ])
    .err()
    .expect("unknown name refused");
    assert!(err.contains("\"graylist\""), "{err}");
    assert!(err.contains("smtpd_recipient_restrictions"), "{err}");
    // A class and a drop-in of one name would be ambiguous.
    let err = try_plugin(&[
        ("mta.drop_in_plugins", "greylist"),
        ("smtpd_restriction_classes", "greylist"),
        ("greylist", "permit"),
        ("smtpd_relay_restrictions", NO_RELAY_CHECK),
    ])
    .err()
    .expect("ambiguous name refused");
    assert!(err.contains("also the name of a drop-in plugin"), "{err}");
}
