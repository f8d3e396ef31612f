//! kill -9 while messages are being accepted: every message whose enqueue
//! returned (the moment smtpd says 250) is still queued after a restart,
//! and all of them are then delivered to a real smtp-sink.
//!
//! The writer is this test binary re-executed as a child process (so the
//! kill hits a real process mid-commit); it prints `COMMITTED <id>` after
//! each `enqueue` returns, from 20 concurrent tasks.

use mta::config::Config;
use mta::qmgr::Qmgr;
use mta::queue::{NewMessage, NewRecipient, Queue};
use mta::rewrite::Resolver;
use mta_e2e::queue_util::{free_port, temp_dir, wait_for, Sink};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

const CHILD_ENV: &str = "MTA_CRASH_CHILD_SPOOL";

/// The child: enqueue forever from 20 tasks until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_child() {
    let Ok(spool) = std::env::var(CHILD_ENV) else {
        return;
    };
    let q = Queue::open(std::path::Path::new(&spool)).unwrap();
    let mut tasks = Vec::new();
    for t in 0..20 {
        let q = q.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let id = q.new_id();
                // Every 10th message is large, so body files are in play too.
                let size = if i % 10 == 0 { 100 * 1024 } else { 4096 };
                let data = format!(
                    "Subject: crash {t}/{i}\r\nX-Id: {id}\r\n\r\n{}\r\n",
                    "z".repeat(size)
                );
                let msg = NewMessage {
                    queue_id: id.clone(),
                    sender: "a@example.org".into(),
                    recipients: vec![NewRecipient {
                        address: "b@example.net".into(),
                        original: "b@example.net".into(),
                    }],
                    data: data.into_bytes(),
                    arrival: SystemTime::now(),
                    hold: false,
                    filter: None,
                    client: "crash".into(),
                };
                q.enqueue(msg).await.unwrap();
                println!("COMMITTED {id}");
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_no_committed_message() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = temp_dir("crash");
    let spool = dir.join("spool");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &spool)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let committed = tokio::task::spawn_blocking(move || {
        let mut ids = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(id) = line.strip_prefix("COMMITTED ") {
                ids.push(id.to_string());
                if ids.len() == 300 {
                    break;
                }
            }
        }
        (ids, child)
    });
    let (ids, mut child) = committed.await.unwrap();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        ids.len(),
        300,
        "the child committed messages before the kill"
    );

    let q = Queue::open(&spool).unwrap();
    let queued = q.list().await.unwrap();
    for id in &ids {
        let rec = q
            .get(id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} answered as committed but lost"));
        let body = q.body(&rec).await.unwrap();
        assert!(
            String::from_utf8_lossy(&body).contains(&format!("X-Id: {id}")),
            "{id} content intact"
        );
    }
    assert!(queued.len() >= ids.len());

    // After the restart everything queued goes out.
    let port = free_port();
    let sink = Sink::start(port, &dir.join("sink")).await;
    let mut cfg = Config::default();
    cfg.explicit
        .insert("relayhost".into(), format!("[127.0.0.1]:{port}"));
    cfg.explicit
        .insert("mydestination".into(), "localhost".into());
    let _qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    let want = queued.len();
    assert!(
        wait_for(Duration::from_secs(120), || sink.messages().len() >= want).await,
        "sink got {} of {want}",
        sink.messages().len()
    );
    let all = sink.messages().join("\n");
    for id in &ids {
        assert!(
            all.contains(&format!("X-Id: {id}")),
            "{id} delivered after restart"
        );
    }
}
