//! Helpers for the content-check tests that need raw bytes: a transaction
//! whose message may hold NUL and 8-bit bytes, and the sink's messages
//! read as bytes (`Sink::messages` skips what is not UTF-8).

use crate::queue_util::Sink;
use crate::{Daemon, Smtp};

/// One transaction from `source` with `message` as bytes (CRLF line ends;
/// dot-stuffing done here). The reply after the dot.
pub async fn send_bytes(d: &Daemon, source: &str, rcpt: &str, message: &[u8]) -> String {
    let (mut c, banner) = Smtp::connect(d.addr(), source).await;
    assert!(banner.starts_with("220"), "{banner}");
    assert!(c.cmd("EHLO client.example").await.starts_with("250"));
    let r = c.cmd("MAIL FROM:<a@client.example>").await;
    assert!(r.starts_with("250"), "MAIL: {r}");
    let r = c.cmd(&format!("RCPT TO:<{rcpt}>")).await;
    assert!(r.starts_with("250"), "RCPT: {r}");
    let r = c.cmd("DATA").await;
    assert!(r.starts_with("354"), "DATA: {r}");
    let mut body = Vec::with_capacity(message.len() + 16);
    for line in message.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b".") {
            body.push(b'.');
        }
        body.extend_from_slice(line);
    }
    if !body.ends_with(b"\r\n") {
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    c.send(&body).await;
    let r = c.reply().await;
    c.cmd("QUIT").await;
    r
}

/// Every message the sink holds, as bytes.
pub fn sink_bytes(sink: &Sink) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(&sink.dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The one delivered message that contains `needle`, with LF line ends
/// (smtp-sink writes its dumps so; CRs are dropped to make sure).
pub fn delivered_with(sink: &Sink, needle: &[u8]) -> Vec<u8> {
    let found: Vec<Vec<u8>> = sink_bytes(sink)
        .into_iter()
        .map(|m| m.into_iter().filter(|b| *b != b'\r').collect::<Vec<u8>>())
        .filter(|m| m.windows(needle.len()).any(|w| w == needle))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one delivered message with {:?}",
        String::from_utf8_lossy(needle)
    );
    found.into_iter().next().unwrap_or_default()
}

/// The logical header `name` of a message with LF line ends (folded lines
/// joined with their LF), or `None`.
pub fn header_of(message: &[u8], name: &str) -> Option<Vec<u8>> {
    let end = message
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or(message.len(), |i| i + 1);
    let head = &message[..end];
    let prefix = format!("{name}:").to_ascii_lowercase();
    let mut lines = head.split_inclusive(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if line.len() >= prefix.len()
            && line[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        {
            let mut h = line.to_vec();
            while let Some(next) = lines.peek() {
                if next.starts_with(b" ") || next.starts_with(b"\t") {
                    h.extend_from_slice(next);
                    lines.next();
                } else {
                    break;
                }
            }
            while h.ends_with(b"\n") || h.ends_with(b"\r") {
                h.pop();
            }
            return Some(h);
        }
    }
    None
}
