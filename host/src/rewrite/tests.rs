//! The forms relay control and routing must agree on.

use super::*;
use crate::config::testdir::TempDir;

/// A resolver and the directory its tables live in (kept while in use).
struct Fixture {
    _dir: TempDir,
    res: Resolver,
}

impl std::ops::Deref for Fixture {
    type Target = Resolver;
    fn deref(&self) -> &Resolver {
        &self.res
    }
}

fn resolver(main: &str) -> Fixture {
    let dir = TempDir::new("rewrite-test").with(&[
        ("main.cf", main),
        (
            "transport",
            "special.example smtp:[10.0.0.9]:2525\n.sub.example relay:\n*  :[fallback.example]\n",
        ),
    ]);
    let res = Resolver::new(&Config::load(&dir).unwrap());
    Fixture { _dir: dir, res }
}

const BASE: &str = "myhostname = mx.example.com\nmydomain = example.com\n\
    mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain\n\
    relay_domains = relayed.example\nvirtual_alias_domains = alias.example\n\
    virtual_mailbox_domains = box.example\n";

fn r(res: &Resolver, a: &str) -> Resolution {
    res.resolve(a).unwrap_or_else(|e| panic!("{a}: {e}"))
}

#[test]
fn classes() {
    let res = resolver(BASE);
    let l = r(&res, "User@Example.COM.");
    assert_eq!(
        (l.class, l.address.as_str(), l.routed),
        (AddressClass::Local, "User@example.com", false)
    );
    assert_eq!(
        (l.transport.as_str(), l.nexthop.as_str()),
        ("local", "mx.example.com")
    );
    // A bare local part gets $myorigin (default $myhostname).
    assert_eq!(r(&res, "postmaster").address, "postmaster@mx.example.com");
    let origin = resolver(&format!("{BASE}myorigin = $mydomain\n"));
    assert_eq!(r(&origin, "postmaster").address, "postmaster@example.com");
    assert_eq!(r(&res, "u@localhost").class, AddressClass::Local);
    assert_eq!(r(&res, "u@[127.0.0.1]").class, AddressClass::Local);
    assert_eq!(r(&res, "u@[192.0.2.200]").class, AddressClass::Default);
    assert_eq!(r(&res, "u@alias.example").class, AddressClass::VirtualAlias);
    assert_eq!(r(&res, "u@alias.example").transport, "error");
    assert_eq!(r(&res, "u@box.example").class, AddressClass::VirtualMailbox);
    let relay = r(&res, "u@mail.relayed.example");
    assert_eq!(
        relay.class,
        AddressClass::Relay,
        "relay_domains matches subdomains by default"
    );
    assert_eq!(
        (relay.transport.as_str(), relay.nexthop.as_str()),
        ("relay", "mail.relayed.example")
    );
    let remote = r(&res, "u@elsewhere.org");
    assert_eq!(
        (
            remote.class,
            remote.transport.as_str(),
            remote.nexthop.as_str()
        ),
        (AddressClass::Default, "smtp", "elsewhere.org")
    );
    assert_eq!(r(&res, "").class, AddressClass::Local);
}

#[test]
fn sender_specified_routing_is_unpacked_and_flagged() {
    let res = resolver(BASE);
    // Quoted local part holding an address, at a local domain.
    let q = r(&res, "\"victim@elsewhere.org\"@example.com");
    assert_eq!(
        (q.class, q.address.as_str(), q.routed),
        (AddressClass::Default, "victim@elsewhere.org", true)
    );
    // Percent hack.
    let p = r(&res, "victim%elsewhere.org@mx.example.com");
    assert_eq!(
        (p.class, p.address.as_str(), p.routed),
        (AddressClass::Default, "victim@elsewhere.org", true)
    );
    // Bang path.
    let b = r(&res, "elsewhere.org!victim@example.com");
    assert_eq!(
        (b.class, b.address.as_str(), b.routed),
        (AddressClass::Default, "victim@elsewhere.org", true)
    );
    // Source route stripped.
    let s = r(&res, "@hop1.example,@hop2.example:victim@elsewhere.org");
    assert_eq!(
        (s.address.as_str(), s.routed),
        ("victim@elsewhere.org", true)
    );
    // Routing into a local address stays local but flagged.
    let ll = r(&res, "joe%localhost@example.com");
    assert_eq!(
        (ll.class, ll.address.as_str(), ll.routed),
        (AddressClass::Local, "joe@localhost", true)
    );
    // `%` at a remote domain is not ours to unpack.
    let rem = r(&res, "u%h@elsewhere.org");
    assert_eq!(
        (rem.class, rem.address.as_str(), rem.routed),
        (AddressClass::Default, "u%h@elsewhere.org", false)
    );
}

#[test]
fn routing_switches() {
    let res = resolver(&format!(
        "{BASE}allow_percent_hack = no\nswap_bangpath = no\nresolve_dequoted_address = no\n"
    ));
    let p = r(&res, "victim%elsewhere.org@example.com");
    assert_eq!((p.class, p.routed), (AddressClass::Local, false));
    let b = r(&res, "h!u@example.com");
    assert_eq!((b.class, b.routed), (AddressClass::Local, false));
    let q = r(&res, "\"v@elsewhere.org\"@example.com");
    assert_eq!(
        (q.class, q.address.as_str()),
        (AddressClass::Local, "\"v@elsewhere.org\"@example.com")
    );
}

#[test]
fn malformed_addresses_are_errors() {
    let res = resolver(BASE);
    assert!(res.resolve("\"unbalanced@example.com").is_err());
    assert!(res.resolve("user@").is_err());
    assert!(res.resolve("@example.com").is_err());
}

#[test]
fn relayhost_and_transport_maps() {
    let res = resolver(&format!(
        "{BASE}relayhost = [smarthost.example]:587\ntransport_maps = texthash:transport\n"
    ));
    let t = r(&res, "u@special.example");
    assert_eq!(
        (t.transport.as_str(), t.nexthop.as_str()),
        ("smtp", "[10.0.0.9]:2525")
    );
    let sub = r(&res, "u@a.sub.example");
    assert_eq!(
        (sub.transport.as_str(), sub.nexthop.as_str()),
        ("relay", "[smarthost.example]:587")
    );
    let star = r(&res, "u@other.example");
    assert_eq!(
        (star.transport.as_str(), star.nexthop.as_str()),
        ("smtp", "[fallback.example]")
    );
    // Local mail is routed by transport_maps `*` too, as in Postfix.
    let res = resolver(&format!("{BASE}relayhost = [smarthost.example]:587\n"));
    let remote = r(&res, "u@other.example");
    assert_eq!(remote.nexthop, "[smarthost.example]:587");
}

/// Addresses come from the network: random junk must give a Resolution or
/// an error, never a panic or a hang.
#[test]
fn hostile_addresses_never_panic() {
    let res = resolver(BASE);
    let pieces = [
        "@",
        "%",
        "!",
        "\"",
        "\\",
        ":",
        ",",
        "[",
        "]",
        ".",
        "u",
        "example.com",
        "localhost",
        "[127.0.0.1]",
        "[ipv6:::1]",
        "é",
        " ",
        "\u{0}",
        "mx.example.com",
        "@a,@b:",
        "\"u@h\"",
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        let mut a = String::new();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for i in 0..(x % 12) {
            a.push_str(pieces[((x >> (i * 5)) % pieces.len() as u64) as usize]);
        }
        if let Ok(r) = res.resolve(&a) {
            assert!(!r.transport.is_empty(), "{a:?} -> {r:?}");
        }
    }
}
