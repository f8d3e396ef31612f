//! Bindings for `mta:filter@0.1.0` (`wit/since_v0.1.0`), kept as long as the
//! host serves that version: its hooks take the whole context as a record,
//! built here from the host's own on every call. Conversions and capability
//! imports come from the shared glue.

use crate::sandbox::caps;
use crate::sandbox::plugin::{Answer, Hook};
use crate::sandbox::state::HostState;
use crate::stages::types as host;

wasmtime::component::bindgen!({
    path: "../wit/since_v0.1.0",
    world: "filter",
    imports: { "mta:filter/dns.query": async },
    exports: { default: async },
});

use self::mta::filter::{clock, dns, kv, log, lookup, resolve, types as t};
use exports::mta::filter::plugin as p;

/// The interface name a component exports when built for this version.
pub const PLUGIN_EXPORT: &str = "mta:filter/plugin@0.1.0";

/// Link the capability imports of this version (grants are checked at load
/// and again in each call).
pub fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> wasmtime::Result<()> {
    Filter::add_to_linker::<HostState, wasmtime::component::HasSelf<HostState>>(linker, |s| s)
}

super::glue::shared_glue!();

/// The guest's view of a hook context.
pub fn context(c: &host::Context) -> t::Context {
    t::Context {
        stage: stage(c.stage),
        session: session(&c.session),
        envelope: envelope(&c.envelope),
    }
}

/// Call one hook: the whole context is lowered into the guest every time.
pub async fn call(
    bindings: &Filter,
    store: &mut wasmtime::Store<HostState>,
    hook: Hook<'_>,
) -> wasmtime::Result<Answer> {
    let g = bindings.mta_filter_plugin();
    let s = store;
    Ok(match hook {
        Hook::Check(ctx) => {
            let c = context(ctx);
            let v = match ctx.stage {
                host::Stage::Connect => g.call_connect(s, &c).await,
                host::Stage::Helo => g.call_helo(s, &c).await,
                host::Stage::Mail => g.call_mail(s, &c).await,
                host::Stage::Data => g.call_data(s, &c).await,
                host::Stage::EndOfMessage => g.call_end_of_message(s, &c).await,
                other => Err(wasmtime::format_err!(
                    "stage {} has no plain hook",
                    other.as_str()
                )),
            }?;
            Answer::Verdict(verdict(v))
        }
        Hook::Rcpt(ctx, a) => {
            Answer::Verdict(verdict(g.call_rcpt(s, &context(ctx), &address(a)).await?))
        }
        Hook::Etrn(ctx, d) => Answer::Verdict(verdict(g.call_etrn(s, &context(ctx), d).await?)),
        Hook::Headers(ctx, h) => Answer::Indexed(indexed(
            g.call_headers(s, &context(ctx), &headers(h)).await?,
        )),
        Hook::Body(ctx, b) => Answer::Indexed(indexed(
            g.call_body(s, &context(ctx), &body_chunk(b)).await?,
        )),
    })
}
