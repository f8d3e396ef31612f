//! header_checks, mime_header_checks and body_checks end to end: the real
//! daemon, a client over SMTP, the built-in header-checks plugin in the
//! sandbox, the actions carried out natively by cleanup, and the result
//! looked at where Postfix would leave it: the reply after the dot, the
//! delivered copy (relayed to an `smtp-sink` that keeps the data), the
//! queue (`mta queue list --json`) and the log.
//!
//! Needs the built-in plugins and `smtp-sink`: `cargo xtask build`.

use mta_e2e::content6_util::{delivered_with, header_of, send_bytes};
use mta_e2e::content_util::{daemon_with_sink, send};
use mta_e2e::queue_util::wait_for;
use mta_e2e::Daemon;
use std::path::Path;
use std::time::Duration;

/// The seed howto's rules, verbatim.
const SEED: &str = r#"/^From:(.*)@spammer\.com$/         REJECT
/^From:(.*)@sex\.com$/             REJECT Geeks have no time for this
/^Subject: hot hot hot$/           WARN
/^Subject: Make money fast/        REJECT
/^(.*)name\=\"(.*)\.(com|exe)\"$/  REJECT Please no executable
/^(.*)name\=\"(.*)\.(zip|gz|Z|bz)\"$/  REJECT
/^hot deal$/                       WARN
"#;

fn plain(from: &str, subject: &str, body: &str) -> String {
    format!("From: {from}\r\nTo: <u@far.test>\r\nSubject: {subject}\r\nMessage-ID: <m@client.example>\r\n\r\n{body}\r\n")
}

fn multipart(filename: &str) -> String {
    format!(
        "From: <a@client.example>\r\nTo: <u@far.test>\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\nPreamble\r\n--b1\r\n\
         Content-Type: text/plain\r\n\r\nsee attached\r\n--b1\r\n\
         Content-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"{filename}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b1--\r\n"
    )
}

