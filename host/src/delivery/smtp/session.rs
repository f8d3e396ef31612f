//! One SMTP client session over a connected socket.

use super::SmtpClient;
use crate::delivery::tls::Level;
use crate::delivery::wire::{clean_arg, dot_stuff};
use crate::delivery::{enhanced_code, RcptResult, Status};
use std::io;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Longest reply line we read, and most lines in one reply: a hostile
/// server cannot make us buffer without bound.
const MAX_LINE: u64 = 4096;
const MAX_LINES: usize = 200;

/// A server reply: code and text lines (without the code).
#[derive(Debug, Clone)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// One line as Postfix logs it: `550 5.1.1 text more text`.
    pub fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" "))
            .trim_end()
            .to_string()
    }

    fn dsn(&self) -> String {
        let first = self.lines.first().map(String::as_str).unwrap_or("");
        enhanced_code(first).unwrap_or_else(|| format!("{}.0.0", self.code / 100))
    }
}

pub enum Stream {
    Plain(BufReader<TcpStream>),
    Tls(Box<BufReader<TlsStream<TcpStream>>>),
}

async fn read_reply_from<R: AsyncRead + Unpin>(r: &mut BufReader<R>) -> io::Result<Reply> {
    let mut lines = Vec::new();
    loop {
        let mut buf = Vec::new();
        let n = (&mut *r).take(MAX_LINE).read_until(b'\n', &mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "lost connection",
            ));
        }
        let line = String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (200..600).contains(c));
        let Some(code) = code else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "malformed reply: {}",
                    line.chars().take(80).collect::<String>()
                ),
            ));
        };
        let more = line.as_bytes().get(3) == Some(&b'-');
        lines.push(line.get(4..).unwrap_or("").to_string());
        if !more {
            return Ok(Reply { code, lines });
        }
        if lines.len() > MAX_LINES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "reply too long"));
        }
    }
}

impl Stream {
    async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => {
                s.get_mut().write_all(bytes).await?;
                s.get_mut().flush().await
            }
            Stream::Tls(s) => {
                s.get_mut().write_all(bytes).await?;
                s.get_mut().flush().await
            }
        }
    }

    async fn reply(&mut self, timeout: std::time::Duration) -> io::Result<Reply> {
        let fut = async {
            match self {
                Stream::Plain(s) => read_reply_from(s).await,
                Stream::Tls(s) => read_reply_from(s.as_mut()).await,
            }
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "conversation timed out"))?
    }
}

/// An open, greeted session, ready for MAIL FROM (fresh or from the cache).
pub struct Conn {
    stream: Stream,
    /// `host[addr]:port` for logs.
    pub relay: String,
    pipelining: bool,
    size: bool,
}

fn host_of(relay: &str) -> &str {
    relay.rsplit_once(':').map(|x| x.0).unwrap_or(relay)
}

fn said(relay: &str, r: &Reply, stage: &str) -> String {
    format!(
        "host {} said: {} (in reply to {stage})",
        host_of(relay),
        r.text()
    )
}

fn lost(relay: &str, e: &io::Error, stage: &str) -> String {
    let host = host_of(relay);
    match e.kind() {
        io::ErrorKind::TimedOut => format!("conversation with {host} timed out while {stage}"),
        io::ErrorKind::InvalidData => format!("{e} from {host} while {stage}"),
        _ => format!("lost connection with {host} while {stage}"),
    }
}

/// Greeting, EHLO (HELO fallback) and STARTTLS per `smtp_tls_security_level`.
/// `Err(reason)`: this address is unusable, try the next one.
pub async fn open(
    client: &SmtpClient,
    tcp: TcpStream,
    host: &str,
    relay: &str,
) -> Result<Conn, String> {
    let t = client.reply_timeout;
    let mut s = Stream::Plain(BufReader::new(tcp));
    let greet = s
        .reply(t)
        .await
        .map_err(|e| lost(relay, &e, "receiving the initial server greeting"))?;
    if greet.code / 100 != 2 {
        return Err(format!(
            "host {relay} refused to talk to me: {}",
            greet.text()
        ));
    }
    let mut caps = ehlo(client, relay, &mut s).await?;
    if client.tls_level != Level::None {
        if caps.iter().any(|c| c == "STARTTLS") {
            s.send(b"STARTTLS\r\n")
                .await
                .map_err(|e| lost(relay, &e, "sending STARTTLS"))?;
            let r = s
                .reply(t)
                .await
                .map_err(|e| lost(relay, &e, "receiving the STARTTLS reply"))?;
            if r.code == 220 {
                s = starttls(client, host, relay, s).await?;
                caps = ehlo(client, relay, &mut s).await?;
            } else if client.tls_level == Level::Encrypt {
                return Err(format!(
                    "TLS is required, but host {relay} refused to start TLS: {}",
                    r.text()
                ));
            }
        } else if client.tls_level == Level::Encrypt {
            return Err(format!(
                "TLS is required, but was not offered by host {relay}"
            ));
        }
    }
    Ok(Conn {
        stream: s,
        relay: relay.to_string(),
        pipelining: caps.iter().any(|c| c == "PIPELINING"),
        size: caps.iter().any(|c| c == "SIZE" || c.starts_with("SIZE ")),
    })
}

