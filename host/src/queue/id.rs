//! Queue ids in the spirit of Postfix's long ids (`enable_long_queue_ids`):
//! seconds and microseconds of the current time in base 52 (digits and
//! consonants, so ids never spell words), then a per-process counter, so two
//! messages in the same microsecond still differ and ids sort by arrival.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 52] = b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn push_base52(out: &mut String, mut n: u64, width: usize) {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(n % 52) as usize];
        n /= 52;
    }
    out.extend(digits.into_iter().map(char::from));
}

/// A fresh queue id, e.g. `4ZkP9r3Bq0001`.
pub fn new_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seq = COUNTER.fetch_add(1, Ordering::Relaxed) as u64 % (52u64.pow(3));
    let mut id = String::with_capacity(13);
    push_base52(&mut id, now.as_secs(), 6);
    push_base52(&mut id, u64::from(now.subsec_micros()), 4);
    push_base52(&mut id, seq, 3);
    id
}

/// Is `s` shaped like one of our queue ids (guards file names built from ids)?
pub fn is_valid(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| ALPHABET.contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_valid() {
        let ids: std::collections::HashSet<String> = (0..10_000).map(|_| new_id()).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|i| is_valid(i) && i.len() == 13));
        assert!(!is_valid("../etc"));
    }
}
