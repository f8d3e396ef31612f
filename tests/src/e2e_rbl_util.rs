//! Helpers for the DNS-list end-to-end tests: an IPv6 listener and client,
//! since the shared `Daemon::start`/`Smtp::connect` are IPv4-only.

use crate::{free_port, scratch, Daemon, Smtp};
use std::net::{Ipv6Addr, SocketAddr};
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::TcpStream;

/// A daemon whose one smtpd listens on `[::1]:PORT`, with the same test
/// plumbing as `Daemon::start` (spool in the scratch dir, myhostname).
pub fn start_v6(name: &str, main_cf: &str) -> (Daemon, SocketAddr) {
    let dir = scratch(name);
    let port = free_port();
    let main = format!(
        "queue_directory = {}\nmyhostname = mx.test\nsmtpd_error_sleep_time = 0\n{main_cf}\n",
        dir.join("spool").display()
    );
    std::fs::write(dir.join("main.cf"), main).expect("main.cf");
    std::fs::write(
        dir.join("master.cf"),
        format!("[::1]:{port} inet n - n - - smtpd\n"),
    )
    .expect("master.cf");
    let d = Daemon::spawn(dir, port);
    (d, SocketAddr::from((Ipv6Addr::LOCALHOST, port)))
}

/// Connect to an IPv6 listener (the source is then `::1`) and read the
/// greeting.
pub async fn connect_v6(to: SocketAddr) -> (Smtp, String) {
    let s = tokio::time::timeout(Duration::from_secs(20), TcpStream::connect(to))
        .await
        .expect("connect in time")
        .expect("connect");
    let mut c = Smtp {
        stream: BufReader::new(s),
    };
    let banner = c.reply().await;
    (c, banner)
}

/// The main.cf lines every DNS-list test shares: the built-in plugins of this
/// build, the loopback DNS server with a `timeout`, a local domain and a
/// mynetworks that leaves 127.0.0.2+ outside; `extra` follows.
pub fn rbl_main_cf(dns: &crate::dnsd::TestDns, timeout: &str, extra: &str) -> String {
    let plugins = std::env::var("CARGO_TARGET_DIR")
        .map(|t| format!("builtin_plugin_directory = {t}/plugins\n"))
        .unwrap_or_default();
    format!(
        "{plugins}dns_servers = {}\ndns_timeout = {timeout}\nmydestination = mx.test\nlocal_recipient_maps =\nmynetworks = 127.0.0.1/32\n{extra}\n",
        dns.addr()
    )
}