/// How a transaction ended.
pub enum Outcome {
    /// The connection broke before the MAIL FROM reply: nothing was decided
    /// (try another address, or a fresh connection instead of a cached one).
    NotStarted(String),
    /// One result per recipient; `reusable` when the session is in a clean
    /// state for another MAIL FROM.
    Done {
        results: Vec<RcptResult>,
        reusable: bool,
    },
}

/// One mail transaction: MAIL, RCPT..., DATA (pipelined when offered).
pub async fn transact(
    c: &mut Conn,
    client: &SmtpClient,
    sender: &str,
    rcpts: &[String],
    data: &[u8],
) -> Outcome {
    let t = client.reply_timeout;
    let relay = c.relay.clone();
    let relay = relay.as_str();
    let size = if c.size {
        format!(" SIZE={}", data.len())
    } else {
        String::new()
    };
    let mail_cmd = format!("MAIL FROM:<{}>{size}\r\n", clean_arg(sender));
    let rcpt_cmds: Vec<String> = rcpts
        .iter()
        .map(|r| format!("RCPT TO:<{}>\r\n", clean_arg(r)))
        .collect();
    let mut results: Vec<Option<RcptResult>> = vec![None; rcpts.len()];
    let mk = |r: &Reply, reason: String| {
        let mut x = RcptResult::new(Status::from_code(r.code), &r.dsn(), relay, reason);
        x.remote_reply = Some(r.text());
        x
    };
    let done = |mut results: Vec<Option<RcptResult>>, reason: Option<String>, reusable: bool| {
        for r in results.iter_mut().filter(|r| r.is_none()) {
            let why = reason.clone().unwrap_or_else(|| "no result".into());
            *r = Some(RcptResult::new(Status::Deferred, "4.4.2", relay, why));
        }
        Outcome::Done {
            results: results.into_iter().flatten().collect(),
            reusable,
        }
    };
    let s = &mut c.stream;

    let mut accepted: Vec<usize> = Vec::new();
    let data_reply;
    if c.pipelining {
        let mut batch = mail_cmd;
        for cmd in &rcpt_cmds {
            batch.push_str(cmd);
        }
        batch.push_str("DATA\r\n");
        if let Err(e) = s.send(batch.as_bytes()).await {
            return Outcome::NotStarted(lost(relay, &e, "sending MAIL FROM"));
        }
        let mail = match s.reply(t).await {
            Ok(r) => r,
            Err(e) => return Outcome::NotStarted(lost(relay, &e, "receiving the MAIL FROM reply")),
        };
        let mut rcpt_replies = Vec::new();
        for _ in rcpts {
            match s.reply(t).await {
                Ok(r) => rcpt_replies.push(r),
                Err(e) => {
                    return done(
                        results,
                        Some(lost(relay, &e, "receiving the RCPT TO reply")),
                        false,
                    )
                }
            }
        }
        let dr = match s.reply(t).await {
            Ok(r) => r,
            Err(e) => {
                return done(
                    results,
                    Some(lost(relay, &e, "receiving the DATA reply")),
                    false,
                )
            }
        };
        if mail.code / 100 != 2 {
            let reason = said(relay, &mail, "MAIL FROM command");
            for r in results.iter_mut() {
                *r = Some(mk(&mail, reason.clone()));
            }
            if dr.code == 354 {
                let _ = s.send(b".\r\n").await;
                let _ = s.reply(t).await;
            }
            return done(results, None, false);
        }
        for (i, r) in rcpt_replies.iter().enumerate() {
            if r.code / 100 == 2 {
                accepted.push(i);
            } else {
                results[i] = Some(mk(r, said(relay, r, "RCPT TO command")));
            }
        }
        if accepted.is_empty() {
            if dr.code == 354 {
                // A server that says 354 with no recipients: end the empty transaction.
                let _ = s.send(b".\r\n").await;
                let _ = s.reply(t).await;
                return done(results, None, false);
            }
            return done(results, None, true);
        }
        data_reply = dr;
    } else {
        if let Err(e) = s.send(mail_cmd.as_bytes()).await {
            return Outcome::NotStarted(lost(relay, &e, "sending MAIL FROM"));
        }
        let mail = match s.reply(t).await {
            Ok(r) => r,
            Err(e) => return Outcome::NotStarted(lost(relay, &e, "receiving the MAIL FROM reply")),
        };
        if mail.code / 100 != 2 {
            let reason = said(relay, &mail, "MAIL FROM command");
            let all = rcpts
                .iter()
                .map(|_| Some(mk(&mail, reason.clone())))
                .collect();
            return done(all, None, false);
        }
        for (i, cmd) in rcpt_cmds.iter().enumerate() {
            let r = match s.send(cmd.as_bytes()).await {
                Ok(()) => s.reply(t).await,
                Err(e) => Err(e),
            };
            match r {
                Ok(r) if r.code / 100 == 2 => accepted.push(i),
                Ok(r) => results[i] = Some(mk(&r, said(relay, &r, "RCPT TO command"))),
                Err(e) => return done(results, Some(lost(relay, &e, "sending RCPT TO")), false),
            }
        }
        if accepted.is_empty() {
            // Leave the session clean for the next transaction.
            let ok = s.send(b"RSET\r\n").await.is_ok()
                && s.reply(t).await.map(|r| r.code == 250).unwrap_or(false);
            return done(results, None, ok);
        }
        let r = match s.send(b"DATA\r\n").await {
            Ok(()) => s.reply(t).await,
            Err(e) => Err(e),
        };
        data_reply = match r {
            Ok(r) => r,
            Err(e) => return done(results, Some(lost(relay, &e, "sending DATA")), false),
        };
    }
    if data_reply.code != 354 {
        let reason = said(relay, &data_reply, "DATA command");
        for &i in &accepted {
            results[i] = Some(mk(&data_reply, reason.clone()));
        }
        return done(results, None, false);
    }
    let wire = dot_stuff(data);
    let end = match s.send(&wire).await {
        Ok(()) => s.reply(t).await,
        Err(e) => Err(e),
    };
    match end {
        Ok(r) => {
            let reason = if r.code / 100 == 2 {
                r.text()
            } else {
                said(relay, &r, "end of DATA command")
            };
            for &i in &accepted {
                results[i] = Some(mk(&r, reason.clone()));
            }
            done(results, None, true)
        }
        Err(e) => done(
            results,
            Some(lost(relay, &e, "sending message body")),
            false,
        ),
    }
}

