//! `mta sendmail`, `mta queue ...` and `mta flush`/`stop`, as processes,
//! with and without a daemon's control socket.

use mta::config::Config;
use mta::control::ControlEvent;
use mta::qmgr::Qmgr;
use mta::queue::Queue;
use mta::rewrite::Resolver;
use mta_e2e::queue_util::{config_dir, free_port, run_mta, temp_dir, wait_for, Sink};
use std::sync::Arc;
use std::time::Duration;

fn ids_from_json(out: &str) -> Vec<(String, String)> {
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            (
                v["queue_id"].as_str().unwrap_or("").to_string(),
                v["queue"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn sendmail_and_queue_tools_without_a_daemon() {
    let dir = temp_dir("cli");
    let cf = config_dir(&dir, "");
    let c = cf.to_str().unwrap();
    let (ok, _, err) = run_mta(
        &dir,
        &["sendmail", "-c", c, "-f", "a@example.org", "b@example.net"],
        b"Subject: one\n\nhello\n.\nnot part of it\n",
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run_mta(
        &dir,
        &["sendmail", "-c", c, "-t", "-oi"],
        b"To: C <c@example.net>\nBcc: d@example.net\nSubject: two\n\n.\nstill body\n",
    );
    assert!(ok, "{err}");
    let (ok, out, err) = run_mta(&dir, &["queue", "list", "-c", c, "--json"], b"");
    assert!(ok, "{err}");
    assert!(out.contains("\"sender\":\"a@example.org\"") && out.contains("b@example.net"));
    assert!(
        out.contains("c@example.net") && out.contains("d@example.net"),
        "-t takes To: and Bcc:"
    );
    let ids = ids_from_json(&out);
    assert_eq!(ids.len(), 2);

    let (ok, out, _) = run_mta(&dir, &["queue", "list", "-c", c], b"");
    assert!(ok);
    assert!(
        out.starts_with("-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"),
        "{out}"
    );
    assert!(
        out.contains(&ids[0].0) && out.contains("-- 1 Kbytes in 2 Requests."),
        "{out}"
    );

    let (ok, _, err) = run_mta(&dir, &["queue", "hold", "-c", c, &ids[0].0], b"");
    assert!(ok && err.contains("Placed on hold: 1 message"), "{err}");
    let (_, out, _) = run_mta(&dir, &["queue", "list", "-c", c], b"");
    assert!(out.contains(&format!("{}!", ids[0].0)), "held mark: {out}");
    let (ok, _, err) = run_mta(&dir, &["queue", "release", "-c", c, "ALL"], b"");
    assert!(ok && err.contains("Released from hold: 1 message"), "{err}");
    let (ok, _, err) = run_mta(&dir, &["queue", "delete", "-c", c, "ALL"], b"");
    assert!(ok && err.contains("Deleted: 2 messages"), "{err}");
    let (_, out, _) = run_mta(&dir, &["queue", "list", "-c", c], b"");
    assert_eq!(out, "Mail queue is empty\n");

    let (ok, _, err) = run_mta(&dir, &["flush", "-c", c], b"");
    assert!(
        !ok && err.contains("not running"),
        "flush without a daemon fails clearly: {err}"
    );
    let (ok, _, err) = run_mta(&dir, &["sendmail", "-c", c], b"Subject: nobody\n\nx\n");
    assert!(!ok && err.contains("no recipient"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_socket_submit_flush_and_stop() {
    let dir = temp_dir("ctl");
    let port = free_port();
    let cf = config_dir(&dir, "");
    let c = cf.to_str().unwrap().to_string();
    let spool = dir.join("spool");
    let q = Queue::open(&spool).unwrap();
    let mut cfg = Config::default();
    for (k, v) in [
        ("relayhost", format!("[127.0.0.1]:{port}")),
        ("mydestination", "localhost".into()),
        ("minimal_backoff_time", "300s".into()),
    ] {
        cfg.explicit.insert(k.into(), v);
    }
    let qmgr = Arc::new(Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    // No content checks configured: pickup runs cleanup without plugins.
    let pickup = mta::pickup::Pickup::new(
        &cfg,
        &mta::stages::StageRunner::empty(),
        &mta::tables::Tables::new(&cfg),
    )
    .unwrap();
    let pickup = Arc::new(std::sync::RwLock::new(Arc::new(pickup)));
    let _server =
        mta::control::serve(&spool.join("control"), q.clone(), qmgr.clone(), pickup, tx).unwrap();

    // Submitted through the daemon (the queue file is locked by it, so this
    // can only succeed over the socket); the next hop is down: deferred.
    let (d, cc) = (dir.clone(), c.clone());
    let (ok, _, err) = tokio::task::spawn_blocking(move || {
        run_mta(
            &d,
            &[
                "sendmail",
                "-c",
                &cc,
                "-f",
                "a@example.org",
                "b@example.net",
            ],
            b"Subject: via socket\n\nhello\n",
        )
    })
    .await
    .unwrap();
    assert!(ok, "{err}");
    let deferred = || {
        let (_, out, _) = run_mta(&dir, &["queue", "list", "-c", &c, "--json"], b"");
        out.contains("\"queue\":\"deferred\"") && out.contains("Connection refused")
    };
    let mut seen = false;
    for _ in 0..300 {
        if tokio::task::block_in_place(deferred) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(seen, "message deferred with the connect error shown");

    let sink = Sink::start(port, &dir.join("sink")).await;
    let (ok, _, err) = tokio::task::block_in_place(|| run_mta(&dir, &["flush", "-c", &c], b""));
    assert!(ok, "{err}");
    assert!(
        wait_for(Duration::from_secs(20), || sink.messages().len() == 1).await,
        "flush delivered it"
    );
    assert!(sink.messages()[0].contains("Subject: via socket"));

    let (ok, _, err) = tokio::task::block_in_place(|| run_mta(&dir, &["stop", "-c", &c], b""));
    assert!(ok, "{err}");
    assert_eq!(rx.recv().await, Some(ControlEvent::Stop));
    let (ok, _, _) = tokio::task::block_in_place(|| run_mta(&dir, &["reload", "-c", &c], b""));
    assert!(ok);
    assert_eq!(rx.recv().await, Some(ControlEvent::Reload));
}
