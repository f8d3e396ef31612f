//! `mta check`: point out body_checks rules written for MIME part headers.
//!
//! Old howtos (the gateway seed among them) put attachment-name rules such
//! as `/^(.*)name\=\"(.*)\.(com|exe)\"$/ REJECT` in body_checks. Since
//! Postfix 2.0 parses MIME, a real attachment's `Content-Type:` /
//! `Content-Disposition:` lines are MIME part headers: they go to
//! mime_header_checks and body_checks never sees them, so such a rule
//! silently stops catching attachments. We say so and name the fix.

use crate::config::Config;

/// One warning per body_checks rule that targets a MIME part header.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for spec in config.get_list("body_checks") {
        let Some((kind, path)) = spec.split_once(':') else {
            continue;
        };
        if kind != "regexp" && kind != "pcre" {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // `mta check` reports unreadable tables itself
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(pattern) = rule_pattern(line) {
                if targets_mime_part_header(pattern) {
                    out.push(format!(
                        "body_checks {spec}, line {}: {pattern} matches a MIME part header \
                         (attachment name); body_checks do not see MIME part headers since \
                         Postfix 2.0 (MIME parsing), so it never matches a real attachment: \
                         move it to mime_header_checks",
                        n + 1
                    ));
                }
            }
        }
    }
    out
}

/// The `/pattern/` of a regexp/pcre rule line (None for comments, blanks,
/// if/endif and continuation lines).
fn rule_pattern(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if line.starts_with(char::is_whitespace) || t.is_empty() || t.starts_with('#') {
        return None;
    }
    let t = t.strip_prefix('!').unwrap_or(t);
    let delim = t.chars().next()?;
    if delim.is_alphanumeric() || delim.is_whitespace() {
        return None;
    }
    let rest = &t[delim.len_utf8()..];
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == delim && !escaped => return Some(&rest[..i]),
            _ => escaped = false,
        }
    }
    None
}

/// Does the pattern aim at an attachment-name parameter or a
/// Content-Type/Disposition header line?
fn targets_mime_part_header(pattern: &str) -> bool {
    let plain: String = pattern
        .chars()
        .filter(|c| *c != '\\')
        .collect::<String>()
        .to_ascii_lowercase();
    let start = plain
        .trim_start_matches('^')
        .trim_start_matches("(.*)")
        .trim_start_matches(".*");
    plain.contains("name=")
        || start.starts_with("content-type:")
        || start.starts_with("content-disposition:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_attachment_rules_are_flagged_others_are_not() {
        let seed = [
            (
                r#"/^(.*)name\=\"(.*)\.(com|exe)\"$/  REJECT Please no executable"#,
                true,
            ),
            (r#"/^(.*)name\=\"(.*)\.(zip|gz|Z|bz)\"$/  REJECT"#, true),
            ("/^Content-Disposition: attachment/ REJECT", true),
            ("/^hot deal$/                       WARN", false),
            (r"/^From:(.*)@spammer\.com$/         REJECT", false),
            ("# name=\"x.exe\" in a comment", false),
        ];
        for (line, want) in seed {
            let got = rule_pattern(line).is_some_and(targets_mime_part_header);
            assert_eq!(got, want, "{line}");
        }
    }
}
