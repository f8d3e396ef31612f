//! Helpers for the content-check end-to-end tests: a daemon that relays
//! every accepted message to an `smtp-sink` which keeps the data, and a
//! one-shot SMTP transaction that returns the reply after the dot.

use crate::queue_util::{free_port, Sink};
use crate::{Daemon, Smtp};

/// A daemon with `tables` (file name, content) written into its config
/// directory and `main_extra` (where `DIR` stands for that directory)
/// appended to main.cf; everything relays to the returned sink.
pub async fn daemon_with_sink(
    name: &str,
    tables: &[(&str, &str)],
    main_extra: &str,
) -> (Daemon, Sink) {
    let dir = crate::scratch(&format!("{name}-tables"));
    for (file, text) in tables {
        std::fs::write(dir.join(file), text).expect("table file");
    }
    let sink_port = free_port();
    let sink = Sink::start(sink_port, &dir.join("sink")).await;
    let plugins = std::env::var("CARGO_TARGET_DIR")
        .map(|t| format!("builtin_plugin_directory = {t}/plugins\n"))
        .unwrap_or_default();
    let main = format!(
        "{plugins}mynetworks = 127.0.0.0/8\nmydestination = mx.test\nlocal_recipient_maps =\n\
         relayhost = [127.0.0.1]:{sink_port}\n{}\n",
        main_extra.replace("DIR", &dir.display().to_string())
    );
    (Daemon::start(name, &main, &[]), sink)
}

/// One transaction from 127.0.0.1: MAIL, each RCPT, DATA with `message`
/// (CRLF line ends expected, dot-stuffing done here). The reply after
/// the dot.
pub async fn send(d: &Daemon, from: &str, rcpts: &[&str], message: &str) -> String {
    let (mut c, banner) = Smtp::connect(d.addr(), "127.0.0.1").await;
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    let r = c.cmd(&format!("MAIL FROM:<{from}>")).await;
    assert!(r.starts_with("250"), "MAIL: {r}");
    for rcpt in rcpts {
        let r = c.cmd(&format!("RCPT TO:<{rcpt}>")).await;
        assert!(r.starts_with("250"), "RCPT {rcpt}: {r}");
    }
    let r = c.cmd("DATA").await;
    assert!(r.starts_with("354"), "DATA: {r}");
    let mut body = Vec::new();
    for line in message.split("\r\n") {
        if line.starts_with('.') {
            body.push(b'.');
        }
        body.extend_from_slice(line.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    if message.ends_with("\r\n") {
        body.truncate(body.len() - 2);
    }
    body.extend_from_slice(b".\r\n");
    c.send(&body).await;
    let r = c.reply().await;
    c.cmd("QUIT").await;
    r
}
