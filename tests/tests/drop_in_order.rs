//! Drop-in plugins at the SMTP stages, over SMTP against the real daemon:
//! in their default place they run after the built-ins in sidecar `order`;
//! named in a restriction list they run at that position instead, with
//! Postfix's first-decisive-answer semantics, and only there; a name that is
//! no restriction, class or drop-in is refused by `mta check` and `mta run`.
//!
//! Fixtures: `scripted` (answers RCPT by the recipient's local part: `ok…`
//! OK, `no…` REJECT, `later…` 450 4.2.0, else DUNNO, and logs each call) and
//! `trapper` limited to its RCPT hook (rejects every recipient, naming it).
//! Needs `cargo xtask build`.

use mta_e2e::platform_util::{drop_in, main_cf};
use mta_e2e::{mta_bin, run, scratch, Daemon, Smtp};

/// EHLO, MAIL and one RCPT per recipient from `source`; the RCPT replies.
async fn rcpts(d: &Daemon, source: &str, recipients: &[&str]) -> Vec<String> {
    let (mut c, banner) = Smtp::connect(d.addr(), source).await;
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    let r = c.cmd("MAIL FROM:<a@sender.example>").await;
    assert!(r.starts_with("250"), "{r}");
    let mut out = Vec::new();
    for rcpt in recipients {
        let r = c.cmd(&format!("RCPT TO:<{rcpt}>")).await;
        out.push(r.trim_end().to_string());
    }
    c.cmd("QUIT").await;
    out
}

/// A daemon with `scripted` and `trapper` (RCPT only) at the given orders.
fn two_drop_ins(name: &str, scripted_order: i64, trapper_order: i64) -> Daemon {
    let plugins = scratch(&format!("{name}-plugins"));
    drop_in(
        &plugins,
        "fixtures",
        "scripted",
        Some(&format!("order = {scripted_order}\n")),
    );
    drop_in(
        &plugins,
        "fixtures",
        "trapper",
        Some(&format!("order = {trapper_order}\nstages = [\"rcpt\"]\n")),
    );
    Daemon::start(name, &main_cf(&plugins, 1, ""), &[])
}

/// Two drop-ins at RCPT: whichever comes first in `order` decides. From
/// 127.0.0.2 to our own domain the built-in lists answer DUNNO
/// (defer_unauth_destination passes mx.test), so the drop-ins are asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_ins_run_in_sidecar_order() {
    let d = two_drop_ins("drop-order-a", 20, 10);
    let r = rcpts(&d, "127.0.0.2", &["ok-1@mx.test", "no-1@mx.test"]).await;
    // trapper (10) first: its reject ends the stage before scripted's OK.
    assert_eq!(r[0], "554 5.7.1 trapper answered ok-1@mx.test");
    assert_eq!(r[1], "554 5.7.1 trapper answered no-1@mx.test");
    assert!(!d.output().contains("scripted: rcpt"), "{}", d.output());
    drop(d);

    let d = two_drop_ins("drop-order-b", 10, 20);
    let r = rcpts(
        &d,
        "127.0.0.2",
        &["ok-1@mx.test", "no-1@mx.test", "plain-1@mx.test"],
    )
    .await;
    // scripted (10) first: its OK ends the stage, its reject is the reply,
    // and only its DUNNO lets trapper speak.
    assert!(r[0].starts_with("250 2.1.5"), "{}", r[0]);
    assert_eq!(r[1], "554 5.7.1 scripted refuses no-1@mx.test");
    assert_eq!(r[2], "554 5.7.1 trapper answered plain-1@mx.test");
    d.wait_for("scripted: rcpt plain-1@mx.test");
}

fn count(d: &Daemon, needle: &str) -> usize {
    d.output().lines().filter(|l| l.contains(needle)).count()
}

