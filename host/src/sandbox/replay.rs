//! `mta plugin test`: replay an SMTP transcript and an .eml through one
//! plugin's hooks and describe each verdict on one line, deterministically
//! (time used only when asked), so a plugin's own CI can diff the output.

use super::plugin::{Answer, Hook, Plugin};
use crate::stages::types::*;
use std::time::Instant;

/// One transcript line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Client {
        address: String,
        name: Option<String>,
    },
    Helo(String),
    Mail(String),
    Rcpt(String),
    Etrn(String),
    Data,
}

/// The transcript used when none is given.
pub const DEFAULT_TRANSCRIPT: &str =
    "client 192.0.2.1 client.example\nhelo client.example\nmail <sender@example.org>\nrcpt <rcpt@example.com>\ndata\n";

fn strip_angle(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix("FROM:")
        .or_else(|| s.strip_prefix("TO:"))
        .unwrap_or(s);
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string()
}

/// Parse a transcript: `client ADDR [NAME]`, `helo NAME`, `mail <ADDR>`,
/// `rcpt <ADDR>`, `etrn DEST`, `data`; `#` comments and blank lines skipped.
pub fn parse_transcript(text: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (cmd, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let need = |what: &str| {
            if rest.is_empty() {
                Err(format!("line {}: {cmd} needs {what}", n + 1))
            } else {
                Ok(())
            }
        };
        let step = match cmd.to_ascii_lowercase().as_str() {
            "client" => {
                need("an address")?;
                let mut w = rest.split_whitespace();
                let address = w.next().unwrap_or_default().to_string();
                address
                    .parse::<std::net::IpAddr>()
                    .map_err(|_| format!("line {}: bad client address \"{address}\"", n + 1))?;
                Step::Client {
                    address,
                    name: w.next().map(str::to_string),
                }
            }
            "helo" | "ehlo" => {
                need("a name")?;
                Step::Helo(rest.to_string())
            }
            "mail" => Step::Mail(strip_angle(rest)),
            "rcpt" => {
                need("an address")?;
                Step::Rcpt(strip_angle(rest))
            }
            "etrn" => {
                need("a destination")?;
                Step::Etrn(rest.to_string())
            }
            "data" => Step::Data,
            other => return Err(format!("line {}: unknown command \"{other}\"", n + 1)),
        };
        steps.push(step);
    }
    Ok(steps)
}

/// A message split into logical headers (folding kept as `\n` + whitespace)
/// and body lines without line endings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eml {
    pub headers: Vec<Header>,
    pub body: Vec<Vec<u8>>,
}

pub fn parse_eml(raw: &[u8]) -> Eml {
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let mut eml = Eml::default();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some(h) = eml.headers.last_mut() {
                h.value.push(b'\n');
                h.value.extend_from_slice(line);
                continue;
            }
        }
        match line.iter().position(|&b| b == b':') {
            Some(i) => eml.headers.push(Header {
                name: String::from_utf8_lossy(&line[..i]).trim().to_string(),
                value: line[i + 1..].to_vec(),
            }),
            None => eml.headers.push(Header {
                name: String::from_utf8_lossy(line).into_owned(),
                value: Vec::new(),
            }),
        }
    }
    eml.body = lines.map(<[u8]>::to_vec).collect();
    if eml.body.last().is_some_and(Vec::is_empty) {
        eml.body.pop();
    }
    eml
}

fn reply(r: &Reply) -> String {
    let mut parts = Vec::new();
    if let Some(c) = r.code {
        parts.push(c.to_string());
    }
    if let Some(e) = &r.enhanced {
        parts.push(e.clone());
    }
    if let Some(t) = &r.text {
        parts.push(t.clone());
    }
    parts.join(" ")
}

fn opt(action: &str, t: &Option<String>) -> String {
    match t {
        Some(t) => format!("{action} {t}"),
        None => action.to_string(),
    }
}

