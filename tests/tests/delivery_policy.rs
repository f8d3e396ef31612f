//! Delivery policy end to end: STARTTLS levels, queue lifetime expiry,
//! delay warnings, local delivery through aliases.

use mta::config::Config;
use mta::qmgr::Qmgr;
use mta::queue::{NewMessage, NewRecipient, Queue, QueueName};
use mta::rewrite::Resolver;
use mta_e2e::queue_util::{scripted, self_signed_tls, temp_dir, wait_for, Script, Seen};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

fn config(port: u16, extra: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    c.explicit
        .insert("relayhost".into(), format!("[127.0.0.1]:{port}"));
    c.explicit
        .insert("mydestination".into(), "localhost".into());
    c.explicit.insert("myhostname".into(), "mta.test".into());
    for (k, v) in extra {
        c.explicit.insert((*k).into(), (*v).into());
    }
    c
}

fn message(q: &Queue, rcpts: &[&str], body: &str) -> NewMessage {
    NewMessage {
        queue_id: q.new_id(),
        sender: "a@example.org".into(),
        recipients: rcpts
            .iter()
            .map(|r| NewRecipient {
                address: (*r).into(),
                original: (*r).into(),
            })
            .collect(),
        data: body.as_bytes().to_vec(),
        arrival: SystemTime::now(),
        hold: false,
        filter: None,
        client: "localhost[127.0.0.1]".into(),
    }
}

fn count(seen: &Arc<Mutex<Vec<Seen>>>) -> usize {
    seen.lock().map(|v| v.len()).unwrap_or(0)
}

