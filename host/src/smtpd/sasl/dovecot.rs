//! A client of Dovecot's authentication protocol (version 1.x, "auth client"
//! side), as Postfix's `smtpd_sasl_type = dovecot` speaks it: smtpd never
//! sees a password database; it relays the client's SASL exchange to the
//! Dovecot auth socket and learns only "OK user=..." or "FAIL".
//!
//! Handshake: we send `VERSION 1 2` and `CPID pid`; the server sends its
//! `VERSION`, one `MECH name flags...` line per mechanism, `SPID`, `CUID`,
//! `COOKIE` and `DONE`. Then each authentication is
//! `AUTH id mech service=smtp ... [resp=base64]`, answered by
//! `CONT id base64` (we reply `CONT id base64`), `OK id user=...` or
//! `FAIL id [reason=...] [temp] ...`. Fields are tab-separated.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

/// One mechanism offered by the server, with its security flags
/// (`anonymous`, `plaintext`, `dictionary`, `active`, `forward-secrecy`,
/// `mutual-auth`, `private`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mech {
    pub name: String,
    pub flags: Vec<String>,
}

impl Mech {
    pub fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// The answer to one step of an authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A challenge for the client, base64 as received.
    Continue(String),
    Ok {
        user: String,
    },
    /// `temp` means the failure was the server's (database down), not the
    /// client's credentials.
    Fail {
        reason: Option<String>,
        temp: bool,
        /// The user the client claimed, when Dovecot got that far.
        user: Option<String>,
    },
}

/// What the server is told about the connection being authenticated.
#[derive(Debug, Clone)]
pub struct Peer {
    /// `smtpd_sasl_service`: which Dovecot service settings apply.
    pub service: String,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
    /// The SMTP session is under TLS (Dovecot then allows plaintext mechs).
    pub secured: bool,
}

/// Longest line we accept from the server; bounds memory if the socket is
/// not Dovecot at all.
const MAX_LINE: usize = 65536;

pub struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    pub mechs: Vec<Mech>,
    next_id: u32,
    /// Every exchange with the server is bounded by this.
    timeout: Duration,
}

