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

enum Stream {
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

struct Ctx<'a> {
    client: &'a SmtpClient,
    relay: &'a str,
    host: &'a str,
}

impl Ctx<'_> {
    fn said(&self, r: &Reply, stage: &str) -> String {
        format!(
            "host {} said: {} (in reply to {stage})",
            self.relay
                .rsplit_once(':')
                .map(|x| x.0)
                .unwrap_or(self.relay),
            r.text()
        )
    }

    fn lost(&self, e: &io::Error, stage: &str) -> String {
        let host = self
            .relay
            .rsplit_once(':')
            .map(|x| x.0)
            .unwrap_or(self.relay);
        match e.kind() {
            io::ErrorKind::TimedOut => format!("conversation with {host} timed out while {stage}"),
            io::ErrorKind::InvalidData => format!("{e} from {host} while {stage}"),
            _ => format!("lost connection with {host} while {stage}"),
        }
    }
}

/// Run a session. `Err(reason)` means nothing was attempted (try the next
/// address); `Ok` carries one final result per recipient.
pub async fn run(
    client: &SmtpClient,
    tcp: TcpStream,
    host: &str,
    relay: &str,
    sender: &str,
    rcpts: &[String],
    data: &[u8],
) -> Result<Vec<RcptResult>, String> {
    let cx = Ctx {
        client,
        relay,
        host,
    };
    let t = client.reply_timeout;
    let mut s = Stream::Plain(BufReader::new(tcp));
    let greet = s
        .reply(t)
        .await
        .map_err(|e| cx.lost(&e, "receiving the initial server greeting"))?;
    if greet.code / 100 != 2 {
        return Err(format!(
            "host {} refused to talk to me: {}",
            relay,
            greet.text()
        ));
    }
    let mut caps = ehlo(&cx, &mut s).await?;
    if cx.client.tls_level != Level::None {
        if caps.iter().any(|c| c == "STARTTLS") {
            s.send(b"STARTTLS\r\n")
                .await
                .map_err(|e| cx.lost(&e, "sending STARTTLS"))?;
            let r = s
                .reply(t)
                .await
                .map_err(|e| cx.lost(&e, "receiving the STARTTLS reply"))?;
            if r.code == 220 {
                s = starttls(&cx, s).await?;
                caps = ehlo(&cx, &mut s).await?;
            } else if cx.client.tls_level == Level::Encrypt {
                return Err(format!(
                    "TLS is required, but host {relay} refused to start TLS: {}",
                    r.text()
                ));
            }
        } else if cx.client.tls_level == Level::Encrypt {
            return Err(format!(
                "TLS is required, but was not offered by host {relay}"
            ));
        }
    }
    let pipelining = caps.iter().any(|c| c == "PIPELINING");
    let size = if caps.iter().any(|c| c == "SIZE" || c.starts_with("SIZE ")) {
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
    let defer_rest = |results: &mut Vec<Option<RcptResult>>, reason: &str| {
        for r in results.iter_mut().filter(|r| r.is_none()) {
            *r = Some(RcptResult::new(
                Status::Deferred,
                "4.4.2",
                relay,
                reason.to_string(),
            ));
        }
    };
    let finish = |results: Vec<Option<RcptResult>>| {
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| RcptResult::new(Status::Deferred, "4.4.2", relay, "no result"))
            })
            .collect::<Vec<_>>()
    };

    // MAIL, RCPT..., DATA: in one write with PIPELINING, else one at a time.
    let mut accepted: Vec<usize> = Vec::new();
    let data_reply;
    if pipelining {
        let mut batch = mail_cmd.clone();
        for c in &rcpt_cmds {
            batch.push_str(c);
        }
        batch.push_str("DATA\r\n");
        if let Err(e) = s.send(batch.as_bytes()).await {
            return Err(cx.lost(&e, "sending MAIL FROM"));
        }
        let mail = match s.reply(t).await {
            Ok(r) => r,
            Err(e) => return Err(cx.lost(&e, "receiving the MAIL FROM reply")),
        };
        let mut rcpt_replies = Vec::new();
        for _ in rcpts {
            match s.reply(t).await {
                Ok(r) => rcpt_replies.push(r),
                Err(e) => {
                    defer_rest(&mut results, &cx.lost(&e, "receiving the RCPT TO reply"));
                    return Ok(finish(results));
                }
            }
        }
        let dr = match s.reply(t).await {
            Ok(r) => r,
            Err(e) => {
                defer_rest(&mut results, &cx.lost(&e, "receiving the DATA reply"));
                return Ok(finish(results));
            }
        };
        if mail.code / 100 != 2 {
            let reason = cx.said(&mail, "MAIL FROM command");
            for r in results.iter_mut() {
                *r = Some(mk(&mail, reason.clone()));
            }
            if dr.code == 354 {
                let _ = s.send(b".\r\n").await;
                let _ = s.reply(t).await;
            }
            quit(&mut s, t).await;
            return Ok(finish(results));
        }
        for (i, r) in rcpt_replies.iter().enumerate() {
            if r.code / 100 == 2 {
                accepted.push(i);
            } else {
                results[i] = Some(mk(r, cx.said(r, "RCPT TO command")));
            }
        }
        if accepted.is_empty() && dr.code == 354 {
            // A server that says 354 with no recipients: end the empty transaction.
            let _ = s.send(b".\r\n").await;
            let _ = s.reply(t).await;
        }
        data_reply = dr;
    } else {
        s.send(mail_cmd.as_bytes())
            .await
            .map_err(|e| cx.lost(&e, "sending MAIL FROM"))?;
        let mail = s
            .reply(t)
            .await
            .map_err(|e| cx.lost(&e, "receiving the MAIL FROM reply"))?;
        if mail.code / 100 != 2 {
            let reason = cx.said(&mail, "MAIL FROM command");
            quit(&mut s, t).await;
            return Ok(rcpts.iter().map(|_| mk(&mail, reason.clone())).collect());
        }
        for (i, c) in rcpt_cmds.iter().enumerate() {
            let r = match s.send(c.as_bytes()).await {
                Ok(()) => s.reply(t).await,
                Err(e) => Err(e),
            };
            match r {
                Ok(r) if r.code / 100 == 2 => accepted.push(i),
                Ok(r) => results[i] = Some(mk(&r, cx.said(&r, "RCPT TO command"))),
                Err(e) => {
                    defer_rest(&mut results, &cx.lost(&e, "sending RCPT TO"));
                    return Ok(finish(results));
                }
            }
        }
        if accepted.is_empty() {
            quit(&mut s, t).await;
            return Ok(finish(results));
        }
        let r = match s.send(b"DATA\r\n").await {
            Ok(()) => s.reply(t).await,
            Err(e) => Err(e),
        };
        data_reply = match r {
            Ok(r) => r,
            Err(e) => {
                defer_rest(&mut results, &cx.lost(&e, "sending DATA"));
                return Ok(finish(results));
            }
        };
    }
    if accepted.is_empty() {
        quit(&mut s, t).await;
        return Ok(finish(results));
    }
    if data_reply.code != 354 {
        let reason = cx.said(&data_reply, "DATA command");
        for &i in &accepted {
            results[i] = Some(mk(&data_reply, reason.clone()));
        }
        quit(&mut s, t).await;
        return Ok(finish(results));
    }
    let wire = dot_stuff(data);
    let done = match s.send(&wire).await {
        Ok(()) => s.reply(t).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(r) => {
            let reason = if r.code / 100 == 2 {
                r.text()
            } else {
                cx.said(&r, "end of DATA command")
            };
            for &i in &accepted {
                results[i] = Some(mk(&r, reason.clone()));
            }
        }
        Err(e) => defer_rest(&mut results, &cx.lost(&e, "sending message body")),
    }
    quit(&mut s, t).await;
    Ok(finish(results))
}

