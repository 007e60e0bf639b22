//! The database version requests are answered from, read once for many requests.
//!
//! Asking SQLite took a blocking thread per request: under 32 readers during a cold poll the
//! blocking pool grew to some 60 threads waiting on one connection, which cost memory and
//! made the slowest requests slower. Now a request takes the version last read while this
//! process has committed nothing since ([`Store::local_changes`]) and it is younger than
//! [`OTHERS_WITHIN`]; otherwise one request reads it and the others waiting take its answer.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::{Store, StoreError};

/// How soon a change another process commits (`feedsift poll` or `split` beside the daemon)
/// is served; this process's own changes are served at once.
const OTHERS_WITHIN: Duration = Duration::from_millis(100);

/// The database's `data_version` as last read, shared by concurrent requests.
#[derive(Default)]
pub struct CurrentVersion {
    last: Mutex<Option<Read>>,
    /// Held while one request reads for all.
    reading: tokio::sync::Mutex<()>,
}

/// One reading of the version.
#[derive(Clone, Copy)]
struct Read {
    /// [`Store::local_changes`] just before it was read.
    changes: u64,
    at: Instant,
    version: i64,
}

impl CurrentVersion {
    /// The version as of this request: what was read since the last local change, or a new
    /// reading.
    pub async fn get(&self, store: &Store) -> Result<i64, StoreError> {
        if let Some(version) = self.fresh(store) {
            return Ok(version);
        }
        let _reading = self.reading.lock().await;
        if let Some(version) = self.fresh(store) {
            return Ok(version);
        }
        // Taken before reading: a commit during the read makes this reading stale at once.
        let changes = store.local_changes();
        // Not behind other store calls, which wait for the reader or the writer: this one
        // connection answers at once, and every request is waiting for it.
        let reading = store.clone();
        let version = tokio::task::spawn_blocking(move || reading.data_version())
            .await
            .map_err(|_| StoreError::TaskFailed)??;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Read {
            changes,
            at: Instant::now(),
            version,
        });
        Ok(version)
    }

    fn fresh(&self, store: &Store) -> Option<i64> {
        let last = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.filter(|r| r.changes == store.local_changes() && r.at.elapsed() < OTHERS_WITHIN)
            .map(|r| r.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FeedSpec;

    #[tokio::test]
    async fn this_process_changes_are_served_at_once_and_others_within_the_bound() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("feeds.db");
        let store = Store::open(&path).expect("open");
        // A new store's text index is built at once: done before anything is read here.
        store.wait_for_text_index(None);
        let current = CurrentVersion::default();
        let first = current.get(&store).await.expect("version");
        assert_eq!(current.get(&store).await.expect("version"), first);

        store.sync_feeds(&[FeedSpec::named("a")]).expect("write");
        let after_own = current.get(&store).await.expect("version");
        assert_ne!(after_own, first, "a commit of this process is seen at once");

        // Another process's commit: this store's counter of its own changes stays put.
        let other = Store::open(&path).expect("open again");
        other
            .sync_feeds(&[FeedSpec::named("a"), FeedSpec::named("b")])
            .expect("write");
        assert_eq!(current.get(&store).await.expect("version"), after_own);
        tokio::time::sleep(OTHERS_WITHIN).await;
        let after_other = current.get(&store).await.expect("version");
        assert_ne!(after_other, after_own, "seen once the bound has passed");
        assert_eq!(after_other, store.data_version().expect("version"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_wait_for_the_reading_under_way_rather_than_read_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("feeds.db")).expect("open");
        store.wait_for_text_index(None);
        let current = std::sync::Arc::new(CurrentVersion::default());
        let expected = store.data_version().expect("version");
        // A reading under way: every request waits for it instead of asking SQLite itself.
        let under_way = current.reading.lock().await;
        let requests: Vec<_> = (0..64)
            .map(|_| {
                let (current, store) = (current.clone(), store.clone());
                tokio::spawn(async move { current.get(&store).await.expect("version") })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            requests.iter().all(|r| !r.is_finished()),
            "no request answered while the reading is under way"
        );
        drop(under_way);
        for request in requests {
            assert_eq!(request.await.expect("task"), expected);
        }
    }
}
