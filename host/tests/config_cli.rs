//! `mta check`, `mta postconf` and `mta postmap` end to end through the
//! built binary, including configurations from the gateway howtos.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh configuration directory with the given files, removed on drop.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(files: &[(&str, &str)]) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "mta-config-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    TempDir(d)
}

fn mta(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mta"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run mta")
}

fn text(o: &Output) -> (String, String, i32) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

fn check(d: &Path) -> (String, String, i32) {
    text(&mta(&["check", "-c", d.to_str().unwrap()], d))
}

#[test]
fn check_accepts_a_good_config_and_lists_listeners() {
    let d = dir(&[
        ("main.cf", "myhostname = mx.example.com\nbiff = no\n"),
        (
            "master.cf",
            "127.0.0.1:2525 inet n - n - - smtpd\nsmtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\n",
        ),
    ]);
    let (out, err, code) = check(&d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("smtpd 127.0.0.1:2525: listening on 127.0.0.1:2525"),
        "{out}"
    );
    assert!(out.contains("configuration OK"), "{out}");
    assert!(
        err.contains("warning: ")
            && err.contains("biff is a Postfix parameter that mta does not implement"),
        "{err}"
    );
    assert!(
        err.contains("master.cf:2: column chroot = y has no meaning"),
        "{err}"
    );
    assert!(!err.contains("open relay"), "{err}");
}

#[test]
fn check_refuses_a_misspelt_parameter_naming_line_and_suggestion() {
    let d = dir(&[(
        "main.cf",
        "myhostname = mx.example.com\n\n# the howto's mistake\nsmtp_helo_restrictions = reject_invalid_helo_hostname\n",
    )]);
    let (_, err, code) = check(&d);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("main.cf:4: unknown parameter smtp_helo_restrictions; did you mean smtpd_helo_restrictions?"), "{err}");
}

#[test]
fn check_loads_debian_stock_main_cf_with_warnings_only() {
    for stock in [
        "/usr/share/postfix/main.cf.debian",
        "/usr/share/postfix/main.cf.dist",
    ] {
        let main = std::fs::read_to_string(stock).unwrap();
        let d = dir(&[("main.cf", &main)]);
        let (out, err, code) = check(&d);
        assert_eq!(code, 0, "{stock}: {out}{err}");
        assert!(!err.contains("error"), "{stock}: {err}");
    }
}

#[test]
fn check_reports_what_plugins_say_about_their_tables() {
    // local_recipient_maps follows alias_maps into the restrictions plugin:
    // what the plugin says about a table it cannot use reaches the operator
    // from `mta check`, not first at run time.
    let d = dir(&[(
        "main.cf",
        "mydestination = localhost\nalias_maps = nis:mail.aliases\n",
    )]);
    let (out, err, code) = check(&d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains(
            "warning: plugin restrictions: table nis:mail.aliases: table type \"nis\" is not supported"
        ),
        "{err}"
    );
}

#[test]
fn check_warns_about_open_relays() {
    // Seed 004's lesson: a mynetworks that covers everything, with
    // permit_mynetworks first, relays for anyone.
    let d = dir(&[(
        "main.cf",
        "smtpd_recipient_restrictions = permit_mynetworks, check_relay_domains\n\
         mynetworks = [::ffff:0.0.0.0]/96 [::1]/128\n",
    )]);
    let (_, err, code) = check(&d);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning: open relay: mynetworks"), "{err}");
    assert!(
        err.contains("every IPv4 address (as IPv4-mapped IPv6 addresses)"),
        "{err}"
    );
    assert!(err.contains("main.cf:2"), "{err}");

    let d = dir(&[("main.cf", "mynetworks = 0.0.0.0/0\n")]);
    let (_, err, _) = check(&d);
    assert!(
        err.contains("covers every IPv4 address; permit_mynetworks lets all of them relay"),
        "{err}"
    );

    let d = dir(&[(
        "main.cf",
        "smtpd_relay_restrictions =\nsmtpd_recipient_restrictions = permit_mynetworks, permit, reject_unauth_destination\n",
    )]);
    let (_, err, _) = check(&d);
    assert!(
        err.contains("smtpd_relay_restrictions (") && err.contains("is empty"),
        "{err}"
    );
    assert!(
        err.contains("has permit before reject_unauth_destination"),
        "{err}"
    );

    let d = dir(&[(
        "main.cf",
        "smtpd_relay_restrictions = permit_mynetworks\nsmtpd_recipient_restrictions = permit_mynetworks\n",
    )]);
    // Postfix's smtpd refuses to start here (fatal); so does mta check.
    let (_, err, code) = check(&d);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: ")
            && err.contains("specify at least one working instance of: reject_unauth_destination"),
        "{err}"
    );

    // A listener's -o can open what main.cf closed.
    let d = dir(&[
        ("main.cf", "myhostname = mx.example.com\n"),
        (
            "master.cf",
            "2526 inet n - n - - smtpd -o smtpd_relay_restrictions=permit,reject_unauth_destination\n",
        ),
    ]);
    let (_, err, code) = check(&d);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "service 2526: open relay: smtpd_relay_restrictions (master.cf -o) has permit before"
        ),
        "{err}"
    );
}

