//! Session tests over `tokio::io::duplex`: the whole command loop, DATA
//! parsing and cleanup, with the TEMP queue writing into a scratch spool.

use super::{Session, Shared};
use crate::config::Config;
use crate::queue::Queue;
use crate::stages::StageRunner;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{
    AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf,
};
use tokio::sync::watch;

/// A scratch spool directory unique to one test.
fn spool(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("mta-smtpd-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The queue of each scratch spool: redb allows one open handle per
/// process, so the sessions and the assertions share the same `Queue`.
static QUEUES: std::sync::Mutex<Vec<(PathBuf, Queue)>> = std::sync::Mutex::new(Vec::new());

fn open_queue(dir: &std::path::Path) -> Queue {
    let mut all = QUEUES.lock().unwrap();
    if let Some((_, q)) = all.iter().find(|(d, _)| d == dir) {
        return q.clone();
    }
    let q = Queue::open(dir).expect("queue");
    all.push((dir.to_path_buf(), q.clone()));
    q
}

/// Messages in the scratch spool's real queue, read back through the Queue
/// API; each rendered as `X-Envelope-From:`/`X-Envelope-To:` lines (from
/// the queue record) followed by the stored content, so one string shows
/// both what the envelope and the message became.
async fn queued(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let q = open_queue(dir);
    let mut out = Vec::new();
    for rec in q.list().await.expect("queue list") {
        let mut text = format!("X-Envelope-From: <{}>\r\n", rec.sender).into_bytes();
        for r in &rec.recipients {
            text.extend_from_slice(format!("X-Envelope-To: <{}>\r\n", r.address).as_bytes());
        }
        text.extend(q.body(&rec).await.expect("queue body"));
        out.push(text);
    }
    out
}

struct Client {
    rd: BufReader<ReadHalf<DuplexStream>>,
    wr: WriteHalf<DuplexStream>,
    _shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    async fn send(&mut self, s: &[u8]) {
        self.wr.write_all(s).await.expect("write");
    }

    /// One whole reply (all lines), or "" at end of stream.
    async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.rd.read_line(&mut line))
                .await
                .expect("reply within 10s")
                .expect("read");
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    async fn cmd(&mut self, s: &str) -> String {
        self.send(format!("{s}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// The server closed its side.
    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(Duration::from_secs(10), self.rd.read_to_end(&mut rest)).await,
            Ok(Ok(_))
        ) && rest.is_empty()
    }
}

fn config(spool: &std::path::Path, extra: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    c.explicit
        .insert("queue_directory".into(), spool.display().to_string());
    c.explicit.insert("myhostname".into(), "mx.example".into());
    c.explicit
        .insert("smtpd_error_sleep_time".into(), "0".into());
    for (k, v) in extra {
        c.explicit.insert(k.to_string(), v.to_string());
    }
    c
}

async fn start_with(spool: &std::path::Path, extra: &[(&str, &str)], client_ip: &str) -> Client {
    let c = config(spool, extra);
    let queue = open_queue(spool);
    let shared = Arc::new(
        Shared::new(
            "test",
            &c,
            Arc::new(StageRunner::empty()),
            queue,
            None,
            None,
        )
        .expect("shared"),
    );
    let (a, b) = tokio::io::duplex(1 << 20);
    let (tx, rx) = watch::channel(false);
    let facts = super::facts::initial(
        "t1".into(),
        format!("{client_ip}:40000").parse().unwrap(),
        "127.0.0.1:25".parse().unwrap(),
        "test",
    );
    let task = tokio::spawn(Session::new(shared, Box::new(b), facts, rx).run());
    let (r, w) = tokio::io::split(a);
    let mut cl = Client {
        rd: BufReader::new(r),
        wr: w,
        _shutdown: tx,
        task,
    };
    let banner = cl.reply().await;
    assert_eq!(banner, "220 mx.example ESMTP mta\r\n");
    cl
}

async fn start(spool: &std::path::Path, extra: &[(&str, &str)]) -> Client {
    start_with(spool, extra, "192.0.2.7").await
}

#[tokio::test]
async fn full_dialogue_queues_after_fsync() {
    let sp = spool("full");
    let mut c = start(&sp, &[]).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(
        ehlo.starts_with("250-mx.example\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"),
        "{ehlo}"
    );
    assert!(
        ehlo.contains("250-ENHANCEDSTATUSCODES\r\n") && ehlo.ends_with("250 8BITMIME\r\n"),
        "{ehlo}"
    );
    assert!(!ehlo.contains("STARTTLS"), "no TLS configured: {ehlo}");
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME")
            .await,
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(c.cmd("RCPT TO:<b@example.net>").await, "250 2.1.5 Ok\r\n");
    assert_eq!(
        c.cmd("DATA").await,
        "354 End data with <CR><LF>.<CR><LF>\r\n"
    );
    c.send(b"Subject: hi\r\n\r\n..stuffed\r\nline\r\n.\r\n")
        .await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    let id = r.trim_end().rsplit(' ').next().unwrap().to_string();
    let files = queued(&sp).await;
    assert_eq!(files.len(), 1);
    let text = String::from_utf8_lossy(&files[0]).to_string();
    assert!(
        text.starts_with("X-Envelope-From: <a@example.org>\r\nX-Envelope-To: <b@example.net>\r\n"),
        "{text}"
    );
    assert!(text.contains(&format!("Received: from client.example (unknown [192.0.2.7])\r\n\tby mx.example (mta) with ESMTP id {id}\r\n\tfor <b@example.net>; ")), "{text}");
    assert!(
        text.ends_with("Subject: hi\r\n\r\n.stuffed\r\nline\r\n"),
        "{text}"
    );
    // A remote client gets no headers added (local_header_rewrite_clients).
    assert!(
        !text.contains("Message-Id:") && !text.contains("\r\nDate:"),
        "{text}"
    );
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye\r\n");
    assert!(c.closed().await);
}

#[tokio::test]
async fn local_client_gets_missing_headers() {
    let sp = spool("local");
    let mut c = start_with(&sp, &[], "127.0.0.1").await;
    c.send(b"HELO me\r\nMAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n")
        .await;
    for want in ["250 mx.example", "250 2.1.0", "250 2.1.5", "354"] {
        let r = c.reply().await;
        assert!(r.starts_with(want), "{r}");
    }
    c.send(b"no headers at all\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    let text = String::from_utf8_lossy(&queued(&sp).await[0]).to_string();
    assert!(
        text.contains("\r\nMessage-Id: <") && text.contains("@mx.example>\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nDate: ") && text.contains("\r\nFrom: a@x.example\r\n"),
        "{text}"
    );
    assert!(text.contains("with SMTP id"), "{text}");
}

#[tokio::test]
async fn pipelined_replies_come_in_order() {
    let sp = spool("pipe");
    let mut c = start(&sp, &[]).await;
    c.cmd("EHLO c").await;
    c.send(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nRCPT TO:<bad\r\nRCPT TO:<c@y.example>\r\nDATA\r\n").await;
    assert_eq!(c.reply().await, "250 2.1.0 Ok\r\n");
    assert_eq!(c.reply().await, "250 2.1.5 Ok\r\n");
    assert_eq!(
        c.reply().await,
        "501 5.1.3 Bad recipient address syntax\r\n"
    );
    assert_eq!(c.reply().await, "250 2.1.5 Ok\r\n");
    assert!(c.reply().await.starts_with("354 "));
    c.send(b"x\r\n.\r\nQUIT\r\n").await;
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    assert_eq!(c.reply().await, "221 2.0.0 Bye\r\n");
    let text = String::from_utf8_lossy(&queued(&sp).await[0]).to_string();
    assert!(
        text.contains("X-Envelope-To: <b@y.example>\r\nX-Envelope-To: <c@y.example>\r\n"),
        "{text}"
    );
    // Two recipients: no `for` clause.
    assert!(!text.contains("\tfor <"), "{text}");
}

#[tokio::test]
async fn commands_out_of_order_and_junk() {
    let sp = spool("order");
    let mut c = start(&sp, &[("smtpd_hard_error_limit", "100")]).await;
    assert_eq!(c.cmd("HELO").await, "501 Syntax: HELO hostname\r\n");
    assert_eq!(c.cmd("EHLO").await, "501 Syntax: EHLO hostname\r\n");
    assert_eq!(
        c.cmd("RCPT TO:<a@b.example>").await,
        "503 5.5.1 Error: need MAIL command\r\n"
    );
    assert_eq!(
        c.cmd("DATA").await,
        "503 5.5.1 Error: need RCPT command\r\n"
    );
    assert_eq!(
        c.cmd("FOO bar").await,
        "500 5.5.2 Error: command not recognized\r\n"
    );
    assert_eq!(
        c.cmd("MA\0IL FROM:<a@b.example>").await,
        "500 5.5.2 Error: command not recognized\r\n"
    );
    c.send(b"MAIL \xff\xfe FROM:<a@b>\r\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 Error: bad UTF-8 syntax\r\n");
    let long = format!("MAIL FROM:<{}@b.example>", "a".repeat(5000));
    assert_eq!(
        c.cmd(&long).await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    // The rest of the over-long line was skipped, not taken as a command.
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.example").await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<<a@b.example>>").await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@@b.example>").await,
        "501 5.1.7 Bad sender address syntax\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:").await,
        "501 5.5.4 Syntax: MAIL FROM:<address>\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.example> FOO=bar").await,
        "555 5.5.4 Unsupported option: FOO=bar\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.example> BODY=BINARYMIME").await,
        "555 5.5.4 Unsupported option: BODY=BINARYMIME\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.example> SIZE=99999999999").await,
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    assert_eq!(c.cmd("RSET").await, "250 2.0.0 Ok\r\n");
    assert_eq!(c.cmd("MAIL FROM:<>").await, "250 2.1.0 Ok\r\n");
    assert_eq!(
        c.cmd("MAIL FROM:<a@b.example>").await,
        "503 5.5.1 Error: nested MAIL command\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<>").await,
        "501 5.1.3 Bad recipient address syntax\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:<x@y.example").await,
        "501 5.1.3 Bad recipient address syntax\r\n"
    );
    assert_eq!(
        c.cmd("RCPT TO:").await,
        "501 5.5.4 Syntax: RCPT TO:<address>\r\n"
    );
    assert_eq!(
        c.cmd("DATA").await,
        "554 5.5.1 Error: no valid recipients\r\n"
    );
    assert_eq!(c.cmd("RSET x").await, "501 5.5.4 Syntax: RSET\r\n");
    assert_eq!(
        c.cmd("ETRN example.org").await,
        "503 Error: send HELO/EHLO first\r\n"
    );
    assert_eq!(c.cmd("VRFY").await, "501 5.5.4 Syntax: VRFY address\r\n");
    assert_eq!(
        c.cmd("VRFY <u@example.org>").await,
        "252 2.0.0 u@example.org\r\n"
    );
    assert_eq!(
        c.cmd("STARTTLS").await,
        "502 5.5.1 Error: command not implemented\r\n"
    );
    assert!(queued(&sp).await.is_empty());
}

