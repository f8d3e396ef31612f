//! The smtpd end-to-end tests look at what the daemon accepted the way an
//! operator would: the real queue (`mta queue list --json`) and a relayhost
//! smtp-sink that dumps every message the daemon hands on. The test domain
//! `example.net` is in `relay_domains`, so the real restrictions plugin (with
//! its default, unweakened relay rules) accepts mail for it from any client.

use crate::queue_util::{run_mta, Sink};
use crate::{free_port, scratch, Daemon, DEADLINE};
use std::time::Instant;

/// A daemon that relays `example.net` to its own smtp-sink.
pub struct Relay {
    pub d: Daemon,
    pub sink: Sink,
}

impl Relay {
    /// `Daemon::start` plus `relay_domains = example.net` and
    /// `relayhost = [127.0.0.1]:SINK`.
    pub async fn start(name: &str, main_cf: &str, overrides: &[&str]) -> Relay {
        let sink_port = free_port();
        let sink = Sink::start(sink_port, &scratch(&format!("{name}-sink"))).await;
        let main =
            format!("relay_domains = example.net\nrelayhost = [127.0.0.1]:{sink_port}\n{main_cf}");
        let d = Daemon::start(name, &main, overrides);
        Relay { d, sink }
    }

    /// Wait until the daemon logged `n` deliveries (`status=sent`, logged
    /// after the sink's 250 to the final dot, so every dump file is whole),
    /// then return everything at the sink.
    pub fn delivered(&self, n: usize) -> Vec<String> {
        if n > 0 {
            self.d.wait_for_nth("status=sent", n);
        }
        self.arrived(n)
    }

    /// Wait until at least `n` dump files exist at the sink (some may be
    /// from a delivery cut short, e.g. by a `kill -9` of the daemon).
    pub fn arrived(&self, n: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let m = self.sink.messages();
            if m.len() >= n {
                return m;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "{} of {n} messages reached the sink; daemon output:\n{}",
                m.len(),
                self.d.output()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Nothing was queued: the queue is empty, the log shows no message
    /// entering it, and the sink got nothing.
    pub fn nothing_queued(&self) {
        let list = queue_json(&self.d);
        assert!(list.trim().is_empty(), "queue not empty: {list}");
        let out = self.d.output();
        assert!(!out.contains("(queue active)"), "{out}");
        assert!(
            self.sink.messages().is_empty(),
            "{:?}",
            self.sink.messages()
        );
    }
}

/// `mta queue list --json -c DIR`: one JSON object per queued message.
pub fn queue_json(d: &Daemon) -> String {
    let dir = d.dir.display().to_string();
    let (ok, out, err) = run_mta(&d.dir, &["queue", "list", "--json", "-c", &dir], b"");
    assert!(ok, "mta queue list failed: {err}");
    out
}

/// What a sending client saw: the queue ids of every message that got a
/// `250 … queued as ID`, shared with the test while the client runs.
#[derive(Default)]
pub struct Accepted {
    pub ids: std::sync::Mutex<Vec<String>>,
    pub changed: std::sync::Condvar,
}

impl Accepted {
    /// Block until at least `n` messages were accepted (bounded by DEADLINE).
    pub fn wait_for(&self, n: usize) {
        let start = Instant::now();
        let mut ids = self.ids.lock().unwrap();
        while ids.len() < n {
            let left = DEADLINE.checked_sub(start.elapsed()).unwrap_or_default();
            assert!(!left.is_zero(), "only {} messages accepted", ids.len());
            ids = self.changed.wait_timeout(ids, left).unwrap().0;
        }
    }
}

/// Send up to `count` messages of about `size` bytes to `port`, one
/// session each, recording each accepted queue id; stops at the first
/// failure (the daemon died). Blocking: run it on its own thread.
pub fn send_until_failure(port: u16, count: usize, size: usize, acc: &Accepted) {
    use std::io::{BufRead, BufReader, Write};
    let data = format!("Subject: thin path\r\n\r\n{}\r\n.\r\n", "x".repeat(size));
    for _ in 0..count {
        let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
            return;
        };
        let _ = s.set_read_timeout(Some(DEADLINE));
        let mut w = s.try_clone().expect("clone socket");
        let mut r = BufReader::new(s);
        // One reply (multi-line joined); None when the connection broke.
        let reply = |r: &mut BufReader<std::net::TcpStream>| -> Option<String> {
            let mut all = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).ok()? == 0 {
                    return None;
                }
                all.push_str(&line);
                if line.as_bytes().get(3) != Some(&b'-') {
                    return Some(all);
                }
            }
        };
        let steps: [&[u8]; 5] = [
            b"EHLO thin.example\r\n",
            b"MAIL FROM:<from@example.org>\r\n",
            b"RCPT TO:<to@example.net>\r\n",
            b"DATA\r\n",
            data.as_bytes(),
        ];
        if reply(&mut r).is_none() {
            return;
        }
        let mut last = String::new();
        for step in steps {
            if w.write_all(step).is_err() {
                return;
            }
            match reply(&mut r) {
                Some(l) => last = l,
                None => return,
            }
        }
        let Some(id) = last.strip_prefix("250 2.0.0 Ok: queued as ") else {
            return;
        };
        acc.ids.lock().unwrap().push(id.trim().to_string());
        acc.changed.notify_all();
        let _ = w.write_all(b"QUIT\r\n");
    }
}
