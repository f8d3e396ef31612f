//! header_checks, mime_header_checks and body_checks end to end: the real
//! daemon, a client over SMTP, the built-in header-checks plugin in the
//! sandbox, the actions carried out natively by cleanup, and the result
//! looked at where Postfix would leave it: the reply after the dot, the
//! delivered copy (relayed to an `smtp-sink` that keeps the data), the
//! queue (`mta queue list --json`) and the log.
//!
//! Needs the built-in plugins and `smtp-sink`: `cargo xtask build`.

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

/// Malformed MIME and hostile headers: each gets one complete reply, the
/// daemon keeps serving, nothing panics. The checks still run (the table
/// is live), so a crash in the MIME walk would show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_mime_never_crashes() {
    let (d, sink) = daemon_with_sink(
        "content-malformed",
        &[("checks", SEED)],
        "header_checks = regexp:DIR/checks\nmime_header_checks = regexp:DIR/checks\n\
         body_checks = regexp:DIR/checks\nmime_nesting_limit = 5",
    )
    .await;
    let from = "a@client.example";
    let rcpt = ["u@far.test"];
    let head = "From: <a@client.example>\r\nTo: <u@far.test>\r\nMIME-Version: 1.0\r\n";
    // Unclosed boundary: Postfix delivers it as is.
    let unclosed = format!(
        "{head}Subject: unclosed\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n\
         --zz\r\nContent-Type: text/plain\r\n\r\nnever closed\r\n"
    );
    let r = send(&d, from, &rcpt, &unclosed).await;
    assert!(r.starts_with("250"), "unclosed boundary: {r}");
    // Nesting beyond mime_nesting_limit: the deepest part is not parsed
    // as MIME; a rule on its part header cannot fire from there, and the
    // message gets a clear reply either way.
    let mut nested = format!("{head}Subject: nested\r\n");
    for i in 0..12 {
        nested.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n"
        ));
    }
    nested.push_str("Content-Type: text/plain\r\n\r\ndeep\r\n");
    for i in (0..12).rev() {
        nested.push_str(&format!("--n{i}--\r\n"));
    }
    let r = send(&d, from, &rcpt, &nested).await;
    assert!(r.starts_with("250") || r.starts_with("5"), "nesting: {r}");
    assert!(r.ends_with("\r\n") || r.ends_with('\n'), "{r:?}");
    // A 1 MB folded header: cut at header_size_limit (102400), delivered.
    let mut big = format!("{head}Subject: big\r\nX-Big: start\r\n");
    while big.len() < 1_048_576 {
        big.push_str("\tcontinued continued continued continued continued continued\r\n");
    }
    big.push_str("\r\nbody after big header\r\n");
    let r = send(&d, from, &rcpt, &big).await;
    assert!(r.starts_with("250"), "1 MB header: {r}");
    // NUL bytes in a header and the body, 8-bit bytes in headers.
    let nul = format!("{head}Subject: nul\0here\r\n\r\nbody\0with nul\r\n");
    let r = send(&d, from, &rcpt, &nul).await;
    assert!(r.starts_with("250") || r.starts_with("5"), "NUL: {r}");
    let eight = format!("{head}Subject: caf\u{e9} \u{fc}ber\r\nX-Raw: \u{ff}\r\n\r\nbody\r\n");
    let r = send(&d, from, &rcpt, &eight).await;
    assert!(r.starts_with("250"), "8-bit header: {r}");
    // Still serving, and the rules still work.
    let r = send(
        &d,
        from,
        &rcpt,
        "From: x@spammer.com\r\nSubject: after\r\n\r\nb\r\n",
    )
    .await;
    assert!(r.starts_with("550 5.7.1"), "{r}");
    let msgs = delivered(&d, &sink, 3).await;
    let big_copy = msgs
        .iter()
        .find(|m| m.contains("body after big header"))
        .expect("the big-header message was delivered");
    assert!(
        big_copy.len() < 300_000,
        "header not cut at header_size_limit: {} bytes",
        big_copy.len()
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