/// `scripted` named between permit_mynetworks and reject_unauth_destination:
/// a trusted client is permitted before it is asked; for others its answer
/// decides in place like an access table's (its OK ends the list, so
/// reject_unauth_destination after it is not reached), its DUNNO lets
/// reject_unauth_destination decide; it runs once per RCPT, from the list
/// only, never again in the default drop-in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_in_named_in_a_restriction_list() {
    let plugins = scratch("drop-named-plugins");
    drop_in(&plugins, "fixtures", "scripted", None);
    let d = Daemon::start(
        "drop-named",
        &main_cf(
            &plugins,
            1,
            "smtpd_relay_restrictions =\n\
             smtpd_recipient_restrictions = permit_mynetworks, scripted, reject_unauth_destination\n",
        ),
        &[],
    );
    let r = rcpts(
        &d,
        "127.0.0.2",
        &[
            "no-1@mx.test",
            "later-1@mx.test",
            "plain-1@elsewhere.example",
            "ok-1@elsewhere.example",
            "plain-2@mx.test",
        ],
    )
    .await;
    assert_eq!(
        r[0],
        "554 5.7.1 <no-1@mx.test>: Recipient address rejected: scripted refuses no-1@mx.test"
    );
    assert_eq!(
        r[1],
        "450 4.2.0 <later-1@mx.test>: Recipient address rejected: scripted says try later"
    );
    assert_eq!(
        r[2],
        "554 5.7.1 <plain-1@elsewhere.example>: Relay access denied"
    );
    assert!(r[3].starts_with("250 2.1.5"), "{}", r[3]);
    assert!(r[4].starts_with("250 2.1.5"), "{}", r[4]);
    let line =
        d.wait_for("NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 <no-1@mx.test>");
    assert!(
        line.contains(
            "554 5.7.1 <no-1@mx.test>: Recipient address rejected: scripted refuses \
             no-1@mx.test; from=<a@sender.example> to=<no-1@mx.test> proto=ESMTP \
             helo=<client.example>"
        ),
        "{line}"
    );
    // The trusted client: permit_mynetworks decides before scripted.
    let r = rcpts(
        &d,
        "127.0.0.1",
        &["no-2@mx.test", "plain-3@elsewhere.example"],
    )
    .await;
    assert!(r[0].starts_with("250 2.1.5"), "{}", r[0]);
    assert!(r[1].starts_with("250 2.1.5"), "{}", r[1]);
    // A last call marks the end of the log; every earlier call is in by now.
    let r = rcpts(&d, "127.0.0.2", &["plain-final@mx.test"]).await;
    assert!(r[0].starts_with("250 2.1.5"), "{}", r[0]);
    d.wait_for("scripted: rcpt plain-final@mx.test");
    assert_eq!(count(&d, "scripted: rcpt"), 6, "{}", d.output());
    assert_eq!(count(&d, "scripted: rcpt no-2@mx.test"), 0);
    // `mta plugin list` tells the operator where it runs.
    let (ok, list) = run(
        mta_bin().to_str().expect("utf-8 path"),
        &["plugin", "list", "-c", d.dir.to_str().expect("utf-8 path")],
    );
    assert!(ok, "{list}");
    let row = list
        .lines()
        .find(|l| l.starts_with("scripted "))
        .unwrap_or_else(|| panic!("no scripted row:\n{list}"));
    assert!(
        row.ends_with("drop-in, named in restriction lists"),
        "{row}"
    );
}

/// A misspelt drop-in name in a list: `mta check` and `mta run` both refuse
/// the configuration, naming the list and the word.
#[test]
fn unknown_name_in_a_list_is_refused_by_check_and_run() {
    let dir = scratch("drop-unknown");
    let plugins = dir.join("plugins");
    drop_in(&plugins, "fixtures", "scripted", None);
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}\n{}",
            dir.join("spool").display(),
            main_cf(
                &plugins,
                1,
                "smtpd_recipient_restrictions = permit_mynetworks, scriptd, reject_unauth_destination\n"
            )
        ),
    )
    .expect("main.cf");
    std::fs::write(dir.join("master.cf"), "127.0.0.1:1 inet n - n - - smtpd\n").expect("master.cf");
    let bin = mta_bin();
    let d = dir.to_str().expect("utf-8 path");
    let (ok, out) = run(bin.to_str().expect("utf-8 path"), &["check", "-c", d]);
    assert!(!ok, "mta check accepted it:\n{out}");
    assert!(
        out.contains("smtpd_recipient_restrictions: unknown restriction \"scriptd\""),
        "{out}"
    );
    let (ok, out) = run(bin.to_str().expect("utf-8 path"), &["run", "-c", d]);
    assert!(!ok, "mta run started:\n{out}");
    assert!(out.contains("unknown restriction \"scriptd\""), "{out}");
    // Spelt right, it is accepted; named where it has no hook (scripted
    // hooks RCPT only, the data list runs at DATA) it is accepted with a
    // warning that its entry can only answer DUNNO.
    let cf = std::fs::read_to_string(dir.join("main.cf")).expect("main.cf");
    let cf = cf.replace("scriptd", "scripted") + "smtpd_data_restrictions = scripted\n";
    std::fs::write(dir.join("main.cf"), cf).expect("main.cf");
    let (ok, out) = run(bin.to_str().expect("utf-8 path"), &["check", "-c", d]);
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "smtpd_data_restrictions: drop-in plugin scripted hooks none of the stages this \
             list is evaluated at (data)"
        ),
        "{out}"
    );
    assert!(
        !out.contains("smtpd_recipient_restrictions: drop-in"),
        "{out}"
    );
}