#[tokio::test]
async fn vrfy_disabled_and_etrn() {
    let sp = spool("vrfy");
    let mut c = start(&sp, &[("disable_vrfy_command", "yes")]).await;
    let ehlo = c.cmd("EHLO c").await;
    assert!(!ehlo.contains("VRFY"), "{ehlo}");
    assert_eq!(
        c.cmd("VRFY u@example.org").await,
        "502 5.5.1 VRFY command is disabled\r\n"
    );
    assert_eq!(c.cmd("ETRN").await, "500 Syntax: ETRN domain\r\n");
    assert_eq!(c.cmd("ETRN example.org").await, "250 Queuing started\r\n");
    assert!(c.cmd("HELP").await.starts_with("214 2.0.0 "));
}

/// A message whose lines end in bare LF: under `normalize` the LF lines are
/// stored with CRLF, and `.\n` never ends DATA: the commands "smuggled"
/// after it are message text, and exactly one message is queued.
#[tokio::test]
async fn bare_lf_normalized_and_no_smuggling() {
    let sp = spool("smuggle");
    let mut c = start(&sp, &[]).await;
    c.cmd("EHLO c").await;
    c.cmd("MAIL FROM:<a@x.example>").await;
    c.cmd("RCPT TO:<b@y.example>").await;
    c.cmd("DATA").await;
    c.send(b"Subject: s\r\n\r\nline one\nbare\rcr\r\n.\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\nDATA\r\nevil\r\n\n.\r\nstill body\r\n.\r\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
    let files = queued(&sp).await;
    assert_eq!(files.len(), 1);
    let text = String::from_utf8_lossy(&files[0]).to_string();
    assert!(
        text.contains("\r\n\r\nline one\r\nbare\rcr\r\n.\r\nMAIL FROM:<evil@x.example>\r\n"),
        "{text}"
    );
    assert!(text.contains("evil\r\n\r\n.\r\nstill body\r\n"), "{text}");
    assert_eq!(text.matches("X-Envelope-To").count(), 1, "{text}");
}

#[tokio::test]
async fn bare_lf_rejected_when_configured() {
    let sp = spool("barelf");
    let mut c = start(&sp, &[("smtpd_forbid_bare_newline", "reject")]).await;
    c.cmd("EHLO c").await;
    c.cmd("MAIL FROM:<a@x.example>").await;
    c.cmd("RCPT TO:<b@y.example>").await;
    c.cmd("DATA").await;
    c.send(b"Subject: s\r\n\r\nbad line\n.\r\n").await;
    assert_eq!(c.reply().await, "550 5.5.2 Error: bare <LF> received\r\n");
    assert!(c.closed().await);
    assert!(queued(&sp).await.is_empty());
    // And a command line ending in a bare LF.
    let mut c = start(&sp, &[("smtpd_forbid_bare_newline", "reject")]).await;
    c.send(b"EHLO c\n").await;
    assert_eq!(c.reply().await, "550 5.5.2 Error: bare <LF> received\r\n");
    assert!(c.closed().await);
}

#[tokio::test]
async fn disconnect_mid_data_queues_nothing() {
    let sp = spool("midata");
    let mut c = start(&sp, &[]).await;
    c.cmd("EHLO c").await;
    c.cmd("MAIL FROM:<a@x.example>").await;
    c.cmd("RCPT TO:<b@y.example>").await;
    c.cmd("DATA").await;
    c.send(b"Subject: s\r\n\r\npartial\r\n.").await;
    let Client { rd, wr, task, .. } = c;
    drop(wr);
    drop(rd);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("session ends")
        .expect("no panic");
    assert!(queued(&sp).await.is_empty());
}

#[tokio::test]
async fn size_limit_enforced_while_reading() {
    let sp = spool("size");
    let mut c = start(&sp, &[("message_size_limit", "1000")]).await;
    assert!(c.cmd("EHLO c").await.contains("250-SIZE 1000\r\n"));
    c.cmd("MAIL FROM:<a@x.example>").await;
    c.cmd("RCPT TO:<b@y.example>").await;
    c.cmd("DATA").await;
    let body = "x".repeat(100) + "\r\n";
    c.send(body.repeat(20).as_bytes()).await;
    c.send(b".\r\n").await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Message size exceeds fixed limit\r\n"
    );
    // The session stays in step: the next transaction works.
    c.cmd("MAIL FROM:<a@x.example>").await;
    c.cmd("RCPT TO:<b@y.example>").await;
    c.cmd("DATA").await;
    c.send(b"small\r\n.\r\n").await;
    assert!(c.reply().await.starts_with("250 2.0.0 Ok: queued as "));
    assert_eq!(queued(&sp).await.len(), 1);
}

