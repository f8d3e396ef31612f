//! Where log lines go: stderr, one line per event, in Postfix's words
//! (DESIGN decision 9), and never with a byte a client chose that could
//! forge or hide a line.
//!
//! Log lines quote what clients send (HELO names, addresses, commands).
//! Postfix passes such text through `printable()`; here the writer does it
//! for every event at once, so no call site can forget: control characters
//! (a CR that rewinds a terminal line, an ESC that starts a terminal escape,
//! a NUL, an LF inside an event) become `?`, as in Postfix. Each event is
//! written whole in one call, ending in its own LF, which is kept.

use std::io::Write;
use tracing_subscriber::fmt::MakeWriter;

/// Tracing to stderr, one line per event, Postfix-like (no module paths).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MTA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(SafeStderr)
        .try_init();
}

/// Tracing for one-shot commands (`mta check`): warnings and errors only,
/// without timestamps, so what a plugin or table says while loading reaches
/// the operator instead of vanishing.
pub fn init_cli_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MTA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_level(false)
        .with_target(false)
        .with_ansi(false)
        .with_writer(SafeStderr)
        .try_init();
}

/// Stderr behind [`printable`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SafeStderr;

impl<'a> MakeWriter<'a> for SafeStderr {
    type Writer = Printable<std::io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        Printable(std::io::stderr())
    }
}

/// A writer that passes each write through [`printable`].
#[derive(Debug)]
pub struct Printable<W>(pub W);

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(&printable(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// One formatted event with every control character but its final LF
/// replaced by `?` (UTF-8 text is left alone; its bytes are all >= 0x80).
pub fn printable(event: &[u8]) -> Vec<u8> {
    let (body, end) = match event.strip_suffix(b"\n") {
        Some(b) => (b, &b"\n"[..]),
        None => (event, &b""[..]),
    };
    let mut out: Vec<u8> = body
        .iter()
        .map(|&b| if b < 0x20 || b == 0x7f { b'?' } else { b })
        .collect();
    out.extend_from_slice(end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_question_marks() {
        assert_eq!(
            printable(b"helo=<a\rb\x1b[31m\x00c\td\ne>\n"),
            b"helo=<a?b?[31m?c?d?e>\n".to_vec()
        );
        assert_eq!(
            printable("caf\u{e9}\n".as_bytes()),
            "caf\u{e9}\n".as_bytes()
        );
        assert_eq!(printable(b"no end"), b"no end".to_vec());
    }
}
