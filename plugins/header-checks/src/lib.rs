//! The built-in content filter: Postfix's header_checks, mime_header_checks,
//! nested_header_checks and body_checks, as cleanup(8) applies them.
//!
//! The host loads it when any of the four parameters is set and passes their
//! values, with the text of every regexp:/pcre: table they name (compiled
//! here once, in `init`); other table types are asked through `lookup` with
//! the whole line as the key.
//!
//! - The message's own headers (the `headers` hook) go to header_checks,
//!   except MIME headers (`Content-*`, `MIME-Version`), which go to
//!   mime_header_checks, as in Postfix.
//! - The body arrives in line-aligned chunks; [`mime::Walker`] finds the
//!   MIME part headers (mime_header_checks), the headers of attached
//!   `message/rfc822` parts (nested_header_checks) and the body lines
//!   (body_checks, the first body_checks_size_limit bytes of each part).
//!   With disable_mime_input_processing = yes every header goes to
//!   header_checks and all the rest to body_checks.
//! - Every header_checks(5) action becomes a verdict; REJECT, DISCARD and
//!   PASS end inspection of the message, the others go on with the next line.
//!   DUNNO and OK stop the search for that line. An unknown action is logged
//!   and the line passes, as Postfix does.
//!
//! - With body_checks_decode = yes (an mta option, default no), the text
//!   of base64 and quoted-printable `text/*` parts is also decoded
//!   (mail-parser; charset converted to UTF-8) and each decoded line
//!   matched against body_checks, so a phrase hidden by the transfer
//!   encoding is caught. REJECT, DISCARD, HOLD, WARN and the other
//!   message-level actions act as on a raw line; IGNORE, REPLACE, PREPEND
//!   and STRIP cannot edit the encoded original and become a WARN naming
//!   the action. At most body_checks_size_limit bytes of each part are
//!   decoded.
//! - A multipart nested deeper than mime_nesting_limit allows is rejected
//!   with Postfix's `550 5.6.0 MIME nesting exceeds safety limit`.
//!
//! Limitation: a folded MIME header whose lines straddle two body chunks can
//! be REPLACEd or PREPENDed to only when its first line is in the chunk that
//! completes it; otherwise the edit is logged as a warning instead.

pub mod action;
pub mod mime;
pub mod rules;

use action::Action;
use mime::{ContentType, Encoding, HeaderClass, Item, Walker};
use mta_sdk::{
    log, BodyChunk, Capability, Config, Context, Description, Header, IndexedVerdict, Plugin,
    Stage, Verdict,
};
use rules::Rules;

/// Postfix's default body_checks_size_limit.
pub const DEFAULT_BODY_LIMIT: u64 = 51_200;
/// Postfix's default mime_nesting_limit.
pub const DEFAULT_NESTING_LIMIT: usize = 100;
/// Postfix's default header_size_limit.
pub const DEFAULT_HEADER_LIMIT: usize = 102_400;

/// The main.cf parameters the filter reads.
pub const PARAMETERS: &[&str] = &[
    "header_checks",
    "mime_header_checks",
    "nested_header_checks",
    "body_checks",
    "body_checks_size_limit",
    "disable_mime_input_processing",
    "mime_nesting_limit",
    "header_size_limit",
    "body_checks_decode",
];

/// The compiled checks of one instance, and the message being inspected.
pub struct HeaderChecks {
    header: Rules,
    mime: Rules,
    nested: Rules,
    body: Rules,
    body_limit: u64,
    mime_processing: bool,
    nesting_limit: usize,
    header_limit: usize,
    /// body_checks_decode: also match decoded text parts.
    decode: bool,
    message: Option<Message>,
}

/// Per-message state: kept from `headers` through `body` to `end_of_message`.
struct Message {
    queue_id: Option<String>,
    walker: Walker,
    /// REJECT, DISCARD or PASS fired: inspect nothing more.
    done: bool,
}

impl Plugin for HeaderChecks {
    fn describe() -> Description {
        Description::new("header-checks", env!("CARGO_PKG_VERSION"))
            .stages([Stage::Headers, Stage::Body, Stage::EndOfMessage])
            .capabilities([Capability::Log, Capability::Lookup])
            .parameters(PARAMETERS.iter().copied())
    }

    fn init(config: &Config) -> Result<Self, String> {
        let mut compiled = rules::Compiled::new();
        Ok(HeaderChecks {
            header: Rules::load(config, "header_checks", &mut compiled)?,
            mime: Rules::load(config, "mime_header_checks", &mut compiled)?,
            nested: Rules::load(config, "nested_header_checks", &mut compiled)?,
            body: Rules::load(config, "body_checks", &mut compiled)?,
            body_limit: config
                .parse_setting("body_checks_size_limit")?
                .unwrap_or(DEFAULT_BODY_LIMIT),
            mime_processing: !postfix_bool(config, "disable_mime_input_processing")?,
            nesting_limit: config
                .parse_setting("mime_nesting_limit")?
                .unwrap_or(DEFAULT_NESTING_LIMIT),
            header_limit: config
                .parse_setting("header_size_limit")?
                .unwrap_or(DEFAULT_HEADER_LIMIT),
            decode: postfix_bool(config, "body_checks_decode")?,
            message: None,
        })
    }