#[tokio::test]
async fn hard_error_limit_disconnects() {
    let sp = spool("errors");
    let mut c = start(
        &sp,
        &[
            ("smtpd_hard_error_limit", "3"),
            ("smtpd_soft_error_limit", "1"),
        ],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(
            c.cmd("BOGUS").await,
            "500 5.5.2 Error: command not recognized\r\n"
        );
    }
    assert_eq!(
        c.reply().await,
        "421 4.7.0 mx.example Error: too many errors\r\n"
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn junk_commands_count_as_errors() {
    let sp = spool("junk");
    let mut c = start(
        &sp,
        &[
            ("smtpd_junk_command_limit", "2"),
            ("smtpd_hard_error_limit", "2"),
        ],
    )
    .await;
    for _ in 0..4 {
        assert_eq!(c.cmd("NOOP").await, "250 2.0.0 Ok\r\n");
    }
    assert_eq!(
        c.reply().await,
        "421 4.7.0 mx.example Error: too many errors\r\n"
    );
}

#[tokio::test]
async fn recipient_limit() {
    let sp = spool("rcpts");
    let mut c = start(&sp, &[("smtpd_recipient_limit", "2")]).await;
    c.cmd("EHLO c").await;
    c.cmd("MAIL FROM:<a@x.example>").await;
    assert_eq!(c.cmd("RCPT TO:<1@y.example>").await, "250 2.1.5 Ok\r\n");
    assert_eq!(c.cmd("RCPT TO:<2@y.example>").await, "250 2.1.5 Ok\r\n");
    assert_eq!(
        c.cmd("RCPT TO:<3@y.example>").await,
        "452 4.5.3 Error: too many recipients\r\n"
    );
}

#[tokio::test]
async fn idle_client_times_out() {
    let sp = spool("timeout");
    let mut c = start(&sp, &[("smtpd_timeout", "1s")]).await;
    assert_eq!(
        c.reply().await,
        "421 4.4.2 mx.example Error: timeout exceeded\r\n"
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn shutdown_ends_idle_sessions() {
    let sp = spool("shutdown");
    let mut c = start(&sp, &[]).await;
    c.cmd("EHLO c").await;
    c._shutdown.send(true).expect("session listening");
    assert_eq!(
        c.reply().await,
        "421 4.3.2 mx.example Service shutting down\r\n"
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn encrypt_level_requires_starttls() {
    let sp = spool("tls");
    std::fs::create_dir_all(&sp).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["mx.example".to_string()]).expect("cert");
    let (cf, kf) = (sp.join("cert.pem"), sp.join("key.pem"));
    std::fs::write(&cf, cert.cert.pem()).unwrap();
    std::fs::write(&kf, cert.key_pair.serialize_pem()).unwrap();
    let extra = [
        ("smtpd_tls_security_level", "encrypt"),
        ("smtpd_tls_cert_file", cf.to_str().unwrap()),
        ("smtpd_tls_key_file", kf.to_str().unwrap()),
    ];
    let c = config(&sp, &extra);
    let shared = Arc::new(
        Shared::new(
            "test",
            &c,
            Arc::new(StageRunner::empty()),
            open_queue(&sp),
            None,
            None,
        )
        .unwrap(),
    );
    let (a, b) = tokio::io::duplex(1 << 20);
    let (_tx, rx) = watch::channel(false);
    let facts = super::facts::initial(
        "t".into(),
        "192.0.2.9:1".parse().unwrap(),
        "127.0.0.1:25".parse().unwrap(),
        "test",
    );
    tokio::spawn(Session::new(shared, Box::new(b), facts, rx).run());
    let mut a = BufReader::new(a);
    let mut line = String::new();
    a.read_line(&mut line).await.unwrap();
    a.get_mut()
        .write_all(b"EHLO c\r\nMAIL FROM:<a@x.example>\r\nSTARTTLS\r\n")
        .await
        .unwrap();
    let mut seen = String::new();
    loop {
        let mut l = String::new();
        a.read_line(&mut l).await.unwrap();
        seen.push_str(&l);
        if l.starts_with("220 ") {
            break;
        }
    }
    assert!(seen.contains("250-STARTTLS\r\n"), "{seen}");
    assert!(
        seen.contains("530 5.7.0 Must issue a STARTTLS command first\r\n"),
        "{seen}"
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let cc = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = tokio_rustls::TlsConnector::from(Arc::new(cc));
    let tls = conn
        .connect(
            rustls::pki_types::ServerName::try_from("mx.example").unwrap(),
            a.into_inner(),
        )
        .await
        .expect("handshake");
    let mut t = BufReader::new(tls);
    t.get_mut().write_all(b"EHLO c\r\n").await.unwrap();
    let mut ehlo = String::new();
    loop {
        let mut l = String::new();
        t.read_line(&mut l).await.unwrap();
        ehlo.push_str(&l);
        if l.as_bytes().get(3) == Some(&b' ') {
            break;
        }
    }
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    t.get_mut()
        .write_all(b"MAIL FROM:<a@x.example>\r\nRCPT TO:<b@y.example>\r\nDATA\r\n")
        .await
        .unwrap();
    for want in ["250 2.1.0", "250 2.1.5", "354 "] {
        let mut l = String::new();
        t.read_line(&mut l).await.unwrap();
        assert!(l.starts_with(want), "{l}");
    }
    t.get_mut().write_all(b"secret\r\n.\r\n").await.unwrap();
    let mut l = String::new();
    t.read_line(&mut l).await.unwrap();
    assert!(l.starts_with("250 2.0.0 Ok: queued as "), "{l}");
    let text = String::from_utf8_lossy(&queued(&sp).await[0]).to_string();
    assert!(text.contains("(using TLSv1.3 with cipher TLS_"), "{text}");
    assert!(text.contains("with ESMTPS id"), "{text}");
}

/// Log lines of one test: a subscriber set as the thread's default (the
/// current-thread test runtime runs the session on this thread).
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let me = self.clone();
        let sub = tracing_subscriber::fmt()
            .with_writer(move || me.clone())
            .with_ansi(false)
            .without_time()
            .with_target(false)
            .finish();
        tracing::subscriber::set_default(sub)
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

#[tokio::test]
async fn postfix_log_lines() {
    let logs = Captured::default();
    let _g = logs.install();
    let sp = spool("logs");
    let mut c = start(&sp, &[]).await;
    // HELO and MAIL in one packet: pipelining without EHLO is improper.
    c.send(b"HELO h.example\r\nMAIL FROM:<a@x.example>\r\n")
        .await;
    c.reply().await;
    c.reply().await;
    assert_eq!(c.cmd("RCPT TO:<b@y.example>").await, "250 2.1.5 Ok\r\n");
    c.cmd("DATA").await;
    c.send(b"part").await;
    let Client { rd, wr, task, .. } = c;
    drop((rd, wr));
    task.await.unwrap();
    let t = logs.text();
    assert!(t.contains("connect from unknown[192.0.2.7]"), "{t}");
    assert!(
        t.contains("improper command pipelining after HELO from unknown[192.0.2.7]"),
        "{t}"
    );
    assert!(t.contains(": client=unknown[192.0.2.7]"), "{t}");
    assert!(
        t.contains("lost connection after DATA (0 bytes) from unknown[192.0.2.7]"),
        "{t}"
    );
    assert!(t.contains("disconnect from unknown[192.0.2.7]"), "{t}");
}

#[tokio::test]
async fn reject_log_line_is_postfix_format() {
    let logs = Captured::default();
    let _g = logs.install();
    let sp = spool("rejectlog");
    let c = config(&sp, &[]);
    let shared = Arc::new(
        Shared::new(
            "t",
            &c,
            Arc::new(StageRunner::empty()),
            open_queue(&sp),
            None,
            None,
        )
        .unwrap(),
    );
    let (_a, b) = tokio::io::duplex(64);
    let (_tx, rx) = watch::channel(false);
    let mut f = super::facts::initial(
        "t".into(),
        "192.0.2.7:1".parse().unwrap(),
        "127.0.0.1:25".parse().unwrap(),
        "t",
    );
    f.client_name = "client.example".into();
    f.helo_name = Some("h.example".into());
    f.protocol = "ESMTP".into();
    let mut s = Session::new(shared, Box::new(b), f, rx);
    s.txn.sender = Some(crate::stages::Address {
        address: "a@b.example".into(),
        params: vec![],
    });
    let r = super::reply::refusal(&crate::stages::Verdict::Reject(crate::stages::Reply {
        code: None,
        enhanced: None,
        text: Some("<x@y.example>: Relay access denied".into()),
    }))
    .unwrap();
    s.refuse("RCPT", r, Some("x@y.example")).await;
    let t = logs.text();
    assert!(
        t.contains("NOQUEUE: reject: RCPT from client.example[192.0.2.7]: 554 5.7.1 <x@y.example>: Relay access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<h.example>"),
        "{t}"
    );
    assert_eq!(s.error_count, 1);
}

/// NUL bytes and 8-bit data in the content are carried, not choked on; an
/// over-long line is kept whole, and a dot that happens to start the second
/// piece of a long line is data, not dot-stuffing.
#[tokio::test]
async fn nul_and_long_lines_in_content() {
    let sp = spool("nul");
    let mut c = start(&sp, &[]).await;
    c.cmd("EHLO c").await;
    c.cmd("MAIL FROM:<a@x.example>").await;
    c.cmd("RCPT TO:<b@y.example>").await;
    c.cmd("DATA").await;
    let long = format!("{}..b", "a".repeat(2047));
    c.send(format!("Subject: n\r\n\r\nnul\0here \u{e9}\r\n{long}\r\n.\r\n").as_bytes())
        .await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 Ok: queued as "), "{r}");
    let f = queued(&sp).await;
    let text = String::from_utf8_lossy(&f[0]).to_string();
    assert!(text.contains("nul\0here \u{e9}\r\n"), "{text:?}");
    assert!(
        text.ends_with(&format!("\r\n{long}\r\n")),
        "long line altered"
    );
}

/// A client that pipelines commands and never reads our replies cannot hold
/// a session past `smtpd_timeout`.
#[tokio::test]
async fn client_that_never_reads_is_dropped() {
    let sp = spool("noread");
    let c = config(&sp, &[("smtpd_timeout", "1s")]);
    let shared = Arc::new(
        Shared::new(
            "t",
            &c,
            Arc::new(StageRunner::empty()),
            open_queue(&sp),
            None,
            None,
        )
        .unwrap(),
    );
    let (a, b) = tokio::io::duplex(256);
    let (_tx, rx) = watch::channel(false);
    let f = super::facts::initial(
        "t".into(),
        "192.0.2.7:1".parse().unwrap(),
        "127.0.0.1:25".parse().unwrap(),
        "t",
    );
    let task = tokio::spawn(Session::new(shared, Box::new(b), f, rx).run());
    let (_r, mut w) = tokio::io::split(a);
    let writer = tokio::spawn(async move {
        let noops = "NOOP\r\n".repeat(10_000);
        let _ = w.write_all(noops.as_bytes()).await;
    });
    tokio::time::timeout(Duration::from_secs(20), task)
        .await
        .expect("session ended within smtpd_timeout bounds")
        .expect("no panic");
    writer.abort();
}
