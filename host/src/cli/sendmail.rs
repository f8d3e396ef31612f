//! `mta sendmail`: sendmail(1)-compatible local submission for cron and
//! scripts. The message goes to the running daemon over the control socket,
//! or, when no daemon runs, into the queue from this process (redb's lock
//! makes sure only one of the two writes). Either way it passes through
//! `pickup` and cleanup like smtpd mail: header/body checks, canonical and
//! virtual alias rewriting, masquerading, and the missing Date:,
//! Message-Id: and From: headers added there, not here.

use super::control::{check, load_config, queue_dir, socket};
use super::{ConfigDir, Outcome};
use crate::control::{request, Request};
use std::io::Read;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub dir: ConfigDir,
    /// Take recipients from To:, Cc: and Bcc: (Bcc: is removed).
    #[arg(short = 't')]
    pub extract: bool,
    /// Envelope sender.
    #[arg(short = 'f', value_name = "SENDER")]
    pub from: Option<String>,
    /// Full name for a From: header this adds.
    #[arg(short = 'F', value_name = "NAME")]
    pub full_name: Option<String>,
    /// A line with a single dot does not end the message.
    #[arg(short = 'i')]
    pub ignore_dots: bool,
    /// sendmail options: `-oi` is honoured, others are accepted and ignored.
    #[arg(short = 'o', value_name = "OPTION")]
    pub options: Vec<String>,
    /// Accepted for compatibility and ignored (-B 8BITMIME, -N never...).
    #[arg(short = 'B', value_name = "TYPE")]
    pub body_type: Option<String>,
    #[arg(short = 'N', value_name = "DSN")]
    pub notify: Option<String>,
    /// Recipient addresses.
    pub recipients: Vec<String>,
}

/// Read the message: stop at a lone `.` unless -i/-oi; make lines CRLF.
pub fn read_message(input: &[u8], ignore_dots: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + input.len() / 40);
    for line in input.split_inclusive(|b| *b == b'\n') {
        let bare = line.strip_suffix(b"\n").unwrap_or(line);
        let bare = bare.strip_suffix(b"\r").unwrap_or(bare);
        if !ignore_dots && bare == b"." {
            break;
        }
        out.extend_from_slice(bare);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Split a header into (name, value) pairs with folded lines joined, and the body offset.
fn headers(msg: &[u8]) -> (Vec<(String, String)>, usize) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut pos = 0;
    for line in msg.split_inclusive(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let t = text.trim_end_matches(['\r', '\n']);
        if t.is_empty() {
            pos += line.len();
            return (out, pos);
        }
        if t.starts_with([' ', '\t']) {
            match out.last_mut() {
                Some(last) => last.1.push_str(t),
                None => return (out, 0),
            }
        } else if let Some((n, v)) = t
            .split_once(':')
            .filter(|(n, _)| !n.is_empty() && !n.contains(' '))
        {
            out.push((n.to_string(), v.trim().to_string()));
        } else {
            // Not a header: the whole input is body.
            return (Vec::new(), 0);
        }
        pos += line.len();
    }
    (out, pos)
}

/// Addresses in an address-list header value.
pub fn addresses(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut cur, mut quoted, mut angle, mut comment) = (String::new(), false, false, 0u32);
    for c in value.chars() {
        match c {
            '"' if comment == 0 => quoted = !quoted,
            '(' if !quoted => comment += 1,
            ')' if !quoted && comment > 0 => comment -= 1,
            '<' if !quoted && comment == 0 => angle = true,
            '>' if !quoted && comment == 0 => angle = false,
            ',' if !quoted && !angle && comment == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
        .iter()
        .filter_map(|p| {
            let a = match (p.find('<'), p.rfind('>')) {
                (Some(s), Some(e)) if s < e => p[s + 1..e].to_string(),
                _ => {
                    let mut s = String::new();
                    let mut depth = 0;
                    for c in p.chars() {
                        match c {
                            '(' => depth += 1,
                            ')' if depth > 0 => depth -= 1,
                            _ if depth == 0 => s.push(c),
                            _ => {}
                        }
                    }
                    s.trim()
                        .trim_end_matches(';')
                        .rsplit(':')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_string()
                }
            };
            let a = a.trim().to_string();
            (!a.is_empty()).then_some(a)
        })
        .collect()
}

/// Apply -t (recipients from To:, Cc:, Bcc:; Bcc: removed) and, with -F,
/// add `From: Full Name <sender>` when the message has no From:. Returns
/// (message, extra recipients). As Postfix's cleanup, -t reads only the
/// first `token_limit` (header_address_token_limit) address tokens of each
/// header.
pub fn prepare(
    msg: Vec<u8>,
    extract: bool,
    from_header: Option<&str>,
    token_limit: usize,
) -> (Vec<u8>, Vec<String>) {
    let (hdrs, body_at) = headers(&msg);
    let has = |n: &str| hdrs.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    let mut rcpts = Vec::new();
    if extract {
        for (k, v) in &hdrs {
            if ["to", "cc", "bcc"].contains(&k.to_ascii_lowercase().as_str()) {
                let parsed = crate::cleanup::header_rewrite::token_prefix(v, token_limit);
                rcpts.extend(addresses(parsed));
            }
        }
    }
    let mut out = Vec::with_capacity(msg.len() + 200);
    if let Some(from) = from_header.filter(|_| !has("From")) {
        out.extend_from_slice(format!("From: {from}\r\n").as_bytes());
    }
    // Copy the original header minus Bcc: (folded continuation lines included).
    let mut skipping = false;
    for line in msg[..body_at].split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b" ") || line.starts_with(b"\t") {
            if !skipping {
                out.extend_from_slice(line);
            }
            continue;
        }
        skipping = line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"bcc:");
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    if body_at == 0 {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&msg[body_at..]);
    (out, rcpts)
}

