//! The real daemon with real clients: Python's smtplib, swaks and Postfix's
//! smtp-source, from 127.0.0.2+ to play clients outside mynetworks, plus raw
//! sockets for the hostile inputs.

use mta_e2e::e2e_smtpd_util::{queue_json, Relay};
use mta_e2e::{python, run, Daemon, Smtp};

#[tokio::test]
async fn smtplib_full_dialogue_from_outside_client() {
    let relay = Relay::start("smtplib", "", &[]).await;
    let d = &relay.d;
    let out = python(&format!(
        r#"
import smtplib
s = smtplib.SMTP('127.0.0.1', {}, source_address=('127.0.0.2', 0), local_hostname='client.example')
code, banner = s.ehlo()
print('EHLO', code, banner.decode())
r = s.sendmail('alice@example.org', ['bob@example.net'], b'Subject: hello\r\n\r\nHi Bob.\r\n.leading dot\r\n')
print('REFUSED', r)
print('NOOP', s.noop())
s.quit()
"#,
        d.port
    ));
    assert!(
        out.contains("EHLO 250 mx.test\nPIPELINING\nSIZE 10240000"),
        "{out}"
    );
    assert!(out.contains("REFUSED {}"), "{out}");
    let line = d.wait_for(": client=unknown[127.0.0.2]");
    let id = line
        .split(": client=")
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    d.wait_for(&format!("{id}: from=<alice@example.org>, size="));
    let q = relay.delivered(1);
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(
        q[0].contains("X-Client-Addr: 127.0.0.1\nX-Client-Proto: ESMTP\n"),
        "{}",
        q[0]
    );
    assert!(
        q[0].contains("X-Mail-Args: <alice@example.org>"),
        "{}",
        q[0]
    );
    assert!(q[0].contains("X-Rcpt-Args: <bob@example.net>"), "{}", q[0]);
    assert!(q[0].contains(&format!(
        "Received: from client.example (unknown [127.0.0.2])\n\tby mx.test (mta) with ESMTP id {id}\n\tfor <bob@example.net>; "
    )), "{}", q[0]);
    assert!(
        q[0].trim_end()
            .ends_with("Subject: hello\n\nHi Bob.\n.leading dot"),
        "{}",
        q[0]
    );
    d.wait_for("disconnect from unknown[127.0.0.2]");
}

#[tokio::test]
async fn swaks_pipelining() {
    let relay = Relay::start("swaks", "", &[]).await;
    let d = &relay.d;
    let server = format!("127.0.0.1:{}", d.port);
    let (ok, out) = run(
        "swaks",
        &[
            "--server",
            &server,
            "--local-interface",
            "127.0.0.3",
            "--pipeline",
            "--from",
            "a@example.org",
            "--to",
            "b@example.net,c@example.net",
            "--helo",
            "swaks.example",
            "--body",
            "pipelined",
        ],
    );
    assert!(ok, "{out}");
    assert!(!out.contains("<** "), "an error reply: {out}");
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    let q = relay.delivered(1);
    assert_eq!(q.len(), 1);
    assert!(
        q[0].contains("X-Rcpt-Args: <b@example.net>\nX-Rcpt-Args: <c@example.net>\n"),
        "{}",
        q[0]
    );
}

#[tokio::test]
async fn smtp_source_many_sessions() {
    let relay = Relay::start("smtp-source", "", &[]).await;
    let d = &relay.d;
    let server = format!("127.0.0.1:{}", d.port);
    let (ok, out) = run(
        "smtp-source",
        &[
            "-c",
            "-s",
            "4",
            "-m",
            "12",
            "-l",
            "2000",
            "-f",
            "from@example.org",
            "-t",
            "to@example.net",
            &server,
        ],
    );
    assert!(ok, "{out}");
    d.wait_for_nth("(queue active)", 12);
    assert_eq!(relay.delivered(12).len(), 12);
}