/// A verdict as an access(5)/header_checks(5) action.
pub fn format_verdict(v: &Verdict) -> String {
    let with = |action: &str, r: &Reply| {
        let r = reply(r);
        if r.is_empty() {
            action.to_string()
        } else {
            format!("{action} {r}")
        }
    };
    match v {
        Verdict::Dunno => "DUNNO".into(),
        Verdict::Ok => "OK".into(),
        Verdict::Reject(r) => with("REJECT", r),
        Verdict::Defer(r) => with("DEFER", r),
        Verdict::DeferIfPermit(r) => with("DEFER_IF_PERMIT", r),
        Verdict::DeferIfReject(r) => with("DEFER_IF_REJECT", r),
        Verdict::Discard(t) => opt("DISCARD", t),
        Verdict::Hold(t) => opt("HOLD", t),
        Verdict::Warn(t) => format!("WARN {t}"),
        Verdict::Info(t) => format!("INFO {t}"),
        Verdict::Ignore => "IGNORE".into(),
        Verdict::Pass => "PASS".into(),
        Verdict::Strip(t) => opt("STRIP", t),
        Verdict::Prepend(t) => format!("PREPEND {t}"),
        Verdict::Replace(t) => format!("REPLACE {t}"),
        Verdict::Redirect(t) => format!("REDIRECT {t}"),
        Verdict::Bcc(t) => format!("BCC {t}"),
        Verdict::Filter(t) => format!("FILTER {t}"),
    }
}

/// Lines of body per `body` call, as smtpd's cleanup would chunk it.
const CHUNK_LINES: usize = 256;

