//! Native tests: real regexp/pcre tables through the plugin's hooks.

use super::*;
use mta_sdk::testing::{body, ctx, headers, start, TestHost};
use mta_sdk::Reply;

const HC: &str = "regexp:/etc/postfix/header_checks";
const MHC: &str = "pcre:/etc/postfix/mime_header_checks";
const NHC: &str = "regexp:/etc/postfix/nested_header_checks";
const BC: &str = "pcre:/etc/postfix/body_checks";

/// A configuration naming each table whose source is given.
fn config(header: &str, mime: Option<&str>, nested: Option<&str>, body_rules: &str) -> Config {
    let mut c = Config::empty();
    // Postfix's defaults: mime and nested checks are $header_checks.
    let mut add = |param: &str, name: &str, source: &str| {
        c = std::mem::replace(&mut c, Config::empty())
            .with_setting(param, name)
            .with_table(name, Some(source));
    };
    add("header_checks", HC, header);
    add(
        "mime_header_checks",
        mime.map_or(HC, |_| MHC),
        mime.unwrap_or(header),
    );
    add(
        "nested_header_checks",
        nested.map_or(HC, |_| NHC),
        nested.unwrap_or(header),
    );
    add("body_checks", BC, body_rules);
    c
}

fn plugin(c: &Config) -> HeaderChecks {
    start::<HeaderChecks>(c).unwrap()
}