async fn quit(s: &mut Stream, t: std::time::Duration) {
    if s.send(b"QUIT\r\n").await.is_ok() {
        let _ = s.reply(t.min(std::time::Duration::from_secs(10))).await;
    }
}

/// EHLO (HELO if refused); the upper-cased extension keywords.
async fn ehlo(cx: &Ctx<'_>, s: &mut Stream) -> Result<Vec<String>, String> {
    let t = cx.client.reply_timeout;
    s.send(format!("EHLO {}\r\n", cx.client.helo_name).as_bytes())
        .await
        .map_err(|e| cx.lost(&e, "sending EHLO"))?;
    let r = s
        .reply(t)
        .await
        .map_err(|e| cx.lost(&e, "receiving the EHLO reply"))?;
    if r.code == 250 {
        return Ok(r
            .lines
            .iter()
            .skip(1)
            .map(|l| l.trim().to_ascii_uppercase())
            .collect());
    }
    s.send(format!("HELO {}\r\n", cx.client.helo_name).as_bytes())
        .await
        .map_err(|e| cx.lost(&e, "sending HELO"))?;
    let r = s
        .reply(t)
        .await
        .map_err(|e| cx.lost(&e, "receiving the HELO reply"))?;
    if r.code / 100 != 2 {
        return Err(format!(
            "host {} refused to talk to me: {}",
            cx.relay,
            r.text()
        ));
    }
    Ok(Vec::new())
}

async fn starttls(cx: &Ctx<'_>, s: Stream) -> Result<Stream, String> {
    let Stream::Plain(br) = s else {
        return Err("TLS already active".into());
    };
    if !br.buffer().is_empty() {
        return Err(format!("host {} sent data after STARTTLS reply", cx.relay));
    }
    let tcp = br.into_inner();
    let name = rustls::pki_types::ServerName::try_from(cx.host.to_string()).unwrap_or_else(|_| {
        rustls::pki_types::ServerName::try_from("localhost").expect("static name is valid")
    });
    let conn = tokio_rustls::TlsConnector::from(cx.client.tls_config());
    let tls = tokio::time::timeout(cx.client.reply_timeout, conn.connect(name, tcp))
        .await
        .map_err(|_| format!("TLS handshake with {} timed out", cx.relay))?
        .map_err(|e| format!("Cannot start TLS: handshake failure with {}: {e}", cx.relay))?;
    Ok(Stream::Tls(Box::new(BufReader::new(tls))))
}