/// Replay `steps` (and `eml` after `data`) through `plugin`, one output line
/// per hook called. Returns the lines and whether any call faulted.
pub async fn replay(
    plugin: &Plugin,
    steps: &[Step],
    eml: Option<&Eml>,
    timings: bool,
) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut faulted = false;
    let mut ctx = Context {
        stage: Stage::Connect,
        session: Session::default(),
        envelope: Envelope::default(),
    };
    ctx.session.id = "1".into();
    ctx.session.protocol = "ESMTP".into();
    ctx.session.listener = "smtp".into();
    ctx.session.client_address = "192.0.2.1".into();
    ctx.session.client_name = "unknown".into();
    ctx.session.reverse_client_name = "unknown".into();
    let mut instance = None;
    // Everything a `call` needs, so each step reads as one line.
    macro_rules! call {
        ($stage:expr, $label:expr, $hook:expr) => {{
            ctx.stage = $stage;
            if plugin.hooks($stage) {
                let started = Instant::now();
                let r = match instance.take() {
                    Some(i) => Ok(i),
                    None => plugin.lend().await,
                };
                let r = match r {
                    Ok(mut i) => {
                        let shared = std::sync::Arc::new(ctx.clone());
                        let a = i.call(plugin.limits.time, $hook(&shared)).await;
                        if a.is_ok() {
                            instance = Some(i);
                        }
                        a
                    }
                    Err(f) => Err(f),
                };
                let took = started.elapsed();
                let time = if timings {
                    format!(" ({} us)", took.as_micros())
                } else {
                    String::new()
                };
                match r {
                    Ok(Answer::Verdict(v)) => {
                        out.push(format!("{}: {}{time}", $label, format_verdict(&v)))
                    }
                    Ok(Answer::Indexed(list)) if list.is_empty() => {
                        out.push(format!("{}: DUNNO{time}", $label))
                    }
                    Ok(Answer::Indexed(list)) => {
                        for v in list {
                            out.push(format!(
                                "{} {}: {}{time}",
                                $label,
                                v.index,
                                format_verdict(&v.verdict)
                            ));
                        }
                    }
                    Err(f) => {
                        faulted = true;
                        out.push(format!("{}: FAULT {}{time}", $label, f));
                    }
                }
            }
        }};
    }
    for step in steps {
        match step {
            Step::Client { address, name } => {
                ctx.session.client_address = address.clone();
                let n = name.clone().unwrap_or_else(|| "unknown".into());
                ctx.session.client_name = n.clone();
                ctx.session.reverse_client_name = n;
                ctx.session.client_name_status = if name.is_some() {
                    NameStatus::Ok
                } else {
                    NameStatus::NotFound
                };
                ctx.session.reverse_client_name_status = ctx.session.client_name_status;
                call!(Stage::Connect, format!("connect {address}"), |c| {
                    Hook::Check(c)
                });
            }
            Step::Helo(name) => {
                ctx.session.helo_name = Some(name.clone());
                call!(Stage::Helo, format!("helo {name}"), Hook::Check);
            }
            Step::Mail(a) => {
                ctx.envelope.sender = Some(Address {
                    address: a.clone(),
                    params: Vec::new(),
                });
                call!(Stage::Mail, format!("mail <{a}>"), Hook::Check);
            }
            Step::Rcpt(a) => {
                let rcpt = Address {
                    address: a.clone(),
                    params: Vec::new(),
                };
                call!(Stage::Rcpt, format!("rcpt <{a}>"), |c| Hook::Rcpt(c, &rcpt));
                ctx.envelope.recipients.push(rcpt);
            }
            Step::Etrn(d) => {
                call!(Stage::Etrn, format!("etrn {d}"), |c| Hook::Etrn(c, d));
            }
            Step::Data => {
                call!(Stage::Data, "data".to_string(), Hook::Check);
                if let Some(eml) = eml {
                    ctx.envelope.queue_id = Some("TESTQUEUEID".into());
                    let size: u64 = eml.body.iter().map(|l| l.len() as u64 + 2).sum();
                    ctx.envelope.size = Some(size);
                    call!(Stage::Headers, "headers".to_string(), |c| Hook::Headers(
                        c,
                        &eml.headers
                    ));
                    let limit = plugin.body_limit().unwrap_or(0);
                    let mut offset = 0u64;
                    let chunks: Vec<&[Vec<u8>]> = eml.body.chunks(CHUNK_LINES).collect();
                    for (n, lines) in chunks.iter().enumerate() {
                        if offset >= limit {
                            break;
                        }
                        let bytes: u64 = lines.iter().map(|l| l.len() as u64 + 2).sum();
                        let chunk = BodyChunk {
                            offset,
                            lines: lines.to_vec(),
                            last: n + 1 == chunks.len() || offset + bytes >= limit,
                        };
                        call!(Stage::Body, format!("body @{offset}"), |c| Hook::Body(
                            c, &chunk
                        ));
                        offset += bytes;
                    }
                    call!(Stage::EndOfMessage, "end-of-message".to_string(), |c| {
                        Hook::Check(c)
                    });
                }
            }
        }
    }
    if let Some(i) = instance {
        plugin.give_back(i);
    }
    (out, faulted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_lines() {
        let t = parse_transcript(
            "client 192.0.2.9 mx.example\n# c\nhelo mx.example\nmail <a@b>\nrcpt TO:<c@d>\ndata\n",
        )
        .expect("parses");
        assert_eq!(
            t,
            vec![
                Step::Client {
                    address: "192.0.2.9".into(),
                    name: Some("mx.example".into())
                },
                Step::Helo("mx.example".into()),
                Step::Mail("a@b".into()),
                Step::Rcpt("c@d".into()),
                Step::Data
            ]
        );
        assert!(parse_transcript("client not-an-ip\n")
            .unwrap_err()
            .contains("line 1"));
        assert!(parse_transcript("quit\n")
            .unwrap_err()
            .contains("unknown command"));
    }

    #[test]
    fn eml_headers_are_unfolded_with_newlines() {
        let e = parse_eml(b"Subject: hi\r\n  there\r\nFrom: a@b\r\n\r\nline 1\r\nline 2\r\n");
        assert_eq!(e.headers.len(), 2);
        assert_eq!(e.headers[0].value, b" hi\n  there".to_vec());
        assert_eq!(e.body, vec![b"line 1".to_vec(), b"line 2".to_vec()]);
    }

    #[test]
    fn verdicts_read_like_access_actions() {
        let r = Reply {
            code: Some(550),
            enhanced: Some("5.7.1".into()),
            text: Some("no".into()),
        };
        assert_eq!(format_verdict(&Verdict::Reject(r)), "REJECT 550 5.7.1 no");
        assert_eq!(format_verdict(&Verdict::Discard(None)), "DISCARD");
    }
}
