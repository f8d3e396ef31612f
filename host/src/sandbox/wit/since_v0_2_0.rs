//! Bindings for `mta:filter@0.2.0` (`wit/since_v0.2.0`): hooks receive a
//! borrowed `context` handle instead of a copy of every fact. The host puts
//! the call's context in the store ([`HostState::facts`]) for the length of
//! the call and answers the guest's reads from it, so a call costs what the
//! plugin reads, not the size of the session.

use crate::sandbox::caps;
use crate::sandbox::plugin::{Answer, Hook};
use crate::sandbox::state::{CallFacts, HostState};
use crate::stages::types as host;
use std::sync::Arc;
use wasmtime::component::Resource;

wasmtime::component::bindgen!({
    path: "../wit/since_v0.2.0",
    world: "filter",
    imports: {
        "mta:filter/dns.query": async,
        "mta:filter/facts": trappable,
    },
    exports: { default: async },
    with: { "mta:filter/facts.context": crate::sandbox::state::CallFacts },
});

use self::mta::filter::{clock, dns, facts, kv, log, lookup, resolve, types as t};
use exports::mta::filter::plugin as p;

/// The interface name a component exports when built for this version.
pub const PLUGIN_EXPORT: &str = "mta:filter/plugin@0.2.0";

/// Link the imports of this version (grants are checked at load and again
/// in each call).
pub fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    Filter::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(linker, |s| s)
}

super::glue::shared_glue!();

/// Call one hook with the context lent as a handle for the call's length.
pub async fn call(
    bindings: &Filter,
    store: &mut wasmtime::Store<HostState>,
    hook: Hook<'_>,
) -> wasmtime::Result<Answer> {
    let ctx = match &hook {
        Hook::Check(c)
        | Hook::Rcpt(c, _)
        | Hook::Etrn(c, _)
        | Hook::Headers(c, _)
        | Hook::Body(c, _) => *c,
    };
    store.data_mut().facts = Some(Arc::clone(ctx));
    // The handle's number means nothing: every read goes to the one slot.
    let handle = Resource::<CallFacts>::new_borrow(0);
    let g = bindings.mta_filter_plugin();
    let s = &mut *store;
    let answer = match hook {
        Hook::Check(ctx) => {
            let v = match ctx.stage {
                host::Stage::Connect => g.call_connect(&mut *s, handle).await,
                host::Stage::Helo => g.call_helo(&mut *s, handle).await,
                host::Stage::Mail => g.call_mail(&mut *s, handle).await,
                host::Stage::Data => g.call_data(&mut *s, handle).await,
                host::Stage::EndOfMessage => g.call_end_of_message(&mut *s, handle).await,
                other => Err(wasmtime::format_err!(
                    "stage {} has no plain hook",
                    other.as_str()
                )),
            };
            v.map(|v| Answer::Verdict(verdict(v)))
        }
        Hook::Rcpt(_, a) => g
            .call_rcpt(&mut *s, handle, &address(a))
            .await
            .map(|v| Answer::Verdict(verdict(v))),
        Hook::Etrn(_, d) => g
            .call_etrn(&mut *s, handle, d)
            .await
            .map(|v| Answer::Verdict(verdict(v))),
        Hook::Headers(_, h) => g
            .call_headers(&mut *s, handle, &headers(h))
            .await
            .map(|v| Answer::Indexed(indexed(v))),
        Hook::Body(_, b) => g
            .call_body(&mut *s, handle, &body_chunk(b))
            .await
            .map(|v| Answer::Indexed(indexed(v))),
    };
    // Empty the slot whatever the call did (a faulted instance is thrown
    // away anyway).
    store.data_mut().facts = None;
    answer
}

impl HostState {
    /// The facts behind the guest's handle. The component model only lets a
    /// guest use a borrowed handle during the call it was lent for, and
    /// `call` fills the slot for exactly that time, so an empty slot means a
    /// host bug; it traps the guest rather than answering from stale facts.
    fn lent(&self, _ctx: &Resource<CallFacts>) -> wasmtime::Result<&host::Context> {
        self.facts
            .as_deref()
            .ok_or_else(|| wasmtime::format_err!("context handle used outside its hook call"))
    }
}

impl facts::Host for HostState {}

impl facts::HostContext for HostState {
    fn stage(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<t::Stage> {
        Ok(stage(self.lent(&ctx)?.stage))
    }

    fn session(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<t::Session> {
        Ok(session(&self.lent(&ctx)?.session))
    }

    fn session_id(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.id.clone())
    }

    fn client_address(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.client_address.clone())
    }

    fn client_port(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<u16> {
        Ok(self.lent(&ctx)?.session.client_port)
    }

    fn client_name(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.client_name.clone())
    }

    fn client_name_status(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<t::NameStatus> {
        Ok(name_status(self.lent(&ctx)?.session.client_name_status))
    }

    fn reverse_client_name(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.reverse_client_name.clone())
    }

    fn reverse_client_name_status(
        &mut self,
        ctx: Resource<CallFacts>,
    ) -> wasmtime::Result<t::NameStatus> {
        Ok(name_status(
            self.lent(&ctx)?.session.reverse_client_name_status,
        ))
    }

    fn server_address(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.server_address.clone())
    }

    fn server_port(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<u16> {
        Ok(self.lent(&ctx)?.session.server_port)
    }

    fn listener(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.listener.clone())
    }

    fn helo_name(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Option<String>> {
        Ok(self.lent(&ctx)?.session.helo_name.clone())
    }

    fn protocol(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<String> {
        Ok(self.lent(&ctx)?.session.protocol.clone())
    }

    fn tls(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Option<t::TlsInfo>> {
        Ok(self.lent(&ctx)?.session.tls.as_ref().map(tls_info))
    }

    fn sasl(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Option<t::SaslInfo>> {
        Ok(self.lent(&ctx)?.session.sasl.as_ref().map(sasl_info))
    }

    fn improper_pipelining(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<bool> {
        Ok(self.lent(&ctx)?.session.improper_pipelining)
    }

    fn attribute(
        &mut self,
        ctx: Resource<CallFacts>,
        name: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self
            .lent(&ctx)?
            .session
            .attributes
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone()))
    }

    fn envelope(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<t::Envelope> {
        Ok(envelope(&self.lent(&ctx)?.envelope))
    }

    fn sender(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Option<t::Address>> {
        Ok(self.lent(&ctx)?.envelope.sender.as_ref().map(address))
    }

    fn recipient_count(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<u32> {
        let n = self.lent(&ctx)?.envelope.recipients.len();
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn recipients(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Vec<t::Address>> {
        Ok(self
            .lent(&ctx)?
            .envelope
            .recipients
            .iter()
            .map(address)
            .collect())
    }

    fn queue_id(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Option<String>> {
        Ok(self.lent(&ctx)?.envelope.queue_id.clone())
    }

    fn size(&mut self, ctx: Resource<CallFacts>) -> wasmtime::Result<Option<u64>> {
        Ok(self.lent(&ctx)?.envelope.size)
    }

    /// The guest only ever borrows a context, so it never drops one; the
    /// host deletes the entry itself when the hook returns.
    fn drop(&mut self, _ctx: Resource<CallFacts>) -> wasmtime::Result<()> {
        Ok(())
    }
}