#[test]
fn check_rejects_the_seed_004_mynetworks_typo() {
    // As printed in the howto, `[::fff:]/104` is no network at all.
    let d = dir(&[(
        "main.cf",
        "smtpd_recipient_restrictions = permit_mynetworks, check_relay_domains\nmynetworks = [::fff:]/104 [::1]/128\n",
    )]);
    let (_, err, code) = check(&d);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("main.cf:2: mynetworks: \"[::fff:]/104\" is not a valid network"),
        "{err}"
    );
}

#[test]
fn check_the_seed_003_gateway_with_its_tables() {
    let d = dir(&[
        ("header_checks", "/^From:(.*)@spammer\\.com$/         REJECT\n/^From:(.*)@sex\\.com$/ REJECT Geeks have no time for this\n/^Subject: hot hot hot$/ WARN\n"),
        ("body_checks", "/^(.*)name\\=\\\"(.*)\\.(zip|gz|Z|bz)\\\"$/ REJECT\n/^(.*)name\\=\\\"(.*)\\.(com|exe)\\\"$/ REJECT Please no executable\n"),
        ("helo_friends", "/^smtp\\.goodfriend\\.com$/   friends_only\n"),
        ("friends", "/^smtp\\.goodfriend\\.com$/   OK\n"),
        ("client_access", "10.0.0.1      OK\n"),
    ]);
    let p = |f: &str| d.join(f).display().to_string();
    let main = format!(
        "myhostname = mailgateway.example.com\nmydomain = example.com\nmyorigin = $mydomain\n\
         mydestination = $myhostname, localhost.$mydomain, $mydomain\n\
         mynetworks = 192.168.1.0/24, 127.0.0.0/8\nrelay_domains = $mydestination, other.com\n\
         local_recipient_maps = $alias_maps, unix:passwd.byname\nalias_maps = $alias_database\nalias_database = hash:{aliases}\n\
         disable_vrfy_command = yes\nsmtpd_banner = $myhostname NO UCE ESMTP\nbiff = no\nmessage_size_limit = 2048000\n\
         smtpd_delay_reject = no\nsmtpd_helo_required = yes\nstrict_rfc821_envelopes = yes\n\
         smtpd_client_restrictions =\n        check_client_access hash:{client_access},\n        reject_unauth_pipelining,\n        reject_unknown_client\n\
         smtpd_helo_restrictions =\n        regexp:{helo_friends},\n        reject_invalid_hostname\n\
         smtpd_restriction_classes = friends_only\nfriends_only = check_helo_access regexp:{friends}\n\
         smtpd_recipient_restrictions = reject_non_fqdn_recipient, check_relay_domains\n\
         header_checks = regexp:{header_checks}\nbody_checks = pcre:{body_checks}\n",
        aliases = p("aliases"),
        client_access = p("client_access"),
        helo_friends = p("helo_friends"),
        friends = p("friends"),
        header_checks = p("header_checks"),
        body_checks = p("body_checks"),
    );
    std::fs::write(d.join("main.cf"), main).unwrap();
    std::fs::write(d.join("aliases"), "postmaster: root\n").unwrap();
    // Until the hash tables are built, check says how to build them.
    let (_, err, code) = check(&d);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("mta postmap"), "{err}");
    for t in ["client_access", "aliases"] {
        let o = mta(&["postmap", t], &d);
        assert!(o.status.success(), "{:?}", text(&o));
    }
    let (out, err, code) = check(&d);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("open relay"), "{err}");
    // The restriction class makes friends_only a parameter.
    let (out, _, code) = text(&mta(
        &["postconf", "-c", d.to_str().unwrap(), "friends_only"],
        &d,
    ));
    assert_eq!(code, 0);
    assert!(
        out.starts_with("friends_only = check_helo_access regexp:"),
        "{out}"
    );
}

