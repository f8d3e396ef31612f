//! SMTP AUTH end to end: the real daemon asks a real Dovecot auth server
//! (`smtpd_sasl_type = dovecot`), clients are swaks and a raw SMTP client,
//! and the relay decision is the restrictions plugin's
//! `permit_sasl_authenticated` (Postfix's default smtpd_relay_restrictions).

use mta_e2e::e2e_smtpd_util::Relay;
use mta_e2e::sasl_util::{b64, plain, Dovecot, PASSWORD, USER};
use mta_e2e::{run, Daemon, Smtp};

fn sasl_main(d: &Dovecot, extra: &str) -> String {
    format!(
        "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_path = {}\n{extra}\n",
        d.socket.display()
    )
}

fn tls_files(name: &str) -> String {
    let dir = mta_e2e::scratch(name);
    let cert = rcgen::generate_simple_self_signed(vec!["mx.test".to_string()]).expect("cert");
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.key_pair.serialize_pem()).unwrap();
    format!(
        "smtpd_tls_cert_file = {}\nsmtpd_tls_key_file = {}\n",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    )
}

/// An unauthenticated client may not relay to a foreign domain; the same
/// client after AUTH PLAIN may (permit_sasl_authenticated), the message
/// reaches the relayhost, and log and Received say who it was.
#[tokio::test]
async fn auth_plain_permits_relay_with_swaks() {
    let dovecot = Dovecot::start("relay", false);
    let relay = Relay::start(
        "sasl-relay",
        &sasl_main(&dovecot, "smtpd_sasl_authenticated_header = yes"),
        &[],
    )
    .await;
    let server = format!("127.0.0.1:{}", relay.d.port);
    let base = [
        "--server",
        &server,
        "--local-interface",
        "127.0.0.21",
        "--from",
        "alice@example.org",
        "--to",
        "c@elsewhere.example",
    ];
    let (ok, out) = run("swaks", &base);
    assert!(!ok, "{out}");
    assert!(
        out.contains("454 4.7.1 <c@elsewhere.example>: Relay access denied"),
        "{out}"
    );
    let mut args = base.to_vec();
    args.extend_from_slice(&[
        "--auth",
        "PLAIN",
        "--auth-user",
        USER,
        "--auth-password",
        PASSWORD,
        "--body",
        "authenticated relay",
    ]);
    let (ok, out) = run("swaks", &args);
    assert!(ok, "{out}");
    assert!(out.contains("250-AUTH PLAIN LOGIN"), "{out}");
    assert!(out.contains("235 2.7.0 Authentication successful"), "{out}");
    assert!(out.contains("250 2.0.0 Ok: queued as "), "{out}");
    let q = relay.delivered(1);
    assert_eq!(q.len(), 1);
    assert!(q[0].contains("authenticated relay"), "{}", q[0]);
    assert!(
        q[0].contains(&format!("\t(Authenticated sender: {USER})\n")),
        "{}",
        q[0]
    );
    assert!(q[0].contains(" with ESMTPA id "), "{}", q[0]);
    relay.d.wait_for(&format!(
        "[127.0.0.21], sasl_method=PLAIN, sasl_username={USER}"
    ));
}

/// The submission listener: `-o smtpd_tls_security_level=encrypt
/// -o smtpd_sasl_auth_enable=yes`, with `smtpd_tls_auth_only = yes`. Dovecot
/// keeps its default `disable_plaintext_auth = yes`, so PLAIN succeeding
/// proves smtpd told it the session is secured.
#[tokio::test]
async fn submission_over_tls_with_swaks() {
    let dovecot = Dovecot::start("submission", true);
    let main = format!(
        "{}smtpd_sasl_path = {}\nsmtpd_tls_auth_only = yes\n",
        tls_files("sasl-tls-certs"),
        dovecot.socket.display()
    );
    let relay = Relay::start(
        "sasl-submission",
        &main,
        &[
            "smtpd_tls_security_level=encrypt",
            "smtpd_sasl_auth_enable=yes",
        ],
    )
    .await;
    // Before STARTTLS: no AUTH offered, and AUTH is refused.
    let (mut c, _) = Smtp::connect(relay.d.addr(), "127.0.0.22").await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)))
            .await,
        "538 5.7.11 Encryption required for requested authentication mechanism\r\n"
    );
    let server = format!("127.0.0.1:{}", relay.d.port);
    let (ok, out) = run(
        "swaks",
        &[
            "--server",
            &server,
            "--local-interface",
            "127.0.0.22",
            "--tls",
            "--auth",
            "PLAIN",
            "--auth-user",
            USER,
            "--auth-password",
            PASSWORD,
            "--from",
            "alice@example.org",
            "--to",
            "c@elsewhere.example",
            "--body",
            "submitted over tls",
        ],
    );
    assert!(ok, "{out}\n{}", dovecot.log());
    assert!(out.contains("250-AUTH PLAIN LOGIN"), "{out}");
    assert!(out.contains("235 2.7.0 Authentication successful"), "{out}");
    let q = relay.delivered(1);
    assert!(q[0].contains("submitted over tls"), "{}", q[0]);
    assert!(q[0].contains(" with ESMTPSA id "), "{}", q[0]);
    // Postfix's default: the user is not named in Received.
    assert!(!q[0].contains("Authenticated sender"), "{}", q[0]);
}

