//! Example filter: tag the Subject of messages whose Subject matches a
//! pattern, e.g. `Subject: [SPAM] Cheap watches`.
//!
//! Settings (sidecar `subject-tagger.toml`):
//! - `subject_pattern`: a regular expression (Rust `regex` syntax) matched
//!   case-insensitively against the Subject's text. Required: a tagger
//!   without a pattern would silently do nothing.
//! - `subject_tag`: the text put in front of the Subject; default `[SPAM]`.
//!
//! It needs no capability: it only answers REPLACE for the Subject header.

use mta_sdk::{Config, Context, Description, Header, IndexedVerdict, Plugin, Stage, Verdict};
use regex::{Regex, RegexBuilder};

/// The tag used when `subject_tag` is not set.
pub const DEFAULT_TAG: &str = "[SPAM]";

/// The compiled settings of one instance.
pub struct SubjectTagger {
    pattern: Regex,
    tag: String,
}

impl Plugin for SubjectTagger {
    fn describe() -> Description {
        Description::new("subject-tagger", env!("CARGO_PKG_VERSION")).stages([Stage::Headers])
    }

    fn init(config: &Config) -> Result<Self, String> {
        let source = config
            .setting("subject_pattern")
            .ok_or("subject_pattern is not set: give the regular expression to match")?;
        // Compiled once per instance, never per message.
        let pattern = RegexBuilder::new(source)
            .case_insensitive(true)
            .build()
            .map_err(|e| format!("subject_pattern: {e}"))?;
        let tag = config
            .setting_or("subject_tag", DEFAULT_TAG)
            .trim()
            .to_string();
        if tag.is_empty() || tag.contains(['\r', '\n']) {
            return Err("subject_tag must be one non-empty line".to_string());
        }
        Ok(SubjectTagger { pattern, tag })
    }

    fn headers(&mut self, _ctx: &Context, headers: &[Header]) -> Vec<IndexedVerdict> {
        // Only the first Subject counts, as a mail reader shows only that one.
        let Some((index, subject)) = headers.iter().enumerate().find(|(_, h)| h.is("Subject"))
        else {
            return Vec::new();
        };
        let text = subject.value_str();
        let text = text.trim_start();
        if text.starts_with(&self.tag) || !self.pattern.is_match(&subject.value_unfolded()) {
            return Vec::new();
        }
        // Folding inside the value is kept as it came (`\n` + whitespace).
        vec![Verdict::replace(format!("{}: {} {}", subject.name, self.tag, text)).at(index)]
    }
}

mta_sdk::export_plugin!(SubjectTagger);

#[cfg(test)]
mod tests {
    use super::*;
    use mta_sdk::testing::{ctx, headers, start};

    fn tagger(settings: &[(&str, &str)]) -> Result<SubjectTagger, String> {
        let config = settings
            .iter()
            .fold(Config::empty(), |c, (k, v)| c.with_setting(*k, *v));
        start::<SubjectTagger>(&config)
    }

    fn run(plugin: &mut SubjectTagger, block: &str) -> Vec<IndexedVerdict> {
        plugin.headers(&ctx(Stage::Headers).queue_id("4ABC123"), &headers(block))
    }

    #[test]
    fn tags_a_matching_subject_case_insensitively() {
        let mut p = tagger(&[("subject_pattern", "cheap (watches|pills)")]).unwrap();
        let verdicts = run(
            &mut p,
            "From: a@example.org\nSubject: CHEAP Watches here\nTo: b@example.net\n",
        );
        assert_eq!(
            verdicts,
            vec![Verdict::replace("Subject: [SPAM] CHEAP Watches here").at(1)]
        );
    }

    #[test]
    fn leaves_other_subjects_alone() {
        let mut p = tagger(&[("subject_pattern", "viagra")]).unwrap();
        assert!(run(&mut p, "Subject: Minutes of the meeting\n").is_empty());
        assert!(run(&mut p, "From: a@example.org\n").is_empty());
    }

    #[test]
    fn uses_the_configured_tag_and_does_not_tag_twice() {
        let mut p = tagger(&[("subject_pattern", "offer"), ("subject_tag", "***")]).unwrap();
        assert_eq!(
            run(&mut p, "Subject: An offer\n"),
            vec![Verdict::replace("Subject: *** An offer").at(0)]
        );
        assert!(run(&mut p, "Subject: *** An offer\n").is_empty());
    }

    #[test]
    fn matches_across_folding_and_keeps_it() {
        let mut p = tagger(&[("subject_pattern", "free money")]).unwrap();
        let verdicts = run(&mut p, "Subject: Get free\n money now\n");
        assert_eq!(
            verdicts,
            vec![Verdict::replace("Subject: [SPAM] Get free\n money now").at(0)]
        );
    }

    #[test]
    fn only_the_first_subject_counts() {
        let mut p = tagger(&[("subject_pattern", "spam")]).unwrap();
        assert!(run(&mut p, "Subject: hello\nSubject: spam\n").is_empty());
    }

    #[test]
    fn refuses_bad_settings_with_their_name() {
        assert!(tagger(&[])
            .err()
            .unwrap()
            .contains("subject_pattern is not set"));
        assert!(tagger(&[("subject_pattern", "(")])
            .err()
            .unwrap()
            .starts_with("subject_pattern:"));
        assert!(tagger(&[("subject_pattern", "x"), ("subject_tag", " ")]).is_err());
    }
}
