//! The byte stream under a session: our own read buffer (so we know whether
//! the client pipelined more input, and so STARTTLS can throw away anything
//! sent before the handshake), a write buffer flushed in batches, and a line
//! reader that never lets a bare CR end a line.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Anything a session can run over: a TCP socket, a TLS stream, or one end
/// of `tokio::io::duplex` in tests.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    /// `<CR><LF>`.
    CrLf,
    /// A bare `<LF>`.
    Lf,
    /// No line end yet: the line was longer than the limit and this is
    /// its first `limit` bytes; the rest follows as further pieces.
    Truncated,
}

#[derive(Debug)]
pub struct Line {
    pub bytes: Vec<u8>,
    pub end: LineEnd,
}

pub struct Conn {
    io: Pin<Box<dyn Io>>,
    rbuf: Vec<u8>,
    rpos: usize,
    wbuf: Vec<u8>,
}

impl Conn {
    pub fn new(io: Box<dyn Io>) -> Conn {
        Conn {
            io: Box::into_pin(io),
            rbuf: Vec::with_capacity(4096),
            rpos: 0,
            wbuf: Vec::new(),
        }
    }

    /// Bytes the client sent that we have not consumed yet.
    pub fn pending_input(&self) -> bool {
        self.rpos < self.rbuf.len()
    }

    /// Discard buffered input (after STARTTLS: plaintext sent ahead of the
    /// handshake must never be read as if it came over TLS).
    pub fn discard_input(&mut self) {
        self.rbuf.clear();
        self.rpos = 0;
    }

    /// Queue a reply; it goes out at the next `flush`.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.wbuf.extend_from_slice(bytes);
    }

    pub async fn flush(&mut self) -> io::Result<()> {
        if !self.wbuf.is_empty() {
            let buf = std::mem::take(&mut self.wbuf);
            self.io.write_all(&buf).await?;
        }
        self.io.flush().await
    }

    /// Read more bytes into the buffer; `Ok(false)` at end of stream.
    /// The socket reads straight into the buffer's spare capacity (no
    /// bounce buffer to zero and copy from).
    async fn fill(&mut self) -> io::Result<bool> {
        if self.rpos > 0 && self.rpos == self.rbuf.len() {
            self.rbuf.clear();
            self.rpos = 0;
        } else if self.rpos > 65536 {
            self.rbuf.drain(..self.rpos);
            self.rpos = 0;
        }
        self.rbuf.reserve(8192);
        let n = self.io.read_buf(&mut self.rbuf).await?;
        Ok(n > 0)
    }

    /// The next line of at most `limit` bytes (without its ending), or
    /// `None` at end of stream. Only LF ends a line; a CR not followed by LF
    /// is data. A partial line at end of stream is dropped (the client went
    /// away mid-line; nothing it said there counts).
    pub async fn read_line(&mut self, limit: usize) -> io::Result<Option<Line>> {
        Ok(self.next_line(limit).await?.map(|(range, end)| Line {
            bytes: self.rbuf[range].to_vec(),
            end,
        }))
    }

    /// As [`Conn::read_line`], but the line stays in the read buffer: the
    /// answer is where it lies there, for [`Conn::line`], valid until the
    /// next read. DATA copies each line once, straight into the message,
    /// instead of allocating it first.
    pub async fn next_line(&mut self, limit: usize) -> io::Result<Option<(Range<usize>, LineEnd)>> {
        loop {
            let start = self.rpos;
            let avail = &self.rbuf[start..];
            if let Some(i) = avail.iter().position(|&b| b == b'\n') {
                if i <= limit {
                    let found = if i > 0 && avail[i - 1] == b'\r' {
                        (start..start + i - 1, LineEnd::CrLf)
                    } else {
                        (start..start + i, LineEnd::Lf)
                    };
                    self.rpos += i + 1;
                    return Ok(Some(found));
                }
            }
            if avail.len() > limit {
                // Keep a CR at the cut with the next piece, so that a CRLF is
                // never split into a "bare CR" and a "bare LF".
                let mut cut = limit;
                if avail[cut - 1] == b'\r' {
                    cut -= 1;
                }
                self.rpos += cut;
                return Ok(Some((start..start + cut, LineEnd::Truncated)));
            }
            // About to wait for the client: everything we owe it goes out
            // first (this is where pipelined replies are batched).
            self.flush().await?;
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// The bytes of a line found by [`Conn::next_line`].
    pub fn line(&self, range: Range<usize>) -> &[u8] {
        &self.rbuf[range]
    }

    /// Give the stream back (for the TLS handshake). Buffered input is
    /// dropped by design; pending output must have been flushed.
    pub fn into_io(self) -> Pin<Box<dyn Io>> {
        self.io
    }

    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        let _ = self.io.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_and_bare_cr() {
        let (mut a, b) = tokio::io::duplex(1024);
        a.write_all(b"one\r\ntwo\nthree\rfour\r\nxxxxxxxxxx\r\n")
            .await
            .unwrap();
        drop(a);
        let mut c = Conn::new(Box::new(b));
        let l = c.read_line(100).await.unwrap().unwrap();
        assert_eq!((l.bytes.as_slice(), l.end), (&b"one"[..], LineEnd::CrLf));
        let l = c.read_line(100).await.unwrap().unwrap();
        assert_eq!((l.bytes.as_slice(), l.end), (&b"two"[..], LineEnd::Lf));
        let l = c.read_line(100).await.unwrap().unwrap();
        assert_eq!(
            (l.bytes.as_slice(), l.end),
            (&b"three\rfour"[..], LineEnd::CrLf)
        );
        let l = c.read_line(4).await.unwrap().unwrap();
        assert_eq!(
            (l.bytes.as_slice(), l.end),
            (&b"xxxx"[..], LineEnd::Truncated)
        );
        let l = c.read_line(100).await.unwrap().unwrap();
        assert_eq!((l.bytes.as_slice(), l.end), (&b"xxxxxx"[..], LineEnd::CrLf));
        assert!(c.read_line(100).await.unwrap().is_none());
    }

    /// Lines that arrive cut at every possible place (a CRLF split between
    /// two reads included), well past the buffer's 64 KiB compaction point,
    /// come out whole and in order from `next_line`.
    #[tokio::test]
    async fn lines_split_across_reads() {
        let (mut a, b) = tokio::io::duplex(97);
        let mut text = Vec::new();
        for n in 0..3000 {
            text.extend_from_slice(format!("line {n} {}\r\n", "x".repeat(n % 90)).as_bytes());
        }
        let sent = text.clone();
        let writer = tokio::spawn(async move {
            // Pieces of 1..=13 bytes, so cuts fall everywhere.
            let mut rest = &sent[..];
            let mut k = 0;
            while !rest.is_empty() {
                let n = (k % 13 + 1).min(rest.len());
                a.write_all(&rest[..n]).await.unwrap();
                rest = &rest[n..];
                k += 1;
            }
        });
        let mut c = Conn::new(Box::new(b));
        let mut got = Vec::new();
        while let Some((range, end)) = c.next_line(1000).await.unwrap() {
            assert_eq!(end, LineEnd::CrLf);
            got.extend_from_slice(c.line(range));
            got.extend_from_slice(b"\r\n");
        }
        writer.await.unwrap();
        assert_eq!(got.len(), text.len());
        assert!(got == text, "lines altered");
    }
}