/// The AUTH dialogue's refusals, in the words of Postfix 3.7 with
/// `smtpd_sasl_type = dovecot` (compared with postfix-ref on the same
/// Dovecot configuration), over a raw client.
#[tokio::test]
async fn auth_dialogue_replies() {
    let dovecot = Dovecot::start("dialogue", false);
    let d = Daemon::start(
        "sasl-dialogue",
        &sasl_main(&dovecot, "smtpd_helo_required = yes"),
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.23").await;
    let good = plain(USER, PASSWORD);
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {good}")).await,
        "503 5.5.1 Error: send HELO/EHLO first\r\n"
    );
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.contains("250-AUTH PLAIN LOGIN\r\n"), "{ehlo}");
    assert_eq!(c.cmd("AUTH").await, "501 5.5.4 Syntax: AUTH mechanism\r\n");
    assert_eq!(
        c.cmd("AUTH CRAM-MD5").await,
        "535 5.7.8 Error: authentication failed: Invalid authentication mechanism\r\n"
    );
    assert_eq!(
        c.cmd("AUTH PLAIN !!!!").await,
        "535 5.7.8 Error: authentication failed: Invalid base64 data in initial response\r\n"
    );
    let bad = plain(USER, "wrong");
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {bad}")).await,
        "535 5.7.8 Error: authentication failed: (reason unavailable)\r\n"
    );
    d.wait_for(&format!(
        "[127.0.0.23]: SASL PLAIN authentication failed: (reason unavailable), sasl_username={USER}"
    ));
    // LOGIN: two challenges; `*` aborts.
    assert_eq!(
        c.cmd("AUTH LOGIN").await,
        format!("334 {}\r\n", b64(b"Username:"))
    );
    assert_eq!(c.cmd("*").await, "501 5.7.0 Authentication aborted\r\n");
    d.wait_for("[127.0.0.23]: SASL LOGIN authentication aborted");
    c.cmd("AUTH LOGIN").await;
    assert_eq!(
        c.cmd("!!!!").await,
        "535 5.7.8 Error: authentication failed: Invalid base64 data in continued response\r\n"
    );
    // PLAIN without an initial response: an empty challenge, then success.
    assert_eq!(c.cmd("AUTH PLAIN").await, "334 \r\n");
    assert_eq!(
        c.cmd(&good).await,
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {good}")).await,
        "503 5.5.1 Error: already authenticated\r\n"
    );
    // A new session: AUTH inside a MAIL transaction.
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.23").await;
    c.cmd("EHLO client.example").await;
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "250 2.1.0 Ok\r\n"
    );
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {good}")).await,
        "503 5.5.1 Error: MAIL transaction in progress\r\n"
    );
    // LOGIN to the end, after RSET.
    c.cmd("RSET").await;
    assert_eq!(
        c.cmd("AUTH LOGIN").await,
        format!("334 {}\r\n", b64(b"Username:"))
    );
    assert_eq!(
        c.cmd(&b64(USER.as_bytes())).await,
        format!("334 {}\r\n", b64(b"Password:"))
    );
    assert_eq!(
        c.cmd(&b64(PASSWORD.as_bytes())).await,
        "235 2.7.0 Authentication successful\r\n"
    );
}

