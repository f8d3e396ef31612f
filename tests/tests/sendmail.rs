//! `mta sendmail` goes through cleanup like smtpd mail: virtual alias
//! rewriting, masquerading, header_checks, and the missing Date:,
//! Message-Id: and From: added — with the daemon running (control socket)
//! and without it (straight into the queue).

use mta_e2e::queue4_util::{counting_server, Received};
use mta_e2e::queue_util::{free_port, run_mta, temp_dir, wait_for};
use mta_e2e::{scratch, Daemon};
use std::path::Path;
use std::time::Duration;

/// main.cf lines for a virtual alias, masquerading and header checks.
fn shaping(tables: &Path, hop: u16) -> String {
    std::fs::write(
        tables.join("virtual"),
        "alias@example.com   real@example.net\n",
    )
    .unwrap();
    std::fs::write(
        tables.join("header_checks"),
        "/^Subject: .*forbidden/  REJECT no forbidden subjects\n/^X-Secret:/  IGNORE\n",
    )
    .unwrap();
    format!(
        "mydestination = localhost\nrelayhost = [127.0.0.1]:{hop}\n\
         virtual_alias_maps = texthash:{t}/virtual\n\
         masquerade_domains = example.org\n\
         header_checks = regexp:{t}/header_checks\n",
        t = tables.display()
    )
}

const MESSAGE: &[u8] =
    b"To: Someone <alias@example.com>\nSubject: hello\nX-Secret: 42\n\nthe body\n";

/// The message as shaped by cleanup, checked at the next hop.
fn assert_shaped(m: &Received) {
    assert_eq!(
        m.rcpts,
        ["<real@example.net>"],
        "virtual alias applied to the envelope"
    );
    assert_eq!(m.from, "<user@example.org>", "sender masqueraded");
    let t = &m.text;
    assert!(
        t.contains("\r\nFrom: user@example.org\r\n"),
        "From: added from the rewritten sender:\n{t}"
    );
    assert!(t.contains("\r\nDate: "), "Date: added:\n{t}");
    assert!(
        t.contains("\r\nMessage-Id: <") && t.contains("@mx.test>\r\n"),
        "Message-Id: added:\n{t}"
    );
    assert!(
        t.starts_with("Received: by mx.test (mta, from userid "),
        "{t}"
    );
    assert!(
        t.contains("To: Someone <alias@example.com>\r\n"),
        "headers are not virtual-aliased:\n{t}"
    );
    assert!(
        !t.contains("X-Secret"),
        "header_checks IGNORE applied:\n{t}"
    );
    assert!(t.contains("\r\n\r\nthe body\r\n"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendmail_through_the_daemon_is_shaped_by_cleanup() {
    let tables = temp_dir("sendmail-cleanup");
    let hop = free_port();
    let next = counting_server(hop, Duration::ZERO).await;
    let d = Daemon::start("sendmail-cleanup", &shaping(&tables, hop), &[]);
    let c = d.dir.to_str().unwrap().to_string();
    let (ok, _, err) = tokio::task::block_in_place(|| {
        run_mta(
            &d.dir,
            &["sendmail", "-c", &c, "-t", "-f", "user@host.example.org"],
            MESSAGE,
        )
    });
    assert!(ok, "{err}");
    assert!(wait_for(Duration::from_secs(20), || next.received() == 1).await);
    assert_shaped(&next.messages.lock().unwrap()[0]);
    d.wait_for("uid=");

    // header_checks REJECT refuses the submission, and the submitter hears it.
    let (ok, _, err) = tokio::task::block_in_place(|| {
        run_mta(
            &d.dir,
            &[
                "sendmail",
                "-c",
                &c,
                "-f",
                "user@example.org",
                "real@example.net",
            ],
            b"Subject: forbidden fruit\n\nno\n",
        )
    });
    assert!(!ok);
    assert!(err.contains("550 5.7.1 no forbidden subjects"), "{err}");
    d.wait_for("reject: header Subject: forbidden fruit from local;");

    // Without -f the sender is the login user @ myhostname, and From: says so.
    let (ok, _, err) = tokio::task::block_in_place(|| {
        run_mta(
            &d.dir,
            &["sendmail", "-c", &c, "real@example.net"],
            b"Subject: mine\n\nx\n",
        )
    });
    assert!(ok, "{err}");
    assert!(wait_for(Duration::from_secs(20), || next.received() == 2).await);
    let m = next.messages.lock().unwrap()[1].clone();
    let uid = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").unwrap().uid()
    };
    let login = std::fs::read_to_string("/etc/passwd")
        .unwrap()
        .lines()
        .find(|l| l.split(':').nth(2) == Some(uid.to_string().as_str()))
        .and_then(|l| l.split(':').next().map(String::from))
        .expect("the test user is in /etc/passwd");
    assert_eq!(m.from, format!("<{login}@mx.test>"));
    assert!(
        m.text.contains(&format!("\r\nFrom: {login}@mx.test\r\n")),
        "{}",
        m.text
    );
    assert!(
        m.text.contains(&format!("(mta, from userid {uid})")),
        "{}",
        m.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sendmail_without_a_daemon_is_shaped_by_the_same_cleanup() {
    let tables = temp_dir("sendmail-direct");
    let hop = free_port();
    let next = counting_server(hop, Duration::ZERO).await;
    // Queue first with no daemon running, then start one to deliver.
    let dir = scratch("sendmail-direct");
    let smtpd = mta_e2e::free_port();
    std::fs::write(
        dir.join("main.cf"),
        format!(
            "queue_directory = {}/spool\nmyhostname = mx.test\n{}",
            dir.display(),
            shaping(&tables, hop)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("master.cf"),
        format!("127.0.0.1:{smtpd} inet n - n - - smtpd\n"),
    )
    .unwrap();
    let c = dir.to_str().unwrap().to_string();
    let (ok, _, err) = tokio::task::block_in_place(|| {
        run_mta(
            &dir,
            &["sendmail", "-c", &c, "-t", "-f", "user@host.example.org"],
            MESSAGE,
        )
    });
    assert!(ok, "{err}");
    let (ok, _, err) = tokio::task::block_in_place(|| {
        run_mta(
            &dir,
            &[
                "sendmail",
                "-c",
                &c,
                "-f",
                "user@example.org",
                "real@example.net",
            ],
            b"Subject: forbidden fruit\n\nno\n",
        )
    });
    assert!(
        !ok && err.contains("550 5.7.1 no forbidden subjects"),
        "{err}"
    );
    let _d = Daemon::spawn(dir, smtpd);
    assert!(wait_for(Duration::from_secs(20), || next.received() == 1).await);
    assert_shaped(&next.messages.lock().unwrap()[0]);
}