#[tokio::test]
async fn hostile_commands_get_postfix_replies() {
    let relay = Relay::start("hostile", "smtpd_hard_error_limit = 100", &[]).await;
    let d = &relay.d;
    let (mut c, banner) = Smtp::connect(d.addr(), "127.0.0.4").await;
    assert_eq!(banner, "220 mx.test ESMTP mta\r\n");
    assert_eq!(
        c.cmd("RCPT TO:<a@b.example>").await,
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(
        c.cmd("DATA").await,
        "503 5.5.1 Error: need RCPT command\r\n"
    );
    c.send(b"EHLO \xc3\x28junk\r\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 Error: bad UTF-8 syntax\r\n");
    assert_eq!(
        c.cmd("XYZZY\0").await,
        "500 5.5.2 Error: command not recognized\r\n"
    );
    let long = "A".repeat(100_000);
    assert_eq!(
        c.cmd(&long).await,
        "500 5.5.2 Error: command not recognized\r\n"
    );
    assert_eq!(
        c.cmd("EHLO ok.example").await.lines().next().unwrap(),
        "250-mx.test"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<unbalanced@example.org").await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a b@example.org>").await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<ok@example.org>").await,
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<<x@example.net>>").await,
        "501 5.1.3 Bad recipient address syntax\r\n"
    );
    assert_eq!(
        c.cmd("DATA").await,
        "554 5.5.1 Error: no valid recipients\r\n"
    );
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye\r\n");
    assert!(c.closed().await);
    relay.nothing_queued();
}

