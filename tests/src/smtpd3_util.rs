//! Helpers for comparing smtpd's answers with the reference Postfix: one
//! dialogue against any address, and the reference's log lines of a kind,
//! waited for with a deadline (Postfix writes its log asynchronously).

use crate::restrictions_util::PostfixRef;
use crate::Smtp;
use std::net::SocketAddr;
use std::time::Instant;

/// Send `cmds` one by one from `source`; each reply's last line, trimmed.
pub async fn dialogue_at(addr: SocketAddr, source: &str, cmds: &[&str]) -> Vec<String> {
    let (mut c, banner) = Smtp::connect(addr, source).await;
    assert!(banner.starts_with("220"), "{banner}");
    let mut out = Vec::new();
    for cmd in cmds {
        let r = c.cmd(cmd).await;
        out.push(r.trim_end().lines().last().unwrap_or("").to_string());
    }
    c.cmd("QUIT").await;
    out
}

/// Send `first` one by one, then `pipelined` in one write; the replies to
/// all of them, in order (last line of each, trimmed).
pub async fn pipelined_at(
    addr: SocketAddr,
    source: &str,
    first: &[&str],
    pipelined: &[&str],
) -> Vec<String> {
    let (mut c, banner) = Smtp::connect(addr, source).await;
    assert!(banner.starts_with("220"), "{banner}");
    let mut out = Vec::new();
    for cmd in first {
        let r = c.cmd(cmd).await;
        out.push(r.trim_end().lines().last().unwrap_or("").to_string());
    }
    let batch: String = pipelined.iter().map(|c| format!("{c}\r\n")).collect();
    c.send(batch.as_bytes()).await;
    for _ in pipelined {
        let r = c.reply().await;
        out.push(r.trim_end().lines().last().unwrap_or("").to_string());
    }
    out
}

/// The text after `": {kind}: "` of the reference's log lines of that kind
/// (`reject`, `reject_warning`), once at least `n` are there.
pub fn reference_lines(reference: &PostfixRef, kind: &str, n: usize) -> Vec<String> {
    let needle = format!(": {kind}: ");
    let start = Instant::now();
    loop {
        let lines: Vec<String> = reference
            .log()
            .lines()
            .filter_map(|l| l.split_once(&needle).map(|(_, r)| r.to_string()))
            .collect();
        if lines.len() >= n || start.elapsed() > crate::DEADLINE {
            return lines;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
