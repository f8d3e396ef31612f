//! Helpers for the queue-and-delivery follow-up tests (relocated, aliases,
//! sendmail through cleanup, destination revival, reload): an SMTP next hop
//! that counts how many sessions it has open at once (smtp-sink cannot),
//! and a one-call SMTP submission to the daemon.

use crate::Smtp;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the counting next hop received.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// The MAIL FROM argument (`<a@b>`).
    pub from: String,
    /// The RCPT TO arguments.
    pub rcpts: Vec<String>,
    /// The message text as sent (CRLF line ends).
    pub text: String,
}

/// What the counting next hop saw.
#[derive(Debug, Default)]
pub struct Counts {
    /// Sessions open right now.
    open: AtomicUsize,
    /// The most sessions ever open at the same time.
    peak: AtomicUsize,
    /// Every message received.
    pub messages: Mutex<Vec<Received>>,
}

impl Counts {
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
    pub fn received(&self) -> usize {
        self.messages.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// A minimal ESMTP server on 127.0.0.1:`port` that answers 250 to
/// everything, holds each end-of-data reply for `data_delay` (so sessions
/// overlap and concurrency is visible), and counts open sessions.
pub async fn counting_server(port: u16, data_delay: Duration) -> Arc<Counts> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the counting next hop");
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let c = c.clone();
            tokio::spawn(async move {
                let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
                c.peak.fetch_max(now, Ordering::SeqCst);
                session(sock, &c, data_delay).await;
                c.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    counts
}

async fn session(sock: tokio::net::TcpStream, c: &Counts, delay: Duration) {
    let mut s = BufReader::new(sock);
    if s.get_mut()
        .write_all(b"220 counter ESMTP\r\n")
        .await
        .is_err()
    {
        return;
    }
    let mut from = String::new();
    let mut rcpts = Vec::new();
    loop {
        let mut line = String::new();
        match s.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let upper = line.to_ascii_uppercase();
        let answer: &[u8] = if upper.starts_with("EHLO") {
            b"250-counter\r\n250 PIPELINING\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().to_string();
            rcpts.clear();
            b"250 2.1.0 Ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            rcpts.push(line[8..].trim().to_string());
            b"250 2.1.5 Ok\r\n"
        } else if upper.starts_with("DATA") {
            if s.get_mut().write_all(b"354 go ahead\r\n").await.is_err() {
                return;
            }
            let mut text = String::new();
            loop {
                let mut l = String::new();
                match s.read_line(&mut l).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                if l == ".\r\n" {
                    break;
                }
                text.push_str(&l);
            }
            tokio::time::sleep(delay).await;
            if let Ok(mut m) = c.messages.lock() {
                m.push(Received {
                    from: from.clone(),
                    rcpts: rcpts.clone(),
                    text,
                });
            }
            b"250 2.0.0 Ok: queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = s.get_mut().write_all(b"221 2.0.0 Bye\r\n").await;
            return;
        } else {
            b"250 2.0.0 Ok\r\n"
        };
        if s.get_mut().write_all(answer).await.is_err() {
            return;
        }
    }
}

/// Send one message to the daemon at `to` from 127.0.0.1 and return the
/// reply to the end of DATA (or the first refusal).
pub async fn submit(to: SocketAddr, from: &str, rcpt: &str, body: &str) -> String {
    let (mut c, _) = Smtp::connect(to, "127.0.0.1").await;
    c.cmd("EHLO client.test").await;
    let r = c.cmd(&format!("MAIL FROM:<{from}>")).await;
    if !r.starts_with("250") {
        return r;
    }
    let r = c.cmd(&format!("RCPT TO:<{rcpt}>")).await;
    if !r.starts_with("250") {
        return r;
    }
    let r = c.cmd("DATA").await;
    if !r.starts_with("354") {
        return r;
    }
    let r = c.cmd(&format!("{body}\r\n.")).await;
    c.cmd("QUIT").await;
    r
}