/// This process's uid: the owner of /proc/self (no unsafe getuid call).
fn own_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

/// The login name of `uid` from /etc/passwd (as Postfix's sendmail uses
/// getpwuid), else `$USER`/`$LOGNAME`, else `uid<N>`.
fn login_name(uid: u32) -> String {
    let from_passwd = std::fs::read_to_string("/etc/passwd").ok().and_then(|t| {
        t.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 2 && f[2].parse() == Ok(uid)).then(|| f[0].to_string())
        })
    });
    from_passwd
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok())
        .unwrap_or_else(|| format!("uid{uid}"))
}

pub fn main(args: Args) -> Outcome {
    let config = load_config(&args.dir)?;
    let myhostname =
        crate::delivery::smtp::param(&config, "myhostname", &crate::delivery::smtp::hostname());
    let uid = own_uid();
    let login = login_name(uid);
    let sender = args
        .from
        .clone()
        .unwrap_or_else(|| format!("{login}@{myhostname}"));
    let sender = sender.trim_matches(['<', '>']).to_string();
    let from_header = args.full_name.as_ref().map(|n| format!("{n} <{sender}>"));
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input)?;
    let ignore_dots = args.ignore_dots || args.options.iter().any(|o| o == "i");
    let token_limit = crate::delivery::smtp::param(&config, "header_address_token_limit", "10240");
    let token_limit: usize = token_limit.trim().parse().map_err(|_| {
        anyhow::anyhow!("header_address_token_limit = {token_limit}: expected a number")
    })?;
    let (data, mut rcpts) = prepare(
        read_message(&input, ignore_dots),
        args.extract,
        from_header.as_deref(),
        token_limit,
    );
    rcpts.extend(args.recipients.iter().flat_map(|r| addresses(r)));
    rcpts.dedup();
    if rcpts.is_empty() {
        anyhow::bail!("no recipient addresses found in message header");
    }
    let req = Request::Submit {
        sender: sender.clone(),
        recipients: rcpts.clone(),
        data,
    };
    match request(&socket(&config), &req)? {
        Some(resp) => {
            check(resp)?;
        }
        None => {
            let Request::Submit { data, .. } = req else {
                anyhow::bail!("internal error: not a submit request")
            };
            let q = crate::queue::Queue::open(&queue_dir(&config))?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let pickup = crate::pickup::Pickup::load(&config).await?;
                let sub = crate::pickup::Submission {
                    sender,
                    recipients: rcpts,
                    data,
                    uid,
                };
                pickup
                    .submit(&q, sub)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))
            })?;
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_ends_input_unless_i() {
        assert_eq!(read_message(b"a\n.\nb\n", false), b"a\r\n");
        assert_eq!(read_message(b"a\n.\nb\n", true), b"a\r\n.\r\nb\r\n");
    }

    #[test]
    fn extracts_recipients_and_drops_bcc() {
        let msg = read_message(
            b"To: A <a@x.org>, b@y.org (Bee)\nBcc: c@z.org,\n d@z.org\nSubject: s\n\nbody\n",
            true,
        );
        let (out, rcpts) = prepare(msg, true, Some("Me <me@h>"), 10240);
        assert_eq!(rcpts, vec!["a@x.org", "b@y.org", "c@z.org", "d@z.org"]);
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("Bcc") && !s.contains("d@z.org"));
        // Date: and Message-Id: are cleanup's to add, not sendmail's.
        assert!(s.starts_with("From: Me <me@h>\r\nTo: "), "{s}");
        assert!(!s.contains("Message-Id") && s.ends_with("Subject: s\r\n\r\nbody\r\n"));
    }

    #[test]
    fn extraction_reads_header_address_token_limit_tokens() {
        // a @ x . org , = 6 tokens an address: 13 tokens hold two and a bit.
        let msg = read_message(
            b"To: a@x.org, b@x.org, c@x.org\nCc: d@x.org\n\nbody\n",
            true,
        );
        let (_, rcpts) = prepare(msg, true, None, 13);
        assert_eq!(rcpts, vec!["a@x.org", "b@x.org", "c", "d@x.org"]);
    }

    #[test]
    fn headerless_input_gets_a_header() {
        let (out, _) = prepare(read_message(b"just text\n", true), false, None, 10240);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s, "\r\njust text\r\n");
    }
}
