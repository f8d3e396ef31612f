//! Tables opened by name from files, as main.cf names them.

use super::*;
use crate::config::testdir::TempDir;
use crate::config::Config;

fn config_dir(files: &[(&str, &str)]) -> (TempDir, Config) {
    let d = TempDir::new("tables-test")
        .with(&[("main.cf", "recipient_delimiter = +\n")])
        .with(files);
    let c = Config::load(&d).unwrap();
    (d, c)
}

#[test]
fn hash_built_by_postmap_with_access_expansion() {
    let (d, c) = config_dir(&[(
        "access",
        "# senders\nspammer@example.com REJECT go away\nexample.net OK\nPostmaster@ DUNNO\n1.2.3 REJECT net\n",
    )]);
    let (n, warnings) = hash::build(&d.join("access")).unwrap();
    assert_eq!((n, warnings.len()), (4, 0));
    let tables = Tables::new(&c);
    let t = tables
        .open(&format!("hash:{}", d.join("access").display()))
        .unwrap();
    let find = |q: Query| tables.find(t.as_ref(), &q).unwrap();
    assert_eq!(
        find(Query::Address("Spammer@Example.COM".into())),
        Some(Hit {
            key: "Spammer@Example.COM".into(),
            value: "REJECT go away".into()
        })
    );
    // Parent domains match by default (smtpd_access_maps is listed).
    assert_eq!(
        find(Query::Address("a@mail.example.net".into()))
            .unwrap()
            .key,
        "example.net"
    );
    assert_eq!(
        find(Query::Address("postmaster@nowhere.org".into()))
            .unwrap()
            .value,
        "DUNNO"
    );
    assert_eq!(
        find(Query::Client {
            name: "unknown".into(),
            address: "1.2.3.99".into()
        })
        .unwrap()
        .key,
        "1.2.3"
    );
    assert_eq!(find(Query::Address("x@example.org".into())), None);
    // Relative names resolve in the config directory; opening is cached.
    let again = tables.open("proxy:hash:access").unwrap();
    assert_eq!(again.get("example.net").unwrap().as_deref(), Some("OK"));
    assert!(Arc::ptr_eq(
        &tables.open("proxy:hash:access").unwrap(),
        &again
    ));
}

#[test]
fn missing_hash_says_how_to_build_it() {
    let (_d, c) = config_dir(&[("access", "a b\n")]);
    let e = Tables::new(&c).open("hash:access").unwrap_err().to_string();
    assert!(e.contains("mta postmap"), "{e}");
}

#[test]
fn pattern_tables_see_whole_strings_only() {
    let (_d, c) = config_dir(&[
        ("sender.regexp", "/^(.*)@example\\.com$/ REJECT no $1\n"),
        ("clients.cidr", "192.0.2.0/24 OK\n"),
        ("texthash", "Key value here\n"),
    ]);
    let tables = Tables::new(&c);
    let r = tables.open("regexp:sender.regexp").unwrap();
    assert!(r.source().unwrap().contains("REJECT no $1"));
    assert_eq!(
        tables
            .find(r.as_ref(), &Query::Address("bob@example.com".into()))
            .unwrap()
            .unwrap()
            .value,
        "REJECT no bob"
    );
    // No parent-domain expansion: "example.com" alone is not tried.
    assert_eq!(
        tables
            .find(r.as_ref(), &Query::Address("bob@x.example.com".into()))
            .unwrap(),
        None
    );
    let cidr = tables.open("cidr:clients.cidr").unwrap();
    let hit = tables
        .find(
            cidr.as_ref(),
            &Query::Client {
                name: "h.example".into(),
                address: "192.0.2.7".into(),
            },
        )
        .unwrap()
        .unwrap();
    assert_eq!((hit.key.as_str(), hit.value.as_str()), ("192.0.2.7", "OK"));
    let inline = tables.open("pcre:{ {/^a/ A}, {!/b/ NOT-B} }").unwrap();
    assert_eq!(inline.get("abc").unwrap().as_deref(), Some("A"));
    assert_eq!(inline.get("xyz").unwrap().as_deref(), Some("NOT-B"));
    let th = tables.open("texthash:texthash").unwrap();
    assert_eq!(th.get("KEY").unwrap().as_deref(), Some("value here"));
}

#[test]
fn bad_tables_fail_to_open_with_file_and_line() {
    let (_d, c) = config_dir(&[("bad.pcre", "/ok/ OK\n/(a)\\1/ REJECT\n")]);
    let tables = Tables::new(&c);
    let e = tables.open("pcre:bad.pcre").unwrap_err().to_string();
    assert!(
        e.contains("bad.pcre:2: ") && e.contains("backreference"),
        "{e}"
    );
    let e = tables.open("mysql:/etc/x.cf").unwrap_err().to_string();
    assert!(e.contains("not supported"), "{e}");
    assert!(tables.open("nocolon").is_err());
}