/// Wait until the sink holds `n` messages; them, sorted.
/// The messages at the sink once `n` of them are whole: smtp-sink writes
/// its dump file while the data arrives, so first wait until the daemon has
/// removed `n` delivered messages from its queue (after the sink's 250).
async fn delivered(d: &Daemon, sink: &mta_e2e::queue_util::Sink, n: usize) -> Vec<String> {
    d.wait_for_nth(": removed", n);
    assert!(
        wait_for(Duration::from_secs(30), || sink.messages().len() >= n).await,
        "expected {n} delivered, have {}",
        sink.messages().len()
    );
    sink.messages()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_rules_in_header_and_body_checks() {
    let (d, sink) = daemon_with_sink(
        "content-seed",
        &[("checks", SEED)],
        "header_checks = regexp:DIR/checks\nbody_checks = regexp:DIR/checks",
    )
    .await;
    let from = "a@client.example";
    let rcpt = ["u@far.test"];
    let r = send(&d, from, &rcpt, &plain("x@spammer.com", "hi", "text")).await;
    assert!(r.starts_with("550 5.7.1"), "{r}");
    let r = send(&d, from, &rcpt, &plain("x@sex.com", "hi", "text")).await;
    assert_eq!(r.trim_end(), "550 5.7.1 Geeks have no time for this");
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<ok@client.example>", "Make money fast now", "x"),
    )
    .await;
    assert!(r.starts_with("550 5.7.1"), "{r}");
    // The attachment rules in body_checks, against a message without MIME
    // structure: the line is a body line there, so they catch it.
    let r = send(
        &d,
        from,
        &rcpt,
        &plain(
            "<ok@client.example>",
            "hi",
            "begin\r\nname=\"setup.exe\"\r\nend",
        ),
    )
    .await;
    assert_eq!(r.trim_end(), "550 5.7.1 Please no executable");
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<ok@client.example>", "hi", "name=\"data.zip\""),
    )
    .await;
    assert!(r.starts_with("550 5.7.1"), "{r}");
    assert!(
        d.output().contains("reject: body name=\"data.zip\""),
        "{}",
        d.output()
    );
    // WARN: delivered, logged the Postfix way.
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<ok@client.example>", "hot hot hot", "x"),
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    let line = d.wait_for("warning: header Subject: hot hot hot");
    assert!(
        line.contains("from=<a@client.example> to=<u@far.test>"),
        "{line}"
    );
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<ok@client.example>", "deals", "hot deal"),
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for("warning: body hot deal");
    let msgs = delivered(&d, &sink, 2).await;
    assert_eq!(msgs.len(), 2, "only the two WARNed messages go out");
    assert!(msgs.iter().any(|m| m.contains("Subject: hot hot hot")));
    assert!(msgs.iter().any(|m| m.contains("hot deal")));
    assert!(!msgs
        .iter()
        .any(|m| m.contains("spammer") || m.contains("setup.exe")));
    // Postfix's reject log line for header checks.
    let line = d.wait_for("reject: header From: x@sex.com");
    assert!(
        line.ends_with(": 5.7.1 Geeks have no time for this"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_attachment_rules_in_mime_header_checks() {
    let (d, sink) = daemon_with_sink(
        "content-mime",
        &[("checks", SEED)],
        "mime_header_checks = regexp:DIR/checks",
    )
    .await;
    let from = "a@client.example";
    let rcpt = ["u@far.test"];
    let r = send(&d, from, &rcpt, &multipart("setup.exe")).await;
    assert_eq!(r.trim_end(), "550 5.7.1 Please no executable");
    let r = send(&d, from, &rcpt, &multipart("data.zip")).await;
    assert!(r.starts_with("550 5.7.1"), "{r}");
    let r = send(&d, from, &rcpt, &multipart("report.pdf")).await;
    assert!(r.starts_with("250"), "{r}");
    let msgs = delivered(&d, &sink, 1).await;
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0].contains("report.pdf"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_checks_do_not_see_mime_part_headers() {
    // The seed's placement: in body_checks, a real attachment's part
    // header is a MIME header, not a body line, so the rule misses it
    // (Postfix since 2.0). mime_header_checks is where it belongs.
    let (d, sink) = daemon_with_sink(
        "content-mime-body",
        &[("checks", SEED)],
        "body_checks = regexp:DIR/checks",
    )
    .await;
    let r = send(
        &d,
        "a@client.example",
        &["u@far.test"],
        &multipart("setup.exe"),
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    delivered(&d, &sink, 1).await;
}

const ACTIONS: &str = "/^Subject: prepend-me/ PREPEND X-Tag: tagged
/^X-Secret:/ IGNORE
/^Subject: replace-me/ REPLACE Subject: replaced
/^Subject: hold-me/ HOLD kept for review
/^Subject: redirect-me/ REDIRECT other@far2.test
/^Subject: bcc-me/ BCC archive@far2.test
/^Subject: discard-me/ DISCARD
/^Subject: reject-me/ REJECT not wanted here
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_has_its_effect() {
    let (d, sink) = daemon_with_sink(
        "content-actions",
        &[("actions", ACTIONS)],
        "header_checks = regexp:DIR/actions",
    )
    .await;
    let from = "a@client.example";
    let rcpt = ["u@far.test"];
    let with_secret =
        "From: <a@client.example>\r\nSubject: prepend-me\r\nX-Secret: 42\r\n\r\nbody\r\n";
    assert!(send(&d, from, &rcpt, with_secret).await.starts_with("250"));
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<a@client.example>", "replace-me", "b"),
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<a@client.example>", "redirect-me", "b"),
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    let r = send(&d, from, &rcpt, &plain("<a@client.example>", "bcc-me", "b")).await;
    assert!(r.starts_with("250"), "{r}");
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<a@client.example>", "discard-me", "b"),
    )
    .await;
    assert!(r.starts_with("250"), "DISCARD answers 250: {r}");
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<a@client.example>", "reject-me", "b"),
    )
    .await;
    assert_eq!(r.trim_end(), "550 5.7.1 not wanted here");
    let r = send(
        &d,
        from,
        &rcpt,
        &plain("<a@client.example>", "hold-me", "b"),
    )
    .await;
    assert!(r.starts_with("250"), "{r}");

    // prepend, replace, redirect, bcc (one message, two recipients).
    let msgs = delivered(&d, &sink, 4).await;
    let find = |needle: &str| {
        msgs.iter()
            .find(|m| m.contains(needle))
            .unwrap_or_else(|| panic!("no delivered message with {needle:?}: {msgs:#?}"))
            .clone()
    };
    let m = find("Subject: prepend-me");
    assert!(
        m.contains("X-Tag: tagged\n") || m.contains("X-Tag: tagged\r\n"),
        "{m}"
    );
    assert!(!m.contains("X-Secret"), "IGNOREd header still there: {m}");
    let m = find("Subject: replaced");
    assert!(!m.contains("replace-me"), "{m}");
    // smtp-sink writes the envelope recipients as X-Rcpt-Args lines.
    let m = find("Subject: redirect-me");
    assert!(m.contains("X-Rcpt-Args: <other@far2.test>"), "{m}");
    assert!(
        !m.contains("X-Rcpt-Args: <u@far.test>"),
        "REDIRECT kept the old recipient: {m}"
    );
    let m = find("Subject: bcc-me");
    assert!(m.contains("X-Rcpt-Args: <u@far.test>"), "{m}");
    assert!(m.contains("X-Rcpt-Args: <archive@far2.test>"), "{m}");
    assert!(!msgs
        .iter()
        .any(|m| m.contains("discard-me") || m.contains("reject-me")));
    assert!(
        !msgs.iter().any(|m| m.contains("hold-me")),
        "held message delivered"
    );

    // HOLD: in the hold queue, nothing else left behind.
    let q = queue_json(&d.dir);
    assert_eq!(q.len(), 1, "{q:#?}");
    assert_eq!(
        q[0]["queue"].as_str().map(str::to_lowercase).as_deref(),
        Some("hold"),
        "{q:#?}"
    );
    let line = d.wait_for("hold: header Subject: hold-me");
    assert!(line.contains("kept for review"), "{line}");
    d.wait_for("discard: header Subject: discard-me");
    d.wait_for("redirect: header Subject: redirect-me");
}

/// `mta queue list --json -c DIR` lines (one JSON object per message).
fn queue_json(dir: &Path) -> Vec<serde_json::Value> {
    let (ok, out, err) = mta_e2e::queue_util::run_mta(
        dir,
        &["queue", "list", "--json", "-c", &dir.display().to_string()],
        b"",
    );
    assert!(ok, "mta queue list failed: {err}");
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("queue list JSON line"))
        .collect()
}

/// Malformed MIME and hostile headers, with the replies and delivered
/// copies Postfix 3.7 gives for the same messages and the same main.cf
/// (measured with postfix-ref): an unclosed boundary, a 1 MB folded header
/// (cut at header_size_limit), NUL bytes (a header is cut at its first
/// NUL, the body keeps them) and 8-bit headers (kept as sent) are
/// accepted; multiparts nested past mime_nesting_limit are refused with
/// `550 5.6.0`. The checks stay live throughout, so a crash in the MIME
/// walk would show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_content_is_handled_as_postfix_does() {
    let (d, sink) = daemon_with_sink(
        "content-malformed",
        &[("checks", SEED)],
        "header_checks = regexp:DIR/checks\nmime_header_checks = regexp:DIR/checks\n\
         body_checks = regexp:DIR/checks\nmime_nesting_limit = 5",
    )
    .await;
    let rcpt = "u@far.test";
    let head = "From: <a@client.example>\r\nTo: <u@far.test>\r\nMIME-Version: 1.0\r\n";
    // Unclosed boundary: delivered as is.
    let unclosed = format!(
        "{head}Subject: unclosed\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n\
         --zz\r\nContent-Type: text/plain\r\n\r\nnever closed\r\n"
    );
    let r = send_bytes(&d, "127.0.0.1", rcpt, unclosed.as_bytes()).await;
    assert!(
        r.starts_with("250 2.0.0 Ok: queued as "),
        "unclosed boundary: {r}"
    );
    // Multiparts nested `depth` deep. With mime_nesting_limit = 5 Postfix
    // takes 7 levels and refuses the 8th at its Content-Type header.
    let nested = |depth: usize| {
        let mut m = format!("{head}Subject: nested {depth}\r\n");
        for i in 0..depth {
            m.push_str(&format!(
                "Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n"
            ));
        }
        m.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
        for i in (0..depth).rev() {
            m.push_str(&format!("--n{i}--\r\n"));
        }
        m
    };
    let r = send_bytes(&d, "127.0.0.1", rcpt, nested(7).as_bytes()).await;
    assert!(r.starts_with("250 "), "7 levels: {r}");
    for depth in [8, 12] {
        let r = send_bytes(&d, "127.0.0.1", rcpt, nested(depth).as_bytes()).await;
        assert_eq!(
            r.trim_end(),
            "550 5.6.0 MIME nesting exceeds safety limit",
            "{depth} levels"
        );
    }
    d.wait_for("mime-error MIME nesting exceeds safety limit: Content-Type: multipart/mixed; boundary=\"n7\"");
    // A 1 MB folded header: cut at header_size_limit (102400), delivered.
    let mut big = format!("{head}Subject: big\r\nX-Big: start\r\n");
    while big.len() < 1_048_576 {
        big.push_str("\tcontinued continued continued continued continued continued\r\n");
    }
    big.push_str("\r\nbody after big header\r\n");
    let r = send_bytes(&d, "127.0.0.1", rcpt, big.as_bytes()).await;
    assert!(r.starts_with("250 "), "1 MB header: {r}");
    // NUL bytes in a header and in the body.
    let nul = format!("{head}Subject: nul\0here\r\n\r\nbody\0with nul\r\n");
    let r = send_bytes(&d, "127.0.0.1", rcpt, nul.as_bytes()).await;
    assert!(r.starts_with("250 "), "NUL: {r}");
    // 8-bit headers, UTF-8 and raw latin-1.
    let mut eight = format!("{head}Subject: caf\u{e9} \u{fc}ber\r\n").into_bytes();
    eight.extend_from_slice(b"X-Raw: caf\xe9 \xff\r\n\r\nbody 8\r\n");
    let r = send_bytes(&d, "127.0.0.1", rcpt, &eight).await;
    assert!(r.starts_with("250 "), "8-bit header: {r}");
    // Still serving, and the rules still work.
    let r = send(
        &d,
        "a@client.example",
        &[rcpt],
        "From: x@spammer.com\r\nSubject: after\r\n\r\nb\r\n",
    )
    .await;
    assert!(r.starts_with("550 5.7.1"), "{r}");

    d.wait_for_nth(": removed", 5);
    let copy = delivered_with(&sink, b"Subject: unclosed");
    let whole = b"\n\n--zz\nContent-Type: text/plain\n\nnever closed\n";
    assert!(
        copy.windows(whole.len()).any(|w| w == whole),
        "{:?}",
        String::from_utf8_lossy(&copy[copy.len().saturating_sub(80)..])
    );
    assert!(!delivered_with(&sink, b"Subject: nested 7").is_empty());
    let copy = delivered_with(&sink, b"body after big header");
    let x_big = header_of(&copy, "X-Big").expect("X-Big kept");
    assert!(
        x_big.len() > 95_000 && x_big.len() <= 102_400,
        "X-Big not cut at header_size_limit: {} bytes",
        x_big.len()
    );
    let copy = delivered_with(&sink, b"body\0with nul");
    assert_eq!(
        header_of(&copy, "Subject").as_deref(),
        Some(&b"Subject: nul"[..])
    );
    let copy = delivered_with(&sink, b"body 8");
    assert_eq!(
        header_of(&copy, "Subject").as_deref(),
        Some("Subject: caf\u{e9} \u{fc}ber".as_bytes())
    );
    assert_eq!(
        header_of(&copy, "X-Raw").as_deref(),
        Some(&b"X-Raw: caf\xe9 \xff"[..])
    );
    assert!(!d.output().contains("panicked"), "{}", d.output());
}