    fn headers(&mut self, ctx: &Context, headers: &[Header]) -> Vec<IndexedVerdict> {
        let content_type = headers
            .iter()
            .find(|h| h.is("Content-Type"))
            .map(|h| ContentType::parse(&h.value));
        let encoding = headers
            .iter()
            .find(|h| h.is("Content-Transfer-Encoding"))
            .and_then(|h| Encoding::parse(&h.value));
        self.message = Some(self.new_message(ctx, content_type.as_ref(), encoding));
        let mut out = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            let class = if self.mime_processing && mime::is_mime_header(header.name.as_bytes()) {
                HeaderClass::Mime
            } else {
                HeaderClass::Primary
            };
            let mut text = header.name.as_bytes().to_vec();
            text.push(b':');
            text.extend_from_slice(&header.value);
            let (rules, parameter) = self.rules(class);
            let verdict = match check(rules, parameter, &text) {
                Some(v) => v,
                None => continue,
            };
            let stop = ends_inspection(&verdict);
            out.push(verdict.at(index));
            if stop {
                self.finish();
                break;
            }
        }
        out
    }

    fn body(&mut self, ctx: &Context, chunk: &BodyChunk) -> Vec<IndexedVerdict> {
        let same_message = self
            .message
            .as_ref()
            .is_some_and(|m| m.queue_id == ctx.queue_id());
        if !same_message {
            // No headers hook for this message: walk it without its Content-Type.
            self.message = Some(self.new_message(ctx, None, None));
        }
        if self.mime.is_empty() && self.nested.is_empty() && self.body.is_empty() {
            return Vec::new();
        }
        let Some(message) = self.message.as_mut() else {
            return Vec::new();
        };
        if message.done {
            return Vec::new();
        }
        let items = message.walker.chunk(&chunk.lines, chunk.last);
        let mut out = Vec::new();
        for item in items {
            let stop = match item {
                Item::Body {
                    index,
                    segment_offset,
                } => {
                    let line = &chunk.lines[index];
                    if segment_offset >= self.body_limit || line.is_empty() {
                        continue;
                    }
                    match check(&self.body, "body_checks", line) {
                        Some(v) => {
                            let stop = ends_inspection(&v);
                            out.push(v.at(index));
                            stop
                        }
                        None => false,
                    }
                }
                Item::Decoded {
                    encoding,
                    lines,
                    at,
                } => {
                    let anchor = at.unwrap_or(chunk.lines.len().saturating_sub(1));
                    let mut stop = false;
                    for line in &lines {
                        let Some(v) = check(&self.body, "body_checks", line) else {
                            continue;
                        };
                        log::info(&format!(
                            "body_checks_decode: {} text matched: {}",
                            encoding.name(),
                            printable(line)
                        ));
                        let v = decoded_verdict(v, line);
                        stop = ends_inspection(&v);
                        out.push(v.at(anchor));
                        if stop {
                            break;
                        }
                    }
                    stop
                }
                Item::NestingExceeded {
                    text,
                    lines,
                    completed_by,
                } => {
                    log::info(&format!(
                        "mime-error MIME nesting exceeds safety limit: {}",
                        printable(&text)
                    ));
                    let v = Verdict::Reject(mta_sdk::Reply {
                        code: Some(550),
                        enhanced: Some("5.6.0".into()),
                        text: Some("MIME nesting exceeds safety limit".into()),
                    });
                    out.extend(place(v, &lines, completed_by, chunk.lines.len(), &text));
                    true
                }
                Item::Header {
                    class,
                    text,
                    lines,
                    completed_by,
                } => {
                    let (rules, parameter) = self.rules(class);
                    match check(rules, parameter, &text) {
                        Some(v) => {
                            let stop = ends_inspection(&v);
                            out.extend(place(v, &lines, completed_by, chunk.lines.len(), &text));
                            stop
                        }
                        None => false,
                    }
                }
            };
            if stop {
                self.finish();
                break;
            }
        }
        out
    }

    fn end_of_message(&mut self, _ctx: &Context) -> Verdict {
        // Instances are reused: nothing of this message may leak into the next.
        self.message = None;
        Verdict::Dunno
    }
}

impl HeaderChecks {
    fn new_message(
        &self,
        ctx: &Context,
        content_type: Option<&ContentType>,
        encoding: Option<Encoding>,
    ) -> Message {
        let mut walker = Walker::new(
            content_type,
            self.mime_processing,
            self.nesting_limit,
            self.header_limit,
        );
        if self.decode && !self.body.is_empty() {
            let limit = usize::try_from(self.body_limit).unwrap_or(usize::MAX);
            walker = walker.decoding(limit, content_type, encoding);
        }
        Message {
            queue_id: ctx.queue_id(),
            walker,
            done: false,
        }
    }

