//! Loading whole configurations from disk.

use super::*;
use testdir::TempDir;

/// A fresh directory holding `main.cf` (and `master.cf` when given).
fn dir_with(main: &str, master: Option<&str>) -> TempDir {
    let d = TempDir::new("config-test").with(&[("main.cf", main)]);
    match master {
        Some(m) => d.with(&[("master.cf", m)]),
        None => d,
    }
}

fn errors(main: &str, master: Option<&str>) -> Vec<String> {
    match Config::load(&dir_with(main, master)) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

#[test]
fn debian_stock_main_cf_loads_with_warnings_only() {
    for stock in [
        "/usr/share/postfix/main.cf.debian",
        "/usr/share/postfix/main.cf.dist",
    ] {
        let text = std::fs::read_to_string(stock).unwrap();
        let master = std::fs::read_to_string("/usr/share/postfix/master.cf.dist").unwrap();
        let c = Config::load(&dir_with(&text, Some(&master)))
            .unwrap_or_else(|e| panic!("{stock}: {e:?}"));
        assert_eq!(c.listeners.len(), 1, "{stock}");
        assert_eq!(c.listeners[0].service, "smtp");
        assert_eq!(c.listeners[0].addrs[0].port(), 25);
        if stock.ends_with("debian") {
            assert!(
                c.warnings.iter().any(|w| w.contains("biff")),
                "{:?}",
                c.warnings
            );
            assert_eq!(
                c.get("smtpd_banner"),
                format!("{} ESMTP mta (Debian/GNU)", c.get("myhostname"))
            );
        }
        assert!(
            c.notes.iter().any(|n| n.contains("chroot = y")),
            "{:?}",
            c.notes
        );
    }
}

#[test]
fn misspelt_name_is_an_error_with_suggestion_and_line() {
    let e = errors(
        "myhostname = mx.example.com\nsmtp_helo_restrictions = reject\n",
        None,
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].contains("main.cf:2: "), "{}", e[0]);
    assert!(
        e[0].contains("did you mean smtpd_helo_restrictions?"),
        "{}",
        e[0]
    );
}

#[test]
fn user_parameters_referenced_elsewhere_are_accepted() {
    let c = Config::load(&dir_with(
        "smtpd_restriction_classes = from_freemail\nfrom_freemail = reject\n\
         mua_client_restrictions = permit_sasl_authenticated, reject\n",
        Some("submission inet n - n - - smtpd\n  -o smtpd_client_restrictions=$mua_client_restrictions\n"),
    ))
    .unwrap();
    assert_eq!(c.listeners[0].addrs[0].port(), 587);
    let l = c.with_overrides(&c.listeners[0].overrides);
    assert_eq!(
        l.get_list("smtpd_client_restrictions"),
        vec!["permit_sasl_authenticated", "reject"]
    );
}

#[test]
fn settings_that_would_weaken_security_are_refused() {
    let e = errors(
        "myhostname = mx.example.com\n",
        Some("submission inet n - n - - smtpd\n -o smtpd_tls_security_level=encrypt\n -o smtpd_sasl_auth_enable=yes\n -o smtpd_sasl_type=cyrus\n"),
    );
    // STARTTLS and AUTH (through Dovecot) are offered: only the Cyrus
    // SASL type, which mta cannot speak, is refused.
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("master.cf:1: ") && e[0].contains("smtpd_sasl_type = cyrus"),
        "{e:?}"
    );
    let e = errors("smtpd_milters = inet:localhost:8891\n", None);
    assert!(e[0].contains("milters"), "{e:?}");
}

#[test]
fn bad_values_are_errors() {
    let e = errors("smtpd_error_sleep_time = soon\nsmtpd_timeout = 5x\nsmtpd_delay_reject = perhaps\nmessage_size_limit = 10M\nmynetworks_style = everything\n", None);
    assert_eq!(e.len(), 5, "{e:?}");
    assert!(e[0].contains("smtpd_error_sleep_time = soon: expected a time"));
}