#[test]
fn mta_check_points_body_checks_attachment_rules_to_mime_header_checks() {
    let dir = mta_e2e::scratch("content-check-lint");
    std::fs::write(dir.join("checks"), SEED).unwrap();
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}/spool\nbody_checks = regexp:{}/checks\n",
            dir.display(),
            dir.display()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("master.cf"), "").unwrap();
    let (_, _, err) =
        mta_e2e::queue_util::run_mta(&dir, &["check", "-c", &dir.display().to_string()], b"");
    let flagged: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("move it to mime_header_checks"))
        .collect();
    assert_eq!(flagged.len(), 2, "{err}");
    assert!(flagged[0].contains("line 5"), "{err}");
    assert!(flagged[1].contains("line 6"), "{err}");
    assert!(!err.contains("hot deal"), "{err}");
}

/// "hello\r\nthe secret phrase is here\r\n" in base64.
const SECRET_B64: &str = "aGVsbG8NCnRoZSBzZWNyZXQgcGhyYXNlIGlzIGhlcmUNCg==";

/// A one-part message whose body is base64, and a multipart one whose
/// text part is quoted-printable (latin-1, soft line breaks inside the
/// phrase): body_checks sees neither phrase in the encoded lines.
fn encoded_messages() -> (String, String) {
    let b64 = format!(
        "From: <a@client.example>\r\nTo: <u@far.test>\r\nSubject: b64\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {SECRET_B64}\r\n"
    );
    let qp = "From: <a@client.example>\r\nTo: <u@far.test>\r\nSubject: qp\r\nMIME-Version: 1.0\r\n\
              Content-Type: multipart/alternative; boundary=\"qq\"\r\n\r\n--qq\r\n\
              Content-Type: text/plain; charset=iso-8859-1\r\n\
              Content-Transfer-Encoding: quoted-printable\r\n\r\n\
              Der geheime=\r\n S=E4tz steht hier.\r\n--qq--\r\n"
        .to_string();
    (b64, qp)
}

