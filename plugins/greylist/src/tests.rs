//! Native tests: the plugin against the SDK's fake host (kv, clock, log).

use super::*;
use mta_sdk::testing::{addr, ctx, start, ContextBuilder, TestHost};

fn greylist(settings: &[(&str, &str)]) -> Result<Greylist, String> {
    let config = settings
        .iter()
        .fold(Config::empty(), |c, (k, v)| c.with_setting(*k, *v));
    start::<Greylist>(&config)
}

fn from(client: &str, sender: &str) -> ContextBuilder {
    ctx(Stage::Rcpt)
        .client(client, "unknown")
        .helo("mx.example.org")
        .sender(sender)
}

fn greylisted() -> Verdict {
    Verdict::defer_with(450, "4.2.0", DEFAULT_TEXT)
}

#[test]
fn first_sight_defers_early_retry_defers_late_retry_passes() {
    let host = TestHost::new().install();
    let mut g = greylist(&[]).unwrap();
    let c = from("192.0.2.10", "alice@example.org");
    let rcpt = addr("bob@example.net");

    assert_eq!(g.rcpt(&c, &rcpt), greylisted());
    host.advance(DEFAULT_DELAY - 1);
    assert_eq!(g.rcpt(&c, &rcpt), greylisted());
    host.advance(1);
    assert_eq!(g.rcpt(&c, &rcpt), Verdict::Dunno);
    // Remembered: no new delay, even much later.
    host.advance(20 * 86_400);
    assert_eq!(g.rcpt(&c, &rcpt), Verdict::Dunno);
    assert!(host.logged("passed after 300s"));
}

#[test]
fn the_early_retry_does_not_restart_the_clock() {
    let host = TestHost::new().install();
    let mut g = greylist(&[("greylist_delay", "10m")]).unwrap();
    let c = from("192.0.2.10", "a@example.org");
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), greylisted());
    host.advance(500);
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), greylisted());
    host.advance(100);
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), Verdict::Dunno);
}

#[test]
fn passed_triplets_expire_after_the_ttl_without_use() {
    let host = TestHost::new().install();
    let mut g = greylist(&[("greylist_ttl", "1d")]).unwrap();
    let c = from("192.0.2.10", "a@example.org");
    g.rcpt(&c, &addr("b@example.net"));
    host.advance(DEFAULT_DELAY);
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), Verdict::Dunno);
    host.advance(86_400);
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), greylisted());
}

#[test]
fn use_refreshes_a_passed_triplet() {
    let host = TestHost::new().install();
    let mut g = greylist(&[("greylist_ttl", "1d")]).unwrap();
    let c = from("192.0.2.10", "a@example.org");
    g.rcpt(&c, &addr("b@example.net"));
    host.advance(DEFAULT_DELAY);
    for _ in 0..3 {
        assert_eq!(g.rcpt(&c, &addr("b@example.net")), Verdict::Dunno);
        host.advance(86_400 - 1);
    }
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), Verdict::Dunno);
}

#[test]
fn a_retry_after_the_window_starts_over() {
    let host = TestHost::new().install();
    let mut g = greylist(&[("greylist_retry_window", "1h")]).unwrap();
    let c = from("192.0.2.10", "a@example.org");
    g.rcpt(&c, &addr("b@example.net"));
    host.advance(3600);
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), greylisted());
    host.advance(DEFAULT_DELAY);
    assert_eq!(g.rcpt(&c, &addr("b@example.net")), Verdict::Dunno);
}

#[test]
fn hosts_of_one_network_share_a_triplet_others_do_not() {
    let host = TestHost::new().install();
    let mut g = greylist(&[]).unwrap();
    let rcpt = addr("b@example.net");
    g.rcpt(&from("192.0.2.10", "a@example.org"), &rcpt);
    host.advance(DEFAULT_DELAY);
    assert_eq!(
        g.rcpt(&from("192.0.2.99", "a@example.org"), &rcpt),
        Verdict::Dunno
    );
    assert_eq!(
        g.rcpt(&from("198.51.100.10", "a@example.org"), &rcpt),
        greylisted()
    );
    assert_eq!(
        g.rcpt(&from("192.0.2.10", "other@example.org"), &rcpt),
        greylisted()
    );
    assert_eq!(
        g.rcpt(&from("192.0.2.10", "a@example.org"), &addr("c@example.net")),
        greylisted()
    );
}

