//! The glue between the generated `Guest` export trait and [`Plugin`]:
//! [`export_plugin!`](crate::export_plugin) keeps the plugin's state in an
//! instance-global cell and forwards each hook to it by reference.

use std::cell::RefCell;
use std::thread::LocalKey;

use crate::Plugin;

pub use crate::bindings::exports::mta::filter::plugin::Guest;
/// The host's handle for one hook call's facts, as the bindings pass it.
pub use crate::bindings::mta::filter::facts::Context as Handle;

/// The SDK's view of a hook call's handle.
pub fn context(handle: &Handle) -> crate::Context<'_> {
    crate::Context::from_host(handle)
}

/// The cell holding a plugin's state: `None` until `init` succeeds. A wasm
/// instance is single-threaded, so a thread-local is an instance-global.
pub type State<T> = LocalKey<RefCell<Option<T>>>;

/// One function per export, generic over the plugin, so the macro stays a
/// thin list of calls and the logic here is tested natively.
pub mod dispatch {
    use super::{Plugin, State};
    use crate::{Address, BodyChunk, Config, Context, Header, IndexedVerdict, Verdict};

    /// Run `init` and keep its value as the instance's state.
    pub fn init<T: Plugin>(state: &'static State<T>, config: Config) -> Result<(), String> {
        let plugin = T::init(&config)?;
        state.with(|cell| match cell.try_borrow_mut() {
            Ok(mut slot) => {
                *slot = Some(plugin);
                Ok(())
            }
            Err(_) => Err("init called while a hook was running".to_string()),
        })
    }

    /// Lend the state to `hook`, or answer `fallback` when there is none.
    ///
    /// The complaint goes to stderr, which the host logs under the plugin's
    /// name, rather than to the `log` capability: using `log` here would make
    /// every plugin import it whether or not the operator granted it.
    pub fn with<T: Plugin, R>(
        state: &'static State<T>,
        hook: &str,
        fallback: R,
        f: impl FnOnce(&mut T) -> R,
    ) -> R {
        state.with(|cell| match cell.try_borrow_mut() {
            Ok(mut slot) => match slot.as_mut() {
                Some(plugin) => f(plugin),
                None => {
                    eprintln!(
                        "error: hook `{hook}` called before a successful init; answering dunno"
                    );
                    fallback
                }
            },
            Err(_) => {
                eprintln!(
                    "error: hook `{hook}` called while another hook was running; answering dunno"
                );
                fallback
            }
        })
    }

    pub fn connect<T: Plugin>(state: &'static State<T>, ctx: Context<'_>) -> Verdict {
        with(state, "connect", Verdict::Dunno, |p| p.connect(&ctx))
    }

    pub fn helo<T: Plugin>(state: &'static State<T>, ctx: Context<'_>) -> Verdict {
        with(state, "helo", Verdict::Dunno, |p| p.helo(&ctx))
    }

    pub fn mail<T: Plugin>(state: &'static State<T>, ctx: Context<'_>) -> Verdict {
        with(state, "mail", Verdict::Dunno, |p| p.mail(&ctx))
    }

    pub fn rcpt<T: Plugin>(state: &'static State<T>, ctx: Context<'_>, rcpt: Address) -> Verdict {
        with(state, "rcpt", Verdict::Dunno, |p| p.rcpt(&ctx, &rcpt))
    }

    pub fn etrn<T: Plugin>(
        state: &'static State<T>,
        ctx: Context<'_>,
        destination: String,
    ) -> Verdict {
        with(state, "etrn", Verdict::Dunno, |p| {
            p.etrn(&ctx, &destination)
        })
    }

    pub fn data<T: Plugin>(state: &'static State<T>, ctx: Context<'_>) -> Verdict {
        with(state, "data", Verdict::Dunno, |p| p.data(&ctx))
    }

    pub fn headers<T: Plugin>(
        state: &'static State<T>,
        ctx: Context<'_>,
        headers: Vec<Header>,
    ) -> Vec<IndexedVerdict> {
        with(state, "headers", Vec::new(), |p| p.headers(&ctx, &headers))
    }

    pub fn body<T: Plugin>(
        state: &'static State<T>,
        ctx: Context<'_>,
        chunk: BodyChunk,
    ) -> Vec<IndexedVerdict> {
        with(state, "body", Vec::new(), |p| p.body(&ctx, &chunk))
    }

    pub fn end_of_message<T: Plugin>(state: &'static State<T>, ctx: Context<'_>) -> Verdict {
        with(state, "end-of-message", Verdict::Dunno, |p| {
            p.end_of_message(&ctx)
        })
    }
}

