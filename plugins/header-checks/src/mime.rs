//! A streaming MIME walker over body lines, as Postfix's mime_state does it
//! for content inspection: it tells MIME part headers and the headers of
//! attached messages apart from body lines, without decoding anything.
//!
//! Lines arrive in chunks; a folded header may straddle two chunks, so a
//! header is reported only when the line after it (or the end of the body)
//! shows it is complete, with the chunk-local index of each of its lines
//! (one `None` standing for all its lines of earlier chunks).
//!
//! Memory stays bounded whatever the message: a header's text is cut at
//! header_size_limit (as Postfix truncates it), only the current chunk's
//! line indexes are kept, and multipart nesting stops at mime_nesting_limit.
//!
//! With body_checks_decode (an mta option) the walker also collects the
//! encoded text of each base64 or quoted-printable `text/*` part, at most
//! body_checks_size_limit bytes of it, and reports it decoded (see
//! [`Item::Decoded`]) when the part ends.

/// Which table a header goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderClass {
    /// The message's own headers, other than MIME ones: header_checks.
    Primary,
    /// MIME headers (`Content-*`, `MIME-Version`) anywhere, and every header
    /// of a MIME part: mime_header_checks.
    Mime,
    /// The headers of an attached `message/rfc822`: nested_header_checks.
    Nested,
}

/// Whether a header name is a MIME header, which Postfix always checks with
/// mime_header_checks.
pub fn is_mime_header(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"MIME-Version")
        || (name.len() > 8 && name[..8].eq_ignore_ascii_case(b"Content-"))
}

/// The parts of a Content-Type header the walker needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContentType {
    /// `type/subtype`, lower-cased.
    pub mime_type: String,
    /// The multipart boundary, if any.
    pub boundary: Option<Vec<u8>>,
    /// The whole header value (for the charset when a part is decoded).
    pub value: String,
}

/// A Content-Transfer-Encoding that hides text from body_checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    QuotedPrintable,
}

impl Encoding {
    /// Parse a Content-Transfer-Encoding value; `None` for the identity
    /// encodings (7bit, 8bit, binary) and anything unknown.
    pub fn parse(value: &[u8]) -> Option<Encoding> {
        let v = String::from_utf8_lossy(value);
        match v.trim().to_ascii_lowercase().as_str() {
            "base64" => Some(Encoding::Base64),
            "quoted-printable" => Some(Encoding::QuotedPrintable),
            _ => None,
        }
    }

    /// The name as written in the header.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::QuotedPrintable => "quoted-printable",
        }
    }
}

impl ContentType {
    /// Parse the value of a Content-Type header (after the colon).
    pub fn parse(value: &[u8]) -> ContentType {
        let text = String::from_utf8_lossy(value).replace(['\r', '\n'], " ");
        let mut parts = text.split(';');
        let mime_type = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let boundary = parts.find_map(|p| {
            let (name, value) = p.split_once('=')?;
            if !name.trim().eq_ignore_ascii_case("boundary") {
                return None;
            }
            let value = value.trim();
            let value = match value.strip_prefix('"') {
                Some(rest) => rest.split('"').next().unwrap_or(""),
                None => value.split_whitespace().next().unwrap_or(""),
            };
            (!value.is_empty()).then(|| value.as_bytes().to_vec())
        });
        ContentType {
            mime_type,
            boundary,
            value: text.trim().to_string(),
        }
    }

    fn is_multipart(&self) -> bool {
        self.mime_type.starts_with("multipart/") && self.boundary.is_some()
    }

    fn is_message(&self) -> bool {
        self.mime_type == "message/rfc822"
    }
}