fn proto_err(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Undo Dovecot's tab-escaping (`\x01` followed by `1`, `t`, `r`, `n`).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c == '\x01' {
            match it.next() {
                Some('1') => out.push('\x01'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Client {
    /// Connect to the auth socket and complete the handshake.
    pub async fn connect(path: &Path, timeout: Duration) -> io::Result<Client> {
        let work = async {
            let stream = UnixStream::connect(path).await?;
            let (r, w) = stream.into_split();
            let mut c = Client {
                reader: BufReader::new(r),
                writer: w,
                mechs: Vec::new(),
                next_id: 0,
                timeout,
            };
            let hello = format!("VERSION\t1\t2\nCPID\t{}\n", std::process::id());
            c.writer.write_all(hello.as_bytes()).await?;
            let mut version_ok = false;
            loop {
                let line = c.read_line().await?;
                let f: Vec<&str> = line.split('\t').collect();
                match f[0] {
                    "VERSION" => {
                        if f.get(1) != Some(&"1") {
                            return Err(proto_err(format!(
                                "unsupported Dovecot auth protocol version {}",
                                f.get(1).unwrap_or(&"?")
                            )));
                        }
                        version_ok = true;
                    }
                    "MECH" if f.len() >= 2 => c.mechs.push(Mech {
                        name: f[1].to_ascii_uppercase(),
                        flags: f[2..].iter().map(|s| s.to_string()).collect(),
                    }),
                    "DONE" => break,
                    // SPID, CUID, COOKIE and anything newer: not needed.
                    _ => {}
                }
            }
            if !version_ok {
                return Err(proto_err("no VERSION line from the auth server"));
            }
            Ok(c)
        };
        tokio::time::timeout(timeout, work).await.map_err(|_| {
            io::Error::new(io::ErrorKind::TimedOut, "auth server handshake timed out")
        })?
    }

    async fn read_line(&mut self) -> io::Result<String> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
            .await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "auth server closed the connection",
            ));
        }
        if buf.last() != Some(&b'\n') {
            return Err(proto_err("over-long line from the auth server"));
        }
        buf.pop();
        String::from_utf8(buf).map_err(|_| proto_err("non-UTF-8 line from the auth server"))
    }

    /// Send one request line and wait for the answer to request `id`.
    async fn exchange(&mut self, line: String, id: u32) -> io::Result<Step> {
        let t = self.timeout;
        let work = async {
            self.writer.write_all(line.as_bytes()).await?;
            loop {
                let reply = self.read_line().await?;
                let f: Vec<&str> = reply.split('\t').collect();
                if f.get(1).and_then(|s| s.parse::<u32>().ok()) != Some(id) {
                    // Not ours (or a stray line): Dovecot only answers the
                    // request in flight, so skip it.
                    continue;
                }
                let arg = |key: &str| {
                    f[2..]
                        .iter()
                        .find_map(|a| a.strip_prefix(key).map(unescape))
                };
                return Ok(match f[0] {
                    "CONT" => Step::Continue(f.get(2).unwrap_or(&"").to_string()),
                    "OK" => Step::Ok {
                        user: arg("user=").unwrap_or_default(),
                    },
                    "FAIL" => Step::Fail {
                        reason: arg("reason="),
                        temp: f[2..].contains(&"temp"),
                        user: arg("user="),
                    },
                    other => {
                        return Err(proto_err(format!(
                            "unexpected reply {other:?} from the auth server"
                        )))
                    }
                });
            }
        };
        tokio::time::timeout(t, work)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "auth server timed out"))?
    }

    /// Start an authentication; `initial` is the client's initial response
    /// in base64 (already checked to decode), empty string for `=`.
    /// Returns the request id for [`Client::cont`].
    pub async fn start(
        &mut self,
        mech: &str,
        peer: &Peer,
        initial: Option<&str>,
    ) -> io::Result<(u32, Step)> {
        self.next_id += 1;
        let id = self.next_id;
        let service = &peer.service;
        let mut line = format!("AUTH\t{id}\t{mech}\tservice={service}\tnologin");
        if let Some(a) = peer.local {
            line.push_str(&format!("\tlip={}\tlport={}", a.ip(), a.port()));
        }
        if let Some(a) = peer.remote {
            line.push_str(&format!("\trip={}\trport={}", a.ip(), a.port()));
        }
        if peer.secured {
            line.push_str("\tsecured");
        }
        if let Some(r) = initial {
            line.push_str(&format!("\tresp={r}"));
        }
        line.push('\n');
        let step = self.exchange(line, id).await?;
        Ok((id, step))
    }

    /// The client's answer (base64) to a challenge of request `id`.
    pub async fn cont(&mut self, id: u32, response: &str) -> io::Result<Step> {
        self.exchange(format!("CONT\t{id}\t{response}\n"), id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::UnixListener;

    /// The client's side of the wire format against a scripted server:
    /// handshake, mechanism flags, a challenge, OK with an escaped user,
    /// and a temporary FAIL.
    #[tokio::test]
    async fn speaks_the_protocol() {
        let dir = std::env::temp_dir().join(format!("mta-dovecot-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("auth");
        let l = UnixListener::bind(&path).unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(
                b"VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nMECH\tANONYMOUS\tanonymous\nSPID\t1\nCUID\t1\nCOOKIE\tab\nDONE\n",
            )
            .await
            .unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            while !got.ends_with(b"resp=\n") {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"CONT\t1\tY2hhbA==\n").await.unwrap();
            while !got.ends_with(b"\tYW5z\n") {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"OK\t1\tuser=a\x01tb\n").await.unwrap();
            while !got.ends_with(b"AUTH\t2\tPLAIN\tservice=smtp\tnologin\n") {
                let n = s.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"FAIL\t2\treason=db down\ttemp\n")
                .await
                .unwrap();
            String::from_utf8(got).unwrap()
        });
        let mut c = Client::connect(&path, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(c.mechs.len(), 2);
        assert!(c.mechs[0].has("plaintext") && c.mechs[1].has("anonymous"));
        let peer = Peer {
            service: "smtp".into(),
            local: Some("127.0.0.1:25".parse().unwrap()),
            remote: Some("127.0.0.2:4000".parse().unwrap()),
            secured: true,
        };
        let (id, step) = c.start("PLAIN", &peer, Some("")).await.unwrap();
        assert_eq!(step, Step::Continue("Y2hhbA==".into()));
        let step = c.cont(id, "YW5z").await.unwrap();
        assert_eq!(
            step,
            Step::Ok {
                user: "a\tb".into()
            }
        );
        let none = Peer {
            service: "smtp".into(),
            local: None,
            remote: None,
            secured: false,
        };
        let (_, step) = c.start("PLAIN", &none, None).await.unwrap();
        assert_eq!(
            step,
            Step::Fail {
                reason: Some("db down".into()),
                temp: true,
                user: None,
            }
        );
        let sent = server.await.unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(sent.starts_with(&format!("VERSION\t1\t2\nCPID\t{}\n", std::process::id())));
        assert!(sent.contains(
            "AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=127.0.0.1\tlport=25\trip=127.0.0.2\trport=4000\tsecured\tresp=\n"
        ));
    }
}
