//! Builders for [`Verdict`], named after Postfix's access(5) and
//! header_checks(5) actions, so a rule reads like the table line it mirrors.

use crate::{IndexedVerdict, Reply, Verdict};

impl Reply {
    /// A reply that leaves code and enhanced code to the host's defaults for
    /// the action and stage, like `REJECT text` in an access table.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply {
            code: None,
            enhanced: None,
            text: Some(text.into()),
        }
    }

    /// A reply with every part given, like `550 5.7.1 text`.
    pub fn full(code: u16, enhanced: impl Into<String>, text: impl Into<String>) -> Reply {
        Reply {
            code: Some(code),
            enhanced: Some(enhanced.into()),
            text: Some(text.into()),
        }
    }

    /// A reply with nothing given: the host uses Postfix's default code,
    /// enhanced code and text for the action.
    pub fn default_for_action() -> Reply {
        Reply {
            code: None,
            enhanced: None,
            text: None,
        }
    }
}

impl Verdict {
    /// `REJECT text`: a permanent refusal with the default code for the stage
    /// (554 5.7.1 at SMTP stages, 550 5.7.1 in content checks).
    pub fn reject(text: impl Into<String>) -> Verdict {
        Verdict::Reject(Reply::text(text))
    }

    /// `5xx x.y.z text`: a permanent refusal with an explicit code.
    pub fn reject_with(code: u16, enhanced: impl Into<String>, text: impl Into<String>) -> Verdict {
        Verdict::Reject(Reply::full(code, enhanced, text))
    }

    /// `DEFER text`: a temporary refusal with the default code (450 4.7.1).
    pub fn defer(text: impl Into<String>) -> Verdict {
        Verdict::Defer(Reply::text(text))
    }

    /// `4xx x.y.z text`: a temporary refusal with an explicit code.
    pub fn defer_with(code: u16, enhanced: impl Into<String>, text: impl Into<String>) -> Verdict {
        Verdict::Defer(Reply::full(code, enhanced, text))
    }

    /// `DEFER_IF_PERMIT text`.
    pub fn defer_if_permit(text: impl Into<String>) -> Verdict {
        Verdict::DeferIfPermit(Reply::text(text))
    }

    /// `DEFER_IF_REJECT text`.
    pub fn defer_if_reject(text: impl Into<String>) -> Verdict {
        Verdict::DeferIfReject(Reply::text(text))
    }

    /// `WARN text`: log and continue.
    pub fn warn(text: impl Into<String>) -> Verdict {
        Verdict::Warn(text.into())
    }

    /// `INFO text`: log and continue.
    pub fn info(text: impl Into<String>) -> Verdict {
        Verdict::Info(text.into())
    }

    /// `PREPEND text`: insert a header or body line before the current one.
    pub fn prepend(line: impl Into<String>) -> Verdict {
        Verdict::Prepend(line.into())
    }

    /// `REPLACE text`: replace the current header or body line.
    pub fn replace(line: impl Into<String>) -> Verdict {
        Verdict::Replace(line.into())
    }

    /// `REDIRECT user@domain`: deliver to this address instead of the recipients.
    pub fn redirect(address: impl Into<String>) -> Verdict {
        Verdict::Redirect(address.into())
    }

    /// `BCC user@domain`: add a blind carbon copy recipient.
    pub fn bcc(address: impl Into<String>) -> Verdict {
        Verdict::Bcc(address.into())
    }

    /// `FILTER transport:destination`.
    pub fn filter(next_hop: impl Into<String>) -> Verdict {
        Verdict::Filter(next_hop.into())
    }

    /// `HOLD text`: accept into the hold queue, logging the text.
    pub fn hold(text: impl Into<String>) -> Verdict {
        Verdict::Hold(Some(text.into()))
    }

    /// `DISCARD text`: accept and silently drop, logging the text.
    pub fn discard(text: impl Into<String>) -> Verdict {
        Verdict::Discard(Some(text.into()))
    }

    /// `STRIP text`: delete the current header or body line, logging the text.
    pub fn strip(text: impl Into<String>) -> Verdict {
        Verdict::Strip(Some(text.into()))
    }

    /// Whether this verdict ends the stage, as the WIT contract defines it:
    /// `ok`, `reject`, the `defer` family, `discard`, `hold` and `pass`. The
    /// others (`dunno`, `warn`, `info`, line edits, `redirect`, `bcc`,
    /// `filter`) are applied or recorded and inspection goes on.
    pub fn is_decisive(&self) -> bool {
        matches!(
            self,
            Verdict::Ok
                | Verdict::Reject(_)
                | Verdict::Defer(_)
                | Verdict::DeferIfPermit(_)
                | Verdict::DeferIfReject(_)
                | Verdict::Discard(_)
                | Verdict::Hold(_)
                | Verdict::Pass
        )
    }

    /// This verdict about the header or body line at `index`.
    pub fn at(self, index: usize) -> IndexedVerdict {
        IndexedVerdict::new(index, self)
    }
}

impl IndexedVerdict {
    /// A verdict about the header or body line at `index`. Indexes beyond
    /// `u32::MAX` cannot occur (the host never passes that many) and saturate.
    pub fn new(index: usize, verdict: Verdict) -> IndexedVerdict {
        IndexedVerdict {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            verdict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_leaves_code_to_the_host() {
        assert_eq!(
            Verdict::reject("go away"),
            Verdict::Reject(Reply {
                code: None,
                enhanced: None,
                text: Some("go away".into())
            })
        );
    }

    #[test]
    fn defer_with_carries_every_part() {
        let Verdict::Defer(reply) = Verdict::defer_with(450, "4.2.0", "Greylisted") else {
            panic!("not a defer");
        };
        assert_eq!(reply.code, Some(450));
        assert_eq!(reply.enhanced.as_deref(), Some("4.2.0"));
        assert_eq!(reply.text.as_deref(), Some("Greylisted"));
    }

    #[test]
    fn only_final_actions_are_decisive() {
        assert!(Verdict::reject("x").is_decisive());
        assert!(Verdict::hold("x").is_decisive());
        assert!(Verdict::Pass.is_decisive());
        assert!(!Verdict::Dunno.is_decisive());
        assert!(!Verdict::warn("x").is_decisive());
        assert!(!Verdict::replace("Subject: x").is_decisive());
        assert!(!Verdict::bcc("a@b").is_decisive());
    }

    #[test]
    fn at_indexes_a_verdict() {
        let v = Verdict::Ignore.at(3);
        assert_eq!(v.index, 3);
        assert_eq!(v.verdict, Verdict::Ignore);
    }
}