/// End the session politely.
pub async fn quit(mut c: Conn, t: std::time::Duration) {
    if c.stream.send(b"QUIT\r\n").await.is_ok() {
        let _ = c
            .stream
            .reply(t.min(std::time::Duration::from_secs(10)))
            .await;
    }
}

/// EHLO (HELO if refused); the upper-cased extension keywords.
async fn ehlo(client: &SmtpClient, relay: &str, s: &mut Stream) -> Result<Vec<String>, String> {
    let t = client.reply_timeout;
    s.send(format!("EHLO {}\r\n", client.helo_name).as_bytes())
        .await
        .map_err(|e| lost(relay, &e, "sending EHLO"))?;
    let r = s
        .reply(t)
        .await
        .map_err(|e| lost(relay, &e, "receiving the EHLO reply"))?;
    if r.code == 250 {
        return Ok(r
            .lines
            .iter()
            .skip(1)
            .map(|l| l.trim().to_ascii_uppercase())
            .collect());
    }
    s.send(format!("HELO {}\r\n", client.helo_name).as_bytes())
        .await
        .map_err(|e| lost(relay, &e, "sending HELO"))?;
    let r = s
        .reply(t)
        .await
        .map_err(|e| lost(relay, &e, "receiving the HELO reply"))?;
    if r.code / 100 != 2 {
        return Err(format!("host {relay} refused to talk to me: {}", r.text()));
    }
    Ok(Vec::new())
}

async fn starttls(
    client: &SmtpClient,
    host: &str,
    relay: &str,
    s: Stream,
) -> Result<Stream, String> {
    let Stream::Plain(br) = s else {
        return Err("TLS already active".into());
    };
    if !br.buffer().is_empty() {
        return Err(format!("host {relay} sent data after STARTTLS reply"));
    }
    let tcp = br.into_inner();
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).unwrap_or_else(|_| {
        rustls::pki_types::ServerName::try_from("localhost").expect("static name is valid")
    });
    let conn = tokio_rustls::TlsConnector::from(client.tls_config());
    let tls = tokio::time::timeout(client.reply_timeout, conn.connect(name, tcp))
        .await
        .map_err(|_| format!("TLS handshake with {relay} timed out"))?
        .map_err(|e| format!("Cannot start TLS: handshake failure with {relay}: {e}"))?;
    Ok(Stream::Tls(Box::new(BufReader::new(tls))))
}
