//! The message as cleanup edits it: logical headers (folded lines kept
//! together) and body lines, split from the CRLF text smtpd received.

/// One logical header as it will be written: `Name: value` with folding
/// kept as CRLF + whitespace, no final CRLF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderLine {
    pub name: String,
    pub raw: Vec<u8>,
}

impl HeaderLine {
    /// Build from a full `Name: value` text (a PREPEND or REPLACE result).
    pub fn from_text(text: &str) -> HeaderLine {
        let name = text.split(':').next().unwrap_or("").trim().to_string();
        HeaderLine {
            name,
            raw: text
                .replace('\n', "\r\n")
                .replace("\r\r\n", "\r\n")
                .into_bytes(),
        }
    }

    /// The value handed to plugins: bytes after the colon, folding as `\n`.
    pub fn value(&self) -> Vec<u8> {
        let after = match self.raw.iter().position(|&b| b == b':') {
            Some(i) => &self.raw[i + 1..],
            None => &self.raw[..],
        };
        let mut out = Vec::with_capacity(after.len());
        let mut i = 0;
        while i < after.len() {
            if after[i] == b'\r' && after.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(after[i]);
            i += 1;
        }
        out
    }

    /// `Name: value` on one line, for log lines (control bytes blanked).
    pub fn for_log(&self) -> String {
        String::from_utf8_lossy(&self.raw)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A message split into headers and body lines (without line ends).
#[derive(Debug, Clone, Default)]
pub struct Message {
    pub headers: Vec<HeaderLine>,
    pub body: Vec<Vec<u8>>,
    /// A header was longer than the limit and was cut.
    pub truncated: bool,
}

fn header_name(line: &[u8]) -> Option<&str> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = &line[..colon];
    if name.is_empty() || !name.iter().all(|&b| (0x21..0x7f).contains(&b)) {
        return None;
    }
    std::str::from_utf8(name).ok()
}

impl Message {
    /// Split CRLF text. Headers end at the first empty line, or at the first
    /// line that is neither a header nor a continuation (that line is body).
    pub fn parse(data: &[u8]) -> Message {
        Message::parse_limited(data, usize::MAX)
    }

    /// As `parse`, keeping at most `header_size_limit` bytes of any one
    /// logical header (Postfix: "the excess is discarded"); the result says
    /// whether anything was cut. A header line ends at its first NUL byte,
    /// as in Postfix's cleanup (it handles header text as C strings); body
    /// lines keep theirs.
    pub fn parse_limited(data: &[u8], header_size_limit: usize) -> Message {
        let mut lines: Vec<&[u8]> = data
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect();
        let cut_nul = |l: &[u8]| -> Vec<u8> {
            l[..l.iter().position(|&b| b == 0).unwrap_or(l.len())].to_vec()
        };
        if data.ends_with(b"\n") {
            lines.pop();
        }
        let mut m = Message::default();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            if line.is_empty() {
                i += 1;
                break;
            }
            if (line[0] == b' ' || line[0] == b'\t') && !m.headers.is_empty() {
                if let Some(h) = m.headers.last_mut() {
                    let line = cut_nul(line);
                    if h.raw.len() + 2 + line.len() <= header_size_limit {
                        h.raw.extend_from_slice(b"\r\n");
                        h.raw.extend_from_slice(&line);
                    } else {
                        m.truncated = true;
                    }
                }
                i += 1;
                continue;
            }
            match header_name(line) {
                Some(name) => {
                    let line = cut_nul(line);
                    let keep = line.len().min(header_size_limit);
                    m.truncated |= keep < line.len();
                    m.headers.push(HeaderLine {
                        name: name.to_string(),
                        raw: line[..keep].to_vec(),
                    });
                    i += 1;
                }
                None => break,
            }
        }
        m.body = lines[i..].iter().map(|l| l.to_vec()).collect();
        m
    }

    pub fn has(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|h| h.name.eq_ignore_ascii_case(name))
    }

    /// The message as CRLF text, with the blank line between header and body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for h in &self.headers {
            out.extend_from_slice(&h.raw);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        for l in &self.body {
            out.extend_from_slice(l);
            out.extend_from_slice(b"\r\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_fold() {
        let m = Message::parse(b"Subject: a\r\n b\r\nFrom: x\r\n\r\nbody\r\n.\r\n");
        assert_eq!(m.headers.len(), 2);
        assert_eq!(m.headers[0].value(), b" a\n b");
        assert_eq!(m.headers[0].for_log(), "Subject: a b");
        assert_eq!(m.body, vec![b"body".to_vec(), b".".to_vec()]);
        assert_eq!(
            m.to_bytes(),
            b"Subject: a\r\n b\r\nFrom: x\r\n\r\nbody\r\n.\r\n"
        );
        let m = Message::parse_limited(b"Subject: 0123456789\r\n more\r\nTo: x\r\n\r\nb\r\n", 12);
        assert!(m.truncated);
        assert_eq!(m.headers[0].raw, b"Subject: 012");
        assert_eq!(m.headers[1].raw, b"To: x");
        let m = Message::parse(b"Subject: nul\0here\r\n \0x\r\n\r\nbody\0kept\r\n");
        assert_eq!(m.headers[0].raw, b"Subject: nul\r\n ");
        assert_eq!(m.body, vec![b"body\0kept".to_vec()]);
        let m = Message::parse(b"no header here\r\n");
        assert!(m.headers.is_empty());
        assert_eq!(m.body.len(), 1);
    }
}
