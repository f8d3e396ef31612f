//! Queue unit tests on a real redb file in a temporary directory.

use super::*;

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "mta-queue-{tag}-{}-{}",
        std::process::id(),
        id::new_id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn msg(q: &Queue, data: Vec<u8>) -> NewMessage {
    NewMessage {
        queue_id: q.new_id(),
        sender: "a@example.org".into(),
        recipients: vec![NewRecipient {
            address: "b@example.net".into(),
            original: "B@example.net".into(),
        }],
        data,
        arrival: SystemTime::now(),
        hold: false,
        filter: None,
        client: "localhost[127.0.0.1]".into(),
    }
}

#[tokio::test]
async fn enqueue_survives_reopen_small_and_large() {
    let dir = tmpdir("reopen");
    let small = b"Subject: hi\r\n\r\nbody\r\n".to_vec();
    let large = vec![b'x'; body::LARGE_BODY + 10];
    let (id_small, id_large) = {
        let q = Queue::open(&dir).unwrap();
        let a = msg(&q, small.clone());
        let b = msg(&q, large.clone());
        let ids = (a.queue_id.clone(), b.queue_id.clone());
        q.enqueue(a).await.unwrap();
        q.enqueue(b).await.unwrap();
        assert!(
            body::path(&dir, &ids.1).exists(),
            "large body has its own file"
        );
        ids
    };
    let q = Queue::open(&dir).unwrap();
    let all = q.list().await.unwrap();
    assert_eq!(all.len(), 2);
    let rs = q.get(&id_small).unwrap().unwrap();
    assert_eq!(rs.queue, QueueName::Incoming);
    assert_eq!(rs.recipients[0].original, "B@example.net");
    assert_eq!(q.body(&rs).await.unwrap(), small);
    let rl = q.get(&id_large).unwrap().unwrap();
    assert!(rl.body_file);
    assert_eq!(q.body(&rl).await.unwrap(), large);
    q.remove(&id_large).await.unwrap();
    assert!(
        !body::path(&dir, &id_large).exists(),
        "removal deletes the body file"
    );
    assert!(q.get(&id_large).unwrap().is_none());
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_enqueues_share_commits() {
    let dir = tmpdir("group");
    let q = Queue::open(&dir).unwrap();
    let before = q.commit_count();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let q = q.clone();
        let m = msg(&q, vec![b'y'; 4096]);
        tasks.push(tokio::spawn(async move { q.enqueue(m).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let commits = q.commit_count() - before;
    assert_eq!(q.list().await.unwrap().len(), 200);
    assert!(
        commits < 200,
        "200 messages took {commits} commits: no group commit"
    );
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn undecodable_record_goes_to_corrupt() {
    let dir = tmpdir("corrupt");
    let q = Queue::open(&dir).unwrap();
    q.enqueue(msg(&q, b"x\r\n".to_vec())).await.unwrap();
    {
        let txn = q.inner.db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("BADBAD", b"{not json".as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let all = q.list().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(q.list_corrupt().unwrap(), vec!["BADBAD".to_string()]);
    assert!(q.get("BADBAD").unwrap().is_none());
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn update_of_deleted_message_does_not_resurrect_it() {
    let dir = tmpdir("update");
    let q = Queue::open(&dir).unwrap();
    let m = msg(&q, b"x\r\n".to_vec());
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    let mut rec = q.get(&id).unwrap().unwrap();
    q.remove(&id).await.unwrap();
    rec.queue = QueueName::Deferred;
    q.update(rec, false).await.unwrap();
    assert!(q.get(&id).unwrap().is_none());
    drop(q);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn has_space_honours_minfree() {
    let dir = tmpdir("space");
    let q = Queue::open(&dir).unwrap();
    assert!(q.has_space(1024));
    q.set_minfree(u64::MAX / 2);
    assert!(!q.has_space(1024));
}

#[tokio::test]
async fn bad_queue_id_is_refused() {
    let dir = tmpdir("badid");
    let q = Queue::open(&dir).unwrap();
    let mut m = msg(&q, b"x\r\n".to_vec());
    m.queue_id = "../../etc/passwd".into();
    assert!(matches!(q.enqueue(m).await, Err(QueueError::Write(_))));
}

#[tokio::test]
async fn fresh_ids_tell_the_queue_manager_about_new_mail() {
    let dir = tmpdir("fresh");
    let q = Queue::open(&dir).unwrap();
    let m = msg(&q, b"x\r\n".to_vec());
    let id = m.queue_id.clone();
    q.enqueue(m).await.unwrap();
    assert_eq!(q.take_fresh().ids, vec![id.clone()]);
    assert!(q.take_fresh().ids.is_empty(), "taken once");
    assert!(q.move_to(&id, QueueName::Hold, false).await.unwrap());
    assert!(q.take_fresh().ids.is_empty(), "hold is not new work");
    assert!(q.move_to(&id, QueueName::Deferred, true).await.unwrap());
    assert_eq!(q.take_fresh().ids, vec![id]);
}