#[test]
fn check_refuses_pcre_constructs_the_regex_crate_lacks() {
    let d = dir(&[("body_checks", "/^ok$/ OK\n/(foo)bar\\1/ REJECT doubled\n")]);
    let main = format!("body_checks = pcre:{}\n", d.join("body_checks").display());
    std::fs::write(d.join("main.cf"), main).unwrap();
    let (_, err, code) = check(&d);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("body_checks:2: ") && err.contains("backreference"),
        "{err}"
    );
}

#[test]
fn postconf_formats() {
    let d = dir(&[(
        "main.cf",
        "myhostname = mx.example.com\nmydestination = $myhostname, localhost\nrelay_domains =\n",
    )]);
    let c = d.to_str().unwrap();
    let (out, _, code) = text(&mta(&["postconf", "-c", c, "-n"], &d));
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "mydestination = $myhostname, localhost\nmyhostname = mx.example.com\nrelay_domains =\n"
    );
    let (out, _, _) = text(&mta(&["postconf", "-c", c, "-x", "mydestination"], &d));
    assert_eq!(out, "mydestination = mx.example.com, localhost\n");
    let (out, _, _) = text(&mta(
        &[
            "postconf",
            "-c",
            c,
            "-d",
            "mynetworks_style",
            "smtpd_relay_restrictions",
            "plugin_time_limit",
        ],
        &d,
    ));
    assert_eq!(
        out,
        "mynetworks_style = host\nsmtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination\nplugin_time_limit = 1s\n"
    );
    let (out, err, code) = text(&mta(&["postconf", "-c", c, "no_such_parameter"], &d));
    assert_eq!((out.as_str(), code), ("", 1));
    assert!(
        err.contains("no_such_parameter: unknown parameter"),
        "{err}"
    );
    let (out, _, code) = text(&mta(&["postconf", "-c", c], &d));
    assert_eq!(code, 0);
    assert!(out.lines().count() > 1000);
    assert!(out.contains("\nmyhostname = mx.example.com\n"));
    // Same format as Postfix's own postconf for a default.
    let pf = Command::new("postconf")
        .args(["-d", "smtpd_banner"])
        .output()
        .unwrap();
    let (ours, _, _) = text(&mta(&["postconf", "-c", c, "-d", "smtpd_banner"], &d));
    assert_eq!(ours, String::from_utf8_lossy(&pf.stdout));
}