fn msg_ctx() -> mta_sdk::testing::ContextBuilder {
    ctx(Stage::Headers)
        .client("192.0.2.1", "mail.example")
        .sender("a@example.org")
        .rcpt("b@example.net")
        .queue_id("4Fq1Xz2")
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn header_checks_actions_on_message_headers() {
    let _host = TestHost::new().install();
    let rules = "\
/^Subject:.*viagra/ REJECT 5.7.0 No pills
/^X-Mailer: spammer/ DISCARD
/^X-Spam-Flag: YES/ HOLD spam flagged
/^Received:/ IGNORE
/^X-Debug:/ WARN debug header
/^Subject: (.*)urgent(.*)/ REPLACE Subject: ${1}[urgent]$2
/^From:/ PREPEND X-Original-From: seen
";
    let mut p = plugin(&config(rules, None, None, ""));
    let hs = headers(
        "Received: from x\n\tby y\nFrom: a@example.org\nX-Debug: 1\nSubject: very urgent stuff\nX-Spam-Flag: YES\n",
    );
    let v = p.headers(&msg_ctx(), &hs);
    assert_eq!(
        v,
        vec![
            Verdict::Ignore.at(0),
            Verdict::prepend("X-Original-From: seen").at(1),
            Verdict::warn("debug header").at(2),
            Verdict::replace("Subject: very [urgent] stuff").at(3),
            Verdict::hold("spam flagged").at(4),
        ]
    );
}

#[test]
fn reject_ends_inspection_of_the_whole_message() {
    let _host = TestHost::new().install();
    let mut p = plugin(&config(
        "/^Subject:.*viagra/ REJECT\n/^To:/ WARN late\n",
        None,
        None,
        "/./ WARN body\n",
    ));
    let hs = headers("Subject: cheap viagra\nTo: b@example.net\n");
    assert_eq!(
        p.headers(&msg_ctx(), &hs),
        vec![Verdict::Reject(Reply {
            code: None,
            enhanced: None,
            text: None
        })
        .at(0)]
    );
    assert!(p.body(&msg_ctx(), &body(0, &["text"], true)).is_empty());
    // The next message starts clean.
    p.end_of_message(&msg_ctx());
    let next = msg_ctx().queue_id("4Fq1Xz3");
    assert_eq!(
        p.body(&next, &body(0, &["text"], true)),
        vec![Verdict::warn("body").at(0)]
    );
}

#[test]
fn mime_headers_at_the_top_go_to_mime_header_checks() {
    let _host = TestHost::new().install();
    let c = config(
        "/^Content-Type:/ WARN via header_checks\n",
        Some("/^Content-Type: text/ WARN via mime\n"),
        None,
        "",
    );
    let mut p = plugin(&c);
    let v = p.headers(
        &msg_ctx(),
        &headers("Content-Type: text/plain\nSubject: x\n"),
    );
    assert_eq!(v, vec![Verdict::warn("via mime").at(0)]);
}

const MESSAGE_BODY: &str = "\
This is a multi-part message.
--XYZ
Content-Type: application/x-msdownload;
 name=\"worm.exe\"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA
--XYZ
Content-Type: message/rfc822

Subject: forwarded viagra
From: x@example.com

inner text with a bad word
--XYZ--
";

fn multipart_headers() -> Vec<Header> {
    headers("From: a@example.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XYZ\"\nSubject: hi\n")
}

#[test]
fn mime_part_and_nested_headers_and_body_lines() {
    let _host = TestHost::new().install();
    let c = config(
        "/^Subject:.*viagra/ WARN top subject\n",
        Some("/^Content-Type:.*name=\"[^\"]*\\.exe\"/ WARN exe attachment\n"),
        Some("/^Subject:.*viagra/ WARN nested subject\n"),
        "/bad word/ WARN body word\n/^TVqQ/ WARN executable\n",
    );
    let mut p = plugin(&c);
    assert!(p.headers(&msg_ctx(), &multipart_headers()).is_empty());
    let v = p.body(&msg_ctx(), &body(0, &lines(MESSAGE_BODY), true));
    assert_eq!(
        v,
        vec![
            Verdict::warn("exe attachment").at(2),
            Verdict::warn("executable").at(6),
            Verdict::warn("nested subject").at(10),
            Verdict::warn("body word").at(13),
        ]
    );
}

#[test]
fn folded_mime_header_edits_cover_every_line() {
    let _host = TestHost::new().install();
    let c = config(
        "",
        Some("/name=\"worm\\.exe\"/ REPLACE Content-Type: text/plain\n"),
        None,
        "",
    );
    let mut p = plugin(&c);
    p.headers(&msg_ctx(), &multipart_headers());
    let v = p.body(&msg_ctx(), &body(0, &lines(MESSAGE_BODY), true));
    assert_eq!(
        v,
        vec![
            Verdict::replace("Content-Type: text/plain").at(2),
            Verdict::Ignore.at(3)
        ]
    );
}

#[test]
fn discard_in_a_mime_header_stops_the_body_too() {
    let _host = TestHost::new().install();
    let c = config("", Some("/\\.exe/ DISCARD worm\n"), None, "/./ WARN any\n");
    let mut p = plugin(&c);
    p.headers(&msg_ctx(), &multipart_headers());
    let all = lines(MESSAGE_BODY);
    // The folded Content-Type may go on in the next chunk, so it is judged
    // there, on the line that completes it; nothing after it is inspected.
    let v = p.body(&msg_ctx(), &body(0, &all[..4], false));
    assert_eq!(
        v,
        vec![Verdict::warn("any").at(0), Verdict::warn("any").at(1)]
    );
    let v = p.body(&msg_ctx(), &body(100, &all[4..], true));
    assert_eq!(v, vec![Verdict::discard("worm").at(0)]);
    assert!(p.body(&msg_ctx(), &body(200, &["more"], true)).is_empty());
}

#[test]
fn body_checks_size_limit_is_per_part() {
    let _host = TestHost::new().install();
    let c = config("", None, None, "/^x/ WARN hit\n").with_setting("body_checks_size_limit", "4");
    let mut p = plugin(&c);
    p.headers(
        &msg_ctx(),
        &headers("Content-Type: multipart/mixed; boundary=b\n"),
    );
    let v = p.body(
        &msg_ctx(),
        &body(0, &["x1", "x2", "x3", "--b", "", "x4", "x5"], true),
    );
    // "x1" (0 bytes before), "x2" (3 before) checked; "x3" (6) not; a new part restarts.
    assert_eq!(
        v,
        vec![
            Verdict::warn("hit").at(0),
            Verdict::warn("hit").at(1),
            Verdict::warn("hit").at(5),
            Verdict::warn("hit").at(6),
        ]
    );
}

#[test]
fn disabled_mime_processing_checks_everything_as_body() {
    let _host = TestHost::new().install();
    let c = config(
        "/^Content-Type:/ WARN header\n",
        Some("/^Content-Type:/ WARN mime\n"),
        None,
        "/^Content-Type:/ WARN body\n",
    )
    .with_setting("disable_mime_input_processing", "yes");
    let mut p = plugin(&c);
    assert_eq!(
        p.headers(&msg_ctx(), &multipart_headers()),
        vec![Verdict::warn("header").at(2)]
    );
    let v = p.body(&msg_ctx(), &body(0, &lines(MESSAGE_BODY), true));
    assert_eq!(
        v,
        vec![Verdict::warn("body").at(2), Verdict::warn("body").at(8)]
    );
}

#[test]
fn dunno_stops_the_search_and_unknown_actions_are_logged() {
    let host = TestHost::new().install();
    let mut p = plugin(&config(
        "/^Subject: ok/ DUNNO\n/^Subject:/ WARN subject\n/^X-A:/ DEFER later\n",
        None,
        None,
        "",
    ));
    let v = p.headers(
        &msg_ctx(),
        &headers("Subject: ok fine\nSubject: other\nX-A: 1\n"),
    );
    assert_eq!(v, vec![Verdict::warn("subject").at(1)]);
    assert!(host.logged("unknown command in header_checks map: DEFER later"));
}

#[test]
fn indexed_tables_are_asked_through_lookup() {
    let host = TestHost::new();
    host.table(
        "hash:/etc/postfix/header_checks",
        "X-Bad: yes",
        "REJECT bad header",
    )
    .install();
    let c = Config::empty().with_setting("header_checks", "hash:/etc/postfix/header_checks");
    let mut p = plugin(&c);
    assert_eq!(
        p.headers(&msg_ctx(), &headers("X-Good: yes\nX-Bad: yes\n")),
        vec![Verdict::reject("bad header").at(1)]
    );
}

#[test]
fn an_unavailable_table_defers_the_message() {
    let host = TestHost::new();
    host.table_unavailable("hash:/etc/postfix/header_checks")
        .install();
    let c = Config::empty().with_setting("header_checks", "hash:/etc/postfix/header_checks");
    let mut p = plugin(&c);
    assert_eq!(
        p.headers(&msg_ctx(), &headers("Subject: x\n")),
        vec![Verdict::defer_with(451, "4.3.0", "Error: queue file write error").at(0)]
    );
    assert!(host.logged("map lookup problem"));
}

#[test]
fn bad_configuration_is_refused_with_its_place() {
    let _host = TestHost::new().install();
    let err = start::<HeaderChecks>(&config("/(unclosed/ REJECT\n", None, None, ""))
        .err()
        .unwrap();
    assert!(
        err.starts_with("header_checks: regexp:/etc/postfix/header_checks:1:"),
        "{err}"
    );
    let missing = Config::empty().with_setting("body_checks", "pcre:/etc/postfix/missing");
    assert!(start::<HeaderChecks>(&missing)
        .err()
        .unwrap()
        .contains("could not be read"));
    let bad_bool = Config::empty().with_setting("disable_mime_input_processing", "maybe");
    assert!(start::<HeaderChecks>(&bad_bool)
        .err()
        .unwrap()
        .contains("expected yes or no"));
}

#[test]
fn body_without_a_headers_call_is_walked_fresh() {
    let _host = TestHost::new().install();
    let mut p = plugin(&config("", None, None, "/spam/ WARN spam\n"));
    assert_eq!(
        p.body(&msg_ctx(), &body(0, &["", "spam here"], true)),
        vec![Verdict::warn("spam").at(1)]
    );
}

/// The same message sent through Postfix 3.7 (postfix-ref) with a WARN-all
/// rule in each table logged these classes, in this order (Received: aside).
#[test]
fn classification_matches_postfix() {
    let _host = TestHost::new().install();
    let tag = |t: &str| format!("/^(.*)$/ WARN {t}[$1]\n");
    let c = config(&tag("HC"), Some(&tag("MHC")), Some(&tag("NHC")), &tag("BC"));
    let mut p = plugin(&c);
    let message = "From: a@example.org\nTo: b@example.net\nSubject: hi\nMIME-Version: 1.0\n\
        Content-Type: multipart/mixed; boundary=\"XYZ\"\nX-Top: 1\n";
    let body_text = "preamble\n--XYZ\nContent-Type: text/plain\nX-Part: one\n\nhello\n--XYZ\n\
        Content-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/plain\nX-Inner: 2\n\n\
        inner body\n--XYZ--\nepilogue\n";
    let mut seen: Vec<String> = p
        .headers(&msg_ctx(), &headers(message))
        .into_iter()
        .chain(p.body(&msg_ctx(), &body(0, &lines(body_text), true)))
        .map(|v| match v.verdict {
            Verdict::Warn(t) => t,
            other => format!("{other:?}"),
        })
        .collect();
    let expected = [
        "HC[From: a@example.org]",
        "HC[To: b@example.net]",
        "HC[Subject: hi]",
        "MHC[MIME-Version: 1.0]",
        "MHC[Content-Type: multipart/mixed; boundary=\"XYZ\"]",
        "HC[X-Top: 1]",
        "BC[preamble]",
        "BC[--XYZ]",
        "MHC[Content-Type: text/plain]",
        "MHC[X-Part: one]",
        "BC[hello]",
        "BC[--XYZ]",
        "MHC[Content-Type: message/rfc822]",
        "NHC[Subject: inner]",
        "MHC[Content-Type: text/plain]",
        "NHC[X-Inner: 2]",
        "BC[inner body]",
        "BC[--XYZ--]",
        "BC[epilogue]",
    ];
    seen.truncate(expected.len() + 1);
    assert_eq!(seen, expected);
}

/// "hello\nthe secret phrase is here\n" in base64, and a quoted-printable
/// latin-1 line that hides "geheimer Satz" behind soft breaks and =XX.
const B64_PART: &[&str] = &["aGVsbG8KdGhlIHNlY3JldCBwaHJhc2UgaXMgaGVyZQo="];
const QP_PART: &[&str] = &["ein ge=", "heimer S=E4tz ist =", "hier"];

fn decode_config(decode: &str, rules: &str) -> Config {
    config("", None, None, rules).with_setting("body_checks_decode", decode)
}

fn encoded_message(p: &mut HeaderChecks, last: bool) -> Vec<IndexedVerdict> {
    p.headers(
        &msg_ctx(),
        &headers("Content-Type: multipart/mixed; boundary=b\n"),
    );
    let mut all = vec![
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
    ];
    all.extend_from_slice(B64_PART);
    all.extend_from_slice(&[
        "--b",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
    ]);
    all.extend_from_slice(QP_PART);
    if last {
        all.push("--b--");
    }
    p.body(&msg_ctx(), &body(0, &all, true))
}

#[test]
fn body_checks_decode_finds_phrases_hidden_by_base64_and_qp() {
    let _host = TestHost::new().install();
    let rules = "/secret phrase/ REJECT hidden\n/geheimer S\u{e4}tz ist hier/ WARN qp text\n";
    // Off (the default): the encoded lines do not match.
    let mut off = plugin(&decode_config("no", rules));
    assert!(encoded_message(&mut off, true).is_empty());
    let mut default = plugin(&config("", None, None, rules));
    assert!(encoded_message(&mut default, true).is_empty());
    // On: the base64 part's decoded line rejects, anchored at the boundary
    // that ended the part (line 5), and ends inspection.
    let mut on = plugin(&decode_config("yes", rules));
    assert_eq!(
        encoded_message(&mut on, true),
        vec![Verdict::reject("hidden").at(5)]
    );
    // The QP part, converted from latin-1, matched at the end of the body.
    let mut qp = plugin(&decode_config(
        "yes",
        "/geheimer S\u{e4}tz ist hier/ WARN qp text\n",
    ));
    assert_eq!(
        encoded_message(&mut qp, false),
        vec![Verdict::warn("qp text").at(11)]
    );
}

#[test]
fn body_checks_decode_line_edits_become_warnings() {
    let _host = TestHost::new().install();
    let mut p = plugin(&decode_config("yes", "/secret phrase/ IGNORE\n"));
    assert_eq!(
        encoded_message(&mut p, true),
        vec![Verdict::warn("IGNORE not applied to decoded text: the secret phrase is here").at(5)]
    );
}

#[test]
fn body_checks_decode_respects_body_checks_size_limit() {
    let _host = TestHost::new().install();
    // Only the first 8 encoded bytes ("aGVsbG8K" = "hello\n") are decoded.
    let c = decode_config("yes", "/secret phrase/ REJECT\n/^hello$/ WARN start\n")
        .with_setting("body_checks_size_limit", "8");
    let mut p = plugin(&c);
    assert_eq!(
        encoded_message(&mut p, true),
        vec![Verdict::warn("start").at(5)]
    );
}