/// A drop-in named in smtpd_sender_restrictions runs where that list is
/// evaluated: at MAIL with smtpd_delay_reject = no (its mail hook), at RCPT
/// with the default `yes` (its rcpt hook), its answer worded for the
/// sender either way. A fault there applies its failure action (451 4.3.0).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_in_in_sender_list_follows_delay_reject_and_fails_closed() {
    let plugins = scratch("drop-sender-plugins");
    drop_in(&plugins, "fixtures", "trapper", None);
    let lists = "smtpd_sender_restrictions = permit_mynetworks, trapper\n";
    let d = Daemon::start(
        "drop-sender-nodelay",
        &main_cf(&plugins, 1, &format!("{lists}smtpd_delay_reject = no\n")),
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.2").await;
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    let r = c.cmd("MAIL FROM:<a@sender.example>").await;
    assert_eq!(
        r.trim_end(),
        "554 5.7.1 <a@sender.example>: Sender address rejected: trapper answered a@sender.example"
    );
    let r = c.cmd("MAIL FROM:<trap@sender.example>").await;
    assert!(r.starts_with("451 4.3.0"), "{r}");
    d.wait_for("plugin trapper version 1.0.0: fault at mail");
    c.cmd("QUIT").await;
    drop(d);

    let d = Daemon::start("drop-sender-delay", &main_cf(&plugins, 1, lists), &[]);
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.2").await;
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    let r = c.cmd("MAIL FROM:<a@sender.example>").await;
    assert!(r.starts_with("250 2.1.0"), "{r}");
    let r = c.cmd("RCPT TO:<u@mx.test>").await;
    assert_eq!(
        r.trim_end(),
        "554 5.7.1 <a@sender.example>: Sender address rejected: trapper answered u@mx.test"
    );
    c.cmd("QUIT").await;
    // The trusted client is permitted before trapper is asked.
    let r = rcpts(&d, "127.0.0.1", &["u@mx.test"]).await;
    assert!(r[0].starts_with("250 2.1.5"), "{}", r[0]);
}

/// Named in smtpd_end_of_data_restrictions, a drop-in answers after the
/// final dot with the same instance that saw the message's headers and body
/// (trapper counts them), and no longer runs at MAIL or RCPT by default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_in_in_end_of_data_list_keeps_its_message_instance() {
    let plugins = scratch("drop-eod-plugins");
    drop_in(&plugins, "fixtures", "trapper", None);
    let d = Daemon::start(
        "drop-eod",
        &main_cf(
            &plugins,
            1,
            "smtpd_end_of_data_restrictions = permit_sasl_authenticated, trapper\n",
        ),
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.2").await;
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    // trapper's mail and rcpt hooks would reject: placed, they are not called.
    let r = c.cmd("MAIL FROM:<a@sender.example>").await;
    assert!(r.starts_with("250 2.1.0"), "{r}");
    let r = c.cmd("RCPT TO:<u@mx.test>").await;
    assert!(r.starts_with("250 2.1.5"), "{r}");
    assert!(c.cmd("DATA").await.starts_with("354"));
    c.send(b"From: a@sender.example\r\nTo: u@mx.test\r\nSubject: hi\r\n\r\nhello\r\n.\r\n")
        .await;
    let r = c.reply().await;
    assert!(
        r.starts_with("554 5.7.1 ")
            && r.contains("End-of-data rejected: trapper saw 3 headers and 1 lines"),
        "{r}"
    );
    c.cmd("QUIT").await;
    assert!(d.queued().is_empty(), "a rejected message was queued");
}