#[tokio::test]
async fn dot_lf_smuggling_queues_one_message() {
    let relay = Relay::start("smuggle", "", &[]).await;
    let d = &relay.d;
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.5").await;
    c.send(b"EHLO s\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        .await;
    for _ in 0..4 {
        c.reply().await;
    }
    c.send(b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\nDATA\r\nsmuggled\r\n.\r\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye\r\n");
    let q = relay.delivered(1);
    assert_eq!(q.len(), 1);
    assert!(
        q[0].contains("hi\n.\nMAIL FROM:<evil@example.org>\n"),
        "{}",
        q[0]
    );
    assert!(!q[0].contains("victim@example.net>\nReceived"), "{}", q[0]);
    assert!(
        q[0].contains("X-Rcpt-Args: <b@example.net>\nReceived"),
        "{}",
        q[0]
    );
}

#[tokio::test]
async fn bare_lf_reject_mode() {
    let relay = Relay::start("barelf", "smtpd_forbid_bare_newline = reject", &[]).await;
    let d = &relay.d;
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.6").await;
    c.send(b"EHLO s\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        .await;
    for _ in 0..4 {
        c.reply().await;
    }
    c.send(b"Subject: x\r\n\r\nbare\n.\r\n").await;
    assert_eq!(c.reply().await, "550 5.5.2 Error: bare <LF> received\r\n");
    assert!(c.closed().await);
    relay.nothing_queued();
}

#[tokio::test]
async fn disconnect_mid_data_leaves_nothing() {
    let relay = Relay::start("middata", "", &[]).await;
    let d = &relay.d;
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.7").await;
    c.send(b"EHLO s\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        .await;
    for _ in 0..4 {
        c.reply().await;
    }
    c.send(b"Subject: x\r\n\r\nhalf a message").await;
    drop(c);
    d.wait_for("lost connection after DATA");
    relay.nothing_queued();
}

#[tokio::test]
async fn size_limit_552_after_the_dot() {
    let relay = Relay::start("size", "message_size_limit = 5000", &[]).await;
    let d = &relay.d;
    let out = python(&format!(
        r#"
import smtplib
s = smtplib.SMTP('127.0.0.1', {}, source_address=('127.0.0.8', 0))
s.ehlo('c')
s.mail('a@example.org')
s.rcpt('b@example.net')
print(s.data(b'Subject: big\r\n\r\n' + (b'x' * 70 + b'\r\n') * 200))
print(s.noop())
"#,
        d.port
    ));
    assert!(
        out.contains("(552, b'5.3.4 Message size exceeds fixed limit')"),
        "{out}"
    );
    assert!(out.contains("(250, b'2.0.0 Ok')"), "{out}");
    relay.nothing_queued();
}

#[tokio::test]
async fn error_limit_and_per_listener_override() {
    // -o on the master.cf entry wins over main.cf.
    let d = Daemon::start(
        "errors",
        "smtpd_hard_error_limit = 50",
        &["smtpd_hard_error_limit=2"],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.9").await;
    assert_eq!(
        c.cmd("BAD1").await,
        "500 5.5.2 Error: command not recognized\r\n"
    );
    assert_eq!(
        c.cmd("BAD2").await,
        "500 5.5.2 Error: command not recognized\r\n"
    );
    assert_eq!(
        c.reply().await,
        "421 4.7.0 mx.test Error: too many errors\r\n"
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn client_connection_count_limit() {
    let d = Daemon::start("conncount", "smtpd_client_connection_count_limit = 1", &[]);
    let (_c1, b1) = Smtp::connect(d.addr(), "127.0.0.10").await;
    assert!(b1.starts_with("220 "));
    let (mut c2, b2) = Smtp::connect(d.addr(), "127.0.0.10").await;
    assert_eq!(
        b2,
        "421 4.7.0 mx.test Error: too many connections from 127.0.0.10\r\n"
    );
    assert!(c2.closed().await);
    // Another client is not affected.
    let (_c3, b3) = Smtp::connect(d.addr(), "127.0.0.11").await;
    assert!(b3.starts_with("220 "));
}

#[tokio::test]
async fn starttls_with_generated_cert() {
    let dir = mta_e2e::scratch("tls-certs");
    let cert = rcgen::generate_simple_self_signed(vec!["mx.test".to_string()]).expect("cert");
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.key_pair.serialize_pem()).unwrap();
    let main = format!(
        "smtpd_tls_security_level = may\nsmtpd_tls_cert_file = {}\nsmtpd_tls_key_file = {}\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    );
    let relay = Relay::start("tls", &main, &[]).await;
    let d = &relay.d;
    let server = format!("127.0.0.1:{}", d.port);
    let (ok, out) = run(
        "swaks",
        &[
            "--server",
            &server,
            "--local-interface",
            "127.0.0.12",
            "--tls",
            "--from",
            "a@example.org",
            "--to",
            "b@example.net",
            "--body",
            "over tls",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("220 2.0.0 Ready to start TLS"), "{out}");
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    let q = relay.delivered(1);
    assert_eq!(q.len(), 1);
    assert!(q[0].contains("with ESMTPS id"), "{}", q[0]);
    d.wait_for("TLS connection established from unknown[127.0.0.12]");
}

#[tokio::test]
async fn sigterm_drains_sessions_in_flight() {
    // Relayed to a port where nobody listens: the accepted message stays queued.
    let main = format!(
        "relay_domains = example.net\nrelayhost = [127.0.0.1]:{}\n",
        mta_e2e::free_port()
    );
    let mut d = Daemon::start("drain", &main, &[]);
    // One client mid-DATA, one idle.
    let (mut busy, _) = Smtp::connect(d.addr(), "127.0.0.13").await;
    busy.send(b"EHLO s\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n")
        .await;
    for _ in 0..4 {
        busy.reply().await;
    }
    busy.send(b"Subject: drain\r\n\r\nfirst half\r\n").await;
    let (mut idle, _) = Smtp::connect(d.addr(), "127.0.0.14").await;
    assert!(idle.cmd("EHLO idle").await.starts_with("250-"));
    d.signal("TERM");
    d.wait_for("draining sessions");
    assert_eq!(
        idle.reply().await,
        "421 4.3.2 mx.test Service shutting down\r\n"
    );
    busy.send(b"second half\r\n.\r\n").await;
    let r = busy.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    // Then the drained session is told we are going away, and closed.
    assert_eq!(
        busy.reply().await,
        "421 4.3.2 mx.test Service shutting down\r\n"
    );
    assert!(busy.closed().await);
    let st = d.wait_exit();
    assert!(st.success(), "{st:?}");
    assert!(d.output().contains("mta: stopped"));
    let q = queue_json(&d);
    assert_eq!(q.lines().count(), 1, "{q}");
}

#[tokio::test]
async fn sighup_reloads_without_dropping_sessions() {
    let d = Daemon::start("reload", "smtpd_banner = $myhostname ESMTP before", &[]);
    let (mut old, banner) = Smtp::connect(d.addr(), "127.0.0.15").await;
    assert_eq!(banner, "220 mx.test ESMTP before\r\n");
    let main = std::fs::read_to_string(d.dir.join("main.cf"))
        .unwrap()
        .replace("ESMTP before", "ESMTP after");
    std::fs::write(d.dir.join("main.cf"), main).unwrap();
    d.signal("HUP");
    d.wait_for("mta: reloaded");
    let (_new, banner) = Smtp::connect(d.addr(), "127.0.0.16").await;
    assert_eq!(banner, "220 mx.test ESMTP after\r\n");
    // The session opened before the reload carries on.
    assert!(old.cmd("EHLO still.here").await.starts_with("250-mx.test"));
    assert_eq!(
        old.cmd("MAIL FROM:<a@example.org>").await,
        "250 2.1.0 Ok\r\n"
    );
}

#[tokio::test]
async fn session_cap_queues_connections() {
    let d = Daemon::start("cap", "default_process_limit = 1", &[]);
    let (mut first, b1) = Smtp::connect(d.addr(), "127.0.0.17").await;
    assert!(b1.starts_with("220 "));
    // The second client is accepted by the kernel but waits for a slot:
    // while the first talks, the second hears nothing.
    let mut second = Smtp::connect_raw(d.addr(), "127.0.0.18").await;
    for _ in 0..5 {
        assert_eq!(first.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
    }
    assert_eq!(first.cmd("QUIT").await, "221 2.0.0 Bye\r\n");
    let b2 = second.reply().await;
    assert!(b2.starts_with("220 "), "{b2}");
    d.wait_for("connect from unknown[127.0.0.18]");
    let out = d.output();
    let gone = out
        .find("disconnect from unknown[127.0.0.17]")
        .expect("first disconnect logged");
    let came = out
        .find("connect from unknown[127.0.0.18]")
        .expect("second connect logged");
    assert!(
        gone < came,
        "second session started before the first ended:\n{out}"
    );
}

#[tokio::test]
async fn disconnect_line_counts_commands_as_postfix() {
    // The dialogue was put to Postfix 3.7 (postfix-ref) on the same main.cf;
    // its disconnect line is the one asserted here (HELP aside: Postfix has
    // none, so the unknown command here is XYZZY as well as FOO).
    let d = Daemon::start(
        "counts",
        "smtpd_recipient_restrictions = check_recipient_access inline:{ bad@example.com=REJECT }",
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.1").await;
    for (cmd, code) in [
        ("EHLO x.test", "250"),
        ("FOO", "500"),
        ("MAIL FROM:<a@b.test>", "250"),
        ("RCPT TO:<bad@example.com>", "554"),
        ("RCPT TO:<ok@example.com>", "250"),
        ("NOOP", "250"),
        ("RSET", "250"),
        ("MAIL FROM:<a@b.test>", "250"),
        ("RCPT TO:<ok@example.com>", "250"),
        ("DATA", "354"),
    ] {
        let r = c.cmd(cmd).await;
        assert!(r.starts_with(code), "{cmd}: {r}");
    }
    assert!(c.cmd("Subject: x\r\n\r\nhi\r\n.").await.starts_with("250"));
    assert!(c.cmd("XYZZY").await.starts_with("500"));
    assert!(c.cmd("QUIT").await.starts_with("221"));
    let line = d.wait_for("disconnect from");
    assert!(
        line.ends_with(
            "disconnect from localhost[127.0.0.1] ehlo=1 mail=2 rcpt=2/3 data=1 rset=1 noop=1 quit=1 unknown=0/2 commands=9/12"
        ),
        "{line}"
    );
    // A client that says nothing: `commands=0/0`, as Postfix.
    let c = Smtp::connect_raw(d.addr(), "127.0.0.2").await;
    drop(c);
    let line = d.wait_for("disconnect from unknown[127.0.0.2]");
    assert!(line.ends_with("commands=0/0"), "{line}");
}

#[tokio::test]
async fn client_text_reaches_the_log_printable() {
    // A HELO name with SOH and a terminal escape in it: Postfix
    // 3.7 (postfix-ref, same main.cf and dialogue) logs `helo=<a?b?[31mred>`.
    // A pipelined junk command with a CR in it must not reach the log raw
    // either.
    let d = Daemon::start(
        "printable",
        "smtpd_recipient_restrictions = check_recipient_access inline:{ bad@example.com=REJECT }",
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.1").await;
    assert!(c.cmd("HELO a\u{1}b\u{1b}[31mred").await.starts_with("250 "));
    assert!(c.cmd("MAIL FROM:<a@b.test>").await.starts_with("250 "));
    assert!(c.cmd("RCPT TO:<bad@example.com>").await.starts_with("554 "));
    c.send(b"X\rY\x1b]0;owned\x07\r\nNOOP\r\n").await;
    assert!(c.reply().await.starts_with("500 "));
    assert!(c.reply().await.starts_with("250 "));
    assert!(c.cmd("QUIT").await.starts_with("221 "));
    let line = d.wait_for("NOQUEUE: reject: RCPT");
    assert!(
        line.ends_with(
            "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 554 5.7.1 <bad@example.com>: Recipient address rejected: Access denied; from=<a@b.test> to=<bad@example.com> proto=SMTP helo=<a?b?[31mred>"
        ),
        "{line}"
    );
    d.wait_for("disconnect from localhost[127.0.0.1]");
    let out = d.output();
    assert!(
        !out.chars().any(|ch| ch.is_control() && ch != '\n'),
        "a control character reached the log: {out:?}"
    );
}

#[tokio::test]
async fn client_rate_limits_answer_as_postfix() {
    // The same main.cf and dialogue were put to Postfix 3.7 (postfix-ref):
    // these replies, warnings and the disconnect counts are its own. (An
    // hour's window: a slow machine must not see the counts start over.)
    let d = Daemon::start(
        "anvil",
        "smtpd_client_connection_rate_limit = 3\n\
         smtpd_client_message_rate_limit = 2\n\
         smtpd_client_recipient_rate_limit = 3\n\
         smtpd_client_event_limit_exceptions = 127.0.0.31, cidr:{{127.0.0.32/32 ok}}\n\
         anvil_rate_time_unit = 1h",
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.1").await;
    for (cmd, want) in [
        ("EHLO x", "250-"),
        ("MAIL FROM:<a@b>", "250 2.1.0 Ok"),
        ("RCPT TO:<c@d.example>", "250 2.1.5 Ok"),
        ("RCPT TO:<e@d.example>", "250 2.1.5 Ok"),
        ("RCPT TO:<f@d.example>", "250 2.1.5 Ok"),
        (
            "RCPT TO:<g@d.example>",
            "450 4.7.1 Error: too many recipients from 127.0.0.1\r\n",
        ),
        ("RSET", "250 2.0.0 Ok"),
        ("MAIL FROM:<a@b>", "250 2.1.0 Ok"),
        ("RSET", "250 2.0.0 Ok"),
        (
            "MAIL FROM:<a@b>",
            "450 4.7.1 Error: too much mail from 127.0.0.1\r\n",
        ),
        ("QUIT", "221 2.0.0 Bye"),
    ] {
        let r = c.cmd(cmd).await;
        assert!(r.starts_with(want), "{cmd}: {r}");
    }
    for _ in 0..2 {
        let (mut c, banner) = Smtp::connect(d.addr(), "127.0.0.1").await;
        assert!(banner.starts_with("220 "), "{banner}");
        assert!(c.cmd("QUIT").await.starts_with("221"));
    }
    let (mut c, banner) = Smtp::connect(d.addr(), "127.0.0.1").await;
    assert_eq!(
        banner,
        "421 4.7.0 mx.test Error: too many connections from 127.0.0.1\r\n"
    );
    assert!(c.closed().await);
    for want in [
        "warning: Recipient address rate limit exceeded: 4 from localhost[127.0.0.1] for service",
        "warning: Message delivery request rate limit exceeded: 3 from localhost[127.0.0.1] for service",
        "warning: Connection rate limit exceeded: 4 from localhost[127.0.0.1] for service",
        "disconnect from localhost[127.0.0.1] ehlo=1 mail=2/3 rcpt=3/4 rset=2 quit=1 commands=9/11",
    ] {
        d.wait_for(want);
    }
    // An exempt client, listed by address or found in a table, is never
    // counted.
    for client in ["127.0.0.31", "127.0.0.32"] {
        for _ in 0..5 {
            let (mut c, banner) = Smtp::connect(d.addr(), client).await;
            assert!(banner.starts_with("220 "), "{client}: {banner}");
            assert!(c.cmd("QUIT").await.starts_with("221"));
        }
    }
    // ... and one in neither is.
    for _ in 0..3 {
        let (mut c, banner) = Smtp::connect(d.addr(), "127.0.0.33").await;
        assert!(banner.starts_with("220 "), "{banner}");
        assert!(c.cmd("QUIT").await.starts_with("221"));
    }
    let (_c, banner) = Smtp::connect(d.addr(), "127.0.0.33").await;
    assert!(banner.starts_with("421 4.7.0"), "{banner}");
}