#[test]
fn triplet_keys() {
    assert_eq!(client_network("192.0.2.77"), "192.0.2.0/24");
    assert_eq!(client_network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    assert_eq!(client_network("::ffff:192.0.2.7"), "192.0.2.0/24");
    assert_eq!(client_network("not-an-ip"), "not-an-ip");
    assert_eq!(
        triplet_key("192.0.2.1", "", "B@Example.NET"),
        "192.0.2.0/24 <> <b@example.net>"
    );
}

#[test]
fn entries_round_trip_and_garbage_is_rejected() {
    for e in [
        Entry::Passed,
        Entry::Pending {
            first_seen: 1_767_225_600,
        },
    ] {
        assert_eq!(Entry::decode(&e.encode()), Some(e));
    }
    assert_eq!(Entry::decode(b"pending x"), None);
    assert_eq!(Entry::decode(b"\xff"), None);
}

#[test]
fn a_corrupt_entry_starts_over() {
    let host = TestHost::new().install();
    let key = triplet_key("192.0.2.1", "a@example.org", "b@example.net");
    host.kv_set(&key, b"garbage", None);
    let mut g = greylist(&[]).unwrap();
    assert_eq!(
        g.rcpt(&from("192.0.2.1", "a@example.org"), &addr("b@example.net")),
        greylisted()
    );
    assert!(host.logged("unreadable entry"));
    assert_eq!(
        host.kv_get(&key),
        Some(
            Entry::Pending {
                first_seen: host.clock()
            }
            .encode()
        )
    );
}

#[test]
fn stores_entries_with_their_ttls() {
    let host = TestHost::new().install();
    let mut g = greylist(&[]).unwrap();
    let key = triplet_key("192.0.2.1", "a@example.org", "b@example.net");
    let start_at = host.clock();
    g.rcpt(&from("192.0.2.1", "a@example.org"), &addr("b@example.net"));
    assert_eq!(
        host.kv_expiry(&key),
        Some(Some(start_at + DEFAULT_RETRY_WINDOW))
    );
    host.advance(DEFAULT_DELAY);
    g.rcpt(&from("192.0.2.1", "a@example.org"), &addr("b@example.net"));
    assert_eq!(
        host.kv_expiry(&key),
        Some(Some(start_at + DEFAULT_DELAY + DEFAULT_TTL))
    );
}

#[test]
fn kv_failure_lets_mail_pass_and_is_logged() {
    let host = TestHost::new().install();
    host.kv_failure(Some("database is locked"));
    let mut g = greylist(&[]).unwrap();
    assert_eq!(
        g.rcpt(&from("192.0.2.1", "a@example.org"), &addr("b@example.net")),
        Verdict::Dunno
    );
    assert!(host
        .logs()
        .iter()
        .any(|(level, line)| *level == log::Level::Error && line.contains("database is locked")));
}

#[test]
fn authenticated_clients_and_vrfy_are_not_greylisted() {
    let host = TestHost::new().install();
    let mut g = greylist(&[]).unwrap();
    let sasl = from("192.0.2.1", "a@example.org").sasl("PLAIN", "alice");
    assert_eq!(g.rcpt(&sasl, &addr("b@example.net")), Verdict::Dunno);
    let vrfy = from("192.0.2.1", "a@example.org").stage(Stage::Vrfy);
    assert_eq!(g.rcpt(&vrfy, &addr("b@example.net")), Verdict::Dunno);
    assert!(host.kv_keys().is_empty());
}

#[test]
fn custom_text_and_bad_settings() {
    let _host = TestHost::new().install();
    let mut g = greylist(&[("greylist_text", "Come back later")]).unwrap();
    assert_eq!(
        g.rcpt(&from("192.0.2.1", "a@example.org"), &addr("b@example.net")),
        Verdict::defer_with(450, "4.2.0", "Come back later")
    );
    assert!(greylist(&[("greylist_delay", "5x")])
        .err()
        .unwrap()
        .starts_with("greylist_delay = 5x"));
    assert!(greylist(&[("greylist_ttl", "0")])
        .err()
        .unwrap()
        .contains("more than 0s"));
    assert!(greylist(&[("greylist_ttl", "100000d")])
        .err()
        .unwrap()
        .contains("too long"));
    assert!(greylist(&[("greylist_delay", "3d")])
        .err()
        .unwrap()
        .contains("must be longer"));
}