async fn wait_deferred(q: &Queue, id: &str) -> mta::queue::QueueRecord {
    for _ in 0..500 {
        if let Ok(Some(r)) = q.get(id) {
            if r.queue == QueueName::Deferred {
                return r;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{id} never deferred");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_is_used_when_offered() {
    let dir = temp_dir("tls");
    let (port, seen) = scripted(Script {
        tls: Some(self_signed_tls()),
        ..Script::default()
    })
    .await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[("smtp_tls_security_level", "may")]);
    q.enqueue(message(
        &q,
        &["b@example.net"],
        "Subject: secret\r\n\r\nover tls\r\n",
    ))
    .await
    .unwrap();
    let _m = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(wait_for(Duration::from_secs(20), || count(&seen) == 1).await);
    let s = seen.lock().unwrap()[0].clone();
    assert!(s.tls, "the transaction ran after STARTTLS");
    assert!(s.data.contains("over tls"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_level_refuses_a_plaintext_next_hop() {
    let dir = temp_dir("enc");
    let (port, seen) = scripted(Script::default()).await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[("smtp_tls_security_level", "encrypt")]);
    let m = message(&q, &["b@example.net"], "Subject: x\r\n\r\ny\r\n");
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let _m = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    let r = wait_deferred(&q, &id).await;
    let reason = r.recipients[0].last_reason.clone().unwrap_or_default();
    assert!(
        reason.contains("TLS is required, but was not offered"),
        "{reason}"
    );
    assert_eq!(count(&seen), 0, "nothing sent in clear text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_mail_is_returned_with_the_last_reason() {
    let dir = temp_dir("expire");
    let reply = "450 4.2.0 <slow@example.net>: Recipient address rejected: try later";
    let (port, seen) = scripted(Script {
        reject: vec!["slow@example.net".into()],
        reply: reply.into(),
        tls: None,
    })
    .await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    // maximal_queue_lifetime = 0: one attempt only, as Postfix.
    let cfg = config(port, &[("maximal_queue_lifetime", "0s")]);
    let m = message(&q, &["slow@example.net"], "Subject: old\r\n\r\nx\r\n");
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let _m = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || count(&seen) == 1).await,
        "a DSN arrives"
    );
    let dsn = seen.lock().unwrap()[0].clone();
    assert_eq!(dsn.mail_from, "");
    assert!(
        dsn.data.contains("Action: failed") && dsn.data.contains("Status: 4.2.0"),
        "{}",
        dsn.data
    );
    assert!(dsn.data.contains(reply));
    assert!(
        wait_for(Duration::from_secs(10), || q
            .get(&id)
            .map(|r| r.is_none())
            .unwrap_or(false))
        .await,
        "original removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delay_warning_is_sent_to_the_sender() {
    let dir = temp_dir("delay");
    let reply = "451 4.3.0 <slow@example.net>: temporary failure";
    let (port, seen) = scripted(Script {
        reject: vec!["slow@example.net".into()],
        reply: reply.into(),
        tls: None,
    })
    .await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[("delay_warning_time", "1h")]);
    let mut m = message(&q, &["slow@example.net"], "Subject: waiting\r\n\r\nx\r\n");
    m.arrival = SystemTime::now() - Duration::from_secs(2 * 3600);
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let _m = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    let r = wait_deferred(&q, &id).await;
    assert!(r.warned);
    assert!(wait_for(Duration::from_secs(20), || count(&seen) == 1).await);
    let dsn = seen.lock().unwrap()[0].clone();
    assert!(dsn
        .data
        .contains("Subject: Delayed Mail (still being retried)"));
    assert!(dsn.data.contains("Action: delayed") && dsn.data.contains("Status: 4.3.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_aliases_append_to_files_and_forward() {
    let dir = temp_dir("local");
    let (port, seen) = scripted(Script::default()).await;
    let list = dir.join("list.mbox");
    let aliases = dir.join("aliases");
    std::fs::write(
        &aliases,
        format!(
            "team: {}, far@example.net\nghost: nosuchuser-mta-test\n",
            list.display()
        ),
    )
    .unwrap();
    // File deliveries run with default_privs' rights: the file must be writable for nobody.
    std::fs::write(&list, b"").unwrap();
    std::fs::set_permissions(&list, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(
        port,
        &[("alias_maps", &format!("texthash:{}", aliases.display()))],
    );
    q.enqueue(message(
        &q,
        &["team@localhost", "ghost@localhost"],
        "Subject: to the team\r\n\r\nFrom the desk\r\n",
    ))
    .await
    .unwrap();
    let _m = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    // far@example.net gets the forwarded copy; the sender gets a bounce for ghost.
    assert!(
        wait_for(Duration::from_secs(20), || count(&seen) == 2).await,
        "got {}",
        count(&seen)
    );
    let all = seen.lock().unwrap().clone();
    let fwd = all
        .iter()
        .find(|s| s.rcpts == vec!["far@example.net".to_string()])
        .expect("forwarded");
    assert_eq!(fwd.mail_from, "a@example.org");
    let dsn = all
        .iter()
        .find(|s| s.mail_from.is_empty())
        .expect("bounce for the unknown user");
    assert!(dsn
        .data
        .contains("Final-Recipient: rfc822; ghost@localhost"));
    assert!(
        dsn.data.contains("unknown user: \"nosuchuser-mta-test\""),
        "{}",
        dsn.data
    );
    let mbox = std::fs::read_to_string(&list).unwrap();
    assert!(mbox.starts_with("From a@example.org "), "{mbox}");
    assert!(mbox.contains("Delivered-To: team@localhost\n") && mbox.contains("\n>From the desk\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_reused_for_the_same_next_hop() {
    let dir = temp_dir("reuse");
    let (port, seen) = scripted(Script {
        tls: Some(self_signed_tls()),
        ..Script::default()
    })
    .await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    // One delivery at a time to the destination, so each can reuse the last session.
    let cfg = config(
        port,
        &[
            ("default_destination_concurrency_limit", "1"),
            ("smtp_connection_cache_time_limit", "30s"),
        ],
    );
    for i in 0..4 {
        q.enqueue(message(
            &q,
            &["b@example.net"],
            &format!("Subject: {i}\r\n\r\nx\r\n"),
        ))
        .await
        .unwrap();
    }
    let _m = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(wait_for(Duration::from_secs(20), || count(&seen) == 4).await);
    let all = seen.lock().unwrap().clone();
    assert!(
        all.iter().all(|s| s.conn == 0 && s.tls),
        "one TLS session carried all four: {all:?}"
    );
}