/// Make a [`Plugin`] type the component's `plugin` export.
///
/// Use it once, at the root of the plugin crate:
/// `mta_sdk::export_plugin!(MyPlugin);`. Natively it only type-checks the
/// glue (the wasm exports exist only on `wasm32`), so the same crate builds
/// for `cargo test` and for `wasm32-wasip2`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        const _: () = {
            ::std::thread_local! {
                static __MTA_SDK_STATE: ::core::cell::RefCell<::core::option::Option<$plugin>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct __MtaSdkExport;

            impl $crate::__private::Guest for __MtaSdkExport {
                fn describe() -> $crate::Description {
                    <$plugin as $crate::Plugin>::describe()
                }
                fn init(
                    config: $crate::Config,
                ) -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::dispatch::init(&__MTA_SDK_STATE, config)
                }
                fn connect(ctx: &$crate::__private::Handle) -> $crate::Verdict {
                    $crate::__private::dispatch::connect(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                    )
                }
                fn helo(ctx: &$crate::__private::Handle) -> $crate::Verdict {
                    $crate::__private::dispatch::helo(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                    )
                }
                fn mail(ctx: &$crate::__private::Handle) -> $crate::Verdict {
                    $crate::__private::dispatch::mail(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                    )
                }
                fn rcpt(
                    ctx: &$crate::__private::Handle,
                    recipient: $crate::Address,
                ) -> $crate::Verdict {
                    $crate::__private::dispatch::rcpt(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                        recipient,
                    )
                }
                fn etrn(
                    ctx: &$crate::__private::Handle,
                    destination: ::std::string::String,
                ) -> $crate::Verdict {
                    $crate::__private::dispatch::etrn(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                        destination,
                    )
                }
                fn data(ctx: &$crate::__private::Handle) -> $crate::Verdict {
                    $crate::__private::dispatch::data(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                    )
                }
                fn headers(
                    ctx: &$crate::__private::Handle,
                    headers: ::std::vec::Vec<$crate::Header>,
                ) -> ::std::vec::Vec<$crate::IndexedVerdict> {
                    $crate::__private::dispatch::headers(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                        headers,
                    )
                }
                fn body(
                    ctx: &$crate::__private::Handle,
                    chunk: $crate::BodyChunk,
                ) -> ::std::vec::Vec<$crate::IndexedVerdict> {
                    $crate::__private::dispatch::body(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                        chunk,
                    )
                }
                fn end_of_message(ctx: &$crate::__private::Handle) -> $crate::Verdict {
                    $crate::__private::dispatch::end_of_message(
                        &__MTA_SDK_STATE,
                        $crate::__private::context(ctx),
                    )
                }
            }

            #[cfg(target_arch = "wasm32")]
    $crate::bindings::__export_filter_world!(__MtaSdkExport with_types_in $crate::bindings);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::dispatch;
    use crate::testing::{addr, ctx};
    use crate::{Address, Config, Context, Description, Plugin, Stage, Verdict};
    use std::cell::RefCell;

    /// Counts its rcpt calls, so a test sees the state kept between hooks.
    struct Counter {
        seen: u32,
        limit: u32,
    }

    impl Plugin for Counter {
        fn describe() -> Description {
            Description::new("counter", "1").stages([Stage::Rcpt])
        }
        fn init(config: &Config) -> Result<Self, String> {
            let limit = config.parse_setting("limit")?.ok_or("limit is not set")?;
            Ok(Counter { seen: 0, limit })
        }
        fn rcpt(&mut self, _ctx: &Context, _rcpt: &Address) -> Verdict {
            self.seen += 1;
            if self.seen > self.limit {
                Verdict::reject_with(452, "4.5.3", "Too many recipients")
            } else {
                Verdict::Dunno
            }
        }
    }

    thread_local! {
        static STATE: RefCell<Option<Counter>> = const { RefCell::new(None) };
    }

    #[test]
    fn hooks_before_init_answer_dunno_and_state_persists_after() {
        let c = || ctx(Stage::Rcpt).build();
        assert_eq!(dispatch::rcpt(&STATE, c(), addr("a@b")), Verdict::Dunno);
        assert!(dispatch::headers(&STATE, c(), Vec::new()).is_empty());

        let err = dispatch::init(&STATE, Config::empty()).unwrap_err();
        assert_eq!(err, "limit is not set");
        assert_eq!(dispatch::rcpt(&STATE, c(), addr("a@b")), Verdict::Dunno);

        dispatch::init(&STATE, Config::empty().with_setting("limit", "1")).unwrap();
        assert_eq!(dispatch::rcpt(&STATE, c(), addr("a@b")), Verdict::Dunno);
        assert_eq!(
            dispatch::rcpt(&STATE, c(), addr("c@d")),
            Verdict::reject_with(452, "4.5.3", "Too many recipients")
        );
        // Hooks the plugin does not implement keep their defaults.
        assert_eq!(dispatch::connect(&STATE, c()), Verdict::Dunno);
        assert!(dispatch::body(&STATE, c(), crate::testing::body(0, &["x"], true)).is_empty());
    }
}