/// Failed AUTH attempts are errors: smtpd_hard_error_limit ends the session.
#[tokio::test]
async fn failed_auth_counts_toward_hard_error_limit() {
    let dovecot = Dovecot::start("errors", false);
    let d = Daemon::start(
        "sasl-errors",
        &sasl_main(&dovecot, "smtpd_hard_error_limit = 3"),
        &[],
    );
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.24").await;
    c.cmd("EHLO client.example").await;
    let bad = plain(USER, "wrong");
    for _ in 0..2 {
        let r = c.cmd(&format!("AUTH PLAIN {bad}")).await;
        assert!(r.starts_with("535 5.7.8 "), "{r}");
    }
    let r = c.cmd(&format!("AUTH PLAIN {bad}")).await;
    assert!(r.starts_with("535 5.7.8 "), "{r}");
    assert_eq!(
        c.reply().await,
        "421 4.7.0 mx.test Error: too many errors\r\n"
    );
    assert!(c.closed().await);
    // Failed logins show in the disconnect line's counts, as Postfix's
    // (what fail2ban's postfix-sasl filter and pflogsumm read).
    let line = d.wait_for("[127.0.0.24] ehlo=");
    assert!(line.ends_with(" ehlo=1 auth=0/3 commands=1/4"), "{line}");
    // Without smtpd_helo_required, Postfix takes AUTH before any HELO.
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.24").await;
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)))
            .await,
        "235 2.7.0 Authentication successful\r\n"
    );
}

/// No auth server at smtpd_sasl_path: AUTH is not offered, an AUTH anyway
/// is a temporary failure, and the log names the socket.
#[tokio::test]
async fn unreachable_dovecot_answers_454() {
    let missing = mta_e2e::scratch("sasl-missing").join("no-such-auth");
    let main = format!(
        "smtpd_sasl_auth_enable = yes\nsmtpd_sasl_path = {}\n",
        missing.display()
    );
    let d = Daemon::start("sasl-unreachable", &main, &[]);
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.25").await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.starts_with("250-mx.test"), "{ehlo}");
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)))
            .await,
        "454 4.7.0 Temporary authentication failure\r\n"
    );
    d.wait_for(&format!("SASL: Connect to {} failed", missing.display()));
}

/// Without smtpd_sasl_auth_enable, AUTH is neither offered nor accepted.
#[tokio::test]
async fn auth_not_enabled() {
    let d = Daemon::start("sasl-off", "", &[]);
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.26").await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    assert_eq!(
        c.cmd("AUTH PLAIN AGFAYg==").await,
        "503 5.5.1 Error: authentication not enabled\r\n"
    );
}

/// The login reaches the restrictions plugin: reject_sender_login_mismatch
/// refuses a sender address the authenticated user does not own.
#[tokio::test]
async fn sender_login_mismatch_sees_the_login() {
    let dovecot = Dovecot::start("login-maps", false);
    let extra = format!(
        "smtpd_sender_login_maps = inline:{{ {USER}={USER} }}\n\
         smtpd_sender_restrictions = reject_sender_login_mismatch"
    );
    let d = Daemon::start("sasl-login-maps", &sasl_main(&dovecot, &extra), &[]);
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.27").await;
    c.cmd("EHLO client.example").await;
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)))
            .await,
        "235 2.7.0 Authentication successful\r\n"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<bob@example.org>").await,
        "250 2.1.0 Ok\r\n"
    );
    let r = c.cmd("RCPT TO:<c@elsewhere.example>").await;
    assert_eq!(
        r,
        format!(
            "553 5.7.1 <bob@example.org>: Sender address rejected: not owned by user {USER}\r\n"
        )
    );
    c.cmd("RSET").await;
    c.cmd(&format!("MAIL FROM:<{USER}>")).await;
    let r = c.cmd("RCPT TO:<c@elsewhere.example>").await;
    assert_eq!(r, "250 2.1.5 Ok\r\n");
}

/// Dovecot restarted between EHLO and AUTH: the session's stale auth
/// connection is replaced once, and AUTH succeeds.
#[tokio::test]
async fn auth_survives_a_dovecot_restart() {
    let dovecot = Dovecot::start("restart", false);
    let d = Daemon::start("sasl-restart", &sasl_main(&dovecot, ""), &[]);
    let (mut c, _) = Smtp::connect(d.addr(), "127.0.0.28").await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.contains("250-AUTH PLAIN LOGIN\r\n"), "{ehlo}");
    drop(dovecot);
    let dovecot = Dovecot::start("restart", false);
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {}", plain(USER, PASSWORD)))
            .await,
        "235 2.7.0 Authentication successful\r\n",
        "{}",
        dovecot.log()
    );
}
