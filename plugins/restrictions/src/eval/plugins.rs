//! Drop-in plugins named in restriction lists, e.g.
//! `smtpd_recipient_restrictions = permit_mynetworks, greylist,
//! reject_unauth_destination`.
//!
//! WHY a replay: a guest cannot call another guest, and the contract gives a
//! hook one verdict to return. So when the evaluation meets a drop-in whose
//! answer it does not have, it stops and returns `Outcome::Call(name)`; the
//! host calls that plugin at the same stage and calls this hook again with
//! the answers so far (in `Facts::plugin_answers`, in the order they were
//! met). The lists are deterministic over the same facts (DNS and table
//! answers come from the host's caches), so the replay walks the same path,
//! consumes the known answers in order, and goes one step further each time.
//! Everything else of Postfix's list semantics — a permit ends only its own
//! list, `warn_if_reject`, `defer_if_permit`/`defer_if_reject`, the implicit
//! `reject_unlisted_*` checks — is therefore carried exactly, with no state
//! to serialise. Log lines of the replayed part were written by the earlier
//! call and are not written again.
//!
//! A plugin's answer is applied like an access(5) table result at that
//! position (the host turns its verdict into an access action: `OK`,
//! `DUNNO`, `REJECT text`, `450 4.2.0 text`, `HOLD`, ...), so a reject reads
//! `<rcpt>: Recipient address rejected: text`, as a policy service's does in
//! Postfix.

use super::{Eval, Step, Subject};
use crate::host::Host;
use crate::outcome::Outcome;

impl<H: Host> Eval<'_, H> {
    /// Whether the evaluation is still inside the part an earlier call
    /// already walked (all answers before the last one are consumed).
    pub(super) fn replaying(&self) -> bool {
        self.plugins_met < self.facts.plugin_answers.len()
    }

    pub(super) fn plugin_entry(&mut self, name: &str, subject: &Subject, depth: usize) -> Step {
        let answers = &self.facts.plugin_answers;
        let Some((answered, action)) = answers.get(self.plugins_met) else {
            return Step::Stop(Outcome::Call(name.to_string()));
        };
        self.plugins_met += 1;
        if answered != name {
            // Only a table changed between two calls of one stage could do
            // this; never apply one plugin's answer to another's entry.
            return self.config_error(&format!(
                "drop-in plugin answers out of step: expected {name}, got {answered}"
            ));
        }
        let action = action.clone();
        self.access_action(name, &action, subject, depth)
    }
}