/// What the walker found in a chunk, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A complete logical header of a MIME part or attached message.
    Header {
        class: HeaderClass,
        /// `Name: value`, folding kept as `\n`.
        text: Vec<u8>,
        /// Chunk-local index of each physical line in this chunk, after one
        /// `None` if the header began in an earlier chunk.
        lines: Vec<Option<usize>>,
        /// The line whose arrival completed the header (for verdicts that
        /// need an index in this chunk); `None` at the end of the body.
        completed_by: Option<usize>,
    },
    /// A body line (boundary lines included, as Postfix does), with the
    /// bytes of its segment seen before it.
    Body { index: usize, segment_offset: u64 },
    /// A base64 or quoted-printable text part, decoded and converted to
    /// UTF-8, split into lines (body_checks_decode). `at` is the line that
    /// ended the part (its boundary), `None` at the end of the body.
    Decoded {
        encoding: Encoding,
        lines: Vec<Vec<u8>>,
        at: Option<usize>,
    },
    /// A multipart Content-Type header deeper than mime_nesting_limit:
    /// Postfix rejects the message (`5.6.0 MIME nesting exceeds safety
    /// limit`). Placed like a header.
    NestingExceeded {
        text: Vec<u8>,
        lines: Vec<Option<usize>>,
        completed_by: Option<usize>,
    },
}

#[derive(Debug, Clone)]
struct Multipart {
    boundary: Vec<u8>,
    /// Parts of a multipart/digest default to message/rfc822.
    digest: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reading a header block of this class.
    Headers(HeaderClass),
    /// Reading body lines.
    Body,
}

#[derive(Debug, Clone)]
struct Pending {
    text: Vec<u8>,
    lines: Vec<Option<usize>>,
}

/// The encoded text of the text part being read (body_checks_decode).
#[derive(Debug, Clone)]
struct Decoding {
    encoding: Encoding,
    /// The part's Content-Type value (`text/plain; charset=...`).
    content_type: String,
    /// Encoded lines, CRLF-joined, at most `decode_limit` bytes.
    text: Vec<u8>,
}

/// The walker's state for one message body.
#[derive(Debug, Clone)]
pub struct Walker {
    stack: Vec<Multipart>,
    mode: Mode,
    pending: Option<Pending>,
    /// The Content-Type of the header block being read.
    block_type: Option<ContentType>,
    /// Whether the header block being read belongs to a digest part.
    block_in_digest: bool,
    segment_bytes: u64,
    nesting_limit: usize,
    /// Header text beyond this many bytes is dropped (header_size_limit).
    header_limit: usize,
    /// When false, everything is body (disable_mime_input_processing).
    mime: bool,
    /// The Content-Transfer-Encoding of the header block being read.
    block_encoding: Option<Encoding>,
    /// Collect and decode encoded text parts, up to this many bytes each.
    decode_limit: Option<usize>,
    decoding: Option<Decoding>,
}

impl Walker {
    /// A walker for a body whose message headers carried `content_type`.
    pub fn new(
        content_type: Option<&ContentType>,
        mime: bool,
        nesting_limit: usize,
        header_limit: usize,
    ) -> Walker {
        let mut w = Walker {
            stack: Vec::new(),
            mode: Mode::Body,
            pending: None,
            block_type: None,
            block_in_digest: false,
            segment_bytes: 0,
            nesting_limit,
            header_limit,
            mime,
            block_encoding: None,
            decode_limit: None,
            decoding: None,
        };
        if mime {
            w.enter_body(content_type.cloned().unwrap_or_default());
        }
        w
    }

    /// Also report encoded text parts decoded (body_checks_decode), at most
    /// `limit` encoded bytes of each; `encoding` is the message's own
    /// Content-Transfer-Encoding, for a message that is one text part.
    pub fn decoding(
        mut self,
        limit: usize,
        content_type: Option<&ContentType>,
        encoding: Option<Encoding>,
    ) -> Walker {
        self.decode_limit = Some(limit);
        if self.mime && self.stack.is_empty() && self.mode == Mode::Body {
            let ct = content_type.cloned().unwrap_or_default();
            self.start_decoding(&ct, encoding);
        }
        self
    }

