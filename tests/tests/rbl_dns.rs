//! The host's DNS client (host/src/dns.rs) against a real DNS server on
//! loopback: answers, NXDOMAIN/NODATA, negative caching, TTL expiry,
//! timeouts, SERVFAIL, in-flight de-duplication and the concurrency bound.

use hickory_proto::rr::rdata::{MX, PTR};
use hickory_proto::rr::{Name, RData};
use mta::config::Config;
use mta::dns::{Dns, DnsError, DnsSettings, Record, RecordType};
use mta_e2e::dnsd::{Behaviour, TestDns, ZoneSet};
use std::time::{Duration, Instant};

async fn server() -> TestDns {
    ZoneSet::new()
        .zone("zen.example", Behaviour::Answer, 30)
        .zone("short.example", Behaviour::Answer, 1)
        .zone("dead.example", Behaviour::Drop, 60)
        .zone("broken.example", Behaviour::ServFail, 60)
        .a("2.0.0.127.zen.example", "127.0.0.2".parse().unwrap(), 300)
        .txt(
            "2.0.0.127.zen.example",
            "Listed: see https://zen.example/127.0.0.2",
            300,
        )
        .a("multi.zen.example", "127.0.0.2".parse().unwrap(), 120)
        .a("multi.zen.example", "127.0.0.4".parse().unwrap(), 60)
        .aaaa("v6.zen.example", "2001:db8::25".parse().unwrap(), 300)
        .rdata(
            "zen.example",
            RData::MX(MX::new(10, Name::from_ascii("mx.zen.example.").unwrap())),
            300,
        )
        .rdata(
            "1.2.0.192.in-addr.zen.example",
            RData::PTR(PTR(Name::from_ascii("host.zen.example.").unwrap())),
            300,
        )
        .a("brief.short.example", "127.0.0.2".parse().unwrap(), 1)
        .start()
        .await
        .expect("start test DNS server")
}

