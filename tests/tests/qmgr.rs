//! The queue manager end to end against the real daemon: deferred mail to a
//! destination that comes back goes out promptly but within the
//! destination's concurrency limit, and `mta reload` re-reads the delivery
//! parameters.

use mta_e2e::queue4_util::{counting_server, submit};
use mta_e2e::queue_util::{free_port, temp_dir, wait_for, Sink};
use mta_e2e::{mta_bin, Daemon};
use std::process::Command;
use std::time::{Duration, Instant};

/// N messages deferred with a backoff of an hour come back within seconds
/// once a new message to the same destination gets through, and the next
/// hop never sees more than default_destination_concurrency_limit sessions
/// at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_mail_follows_a_destination_that_comes_back_within_its_concurrency() {
    const DEFERRED: usize = 6;
    let hop = free_port();
    let d = Daemon::start(
        "revive",
        &format!(
            "relayhost = [127.0.0.1]:{hop}\n\
             minimal_backoff_time = 3600s\n\
             maximal_backoff_time = 4000s\n\
             queue_run_delay = 3600s\n\
             default_destination_concurrency_limit = 2\n"
        ),
        &[],
    );
    for i in 0..DEFERRED {
        let r = submit(
            d.addr(),
            "a@example.org",
            "b@example.net",
            &format!("Subject: early {i}\r\n\r\nwaiting"),
        )
        .await;
        assert!(r.starts_with("250"), "{r}");
    }
    d.wait_for_nth("status=deferred", DEFERRED);

    // The next hop comes up; each end-of-data is held 300ms so sessions
    // overlap whenever the queue manager runs them in parallel.
    let counts = counting_server(hop, Duration::from_millis(300)).await;
    let started = Instant::now();
    let r = submit(
        d.addr(),
        "a@example.org",
        "b@example.net",
        "Subject: the one that finds it up\r\n\r\nnew",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    assert!(
        wait_for(Duration::from_secs(30), || counts.received()
            == DEFERRED + 1)
        .await,
        "only {} of {} messages arrived; log:\n{}",
        counts.received(),
        DEFERRED + 1,
        d.output()
    );
    // Well before the hour of backoff the deferred ones were waiting out.
    assert!(started.elapsed() < Duration::from_secs(30));
    d.wait_for("is reachable again; its deferred mail is scheduled now");
    let peak = counts.peak();
    assert!(
        peak <= 2,
        "{peak} sessions at once, over the concurrency limit of 2"
    );
    assert_eq!(
        peak, 2,
        "the released mail used the destination's slots in parallel"
    );
    let subjects: Vec<String> = counts
        .messages
        .lock()
        .unwrap()
        .iter()
        .filter_map(|m| {
            m.text
                .lines()
                .find(|l| l.starts_with("Subject:"))
                .map(String::from)
        })
        .collect();
    for i in 0..DEFERRED {
        assert!(
            subjects.contains(&format!("Subject: early {i}")),
            "{subjects:?}"
        );
    }
    assert!(d.queued().is_empty());
}

/// `relayhost` changed in main.cf and `mta reload`: the next message goes
/// to the new next hop without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_applies_a_new_relayhost_to_the_next_message() {
    let dir = temp_dir("reload-relayhost");
    let (p1, p2) = (free_port(), free_port());
    let old = Sink::start(p1, &dir.join("old")).await;
    let new = Sink::start(p2, &dir.join("new")).await;
    let d = Daemon::start(
        "reload-relayhost",
        &format!("relayhost = [127.0.0.1]:{p1}"),
        &[],
    );
    let r = submit(
        d.addr(),
        "a@example.org",
        "b@example.net",
        "Subject: one\r\n\r\nx",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for(&format!("relay=127.0.0.1[127.0.0.1]:{p1}"));
    assert!(wait_for(Duration::from_secs(20), || old.messages().len() == 1).await);

    let main = std::fs::read_to_string(d.dir.join("main.cf"))
        .unwrap()
        .replace(&format!("[127.0.0.1]:{p1}"), &format!("[127.0.0.1]:{p2}"));
    std::fs::write(d.dir.join("main.cf"), main).unwrap();
    let st = Command::new(mta_bin())
        .args(["reload", "-c"])
        .arg(&d.dir)
        .status()
        .expect("mta reload");
    assert!(st.success());
    d.wait_for("mta: reloaded");

    let r = submit(
        d.addr(),
        "a@example.org",
        "b@example.net",
        "Subject: two\r\n\r\ny",
    )
    .await;
    assert!(r.starts_with("250"), "{r}");
    d.wait_for(&format!("relay=127.0.0.1[127.0.0.1]:{p2}"));
    assert!(wait_for(Duration::from_secs(20), || new.messages().len() == 1).await);
    assert!(new.messages()[0].contains("Subject: two"));
    assert_eq!(
        old.messages().len(),
        1,
        "nothing more went to the old relayhost"
    );
}