    /// Feed one chunk's lines; returns what they hold, in order.
    pub fn chunk(&mut self, lines: &[Vec<u8>], last: bool) -> Vec<Item> {
        let mut out = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            self.line(index, line, &mut out);
        }
        if last {
            self.flush(None, &mut out);
            self.finish_decoding(None, &mut out);
        } else if let Some(p) = self.pending.as_mut() {
            // The next chunk's indexes start again at 0; one `None` stands
            // for every line already seen.
            p.lines.clear();
            p.lines.push(None);
        }
        out
    }

    fn line(&mut self, index: usize, line: &[u8], out: &mut Vec<Item>) {
        match self.mode {
            Mode::Headers(_) => self.header_line(index, line, out),
            Mode::Body => self.body_line(index, line, out),
        }
    }

    fn header_line(&mut self, index: usize, line: &[u8], out: &mut Vec<Item>) {
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            if let Some(p) = self.pending.as_mut() {
                let room = self.header_limit.saturating_sub(p.text.len());
                if room > 0 {
                    p.text.push(b'\n');
                    p.text.extend_from_slice(&line[..line.len().min(room - 1)]);
                }
                p.lines.push(Some(index));
                return;
            }
        }
        self.flush(Some(index), out);
        if is_header_start(line) {
            self.pending = Some(Pending {
                text: line[..line.len().min(self.header_limit)].to_vec(),
                lines: vec![Some(index)],
            });
            return;
        }
        // An empty line ends the block; any other non-header line ends it
        // too and is the first body line.
        let block_type = self.block_type.take().unwrap_or_else(|| ContentType {
            mime_type: if self.block_in_digest {
                "message/rfc822"
            } else {
                "text/plain"
            }
            .into(),
            boundary: None,
            value: String::new(),
        });
        let encoding = self.block_encoding.take();
        self.enter_body(block_type.clone());
        if self.mode == Mode::Body {
            self.start_decoding(&block_type, encoding);
        }
        if !line.is_empty() {
            self.body_line(index, line, out);
        }
    }

    /// Report the pending header, if any, and note its Content-Type.
    fn flush(&mut self, completed_by: Option<usize>, out: &mut Vec<Item>) {
        let Some(p) = self.pending.take() else { return };
        let Mode::Headers(block_class) = self.mode else {
            return;
        };
        let colon = p
            .text
            .iter()
            .position(|b| *b == b':')
            .unwrap_or(p.text.len());
        let name = trim_end(&p.text[..colon]);
        let value = &p.text[(colon + 1).min(p.text.len())..];
        if name.eq_ignore_ascii_case(b"Content-Type") {
            let ct = ContentType::parse(value);
            // Postfix (mime_state): a multipart header more than
            // mime_nesting_limit + 1 levels down is a MIME error.
            if ct.is_multipart() && self.stack.len() > self.nesting_limit.saturating_add(1) {
                out.push(Item::NestingExceeded {
                    text: p.text,
                    lines: p.lines,
                    completed_by,
                });
                return;
            }
            self.block_type = Some(ct);
        } else if name.eq_ignore_ascii_case(b"Content-Transfer-Encoding") {
            self.block_encoding = Encoding::parse(value);
        }
        let class = if is_mime_header(name) {
            HeaderClass::Mime
        } else {
            block_class
        };
        out.push(Item::Header {
            class,
            text: p.text,
            lines: p.lines,
            completed_by,
        });
    }

    fn body_line(&mut self, index: usize, line: &[u8], out: &mut Vec<Item>) {
        if self.mime && line.starts_with(b"--") {
            if let Some(depth) = self
                .stack
                .iter()
                .rposition(|m| line[2..].starts_with(&m.boundary))
            {
                self.finish_decoding(Some(index), out);
                let closing = line[2 + self.stack[depth].boundary.len()..].starts_with(b"--");
                let digest = self.stack[depth].digest;
                self.stack.truncate(depth + 1);
                out.push(Item::Body {
                    index,
                    segment_offset: 0,
                });
                self.segment_bytes = 0;
                if closing {
                    self.stack.pop();
                    self.mode = Mode::Body;
                } else {
                    self.mode = Mode::Headers(HeaderClass::Mime);
                    self.block_type = None;
                    self.block_encoding = None;
                    self.block_in_digest = digest;
                }
                return;
            }
        }
        if let (Some(d), Some(limit)) = (self.decoding.as_mut(), self.decode_limit) {
            let room = limit.saturating_sub(d.text.len());
            if room > 0 {
                d.text.extend_from_slice(&line[..line.len().min(room)]);
                d.text.extend_from_slice(b"\r\n");
            }
        }
        out.push(Item::Body {
            index,
            segment_offset: self.segment_bytes,
        });
        self.segment_bytes = self.segment_bytes.saturating_add(line.len() as u64 + 1);
    }

    /// Start the body of an entity of type `ct`: a multipart's preamble, an
    /// attached message's headers, or plain body lines.
    fn enter_body(&mut self, ct: ContentType) {
        self.segment_bytes = 0;
        if ct.is_multipart() {
            if self.stack.len() > self.nesting_limit.saturating_add(1) {
                // Reported as NestingExceeded when its header was read.
                self.mode = Mode::Body;
                return;
            }
            let digest = ct.mime_type == "multipart/digest";
            if let Some(boundary) = ct.boundary {
                self.stack.push(Multipart { boundary, digest });
            }
            self.mode = Mode::Body;
        } else if ct.is_message() {
            self.mode = Mode::Headers(HeaderClass::Nested);
            self.block_type = None;
            self.block_encoding = None;
            self.block_in_digest = false;
        } else {
            self.mode = Mode::Body;
        }
    }
}

