//! relocated_maps end to end: smtpd refuses a moved user at RCPT with
//! Postfix's exact reply and log line, and mail that reaches a moved user
//! another way (sendmail) bounces with the same reason.

use mta_e2e::queue_util::{free_port, run_mta, temp_dir, wait_for, Sink};
use mta_e2e::{Daemon, Smtp};
use std::time::Duration;

/// A relocated table built with `mta postmap`, as an operator would.
fn relocated_table(dir: &std::path::Path) -> String {
    let src = dir.join("relocated");
    std::fs::write(
        &src,
        "old@example.com      new@example.net\n@olddomain.example   newdomain.example\n",
    )
    .unwrap();
    let (ok, _, err) = run_mta(dir, &["postmap", src.to_str().unwrap()], b"");
    assert!(ok, "{err}");
    format!("hash:{}", src.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relocated_recipient_is_refused_with_the_new_address() {
    let tables = temp_dir("relocated");
    let map = relocated_table(&tables);
    std::fs::write(
        tables.join("transport"),
        "nomail.example error:5.7.1 no mail here\n",
    )
    .unwrap();
    let d = Daemon::start(
        "relocated",
        &format!(
            "mydestination = example.com, localhost\nlocal_recipient_maps =\nrelocated_maps = {map}\n\
             transport_maps = texthash:{}/transport\n",
            tables.display()
        ),
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.1").await;
    c.cmd("EHLO client.test").await;
    assert!(c.cmd("MAIL FROM:<a@b.example>").await.starts_with("250"));
    // The same replies postfix-ref (Postfix 3.7) gives on this main.cf.
    assert_eq!(
        c.cmd("RCPT TO:<old@example.com>").await,
        "550 5.1.6 <old@example.com>: Recipient address rejected: User has moved to new@example.net\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<OLD@Example.COM>").await,
        "550 5.1.6 <OLD@Example.COM>: Recipient address rejected: User has moved to new@example.net\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<anyone@olddomain.example>").await,
        "550 5.1.6 <anyone@olddomain.example>: Recipient address rejected: User has moved to newdomain.example\r\n"
    );
    // Any address the resolver sends to the error transport is refused the
    // same way (Postfix 3.7 answers exactly this for an error: transport).
    assert_eq!(
        c.cmd("RCPT TO:<x@nomail.example>").await,
        "550 5.7.1 <x@nomail.example>: Recipient address rejected: no mail here\r\n"
    );
    // Someone who did not move is accepted.
    assert!(c
        .cmd("RCPT TO:<stays@example.com>")
        .await
        .starts_with("250"));
    let line = d.wait_for("NOQUEUE: reject: RCPT from");
    assert!(
        line.ends_with(": 550 5.1.6 <old@example.com>: Recipient address rejected: User has moved to new@example.net; from=<a@b.example> to=<old@example.com> proto=ESMTP helo=<client.test>"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_to_a_relocated_user_from_sendmail_bounces_with_the_new_address() {
    let tables = temp_dir("relocated-bounce");
    let map = relocated_table(&tables);
    let port = free_port();
    let sink = Sink::start(port, &tables.join("sink")).await;
    let d = Daemon::start(
        "relocated-bounce",
        &format!(
            "mydestination = example.com, localhost\nlocal_recipient_maps =\n\
             relocated_maps = {map}\nrelayhost = [127.0.0.1]:{port}\n"
        ),
        &[],
    );
    let c = d.dir.to_str().unwrap().to_string();
    let (ok, _, err) = run_mta(
        &d.dir,
        &[
            "sendmail",
            "-c",
            &c,
            "-f",
            "sender@example.org",
            "old@example.com",
        ],
        b"Subject: are you there\n\nhello\n",
    );
    assert!(ok, "{err}");
    let line = d.wait_for("to=<old@example.com>");
    assert!(
        line.contains("relay=none")
            && line.contains("dsn=5.1.6, status=bounced (User has moved to new@example.net)"),
        "{line}"
    );
    // The sender gets a delivery status notification naming the new address.
    assert!(wait_for(Duration::from_secs(20), || sink.messages().len() == 1).await);
    let dsn = &sink.messages()[0];
    assert!(dsn.contains("Status: 5.1.6"), "{dsn}");
    assert!(dsn.contains("User has moved to new@example.net"), "{dsn}");
    assert!(
        dsn.contains("Final-Recipient: rfc822; old@example.com"),
        "{dsn}"
    );
}
