//! What goes on the wire: line normalisation and dot-stuffing.
//!
//! Every line leaves as `...CRLF`; a bare CR or a bare LF in the queued
//! content becomes a line break, so no peer can be made to see a line ending
//! (or an end-of-data) that mta did not intend.

/// `data` as SMTP DATA content: CRLF lines, leading dots doubled, and the
/// terminating `.CRLF` appended.
pub fn dot_stuff(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 64 + 8);
    let mut at_line_start = true;
    let mut i = 0;
    while i < data.len() {
        let b = data[i];
        match b {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => {
                out.extend_from_slice(b"\r\n");
                at_line_start = true;
            }
            _ => {
                if at_line_start && b == b'.' {
                    out.push(b'.');
                }
                out.push(b);
                at_line_start = false;
            }
        }
        i += 1;
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// `data` with every line ending made CRLF (no dot-stuffing): for local
/// delivery and for quoting into bounces.
pub fn crlf_lines(data: &[u8]) -> Vec<u8> {
    let mut out = dot_stuff_free(data);
    if !out.ends_with(b"\r\n") && !out.is_empty() {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn dot_stuff_free(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' => {
                out.extend_from_slice(b"\r\n");
                if data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
            }
            b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// A command argument with any CR/LF removed, so an address can never
/// inject a second command.
pub fn clean_arg(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stuffs_dots_and_normalises_bare_newlines() {
        assert_eq!(dot_stuff(b"a\r\n.b\r\n"), b"a\r\n..b\r\n.\r\n");
        assert_eq!(dot_stuff(b".\r\nx"), b"..\r\nx\r\n.\r\n");
        assert_eq!(dot_stuff(b"a\nb\rc\r\n"), b"a\r\nb\r\nc\r\n.\r\n");
        // A smuggling attempt: bare-LF dot line must not end the data early.
        assert_eq!(
            dot_stuff(b"x\n.\nMAIL FROM:<e>\r\n"),
            b"x\r\n..\r\nMAIL FROM:<e>\r\n.\r\n"
        );
        assert_eq!(dot_stuff(b""), b".\r\n");
    }

    #[test]
    fn crlf_lines_and_clean_args() {
        assert_eq!(crlf_lines(b"a\nb"), b"a\r\nb\r\n");
        assert_eq!(clean_arg("a\r\nRSET@b"), "aRSET@b");
    }
}
