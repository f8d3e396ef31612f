//! The one trait a filter implements.

use crate::{Address, BodyChunk, Config, Context, Description, Header, IndexedVerdict, Verdict};

/// A mail filter.
///
/// Every hook has a default that has no opinion, so a plugin implements only
/// the stages it lists in [`Plugin::describe`] (the host calls no others).
/// The value `init` returns is the plugin's state: the host keeps one per
/// instance and each hook borrows it mutably. State may carry across the
/// `headers`, `body` and `end_of_message` calls of one message, but never
/// across messages: instances are pooled and recycled, so use [`crate::kv`]
/// for anything that must last.
pub trait Plugin: Sized + 'static {
    /// Who the plugin is, the stages it hooks and the capabilities it needs.
    /// Called on a fresh instance, before `init`.
    fn describe() -> Description;

    /// Build the plugin's state from its configuration: parse settings and
    /// compile rules here, once per instance, never per message. An error
    /// refuses the plugin at load with that text.
    fn init(config: &Config) -> Result<Self, String>;

    /// A client connected (smtpd_client_restrictions).
    fn connect(&mut self, ctx: &Context) -> Verdict {
        let _ = ctx;
        Verdict::Dunno
    }

    /// HELO or EHLO; the name is in `ctx.session.helo_name` (smtpd_helo_restrictions).
    fn helo(&mut self, ctx: &Context) -> Verdict {
        let _ = ctx;
        Verdict::Dunno
    }

    /// MAIL FROM; the sender is in `ctx.envelope.sender` (smtpd_sender_restrictions).
    fn mail(&mut self, ctx: &Context) -> Verdict {
        let _ = ctx;
        Verdict::Dunno
    }

    /// RCPT TO for one recipient, or VRFY when `ctx.stage` is [`crate::Stage::Vrfy`]
    /// (smtpd_relay_restrictions and smtpd_recipient_restrictions).
    fn rcpt(&mut self, ctx: &Context, rcpt: &Address) -> Verdict {
        let _ = (ctx, rcpt);
        Verdict::Dunno
    }

    /// ETRN for a destination (smtpd_etrn_restrictions).
    fn etrn(&mut self, ctx: &Context, destination: &str) -> Verdict {
        let _ = (ctx, destination);
        Verdict::Dunno
    }

    /// The DATA command, before any content (smtpd_data_restrictions).
    fn data(&mut self, ctx: &Context) -> Verdict {
        let _ = ctx;
        Verdict::Dunno
    }

    /// All headers of the message at once (header_checks); verdicts name
    /// headers by their index in `headers`.
    fn headers(&mut self, ctx: &Context, headers: &[Header]) -> Vec<IndexedVerdict> {
        let _ = (ctx, headers);
        Vec::new()
    }

    /// A line-aligned piece of the body (body_checks); verdicts name lines by
    /// their index in `chunk.lines`.
    fn body(&mut self, ctx: &Context, chunk: &BodyChunk) -> Vec<IndexedVerdict> {
        let _ = (ctx, chunk);
        Vec::new()
    }

    /// The whole message has arrived (smtpd_end_of_data_restrictions).
    fn end_of_message(&mut self, ctx: &Context) -> Verdict {
        let _ = ctx;
        Verdict::Dunno
    }
}