const DECODE_RULES: &str = "/secret phrase/ REJECT 5.7.1 hidden phrase\n\
                            /geheime S\u{e4}tz/ REJECT qp phrase\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_checks_decode_off_lets_encoded_phrases_through() {
    let (d, sink) = daemon_with_sink(
        "content-decode-off",
        &[("body", DECODE_RULES)],
        "body_checks = regexp:DIR/body",
    )
    .await;
    let (b64, qp) = encoded_messages();
    let rcpt = ["u@far.test"];
    let r = send(&d, "a@client.example", &rcpt, &b64).await;
    assert!(r.starts_with("250"), "base64, decode off: {r}");
    let r = send(&d, "a@client.example", &rcpt, &qp).await;
    assert!(r.starts_with("250"), "quoted-printable, decode off: {r}");
    let msgs = delivered(&d, &sink, 2).await;
    assert!(msgs.iter().any(|m| m.contains(SECRET_B64)), "{msgs:?}");
    assert!(!d.output().contains("body_checks_decode"), "{}", d.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_checks_decode_catches_phrases_hidden_by_base64_and_qp() {
    let (d, sink) = daemon_with_sink(
        "content-decode-on",
        &[("body", &format!("{DECODE_RULES}/^keep out$/ IGNORE\n"))],
        "body_checks = regexp:DIR/body\nbody_checks_decode = yes",
    )
    .await;
    let (b64, qp) = encoded_messages();
    let rcpt = ["u@far.test"];
    let r = send(&d, "a@client.example", &rcpt, &b64).await;
    assert_eq!(r.trim_end(), "550 5.7.1 hidden phrase", "base64");
    let line = d.wait_for("body_checks_decode: base64 text matched: the secret phrase is here");
    assert!(line.contains("header-checks"), "{line}");
    d.wait_for("reject: body ");
    let r = send(&d, "a@client.example", &rcpt, &qp).await;
    assert_eq!(r.trim_end(), "550 5.7.1 qp phrase", "quoted-printable");
    d.wait_for(
        "body_checks_decode: quoted-printable text matched: Der geheime S\u{e4}tz steht hier.",
    );
    // A line edit on decoded text cannot touch the encoded original: it is
    // logged as a warning and the message goes through unchanged.
    let keep = format!(
        "From: <a@client.example>\r\nTo: <u@far.test>\r\nSubject: keep\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        "a2VlcCBvdXQ=" // "keep out"
    );
    let r = send(&d, "a@client.example", &rcpt, &keep).await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for("IGNORE not applied to decoded text: keep out");
    let msgs = delivered(&d, &sink, 1).await;
    assert!(msgs[0].contains("a2VlcCBvdXQ="), "{msgs:?}");
    // Plain lines are still matched as before.
    let r = send(
        &d,
        "a@client.example",
        &rcpt,
        &plain("<a@client.example>", "x", "the secret phrase"),
    )
    .await;
    assert_eq!(r.trim_end(), "550 5.7.1 hidden phrase");
}

/// header_address_token_limit (10240): cleanup parses only that many
/// address tokens of a header. Measured with postfix-ref (Postfix 3.7): a
/// local client's rewritten To: keeps the addresses in the first 10240
/// tokens and loses the rest; a header with nothing to rewrite is left
/// whole (up to header_size_limit). The message is accepted either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_address_token_limit_on_a_huge_to_header() {
    let (d, sink) =
        daemon_with_sink("content-token-limit", &[], "masquerade_domains = far.test").await;
    // u N @ h . far . test , = 8 tokens an address: 1280 fit in 10240.
    let list = |domain: &str| {
        (0..6000)
            .map(|i| format!("u{i}@{domain}"))
            .collect::<Vec<_>>()
            .join(",\r\n ")
    };
    let msg = format!(
        "From: <a@client.example>\r\nTo: {}\r\nSubject: many\r\n\r\nbody\r\n",
        list("h.far.test")
    );
    let r = send_bytes(&d, "127.0.0.1", "u@far.test", msg.as_bytes()).await;
    assert!(r.starts_with("250"), "{r}");
    let untouched = format!(
        "From: <a@client.example>\r\nTo: {}\r\nSubject: untouched\r\n\r\nbody\r\n",
        list("other.test")
    );
    let r = send_bytes(&d, "127.0.0.1", "u@far.test", untouched.as_bytes()).await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for_nth(": removed", 2);
    let to = header_of(&delivered_with(&sink, b"Subject: many"), "To").expect("To: kept");
    let to = String::from_utf8_lossy(&to);
    assert!(to.starts_with("To: u0@far.test,"), "{}", &to[..80]);
    assert!(to.ends_with("u1279@far.test"), "{}", &to[to.len() - 80..]);
    assert!(
        !to.contains("u1280@"),
        "addresses past the limit are discarded"
    );
    assert!(
        !to.contains("h.far.test"),
        "every kept address is rewritten"
    );
    // Nothing rewritten: the header stays as sent, cut only at
    // header_size_limit (102400 bytes).
    let to = header_of(&delivered_with(&sink, b"Subject: untouched"), "To").expect("To: kept");
    assert!(to.len() > 90_000 && to.len() <= 102_400, "{}", to.len());
    assert!(String::from_utf8_lossy(&to).contains("u4000@other.test"));
    // Recipients come from the envelope, not from the header.
    let queue_log = d.output();
    assert!(
        !queue_log.contains("to=<u1@"),
        "header addresses became recipients"
    );
    assert!(!queue_log.contains("panicked"), "{queue_log}");
}