    fn finish(&mut self) {
        if let Some(m) = self.message.as_mut() {
            m.done = true;
        }
    }

    fn rules(&self, class: HeaderClass) -> (&Rules, &'static str) {
        match class {
            HeaderClass::Primary => (&self.header, "header_checks"),
            HeaderClass::Mime => (&self.mime, "mime_header_checks"),
            HeaderClass::Nested => (&self.nested, "nested_header_checks"),
        }
    }
}

/// The verdict of the first matching rule for `input`, if it asks for one.
/// Empty input never matches (header_checks(5) BUGS).
fn check(rules: &Rules, parameter: &str, input: &[u8]) -> Option<Verdict> {
    if input.is_empty() || rules.is_empty() {
        return None;
    }
    match rules.find(input) {
        Ok(None) => None,
        Ok(Some(m)) => match action::parse(&m.result) {
            Action::Verdict(v) => Some(v),
            Action::Dunno => None,
            Action::Unknown(command) => {
                // Postfix's words, so existing log watchers keep working.
                log::warning(&format!("unknown command in {parameter} map: {command}"));
                None
            }
            Action::MissingText(action) => {
                log::warning(&format!(
                    "{action} action without text in {parameter} map {}",
                    m.table
                ));
                None
            }
        },
        Err(e) => {
            // Postfix's cleanup: the message is not accepted, try again later.
            log::warning(&format!(
                "{parameter} map lookup problem -- message not accepted, try again later: {e}"
            ));
            Some(Verdict::defer_with(
                451,
                "4.3.0",
                "Error: queue file write error",
            ))
        }
    }
}

/// A body_checks verdict for a decoded line. The line exists only decoded,
/// so actions that edit it (IGNORE, REPLACE, PREPEND, STRIP) cannot be
/// carried out on the encoded original: they become a WARN that names the
/// action, so the operator sees the rule fire and nothing is silently lost.
fn decoded_verdict(v: Verdict, line: &[u8]) -> Verdict {
    let action = match &v {
        Verdict::Ignore => "IGNORE",
        Verdict::Replace(_) => "REPLACE",
        Verdict::Prepend(_) => "PREPEND",
        Verdict::Strip(_) => "STRIP",
        _ => return v,
    };
    Verdict::Warn(format!(
        "{action} not applied to decoded text: {}",
        printable(line)
    ))
}

/// A line for a log message: invalid UTF-8 replaced, control characters
/// blanked, at most 200 characters (Postfix logs `%.200s`).
fn printable(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// REJECT, DISCARD and PASS stop header and body inspection (as does a
/// table failure); every other action goes on with the next line.
fn ends_inspection(v: &Verdict) -> bool {
    matches!(
        v,
        Verdict::Reject(_) | Verdict::Defer(_) | Verdict::Discard(_) | Verdict::Pass
    )
}

/// Verdicts for a MIME or nested header found in the body: line edits apply
/// to each of its physical lines in this chunk, anything else to its first.
fn place(
    verdict: Verdict,
    lines: &[Option<usize>],
    completed_by: Option<usize>,
    chunk_len: usize,
    text: &[u8],
) -> Vec<IndexedVerdict> {
    let here: Vec<usize> = lines.iter().flatten().copied().collect();
    let first_here = lines.first().copied().flatten();
    let anchor = here
        .first()
        .copied()
        .or(completed_by)
        .unwrap_or(0)
        .min(chunk_len.saturating_sub(1));
    let rest = |from: usize| {
        here.iter()
            .skip(from)
            .map(|i| Verdict::Ignore.at(*i))
            .collect::<Vec<_>>()
    };
    match verdict {
        Verdict::Ignore => here.iter().map(|i| Verdict::Ignore.at(*i)).collect(),
        Verdict::Strip(text) => match here.first() {
            Some(first) => std::iter::once(Verdict::Strip(text).at(*first))
                .chain(rest(1))
                .collect(),
            None => Vec::new(),
        },
        v @ (Verdict::Replace(_) | Verdict::Prepend(_)) => match first_here {
            Some(first) => {
                let replacing = matches!(v, Verdict::Replace(_));
                let mut out = vec![v.at(first)];
                if replacing {
                    out.extend(rest(1));
                }
                out
            }
            None => {
                let name =
                    String::from_utf8_lossy(text.split(|b| *b == b':').next().unwrap_or(b""))
                        .into_owned();
                log::warning(&format!(
                    "cannot edit header {name}: it began in an earlier body chunk"
                ));
                Vec::new()
            }
        },
        other => vec![other.at(anchor)],
    }
}

/// A Postfix boolean parameter (`yes`/`no`, `true`/`false`); absent is `no`.
fn postfix_bool(config: &Config, name: &str) -> Result<bool, String> {
    match config.setting(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "yes" || v == "true" => Ok(true),
        Some(v) if v == "no" || v == "false" || v.is_empty() => Ok(false),
        Some(v) => Err(format!("{name} = {v}: expected yes or no")),
    }
}

mta_sdk::export_plugin!(HeaderChecks);

#[cfg(test)]
mod tests;