fn dns_for(srv: &TestDns, timeout: Duration, concurrency: usize) -> Dns {
    Dns::with_settings(DnsSettings {
        servers: vec![srv.addr()],
        timeout,
        concurrency,
    })
    .expect("resolver")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_cached_for_their_ttl() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_secs(5), 16);
    let a = dns
        .query("2.0.0.127.zen.example", RecordType::A)
        .await
        .unwrap();
    assert_eq!(a.records, vec![Record::A("127.0.0.2".parse().unwrap())]);
    assert!(
        a.ttl <= Duration::from_secs(300) && a.ttl > Duration::from_secs(290),
        "{:?}",
        a.ttl
    );
    let asked = srv.queries();
    assert!(asked >= 1);

    // Same question, different spelling: from the cache, nothing asked.
    let again = dns
        .query("2.0.0.127.ZEN.example.", RecordType::A)
        .await
        .unwrap();
    assert_eq!(again.records, a.records);
    assert_eq!(srv.queries(), asked);
    let st = dns.stats();
    assert_eq!(st.upstream_queries, 1);
    assert_eq!(st.cache_hits, 1);

    // The TTL of a set is its shortest record's.
    let m = dns.query("multi.zen.example", RecordType::A).await.unwrap();
    assert_eq!(m.records.len(), 2);
    assert!(m.ttl <= Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_types_convert() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_secs(5), 16);
    let qs = vec![
        ("2.0.0.127.zen.example".to_string(), RecordType::Txt),
        ("v6.zen.example".to_string(), RecordType::Aaaa),
        ("zen.example".to_string(), RecordType::Mx),
        ("1.2.0.192.in-addr.zen.example".to_string(), RecordType::Ptr),
        ("nope.zen.example".to_string(), RecordType::A),
    ];
    let r = dns.query_many(&qs).await;
    assert_eq!(r.len(), 5);
    assert_eq!(
        r[0].as_ref().unwrap().records,
        vec![Record::Txt(
            "Listed: see https://zen.example/127.0.0.2".into()
        )]
    );
    assert_eq!(
        r[1].as_ref().unwrap().records,
        vec![Record::Aaaa("2001:db8::25".parse().unwrap())]
    );
    assert_eq!(
        r[2].as_ref().unwrap().records,
        vec![Record::Mx {
            preference: 10,
            exchange: "mx.zen.example".into()
        }]
    );
    assert_eq!(
        r[3].as_ref().unwrap().records,
        vec![Record::Ptr("host.zen.example".into())]
    );
    assert_eq!(r[4], Err(DnsError::NotFound));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nxdomain_and_nodata_are_cached() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_secs(5), 16);
    assert_eq!(
        dns.query("1.2.0.192.zen.example", RecordType::A).await,
        Err(DnsError::NotFound)
    );
    // NODATA: the name exists (it has A and TXT), but no AAAA.
    let nodata = dns
        .query("2.0.0.127.zen.example", RecordType::Aaaa)
        .await
        .unwrap();
    assert!(nodata.records.is_empty());
    // The SOA minimum (30 s) bounds how long "nothing" is kept.
    assert!(nodata.ttl <= Duration::from_secs(30), "{:?}", nodata.ttl);
    let asked = srv.queries();
    assert_eq!(
        dns.query("1.2.0.192.zen.example", RecordType::A).await,
        Err(DnsError::NotFound)
    );
    assert!(dns
        .query("2.0.0.127.zen.example", RecordType::Aaaa)
        .await
        .unwrap()
        .records
        .is_empty());
    assert_eq!(
        srv.queries(),
        asked,
        "negative answers must come from the cache"
    );
    assert_eq!(dns.stats().upstream_queries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_entries_are_asked_again() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_secs(5), 16);
    dns.query("brief.short.example", RecordType::A)
        .await
        .unwrap();
    assert_eq!(dns.stats().upstream_queries, 1);
    // TTL 1 s: keep asking until the cache lets a query through (bounded).
    let deadline = Instant::now() + Duration::from_secs(5);
    while dns.stats().upstream_queries == 1 {
        assert!(Instant::now() < deadline, "a 1 s TTL entry never expired");
        dns.query("brief.short.example", RecordType::A)
            .await
            .unwrap();
        tokio::task::yield_now().await;
    }
    assert!(dns.stats().cache_hits >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_zone_times_out_and_is_not_cached() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_millis(400), 16);
    let start = Instant::now();
    assert_eq!(
        dns.query("2.0.0.127.dead.example", RecordType::A).await,
        Err(DnsError::Timeout)
    );
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "timeout took {took:?}");
    assert!(
        srv.queries() >= 1,
        "the question must have reached the server"
    );
    assert_eq!(
        dns.query("2.0.0.127.dead.example", RecordType::A).await,
        Err(DnsError::Timeout)
    );
    assert_eq!(
        dns.stats().upstream_queries,
        2,
        "a timeout must not be cached"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servfail_is_a_server_failure() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_secs(5), 16);
    match dns.query("2.0.0.127.broken.example", RecordType::A).await {
        Err(DnsError::ServerFailure(why)) => assert!(why.to_lowercase().contains("serv"), "{why}"),
        other => panic!("expected ServerFailure, got {other:?}"),
    }
    // A zone the server does not serve: REFUSED, also a server failure.
    assert!(matches!(
        dns.query("elsewhere.example.org", RecordType::A).await,
        Err(DnsError::ServerFailure(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_questions_in_flight_share_one_query() {
    let srv = server().await;
    let dns = dns_for(&srv, Duration::from_millis(500), 16);
    // A silent zone keeps the first query in flight long enough for every
    // other to find it.
    let qs: Vec<(String, RecordType)> = (0..20)
        .map(|_| ("7.0.0.127.dead.example".to_string(), RecordType::A))
        .collect();
    let r = dns.query_many(&qs).await;
    assert!(r.iter().all(|x| *x == Err(DnsError::Timeout)), "{r:?}");
    let st = dns.stats();
    assert_eq!(st.upstream_queries, 1, "{st:?}");
    assert_eq!(st.coalesced, 19, "{st:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_is_bounded() {
    let srv = server().await;
    // One upstream slot and three questions to a zone that never answers.
    // Whether a later question gets the slot before its own deadline runs
    // out depends on scheduling, so the test checks what cannot vary: the
    // high-water mark of questions outstanding at the server, and that
    // every question ends in a timeout.
    let dns = dns_for(&srv, Duration::from_millis(300), 1);
    let qs: Vec<(String, RecordType)> = (1..=3)
        .map(|i| (format!("{i}.dead.example"), RecordType::A))
        .collect();
    let r = dns.query_many(&qs).await;
    assert_eq!(r, vec![Err(DnsError::Timeout); 3]);
    let stats = dns.stats();
    assert_eq!(stats.peak_in_flight, 1, "{stats:?}");
    assert!((1..=3).contains(&stats.upstream_queries), "{stats:?}");

    // The same batch with room for all three: they run side by side.
    let wide = dns_for(&srv, Duration::from_secs(2), 3);
    let r = wide.query_many(&qs).await;
    assert_eq!(r, vec![Err(DnsError::Timeout); 3]);
    let stats = wide.stats();
    assert_eq!(stats.upstream_queries, 3, "{stats:?}");
    assert!(stats.peak_in_flight <= 3, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_from_main_cf_parameters() {
    let srv = server().await;
    let mut cfg = Config::default();
    cfg.explicit
        .insert("dns_servers".into(), srv.addr().to_string());
    cfg.explicit.insert("dns_timeout".into(), "3s".into());
    let dns = Dns::new(&cfg).unwrap();
    let a = dns
        .query("2.0.0.127.zen.example", RecordType::A)
        .await
        .unwrap();
    assert_eq!(a.records.len(), 1);

    cfg.explicit
        .insert("dns_servers".into(), "not-an-address".into());
    let err = Dns::new(&cfg).unwrap_err().to_string();
    assert!(err.contains("dns_servers"), "{err}");
}
