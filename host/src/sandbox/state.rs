//! The data of one plugin instance's Store: a WASI context that grants
//! nothing (no preopens, environment, arguments or sockets; clocks frozen at
//! the epoch unless `clock` is granted; stdout/stderr into the log), the
//! memory limiter, the per-call time accounting and the plugin's grants.

use super::caps::{escape, Capabilities};
use crate::stages::types::Capability;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Store data for one instance.
pub struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: MemoryLimiter,
    pub caps: Arc<Capabilities>,
    pub call: CallClock,
    /// The context of the hook call under way, read through the guest's
    /// borrowed `context` handle; `None` between calls. One slot per store
    /// suffices because an instance runs one call at a time, and the
    /// component model ends a borrow when its call returns, so the guest
    /// cannot keep the handle; a slot instead of a resource-table entry
    /// saves an allocation and a free per call.
    pub facts: Option<Arc<crate::stages::types::Context>>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The type of the `context` handle a 0.2 guest is lent for one hook call
/// (see `wit::since_v0_2_0`). The handle carries no data: the facts it
/// stands for are the store's [`HostState::facts`] while the call runs.
pub enum CallFacts {}

/// Guest time of the current call: wall time since the call began minus the
/// time spent waiting in host imports (DNS has its own timeout, DESIGN 4).
#[derive(Debug, Clone, Copy)]
pub struct CallClock {
    pub started: Instant,
    pub host_wait: Duration,
    pub limit: Duration,
    /// Set when the epoch callback stopped the guest for overrunning.
    pub timed_out: bool,
}

impl CallClock {
    pub fn new(limit: Duration) -> CallClock {
        CallClock {
            started: Instant::now(),
            host_wait: Duration::ZERO,
            limit,
            timed_out: false,
        }
    }

    pub fn guest_time(&self) -> Duration {
        self.started.elapsed().saturating_sub(self.host_wait)
    }
}

/// Caps linear memory and tables per instance; records that the cap was hit
/// so the fault is reported as "out of memory" rather than a bare trap.
#[derive(Debug)]
pub struct MemoryLimiter {
    pub limit: usize,
    pub exceeded: bool,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "memory limit of {} bytes reached growing from {current} to {desired} bytes",
                self.limit
            ));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > 100_000 {
            self.exceeded = true;
            return Err(wasmtime::format_err!(
                "table limit of 100000 elements reached"
            ));
        }
        Ok(true)
    }
}

/// A clock stopped at the Unix epoch, for plugins without `clock`.
struct Frozen;

impl wasmtime_wasi::HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Build the WASI context for one instance of a plugin.
pub fn wasi_ctx(caps: &Capabilities) -> WasiCtx {
    let mut b = WasiCtxBuilder::new();
    b.stdout(GuestOutput {
        plugin: caps.plugin.clone(),
        stream: "stdout",
    });
    b.stderr(GuestOutput {
        plugin: caps.plugin.clone(),
        stream: "stderr",
    });
    if !caps.granted.contains(&Capability::Clock) {
        b.wall_clock(Frozen);
        b.monotonic_clock(Frozen);
    }
    b.build()
}

/// A guest's stdout or stderr: each line goes to the log, tagged with the
/// plugin's name.
#[derive(Clone)]
struct GuestOutput {
    plugin: String,
    stream: &'static str,
}

impl wasmtime_wasi::cli::IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl wasmtime_wasi::cli::StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(LineLogger {
            out: self.clone(),
            line: Vec::new(),
        })
    }
}

struct LineLogger {
    out: GuestOutput,
    line: Vec<u8>,
}

const MAX_LINE: usize = 2000;

impl LineLogger {
    fn emit(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let text = escape(&String::from_utf8_lossy(&self.line));
        tracing::info!(plugin = %self.out.plugin, "plugin {} {}: {}", self.out.plugin, self.out.stream, text);
        self.line.clear();
    }
}

impl tokio::io::AsyncWrite for LineLogger {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        for &b in buf {
            if b == b'\n' {
                self.emit();
            } else if self.line.len() < MAX_LINE {
                self.line.push(b);
            }
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.emit();
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineLogger {
    fn drop(&mut self) {
        self.emit();
    }
}
