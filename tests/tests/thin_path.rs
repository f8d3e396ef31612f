//! The thin path end to end: clients → mta smtpd (the real restrictions
//! plugin in the sandbox, default relay rules) → redb queue → qmgr →
//! `relayhost = [127.0.0.1]:PORT` → Postfix's smtp-sink, counting what
//! arrives. Plus the relay refusal an outside client gets, and a `kill -9`
//! mid-stream that must not lose any message that got a 250.

use mta_e2e::e2e_smtpd_util::{send_until_failure, Accepted, Relay};
use mta_e2e::{run, Daemon, Smtp};
use std::sync::Arc;

#[tokio::test]
async fn smtp_source_reaches_the_sink() {
    let r = Relay::start("thin-source", "", &[]).await;
    let server = format!("127.0.0.1:{}", r.d.port);
    let (ok, out) = run(
        "smtp-source",
        &[
            "-s",
            "4",
            "-m",
            "20",
            "-l",
            "4096",
            "-f",
            "from@example.org",
            "-t",
            "to@example.net",
            &server,
        ],
    );
    assert!(ok, "{out}");
    let got = r.delivered(20);
    assert_eq!(got.len(), 20, "exactly the 20 messages sent");
    for m in &got {
        assert!(m.contains("by mx.test (mta) with SMTP id "), "{m}");
        assert!(m.contains("X-Rcpt-Args: <to@example.net>\n"), "{m}");
    }
    r.d.wait_for_nth("status=sent", 20);
    let out = r.d.output();
    // One `(queue active)` line per message (qmgr's, not smtpd's too), and
    // plain text in the log: no ANSI colour codes when stderr is a pipe.
    assert_eq!(out.matches("(queue active)").count(), 20, "{out}");
    assert!(!out.contains('\x1b'), "ANSI escapes in the log:\n{out}");
}

#[tokio::test]
async fn outside_client_may_not_relay() {
    let r = Relay::start("thin-relay", "", &[]).await;
    let (mut c, _) = Smtp::connect(r.d.addr(), "127.0.0.2").await;
    assert!(c.cmd("EHLO outside.example").await.starts_with("250-"));
    assert_eq!(c.cmd("MAIL FROM:<a@example.org>").await, "250 2.1.0 Ok\r\n");
    assert_eq!(
        c.cmd("RCPT TO:<x@elsewhere.example>").await,
        "454 4.7.1 <x@elsewhere.example>: Relay access denied\r\n"
    );
    // A relay domain is still accepted in the same transaction.
    assert_eq!(c.cmd("RCPT TO:<y@example.net>").await, "250 2.1.5 Ok\r\n");
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye\r\n");
    r.d.wait_for(
        "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 454 4.7.1 <x@elsewhere.example>: Relay access denied; from=<a@example.org> to=<x@elsewhere.example> proto=ESMTP helo=<outside.example>",
    );
    r.nothing_queued();
}

#[tokio::test]
async fn kill_9_loses_no_accepted_message() {
    let mut r = Relay::start("thin-kill", "", &[]).await;
    let port = r.d.port;
    let acc = Arc::new(Accepted::default());
    let sender = {
        let acc = acc.clone();
        std::thread::spawn(move || send_until_failure(port, 10_000, 4096, &acc))
    };
    acc.wait_for(10);
    r.d.signal("KILL");
    let st = r.d.wait_exit();
    assert!(!st.success(), "{st:?}");
    sender.join().expect("sender thread");
    let accepted = acc.ids.lock().unwrap().clone();
    assert!(accepted.len() >= 10);
    // Restart on the same directory and port: recovery hands on the rest.
    r.d = Daemon::spawn(r.d.dir.clone(), port);
    let got = r.arrived(accepted.len());
    for id in &accepted {
        let stamp = format!("with ESMTP id {id}\n");
        let stamp_crlf = format!("with ESMTP id {id}\r\n");
        assert!(
            got.iter()
                .any(|m| m.contains(&stamp) || m.contains(&stamp_crlf)),
            "accepted message {id} never reached the sink ({} of {} arrived)",
            got.len(),
            accepted.len()
        );
    }
}
