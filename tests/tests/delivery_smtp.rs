//! Queue -> queue manager -> SMTP delivery, end to end through the library
//! API, against real next hops: Postfix's smtp-sink and a scripted server.

use mta::config::Config;
use mta::qmgr::Qmgr;
use mta::queue::{NewMessage, NewRecipient, Queue, QueueName};
use mta::rewrite::Resolver;
use mta_e2e::queue_util::{free_port, scripted_server, temp_dir, wait_for, Sink};
use std::time::{Duration, SystemTime};

fn config(relay_port: u16, extra: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    for (k, v) in [
        ("relayhost", format!("[127.0.0.1]:{relay_port}")),
        ("mydestination", "localhost".into()),
        ("myhostname", "mta.test".into()),
        ("smtp_tls_security_level", "may".into()),
    ] {
        c.explicit.insert(k.into(), v);
    }
    for (k, v) in extra {
        c.explicit.insert((*k).into(), (*v).into());
    }
    c
}

fn message(q: &Queue, sender: &str, rcpts: &[&str], body: &str) -> NewMessage {
    NewMessage {
        queue_id: q.new_id(),
        sender: sender.into(),
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

async fn queue_len(q: &Queue) -> usize {
    q.list().await.map(|l| l.len()).unwrap_or(usize::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_mail_reaches_smtp_sink() {
    let dir = temp_dir("relay");
    let port = free_port();
    let sink = Sink::start(port, &dir.join("sink")).await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[]);
    for i in 0..5 {
        let body = format!("Subject: test {i}\r\n\r\nline one\r\n.leading dot\r\nbare\nlf\r\n");
        q.enqueue(message(
            &q,
            "a@example.org",
            &["b@example.net", "c@example.net"],
            &body,
        ))
        .await
        .unwrap();
    }
    let _qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || sink.messages().len() == 5).await,
        "sink got {}",
        sink.messages().len()
    );
    let msgs = sink.messages();
    for m in &msgs {
        assert!(m.contains("a@example.org"), "envelope sender in dump: {m}");
        assert!(m.contains("b@example.net") && m.contains("c@example.net"));
        assert!(
            m.contains("\n.leading dot"),
            "dot-stuffing undone by the sink: {m}"
        );
    }
    let mut left = usize::MAX;
    for _ in 0..500 {
        left = queue_len(&q).await;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "delivered messages leave the queue");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_hop_down_defers_then_flush_delivers() {
    let dir = temp_dir("down");
    let port = free_port();
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(
        port,
        &[
            ("minimal_backoff_time", "300s"),
            ("queue_run_delay", "300s"),
        ],
    );
    let m = message(
        &q,
        "a@example.org",
        &["b@example.net"],
        "Subject: retry\r\n\r\nhello\r\n",
    );
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    let mut deferred = None;
    for _ in 0..500 {
        if let Ok(Some(r)) = q.get(&id) {
            if r.queue == QueueName::Deferred {
                deferred = Some(r);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let r = deferred.expect("message deferred while the next hop is down");
    assert_eq!(r.attempts, 1);
    let reason = r.recipients[0].last_reason.clone().unwrap_or_default();
    assert!(reason.contains("Connection refused"), "{reason}");
    assert!(
        r.next_attempt >= mta_now() + 250,
        "backoff of minimal_backoff_time applied"
    );

    // The next hop comes back; `mta flush` semantics send it now.
    let sink = Sink::start(port, &dir.join("sink")).await;
    qmgr.flush();
    assert!(
        wait_for(Duration::from_secs(20), || sink.messages().len() == 1).await,
        "delivered after flush"
    );
    assert!(sink.messages()[0].contains("hello"));
}

fn mta_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_recipient_gets_a_bounce_with_the_remote_reply() {
    let dir = temp_dir("bounce");
    let reply = "550 5.1.1 <bad@example.net>: Recipient address rejected: User unknown in virtual mailbox table";
    let (port, seen) = scripted_server(vec!["bad@example.net".into()], reply.into()).await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[]);
    let body = "From: a@example.org\r\nSubject: partly wrong\r\n\r\nsecret text\r\n";
    let m = message(
        &q,
        "a@example.org",
        &["good@example.net", "bad@example.net"],
        body,
    );
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let _qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    let got = |s: &std::sync::Arc<std::sync::Mutex<Vec<mta_e2e::queue_util::Seen>>>| {
        s.lock().map(|v| v.len()).unwrap_or(0)
    };
    assert!(
        wait_for(Duration::from_secs(20), || got(&seen) == 2).await,
        "original and DSN delivered"
    );
    let all = seen.lock().unwrap().clone();
    let original = all
        .iter()
        .find(|s| s.mail_from == "a@example.org")
        .expect("original delivered");
    assert_eq!(
        original.rcpts,
        vec!["good@example.net".to_string()],
        "only the accepted recipient"
    );
    let dsn = all
        .iter()
        .find(|s| s.mail_from.is_empty())
        .expect("a DSN from the null sender");
    assert_eq!(dsn.rcpts, vec!["a@example.org".to_string()]);
    assert!(dsn
        .data
        .contains("multipart/report; report-type=delivery-status"));
    assert!(dsn
        .data
        .contains("Final-Recipient: rfc822; bad@example.net"));
    assert!(dsn.data.contains("Action: failed"));
    assert!(dsn.data.contains("Status: 5.1.1"));
    assert!(
        dsn.data
            .contains(&format!("Diagnostic-Code: smtp; {reply}")),
        "{}",
        dsn.data
    );
    assert!(dsn.data.contains(&format!("X-Postfix-Queue-ID: {id}")));
    assert!(
        dsn.data.contains("Subject: partly wrong"),
        "original headers returned"
    );
    assert!(!dsn.data.contains("secret text"), "body not returned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounce_to_null_sender_goes_to_postmaster_not_back() {
    let dir = temp_dir("dbl");
    let reply = "550 5.1.1 <gone@example.net>: User unknown";
    let (port, seen) = scripted_server(vec!["gone@example.net".into()], reply.into()).await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    // The postmaster is remote here so the double bounce is observable at the server.
    let cfg = config(
        port,
        &[("2bounce_notice_recipient", "postmaster@example.net")],
    );
    q.enqueue(message(
        &q,
        "",
        &["gone@example.net"],
        "Subject: a bounce\r\n\r\nx\r\n",
    ))
    .await
    .unwrap();
    let _qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(
        wait_for(Duration::from_secs(20), || seen
            .lock()
            .map(|v| v.len())
            .unwrap_or(0)
            == 1)
        .await
    );
    let s = seen.lock().unwrap()[0].clone();
    assert_eq!(s.rcpts, vec!["postmaster@example.net".to_string()]);
    assert_eq!(s.mail_from, "double-bounce@mta.test");
    assert!(s.data.contains("Diagnostic-Code: smtp; 550 5.1.1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_mail_is_untouched_until_released() {
    let dir = temp_dir("hold");
    let port = free_port();
    let sink = Sink::start(port, &dir.join("sink")).await;
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[]);
    let mut m = message(
        &q,
        "a@example.org",
        &["b@example.net"],
        "Subject: held\r\n\r\nx\r\n",
    );
    m.hold = true;
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    // A second, normal message proves the scheduler ran past the held one.
    q.enqueue(message(
        &q,
        "a@example.org",
        &["b@example.net"],
        "Subject: free\r\n\r\ny\r\n",
    ))
    .await
    .unwrap();
    let _qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(wait_for(Duration::from_secs(20), || sink.messages().len() == 1).await);
    assert!(sink.messages()[0].contains("Subject: free"));
    assert_eq!(q.get(&id).unwrap().unwrap().queue, QueueName::Hold);
    assert!(q.move_to(&id, QueueName::Incoming, true).await.unwrap());
    assert!(
        wait_for(Duration::from_secs(20), || sink.messages().len() == 2).await,
        "released mail goes out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_record_is_set_aside_and_the_rest_is_delivered() {
    let dir = temp_dir("corrupt");
    let port = free_port();
    let sink = Sink::start(port, &dir.join("sink")).await;
    let spool = dir.join("spool");
    let good = {
        let q = Queue::open(&spool).unwrap();
        let m = message(
            &q,
            "a@example.org",
            &["b@example.net"],
            "Subject: fine\r\n\r\nx\r\n",
        );
        let id = m.queue_id.clone();
        q.enqueue(m).await.unwrap();
        id
    };
    // Damage the database behind the queue's back, as a bad disk or a bug would.
    {
        let db = redb::Database::create(spool.join("queue.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("meta");
            let mut t = txn.open_table(def).unwrap();
            t.insert("4jXBADBAD0000", b"\x00\xffnot a record".as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let q = Queue::open(&spool).unwrap();
    let cfg = config(port, &[]);
    let _qmgr = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    assert!(wait_for(Duration::from_secs(20), || sink.messages().len() == 1).await);
    assert!(sink.messages()[0].contains("Subject: fine"));
    assert_eq!(q.list_corrupt().unwrap(), vec!["4jXBADBAD0000".to_string()]);
    let mut gone = false;
    for _ in 0..500 {
        if q.get(&good).unwrap().is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the good message was delivered and removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_queue_manager_does_not_redeliver_mail_in_flight() {
    let dir = temp_dir("restart");
    // A next hop that accepts the connection and then says nothing: the
    // first delivery hangs in its greeting wait, so the message stays active.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(s);
        }
    });
    let q = Queue::open(&dir.join("spool")).unwrap();
    let cfg = config(port, &[]);
    let m = message(
        &q,
        "a@example.org",
        &["b@example.net"],
        "Subject: once\r\n\r\nx\r\n",
    );
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let first = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    let n = || accepted.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        wait_for(Duration::from_secs(20), || n() == 1).await,
        "first delivery connected"
    );
    assert_eq!(q.get(&id).unwrap().unwrap().queue, QueueName::Active);
    drop(first);
    let second = Qmgr::start(&cfg, q.clone(), Resolver::new(&cfg)).unwrap();
    second.flush();
    // A marker message routed to a real sink: once it arrives, the second
    // manager has made its full (flush) pass over the queue.
    let sink_port = free_port();
    let sink = Sink::start(sink_port, &dir.join("sink")).await;
    let mut marker = message(
        &q,
        "a@example.org",
        &["c@example.net"],
        "Subject: marker\r\n\r\nx\r\n",
    );
    marker.filter = Some(format!("smtp:[127.0.0.1]:{sink_port}"));
    q.enqueue(marker).await.unwrap();
    assert!(wait_for(Duration::from_secs(20), || sink.messages().len() == 1).await);
    assert_eq!(n(), 1, "the message in flight was not delivered twice");
    assert_eq!(q.get(&id).unwrap().unwrap().queue, QueueName::Active);
}
