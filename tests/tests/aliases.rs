//! `mta postalias` / `mta newaliases` end to end: the same warnings and
//! errors as Postfix's postalias, and local delivery (and smtpd's
//! local_recipient_maps) reading the built database, not the text file.

use mta_e2e::queue4_util::submit;
use mta_e2e::queue_util::{free_port, run_mta, temp_dir, wait_for, Sink};
use mta_e2e::{scratch, Daemon};
use std::time::Duration;

#[test]
fn postalias_builds_queries_and_reports_like_postfix() {
    let dir = temp_dir("postalias");
    std::fs::write(
        dir.join("al"),
        "root: alice\nbogus line\nteam: bob,\n  carol\nRoot: dup\n: empty\n",
    )
    .unwrap();
    let (ok, _, err) = run_mta(&dir, &["postalias", "al"], b"");
    assert!(ok, "{err}");
    let al = dir.join("al").display().to_string();
    // Postfix 3.7's postalias on the same file says the same three things.
    assert_eq!(
        err,
        format!(
            "mta postalias: warning: {al}, line 2: need name:value pair\n\
             mta postalias: warning: {al}.redb: duplicate entry: \"root\"\n\
             mta postalias: warning: {al}, line 6: need name:value pair\n"
        )
    );
    let (ok, out, _) = run_mta(&dir, &["postalias", "-q", "TEAM", "al"], b"");
    assert!(ok);
    assert_eq!(out, "bob, carol\n");
    let (ok, out, _) = run_mta(&dir, &["postalias", "-q", "root", "hash:al"], b"");
    assert!(ok);
    assert_eq!(out, "alice\n", "the first of two duplicates wins");
    let (ok, out, _) = run_mta(&dir, &["postalias", "-q", "nobody", "al"], b"");
    assert!(!ok && out.is_empty(), "not found: exit status 1");

    let (ok, _, err) = run_mta(&dir, &["postalias", "nonexist"], b"");
    assert!(!ok);
    assert_eq!(
        err,
        format!(
            "mta postalias: fatal: open {}: No such file or directory\n",
            dir.join("nonexist").display()
        )
    );
    let (ok, _, err) = run_mta(&dir, &["postalias", "regexp:al"], b"");
    assert!(!ok);
    assert!(
        err.contains("unsupported map type for alias databases: regexp"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_delivery_uses_the_database_newaliases_built() {
    let sinkdir = temp_dir("newaliases-sink");
    let port = free_port();
    let sink = Sink::start(port, &sinkdir).await;
    // alias_database and alias_maps name the same table, relative to the
    // configuration directory; local_recipient_maps keeps its default
    // (unix:passwd.byname $alias_maps), so smtpd reads the built table too.
    let dir = scratch("newaliases");
    let smtpd = mta_e2e::free_port();
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}/spool\nmyhostname = mx.test\nmydestination = localhost\n\
             alias_maps = hash:aliases\nalias_database = hash:aliases\n\
             relayhost = [127.0.0.1]:{port}\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("master.cf"),
        format!("127.0.0.1:{smtpd} inet n - n - - smtpd\n"),
    )
    .unwrap();
    std::fs::write(dir.join("aliases"), "# the team\nteam: one@example.net\n").unwrap();
    let c = dir.to_str().unwrap().to_string();
    let (ok, _, err) = run_mta(&dir, &["newaliases", "-c", &c], b"");
    assert!(ok && err.is_empty(), "{err}");
    assert!(dir.join("aliases.redb").exists());
    let d = Daemon::spawn(dir, smtpd);

    let r = submit(
        d.addr(),
        "a@example.org",
        "team@localhost",
        "Subject: 1\r\n\r\nx",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for("to=<one@example.net>");
    // An unknown name is refused at RCPT from the same table.
    let r = submit(
        d.addr(),
        "a@example.org",
        "nobody-here@localhost",
        "Subject: x\r\n\r\nx",
    )
    .await;
    assert!(
        r.starts_with("550 5.1.1 <nobody-here@localhost>: Recipient address rejected: User unknown in local recipient table"),
        "{r}"
    );

    // Editing the text is not enough: delivery follows the built table...
    std::fs::write(d.dir.join("aliases"), "team: two@example.net\n").unwrap();
    let r = submit(
        d.addr(),
        "a@example.org",
        "team@localhost",
        "Subject: 2\r\n\r\nx",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for_nth("to=<one@example.net>", 2);
    // ...until it is rebuilt; then the next delivery uses the new entry.
    let (ok, _, err) = run_mta(&d.dir, &["newaliases", "-c", &c], b"");
    assert!(ok, "{err}");
    let r = submit(
        d.addr(),
        "a@example.org",
        "team@localhost",
        "Subject: 3\r\n\r\nx",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for("to=<two@example.net>");
    assert!(wait_for(Duration::from_secs(20), || sink.messages().len() == 3).await);
    assert!(!d.output().contains("status=deferred"), "{}", d.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_and_regexp_alias_maps_route_local_mail() {
    // Alias maps of any table type mta reads: smtpd accepts the names they
    // hold (local_recipient_maps includes $alias_maps) and local delivery
    // expands them, the first map holding a name winning.
    let sinkdir = temp_dir("aliasmaps-sink");
    let port = free_port();
    let sink = Sink::start(port, &sinkdir).await;
    let dir = scratch("aliasmaps");
    let smtpd = mta_e2e::free_port();
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}/spool\nmyhostname = mx.test\nmydestination = localhost\n\
             alias_maps = inline:{{ postmaster=pm@example.net, team-x=first@example.net }}, regexp:aliases.re\n\
             relayhost = [127.0.0.1]:{port}\n",
            dir.display()
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("master.cf"),
        format!("127.0.0.1:{smtpd} inet n - n - - smtpd\n"),
    )
    .unwrap();
    std::fs::write(dir.join("aliases.re"), "/^team-(.+)$/ $1@example.net\n").unwrap();
    let d = Daemon::spawn(dir, smtpd);
    for (rcpt, to) in [
        ("postmaster@localhost", "to=<pm@example.net>"),
        ("team-abc@localhost", "to=<abc@example.net>"),
        ("team-x@localhost", "to=<first@example.net>"),
    ] {
        let r = submit(d.addr(), "a@example.org", rcpt, "Subject: a\r\n\r\nx").await;
        assert!(r.starts_with("250"), "{rcpt}: {r}");
        d.wait_for(to);
    }
    let r = submit(
        d.addr(),
        "a@example.org",
        "nobody-here@localhost",
        "Subject: x\r\n\r\nx",
    )
    .await;
    assert!(
        r.starts_with("550 5.1.1 <nobody-here@localhost>: Recipient address rejected: User unknown in local recipient table"),
        "{r}"
    );
    assert!(wait_for(Duration::from_secs(20), || sink.messages().len() == 3).await);
    assert!(
        !d.output().contains("x@example.net>"),
        "team-x is the inline entry, not the regexp's: {}",
        d.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_alias_database_defers_with_a_clear_reason() {
    let d = Daemon::start(
        "noaliases",
        "mydestination = localhost\nalias_maps = hash:aliases\nlocal_recipient_maps =\n",
        &[],
    );
    // The text exists, but nobody ran newaliases.
    std::fs::write(d.dir.join("aliases"), "team: one@example.net\n").unwrap();
    let r = submit(
        d.addr(),
        "a@example.org",
        "team@localhost",
        "Subject: 1\r\n\r\nx",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    let line = d.wait_for("to=<team@localhost>");
    assert!(
        line.contains(&format!(
            "status=deferred (alias database unavailable: cannot open {}/aliases.redb (build it with: mta newaliases))",
            d.dir.display()
        )),
        "{line}"
    );
}
