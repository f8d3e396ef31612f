//! The `kv` capability's storage: one redb file beside the queue
//! (`$queue_directory/plugin-kv.redb`, never the queue's own database), one
//! table per plugin so plugins cannot see each other's state. A value is
//! stored with its expiry time in front; expired entries are removed when read.

use redb::{ReadableDatabase, TableDefinition};
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The shared database; cheap to clone.
#[derive(Clone)]
pub struct KvDatabase {
    db: Arc<redb::Database>,
}

impl std::fmt::Debug for KvDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KvDatabase")
    }
}

/// One plugin's view of the database.
#[derive(Debug, Clone)]
pub struct KvStore {
    db: KvDatabase,
    table: String,
}

const MAX_KEY: usize = 1024;
const MAX_VALUE: usize = 64 * 1024;

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl KvDatabase {
    /// Open (or create) the database file.
    pub fn open(path: &Path) -> anyhow::Result<KvDatabase> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let db = redb::Database::create(path)
            .map_err(|e| anyhow::anyhow!("plugin kv database {}: {e}", path.display()))?;
        Ok(KvDatabase { db: Arc::new(db) })
    }

    /// The store of one plugin.
    pub fn store(&self, plugin: &str) -> KvStore {
        KvStore {
            db: self.clone(),
            table: format!("plugin:{plugin}"),
        }
    }
}

impl KvStore {
    fn def(&self) -> TableDefinition<'_, &'static str, &'static [u8]> {
        TableDefinition::new(&self.table)
    }

    /// The value under `key`, if present and not expired.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        let now = now_secs();
        let found = {
            let tx = self.db.db.begin_read().map_err(|e| e.to_string())?;
            let table = match tx.open_table(self.def()) {
                Ok(t) => t,
                Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            let v = table.get(key).map_err(|e| e.to_string())?;
            v.map(|g| g.value().to_vec())
        };
        let Some(raw) = found else { return Ok(None) };
        let (expiry, value) = split(&raw)?;
        if expiry != 0 && expiry <= now {
            self.delete(key)?;
            return Ok(None);
        }
        Ok(Some(value.to_vec()))
    }

    /// Store `value` under `key`, expiring after `ttl` seconds if given.
    pub fn set(&self, key: &str, value: &[u8], ttl: Option<u32>) -> Result<(), String> {
        if key.len() > MAX_KEY {
            return Err(format!("key longer than {MAX_KEY} bytes"));
        }
        if value.len() > MAX_VALUE {
            return Err(format!("value longer than {MAX_VALUE} bytes"));
        }
        let expiry = ttl.map(|t| now_secs() + u64::from(t.max(1))).unwrap_or(0);
        let mut raw = Vec::with_capacity(8 + value.len());
        raw.extend_from_slice(&expiry.to_be_bytes());
        raw.extend_from_slice(value);
        let tx = self.db.db.begin_write().map_err(|e| e.to_string())?;
        {
            let mut table = tx.open_table(self.def()).map_err(|e| e.to_string())?;
            table
                .insert(key, raw.as_slice())
                .map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }

    /// Remove `key`; a missing key is not an error.
    pub fn delete(&self, key: &str) -> Result<(), String> {
        let tx = self.db.db.begin_write().map_err(|e| e.to_string())?;
        {
            let mut table = tx.open_table(self.def()).map_err(|e| e.to_string())?;
            table.remove(key).map_err(|e| e.to_string())?;
        }
        tx.commit().map_err(|e| e.to_string())
    }
}

fn split(raw: &[u8]) -> Result<(u64, &[u8]), String> {
    if raw.len() < 8 {
        return Err("corrupt kv entry".into());
    }
    let (head, value) = raw.split_at(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(head);
    Ok((u64::from_be_bytes(b), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_delete_and_expiry() {
        let dir = std::env::temp_dir().join(format!("mta-kv-test-{}", std::process::id()));
        let db = KvDatabase::open(&dir.join("kv.redb")).expect("open");
        let a = db.store("a");
        let b = db.store("b");
        assert_eq!(a.get("k").expect("get"), None);
        a.set("k", b"v1", None).expect("set");
        assert_eq!(a.get("k").expect("get"), Some(b"v1".to_vec()));
        assert_eq!(
            b.get("k").expect("get"),
            None,
            "plugins do not share tables"
        );
        a.delete("k").expect("delete");
        assert_eq!(a.get("k").expect("get"), None);
        // An entry whose expiry lies in the past is gone on read.
        let tx = db.db.begin_write().expect("tx");
        {
            let mut t = tx.open_table(a.def()).expect("table");
            let mut raw = 1u64.to_be_bytes().to_vec();
            raw.extend_from_slice(b"old");
            t.insert("old", raw.as_slice()).expect("insert");
        }
        tx.commit().expect("commit");
        assert_eq!(a.get("old").expect("get"), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