#[test]
fn listeners_from_master_cf() {
    let c = Config::load(&dir_with(
        "inet_interfaces = 127.0.0.1\n",
        Some(
            "127.0.0.1:2525 inet n - n - - smtpd\n[::1]:2526 inet n - n - - smtpd\n\
             smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\n\
             myfilter unix - n n - - my-own-filter\n",
        ),
    ))
    .unwrap();
    let addrs: Vec<String> = c.listeners.iter().map(|l| l.addrs[0].to_string()).collect();
    assert_eq!(addrs, vec!["127.0.0.1:2525", "[::1]:2526", "127.0.0.1:25"]);
    assert!(c.warnings.iter().any(|w| w.contains("my-own-filter")));
    assert!(!c.warnings.iter().any(|w| w.contains("pickup")));
}

#[test]
fn without_master_cf_one_smtpd_on_port_25() {
    let c = Config::load(&dir_with("inet_interfaces = loopback-only\n", None)).unwrap();
    assert_eq!(c.listeners.len(), 1);
    assert!(c.listeners[0]
        .addrs
        .contains(&SocketAddr::from(([127, 0, 0, 1], 25))));
}

#[test]
fn defaults_and_expansion() {
    let c = Config::load(&dir_with(
        "myhostname = mx.example.com\nmydestination = $myhostname, localhost.$mydomain, ${mydomain}\nmaximal_queue_lifetime = 2\n",
        None,
    ))
    .unwrap();
    assert_eq!(c.get("mydomain"), "example.com");
    assert_eq!(
        c.get_list("mydestination"),
        vec!["mx.example.com", "localhost.example.com", "example.com"]
    );
    assert_eq!(
        c.get_time("maximal_queue_lifetime"),
        Duration::from_secs(2 * 86400)
    );
    assert_eq!(c.get_time("smtpd_timeout"), Duration::from_secs(300));
    assert_eq!(c.get_u64("message_size_limit"), 10240000);
    assert!(c.get_bool("smtpd_delay_reject"));
    assert_eq!(c.get("mynetworks_style"), "host");
    assert_eq!(c.get("plugin_time_limit"), "1s");
    assert_eq!(
        c.get("plugin_directory"),
        format!("{}/plugins", c.dir.display())
    );
    assert_eq!(c.get("relay_domains"), "");
    assert_eq!(
        c.get_list("smtpd_relay_restrictions"),
        vec![
            "permit_mynetworks",
            "permit_sasl_authenticated",
            "defer_unauth_destination"
        ]
    );
    let nets = c.get_list("mynetworks");
    assert!(nets.contains(&"127.0.0.1/32".to_string()), "{nets:?}");
    assert!(!nets.contains(&"127.0.0.0/8".to_string()), "{nets:?}");
}

#[test]
fn embedded_default_is_loopback_2525() {
    let c = Config::embedded_default(Path::new("/tmp/spool-x"));
    assert_eq!(
        c.listeners[0].addrs,
        vec![SocketAddr::from(([127, 0, 0, 1], 2525))]
    );
    assert_eq!(c.get("queue_directory"), "/tmp/spool-x");
    assert_eq!(c.get("control_socket"), "/tmp/spool-x/control");
    let dest = c.get_list("mydestination");
    assert_eq!(dest[1], "localhost");
    assert_eq!(dest[0], c.get("myhostname"));
    // postmaster@localhost works out of the box: no alias database to build.
    let tables = crate::tables::Tables::new(&c);
    let maps = c.get_list("alias_maps");
    assert_eq!(maps.len(), 1, "{maps:?}");
    let t = tables.open(&maps[0]).expect("embedded alias map opens");
    assert_eq!(t.get("postmaster").unwrap().as_deref(), Some("root"));
    assert_eq!(t.get("abuse").unwrap().as_deref(), Some("postmaster"));
}

#[test]
fn alias_maps_default_leaves_out_nis() {
    // Postfix appends nis:mail.aliases, which mta cannot read (see README).
    assert_eq!(Config::default().get("alias_maps"), "hash:/etc/aliases");
    assert_eq!(
        Config::default().get("local_recipient_maps"),
        "proxy:unix:passwd.byname hash:/etc/aliases"
    );
}