#[test]
fn postmap_builds_and_queries() {
    let d = dir(&[
        ("main.cf", "myhostname = mx.example.com\n"),
        (
            "access",
            "# howto access table\nspammer.example REJECT\nFriend@Example.COM OK\n10.0.0.1 OK\n",
        ),
        ("helo.regexp", "/^smtp\\.goodfriend\\.com$/ OK\n"),
    ]);
    let c = d.to_str().unwrap();
    let o = mta(&["postmap", "-c", c, "access"], &d);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(d.join("access.redb").exists());
    let (out, _, code) = text(&mta(
        &[
            "postmap",
            "-c",
            c,
            "-q",
            "friend@example.com",
            "hash:access",
        ],
        &d,
    ));
    assert_eq!((out.as_str(), code), ("OK\n", 0));
    let (out, _, code) = text(&mta(&["postmap", "-q", "SPAMMER.example", "access"], &d));
    assert_eq!((out.as_str(), code), ("REJECT\n", 0));
    let (out, _, code) = text(&mta(&["postmap", "-q", "other.example", "hash:access"], &d));
    assert_eq!((out.as_str(), code), ("", 1));
    let (out, _, code) = text(&mta(
        &["postmap", "-q", "SMTP.goodfriend.com", "regexp:helo.regexp"],
        &d,
    ));
    assert_eq!((out.as_str(), code), ("OK\n", 0));
    let (out, _, code) = text(&mta(
        &["postmap", "-q", "1.2.3.4", "cidr:{ {1.2.3.0/24 near} }"],
        &d,
    ));
    assert_eq!((out.as_str(), code), ("near\n", 0));
    // Rebuilding replaces the old contents.
    std::fs::write(d.join("access"), "new.example OK\n").unwrap();
    assert!(mta(&["postmap", "access"], &d).status.success());
    let (_, _, code) = text(&mta(&["postmap", "-q", "spammer.example", "access"], &d));
    assert_eq!(code, 1);
    let (_, err, code) = text(&mta(&["postmap", "regexp:helo.regexp"], &d));
    assert_eq!(code, 1);
    assert!(err.contains("read directly"), "{err}");
    let (_, err, code) = text(&mta(&["postmap", "no-such-file"], &d));
    assert_eq!(code, 1);
    assert!(err.contains("no-such-file"), "{err}");
}

#[test]
fn check_catches_the_seed_000_mistakes() {
    // "set check_recipient_access = hash:access" and the misspelt
    // "smtpd_recipient_restricitons" from the first howto.
    let d = dir(&[(
        "main.cf",
        "mydestination = $myhostname, localhost.$mydomain, $mydomain\n\
         check_recipient_access = hash:access\n\
         smtpd_recipient_restricitons = permit_mynetworks, reject_unauth_destination\n\
         masquerade_domains = $mydomain\nmasquerade_exceptions = root\n",
    )]);
    let (_, err, code) = check(&d);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("main.cf:2: check_recipient_access is a restriction, not a parameter"),
        "{err}"
    );
    assert!(err.contains("main.cf:3: unknown parameter smtpd_recipient_restricitons; did you mean smtpd_recipient_restrictions?"), "{err}");
}

