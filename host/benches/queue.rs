//! Queue throughput, printed as figures (no harness):
//! 1. durable accept: 20 concurrent producers enqueue 4 KiB messages, each
//!    waiting for its fsynced group commit (what smtpd waits for before 250);
//! 2. relay: the queue manager empties that queue into a real smtp-sink.
//!
//! Run: `cargo bench -p mta --bench queue [-- MESSAGES]` (default 5000).
//! The spool lives under $MTA_BENCH_DIR or the system temp directory: put
//! it on the disk you want to measure (tmpfs makes fsync free).

use mta::config::Config;
use mta::qmgr::Qmgr;
use mta::queue::{NewMessage, NewRecipient, Queue};
use mta::rewrite::Resolver;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

const SESSIONS: usize = 20;
const SIZE: usize = 4096;

fn message(q: &Queue, i: usize) -> NewMessage {
    let mut data =
        format!("From: a@example.org\r\nTo: b@example.net\r\nSubject: bench {i}\r\n\r\n")
            .into_bytes();
    while data.len() < SIZE {
        data.extend_from_slice(
            b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxy\r\n",
        );
    }
    data.truncate(SIZE - 2);
    data.extend_from_slice(b"\r\n");
    NewMessage {
        queue_id: q.new_id(),
        sender: "a@example.org".into(),
        recipients: vec![NewRecipient {
            address: "b@example.net".into(),
            original: "b@example.net".into(),
        }],
        data,
        arrival: SystemTime::now(),
        hold: false,
        filter: None,
        client: "bench".into(),
    }
}

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(5000);
    let base = std::env::var("MTA_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let dir = base.join(format!("mta-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let q = Queue::open(&dir.join("spool"))?;
        let c0 = q.commit_count();
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for s in 0..SESSIONS {
            let q = q.clone();
            tasks.push(tokio::spawn(async move {
                let mut i = s;
                while i < total {
                    q.enqueue(message(&q, i)).await?;
                    i += SESSIONS;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let took = t0.elapsed();
        let commits = q.commit_count() - c0;
        println!(
            "durable accept: {total} x {SIZE} B from {SESSIONS} producers in {:.2}s = {:.0} msg/s ({commits} fsynced commits, {:.1} msg/commit)",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64(),
            total as f64 / commits.max(1) as f64
        );

        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut sink = Command::new("smtp-sink")
            .args(["-u", "root", &format!("127.0.0.1:{port}"), "1000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(Instant::now() < deadline, "smtp-sink did not start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut cfg = Config::default();
        cfg.explicit.insert("relayhost".into(), format!("[127.0.0.1]:{port}"));
        cfg.explicit.insert("mydestination".into(), "localhost".into());
        let t1 = Instant::now();
        let qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg))?;
        loop {
            if q.list().await?.is_empty() {
                break;
            }
            anyhow::ensure!(t1.elapsed() < Duration::from_secs(600), "relay did not finish");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let took = t1.elapsed();
        println!(
            "relay: {total} queued messages delivered to smtp-sink in {:.2}s = {:.0} msg/s",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64()
        );
        drop(qmgr);

        // The SMTP client alone: 20 concurrent sessions, one message each.
        let client = mta::delivery::smtp::SmtpClient::new(&cfg, mta::dns::Dns::new(&cfg)?)?;
        let body = message(&q, 0).data;
        let t2 = Instant::now();
        let mut tasks = Vec::new();
        for s in 0..SESSIONS {
            let (client, body) = (client.clone(), body.clone());
            let hop = format!("[127.0.0.1]:{port}");
            tasks.push(tokio::spawn(async move {
                let mut i = s;
                let rcpt = vec!["b@example.net".to_string()];
                while i < total {
                    let r = client.deliver(&hop, "a@example.org", &rcpt, &body).await;
                    anyhow::ensure!(r[0].status == mta::delivery::Status::Sent, "{:?}", r[0]);
                    i += SESSIONS;
                }
                anyhow::Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        let took = t2.elapsed();
        println!(
            "smtp client alone: {total} messages, {SESSIONS} concurrent sessions, in {:.2}s = {:.0} msg/s",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64()
        );
        let _ = sink.kill();
        let _ = sink.wait();
        anyhow::Ok(())
    })?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