#[test]
fn open_relay_warnings() {
    let c = Config::load(&dir_with("mynetworks = 0.0.0.0/0 [::ffff:0:0]/96\n", None)).unwrap();
    let w = openrelay::warnings(&c);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].contains("every IPv4 address") && w[0].contains("main.cf:1"),
        "{w:?}"
    );
    let c = Config::load(&dir_with(
        "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = check_sender_access inline:{x=OK}, permit, reject_unauth_destination\n",
        None,
    ))
    .unwrap();
    let w = openrelay::warnings(&c).join("\n");
    assert!(
        w.contains("smtpd_relay_restrictions (") && w.contains("is empty"),
        "{w}"
    );
    assert!(w.contains("has permit before"), "{w}");
    assert!(w.contains("check_sender_access before"), "{w}");
    // Like Postfix's smtpd, refuse to run with no relay control at all.
    let e = errors(
        "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks\n",
        None,
    );
    assert!(e[0].contains("main.cf:2: open relay: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of"), "{e:?}");
    let e = errors(
        "myhostname = mx.example.com\n",
        Some("2526 inet n - n - - smtpd -o smtpd_relay_restrictions=permit_mynetworks\n"),
    );
    assert!(
        e[0].contains("master.cf:1: service 2526: open relay"),
        "{e:?}"
    );
    let safe = Config::load(&dir_with("myhostname = mx.example.com\n", None)).unwrap();
    assert_eq!(openrelay::warnings(&safe), Vec::<String>::new());
}

#[test]
fn raw_parameters_keep_their_macros() {
    let c = Config::load(&dir_with(
        "myhostname = mx.example.com\nvirtual_maps = hash:/etc/postfix/virtual\n",
        None,
    ))
    .unwrap();
    let raw = c.get("default_rbl_reply");
    assert!(raw.starts_with("$rbl_code Service unavailable"), "{raw}");
    let filled = c.expand_with(&raw, &|n| match n {
        "rbl_code" => Some("554".into()),
        "rbl_class" => Some("Client host".into()),
        "rbl_what" => Some("192.0.2.1".into()),
        "rbl_domain" => Some("zen.example".into()),
        "rbl_reason" => Some("listed".into()),
        _ => None,
    });
    assert_eq!(
        filled,
        "554 Service unavailable; Client host [192.0.2.1] blocked using zen.example; listed"
    );
    // The legacy name still feeds its successor's default.
    assert_eq!(c.get("virtual_alias_maps"), "hash:/etc/postfix/virtual");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn postscreen_port_is_served_by_smtpd() {
    let c = Config::load(&dir_with(
        "inet_interfaces = 127.0.0.1\n",
        Some("smtp inet n - y - 1 postscreen\nsmtpd pass - - y - - smtpd\ndnsblog unix - - y - 0 dnsblog\n"),
    ))
    .unwrap();
    assert_eq!(c.listeners.len(), 1);
    assert_eq!(
        c.listeners[0].addrs,
        vec![SocketAddr::from(([127, 0, 0, 1], 25))]
    );
    assert!(
        c.warnings
            .iter()
            .any(|w| w.contains("postscreen is not provided")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn relative_queue_directory_is_made_absolute_at_load() {
    let c = Config::load(&dir_with("queue_directory = spool/q\n", None)).unwrap();
    let want = std::env::current_dir().unwrap().join("spool/q");
    assert_eq!(c.get("queue_directory"), want.display().to_string());
    // plugin_cache_directory defaults to $queue_directory/plugin-cache and
    // so is absolute too (wasmtime's cache wants an absolute path).
    assert!(Path::new(&c.get("plugin_cache_directory")).is_absolute());
    let abs = Config::load(&dir_with("queue_directory = /var/spool/x\n", None)).unwrap();
    assert_eq!(abs.get("queue_directory"), "/var/spool/x");
}