#[test]
fn check_the_seed_001_workstation_config() {
    // Seed 001's main.cf, with its mynetworks written as a valid network.
    let main = "smtpd_banner = $myhostname ESMTP $mail_name (Ubuntu)\nbiff = no\nappend_dot_mydomain = no\n\
        readme_directory = no\n\
        smtpd_tls_session_cache_database = btree:${data_directory}/smtpd_scache\n\
        smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache\n\
        myhostname = localhost\nalias_maps = hash:/etc/aliases\nalias_database = hash:/etc/aliases\n\
        mydestination = $myhostname, localhost.$mydomain, $mydomain\nrelayhost =\n\
        mynetworks = [::ffff:127.0.0.0]/104 [::1]/128,\n\
        mailbox_command = procmail -a \"$EXTENSION\"\nmailbox_size_limit = 0\nrecipient_delimiter = +\n\
        inet_interfaces = localhost\ndefault_transport = error\nrelay_transport = error\ninet_protocols = ipv4\n";
    let d = dir(&[("main.cf", main)]);
    let (out, err, code) = text(&mta(&["check", "-c", d.to_str().unwrap()], &d));
    // /etc/aliases.redb does not exist here: the table error is the only error.
    assert!(
        err.contains("hash:/etc/aliases") && err.contains("mta postmap"),
        "{err}"
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(!err.contains("open relay"), "{err}");
    assert!(err.contains("warning: ") && err.contains("biff"), "{err}");
    // inet_protocols = ipv4 keeps only 127.0.0.1 of "localhost".
    assert!(
        out.contains("smtpd smtp: listening on 127.0.0.1:25\n"),
        "{out}"
    );
    // The raw macro survives for local delivery to fill in.
    let (out, _, _) = text(&mta(
        &[
            "postconf",
            "-c",
            d.to_str().unwrap(),
            "-x",
            "mailbox_command",
        ],
        &d,
    ));
    assert_eq!(out, "mailbox_command = procmail -a \"$EXTENSION\"\n");
}

/// Ask Postfix's own `postmap -q` (Debian's package is installed) and ours
/// the same questions about the same table files.
fn compare_with_postfix(d: &Path, spec: &str, keys: &[&str]) {
    for key in keys {
        let theirs = Command::new("postmap")
            .args(["-q", key, spec])
            .current_dir(d)
            .output()
            .expect("Postfix's postmap is installed");
        let ours = mta(&["postmap", "-q", key, spec], d);
        assert_eq!(
            (String::from_utf8_lossy(&ours.stdout), ours.status.code()),
            (
                String::from_utf8_lossy(&theirs.stdout),
                theirs.status.code()
            ),
            "{spec} -q {key:?}: ours vs Postfix (stderr {})",
            String::from_utf8_lossy(&theirs.stderr)
        );
    }
}

#[test]
fn lookups_agree_with_postfix() {
    let d = dir(&[
        (
            "t.regexp",
            "# header checks in the style of the howtos\n\
             /^From:(.*)@spammer\\.com$/ REJECT from $1\n\
             /^[\\.]$/ dot-or-backslash\n\
             if !/^owner-/\n/^(.*)-outgoing@(.*)$/  550 Use ${1}@${2} instead\nendif\n\
             /^Subject:.*\\<hot\\>/ WARN hot\n\
             /^X-Case: Yes$/i case\n\
             !/@/ no-at\n",
        ),
        (
            "t.pcre",
            "/^(.*)name\\=\\\"(.*)\\.(zip|gz|Z|bz)\\\"$/ REJECT $3\n\
             /^Subject: (?:re: )?(\\w+) deal$/ WARN $1\n\
             /^a.b$/s no-dotall\n/^x.y$/ dotall\n\
             /^(a|ab)(c|bcd)(d*)$/ $1-$2-$3\n",
        ),
        (
            "t.cidr",
            "192.168.1.1 exact\n192.168.0.0/16 sixteen\n2001:db8::/32 v6\n0.0.0.0/0 all-v4\n",
        ),
        (
            "access",
            "Spammer@Example.COM REJECT a\nexample.net OK\npostmaster@ DUNNO\n10.1 net\n",
        ),
    ]);
    compare_with_postfix(
        &d,
        "regexp:t.regexp",
        &[
            "From: Bob@SPAMMER.com",
            "From: bob@spammer.com.evil",
            "\\",
            ".",
            "list-outgoing@x.org",
            "owner-list-outgoing@x.org",
            "Subject: hot stuff",
            "Subject: hotter stuff",
            "X-Case: yes",
            "X-Case: Yes",
            "plain",
        ],
    );
    compare_with_postfix(
        &d,
        "pcre:t.pcre",
        &[
            "Content-Type: name=\"x.ZIP\"",
            "name=\"doc.pdf\"",
            "Subject: RE: Great deal",
            "a\nb",
            "x\ny",
            "abcd",
            "nothing",
        ],
    );
    compare_with_postfix(
        &d,
        "cidr:t.cidr",
        &[
            "192.168.1.1",
            "192.168.200.7",
            "10.0.0.1",
            "2001:db8::99",
            "2001:db9::1",
        ],
    );
    // hash: Postfix builds its own .db, we build .redb, from the same source.
    let pf = Command::new("postmap")
        .arg("hash:access")
        .current_dir(&*d)
        .output()
        .unwrap();
    assert!(
        pf.status.success(),
        "{}",
        String::from_utf8_lossy(&pf.stderr)
    );
    assert!(mta(&["postmap", "hash:access"], &d).status.success());
    compare_with_postfix(
        &d,
        "hash:access",
        &[
            "spammer@example.com",
            "SPAMMER@example.com",
            "example.net",
            "postmaster@",
            "10.1",
            "other",
        ],
    );
}

#[test]
fn postconf_defaults_match_postfix_except_documented_deviations() {
    let d = dir(&[("main.cf", "")]);
    let parse = |out: &[u8]| -> std::collections::BTreeMap<String, String> {
        String::from_utf8_lossy(out)
            .lines()
            .filter_map(|l| {
                let (n, v) = l.split_once(" =")?;
                Some((n.to_string(), v.trim().to_string()))
            })
            .collect()
    };
    let theirs = parse(&Command::new("postconf").arg("-d").output().unwrap().stdout);
    let ours = parse(&mta(&["postconf", "-c", d.to_str().unwrap(), "-d"], &d).stdout);
    assert!(theirs.len() > 1000);
    // Deliberate: compatibility_level 3.6 evaluated; our own queue and
    // config directories; mynetworks per mynetworks_style = host; and
    // process_id is each process's own; mail_name names the software that
    // answers (the banner says mta, not Postfix); SASL goes to Dovecot's
    // socket, the only SASL server mta speaks to; alias_maps leaves out NIS,
    // which mta cannot read.
    let deviations = [
        "alias_maps",
        "smtpd_sasl_type",
        "smtpd_sasl_path",
        "mail_name",
        "compatibility_level",
        "queue_directory",
        "config_directory",
        "mynetworks",
        "process_id",
    ];
    let mut differ = Vec::new();
    for (name, value) in &theirs {
        let Some(mine) = ours.get(name) else {
            differ.push(format!("{name}: missing"));
            continue;
        };
        if deviations.contains(&name.as_str()) || value.contains("${{$") {
            continue;
        }
        if mine != value {
            differ.push(format!("{name}: ours {mine:?}, Postfix {value:?}"));
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
    assert_eq!(ours["mynetworks_style"], "host");
    assert_eq!(ours["plugin_time_limit"], "1s");
}

#[test]
fn check_warns_about_the_seeds_old_restriction_names() {
    // The restriction names of seed 002 (Postfix 1.x): they work, mapped to
    // today's names, and `mta check` says so with the main.cf line.
    let main = "mydestination = mx.test\n\
        maps_rbl_domains = rbl.maps.vix.com, dul.maps.vix.com\n\
        smtpd_client_restrictions = reject_unknown_client, reject_maps_rbl\n\
        smtpd_helo_restrictions = reject_invalid_hostname, reject_non_fqdn_hostname, reject_unknown_hostname\n\
        smtpd_restriction_classes = old\nold = check_relay_domains\n\
        smtpd_recipient_restrictions = permit_mynetworks, check_relay_domains\n";
    let d = dir(&[("main.cf", main)]);
    let (out, err, code) = check(&d);
    assert_eq!(code, 0, "{out}{err}");
    for (line, list, old, modern) in [
        (
            3,
            "smtpd_client_restrictions",
            "reject_unknown_client",
            "reject_unknown_client_hostname",
        ),
        (
            3,
            "smtpd_client_restrictions",
            "reject_maps_rbl",
            "reject_rbl_client DOMAIN for each maps_rbl_domains entry",
        ),
        (
            4,
            "smtpd_helo_restrictions",
            "reject_invalid_hostname",
            "reject_invalid_helo_hostname",
        ),
        (
            4,
            "smtpd_helo_restrictions",
            "reject_non_fqdn_hostname",
            "reject_non_fqdn_helo_hostname",
        ),
        (
            4,
            "smtpd_helo_restrictions",
            "reject_unknown_hostname",
            "reject_unknown_helo_hostname",
        ),
        (
            6,
            "old",
            "check_relay_domains",
            "permit_mynetworks, permit_auth_destination, reject_unauth_destination",
        ),
        (
            7,
            "smtpd_recipient_restrictions",
            "check_relay_domains",
            "permit_mynetworks, permit_auth_destination, reject_unauth_destination",
        ),
    ] {
        let want = format!(
            "mta: warning: {list} ({}/main.cf:{line}): restriction \"{old}\" is obsolete: using {modern} instead\n",
            d.display()
        );
        assert!(err.contains(&want), "missing {want:?} in:\n{err}");
    }
    // Modern names draw no such warning.
    let d = dir(&[(
        "main.cf",
        "smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n",
    )]);
    let (_, err, _) = check(&d);
    assert!(!err.contains("obsolete"), "{err}");
}