impl Walker {
    /// Begin collecting a leaf part's text when it is encoded text and
    /// decoding is on. A part without Content-Type is text/plain.
    fn start_decoding(&mut self, ct: &ContentType, encoding: Option<Encoding>) {
        self.decoding = None;
        let (Some(_), Some(encoding)) = (self.decode_limit, encoding) else {
            return;
        };
        let is_text = ct.mime_type.is_empty() || ct.mime_type.starts_with("text/");
        if is_text {
            self.decoding = Some(Decoding {
                encoding,
                content_type: if ct.value.is_empty() {
                    "text/plain".into()
                } else {
                    ct.value.clone()
                },
                text: Vec::new(),
            });
        }
    }

    /// Decode the part collected so far, if any, and report its lines.
    fn finish_decoding(&mut self, at: Option<usize>, out: &mut Vec<Item>) {
        let Some(d) = self.decoding.take() else {
            return;
        };
        if d.text.is_empty() {
            return;
        }
        out.push(Item::Decoded {
            encoding: d.encoding,
            lines: decode(&d),
            at,
        });
    }
}

/// The text of an encoded part, decoded and converted to UTF-8 by
/// mail-parser, as lines. Undecodable input yields what could be decoded.
fn decode(d: &Decoding) -> Vec<Vec<u8>> {
    let mut raw = Vec::with_capacity(d.text.len() + 128);
    raw.extend_from_slice(b"Content-Type: ");
    raw.extend_from_slice(d.content_type.as_bytes());
    raw.extend_from_slice(b"\r\nContent-Transfer-Encoding: ");
    raw.extend_from_slice(d.encoding.name().as_bytes());
    raw.extend_from_slice(b"\r\n\r\n");
    raw.extend_from_slice(&d.text);
    let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
        return Vec::new();
    };
    let Some(text) = message.parts.first().and_then(|p| p.text_contents()) else {
        return Vec::new();
    };
    text.lines().map(|l| l.as_bytes().to_vec()).collect()
}

/// A header line starts with a field name (printable ASCII except colon)
/// followed by a colon.
fn is_header_start(line: &[u8]) -> bool {
    let name_len = line
        .iter()
        .take_while(|b| b.is_ascii_graphic() && **b != b':')
        .count();
    name_len > 0
        && line[name_len..]
            .iter()
            .find(|b| **b != b' ' && **b != b'\t')
            == Some(&b':')
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    &b[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Vec<u8>> {
        text.lines().map(|l| l.as_bytes().to_vec()).collect()
    }

    /// Render items as `H<class> text` / `B index` for compact assertions.
    fn render(items: &[Item], src: &[Vec<u8>]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                Item::Header { class, text, .. } => {
                    format!("{class:?}: {}", String::from_utf8_lossy(text))
                }
                Item::Body { index, .. } => {
                    format!("body: {}", String::from_utf8_lossy(&src[*index]))
                }
                other => format!("{other:?}"),
            })
            .collect()
    }

    const MULTIPART: &str = "preamble\n--b1\nContent-Type: text/plain\nX-Part: one\n\nhello\n--b1\nContent-Type: message/rfc822\n\nSubject: inner\n folded\nFrom: x@y\n\ninner body\n--b1--\nepilogue\n";

    #[test]
    fn walks_parts_nested_messages_and_boundaries() {
        let ct = ContentType::parse(b" multipart/mixed; boundary=\"b1\"");
        let src = lines(MULTIPART);
        let mut w = Walker::new(Some(&ct), true, 100, 102_400);
        let items = w.chunk(&src, true);
        assert_eq!(
            render(&items, &src),
            [
                "body: preamble",
                "body: --b1",
                "Mime: Content-Type: text/plain",
                "Mime: X-Part: one",
                "body: hello",
                "body: --b1",
                "Mime: Content-Type: message/rfc822",
                "Nested: Subject: inner\n folded",
                "Nested: From: x@y",
                "body: inner body",
                "body: --b1--",
                "body: epilogue",
            ]
        );
    }

    #[test]
    fn headers_straddling_chunks_keep_their_lines() {
        let ct = ContentType::parse(b" multipart/mixed; boundary=b1");
        let src = lines(MULTIPART);
        let mut w = Walker::new(Some(&ct), true, 100, 102_400);
        // Split inside the folded nested Subject (line 10 is " folded").
        let first = w.chunk(&src[..10], false);
        assert!(!first
            .iter()
            .any(|i| matches!(i, Item::Header { text, .. } if text.starts_with(b"Subject"))));
        let second = w.chunk(&src[10..], true);
        let Item::Header {
            class,
            text,
            lines,
            completed_by,
        } = &second[0]
        else {
            panic!("expected the Subject first: {second:?}");
        };
        assert_eq!(*class, HeaderClass::Nested);
        assert_eq!(text, b"Subject: inner\n folded");
        assert_eq!(lines, &[None, Some(0)]);
        assert_eq!(*completed_by, Some(1));
    }

    #[test]
    fn plain_bodies_and_disabled_mime_are_all_body() {
        let src = lines("--b1\nContent-Type: text/plain\n");
        let mut plain = Walker::new(None, true, 100, 102_400);
        assert!(plain
            .chunk(&src, true)
            .iter()
            .all(|i| matches!(i, Item::Body { .. })));
        let ct = ContentType::parse(b"multipart/mixed; boundary=b1");
        let mut off = Walker::new(Some(&ct), false, 100, 102_400);
        assert!(off
            .chunk(&src, true)
            .iter()
            .all(|i| matches!(i, Item::Body { .. })));
    }

    #[test]
    fn segments_restart_at_boundaries() {
        let ct = ContentType::parse(b"multipart/mixed; boundary=b");
        let src = lines("aaaa\n--b\n\nbb\ncc\n");
        let mut w = Walker::new(Some(&ct), true, 100, 102_400);
        let offsets: Vec<u64> = w
            .chunk(&src, true)
            .iter()
            .filter_map(|i| match i {
                Item::Body { segment_offset, .. } => Some(*segment_offset),
                _ => None,
            })
            .collect();
        assert_eq!(offsets, [0, 0, 0, 3]);
    }

    #[test]
    fn digest_parts_default_to_messages() {
        let ct = ContentType::parse(b"multipart/digest; boundary=d");
        let src = lines("--d\n\nSubject: in digest\n\nbody\n--d--\n");
        let mut w = Walker::new(Some(&ct), true, 100, 102_400);
        let items = w.chunk(&src, true);
        assert!(render(&items, &src).contains(&"Nested: Subject: in digest".to_string()));
    }

    /// Postfix 3.7 (measured with postfix-ref): with mime_nesting_limit
    /// = L, multiparts nest L + 2 deep; the next multipart Content-Type is
    /// the error.
    #[test]
    fn nesting_beyond_the_limit_is_reported_at_its_content_type() {
        let nested = |depth: usize| {
            let mut text = String::new();
            for i in 1..depth {
                text.push_str(&format!(
                    "--n{}\nContent-Type: multipart/mixed; boundary=n{i}\n\n",
                    i - 1
                ));
            }
            text.push_str(&format!("--n{}\n\ndeep\n", depth - 1));
            text
        };
        let ct = ContentType::parse(b"multipart/mixed; boundary=n0");
        for (limit, depth, exceeded) in [(5, 7, false), (5, 8, true), (0, 2, false), (0, 3, true)] {
            let src = lines(&nested(depth));
            let mut w = Walker::new(Some(&ct), true, limit, 102_400);
            let items = w.chunk(&src, true);
            let hit = items.iter().find_map(|i| match i {
                Item::NestingExceeded { text, .. } => {
                    Some(String::from_utf8_lossy(text).to_string())
                }
                _ => None,
            });
            assert_eq!(
                hit.is_some(),
                exceeded,
                "limit {limit} depth {depth}: {items:?}"
            );
            if let Some(text) = hit {
                assert_eq!(
                    text,
                    format!("Content-Type: multipart/mixed; boundary=n{}", depth - 1)
                );
            }
        }
    }

    #[test]
    fn content_type_parsing() {
        let ct =
            ContentType::parse(b" Multipart/Alternative;\n\tboundary=\"=_x y\"; charset=us-ascii");
        assert_eq!(ct.mime_type, "multipart/alternative");
        assert_eq!(ct.boundary.as_deref(), Some(&b"=_x y"[..]));
        assert!(is_mime_header(b"content-transfer-encoding"));
        assert!(is_mime_header(b"MIME-Version"));
        assert!(!is_mime_header(b"Content-"));
        assert!(!is_mime_header(b"Subject"));
    }

    #[test]
    fn long_headers_are_truncated_and_old_chunks_forgotten() {
        let ct = ContentType::parse(b"multipart/mixed; boundary=b");
        let mut w = Walker::new(Some(&ct), true, 100, 16);
        w.chunk(&lines("--b\nX-Long: 0123456789abcdef"), false);
        for _ in 0..1000 {
            assert!(w.chunk(&lines(" more\n more"), false).is_empty());
        }
        let pending = w.pending.as_ref().unwrap();
        assert_eq!(pending.lines, [None]);
        let items = w.chunk(&lines(" last\n\nbody"), true);
        let Item::Header { text, lines, .. } = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(text, b"X-Long: 01234567");
        assert_eq!(lines, &[None, Some(0)]);
    }

    /// Arbitrary bytes in arbitrary chunks: no panic, every index in range.
    #[test]
    fn survives_arbitrary_input() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet: &[u8] = b"-b:\t \"Content-Type: multipart/mixed; boundary=b\xff\r";
        for _ in 0..300 {
            let ct = ContentType::parse(b"multipart/mixed; boundary=b");
            let mut w = Walker::new(Some(&ct), true, 3, 64);
            for chunk in 0..4 {
                let n = (next() % 20) as usize;
                let src: Vec<Vec<u8>> = (0..n)
                    .map(|_| {
                        let len = (next() % 40) as usize;
                        (0..len)
                            .map(|_| alphabet[(next() as usize) % alphabet.len()])
                            .collect()
                    })
                    .collect();
                for item in w.chunk(&src, chunk == 3) {
                    match item {
                        Item::Body { index, .. } => assert!(index < src.len()),
                        Item::Header { lines, text, .. }
                        | Item::NestingExceeded { lines, text, .. } => {
                            assert!(lines.iter().flatten().all(|i| *i < src.len()));
                            assert!(text.len() <= 64);
                        }
                        Item::Decoded { at, .. } => assert!(at.is_none_or(|i| i < src.len())),
                    }
                }
            }
        }
    }
}
