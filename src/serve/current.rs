//! The version of the database that requests are answered from, known without asking SQLite
//! on most requests.
//!
//! Asking SQLite took a blocking thread per request: under 32 readers during a cold poll the
//! blocking pool grew to some 60 threads waiting on one connection. Then one request asked for
//! all, but during a cold poll this process commits many times a second, and each time every
//! request in flight waited for the new reading: p99 stayed at 40–65 ms.
//!
//! Now the version is this module's own number, which grows whenever what is served may have
//! changed. This process's commits are counted as they happen ([`Store::local_changes`]), so
//! they are served at once and need no reading. Only other processes' commits (`feedsift poll`
//! or `split` beside the daemon) need SQLite's `data_version`: one request reads it when the
//! last reading is [`OTHERS_WITHIN`] old, and the requests arriving meanwhile take the version
//! as it stands rather than wait.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::{Store, StoreError};

/// How soon a change another process commits is served (plus the time of one reading); this
/// process's own changes are served at once.
const OTHERS_WITHIN: Duration = Duration::from_millis(100);

/// The version documents are served from, shared by concurrent requests.
#[derive(Default)]
pub struct CurrentVersion {
    seen: Mutex<Seen>,
    /// Held while one request reads SQLite's `data_version` for all.
    reading: tokio::sync::Mutex<()>,
}

/// What the version was last derived from.
#[derive(Default)]
struct Seen {
    version: i64,
    /// [`Store::local_changes`] when last looked at.
    local: u64,
    /// The database's `data_version` as last read, and when.
    database: Option<(i64, Instant)>,
}

impl CurrentVersion {
    /// The version as of this request: a new one once this process has committed, or the
    /// database says another process has.
    pub async fn get(&self, store: &Store) -> Result<i64, StoreError> {
        let version = {
            let mut seen = self.seen();
            seen.count_local(store);
            match seen.database {
                Some((_, at)) if at.elapsed() < OTHERS_WITHIN => return Ok(seen.version),
                // The first request waits for the first reading; later ones need not.
                Some(_) => Some(seen.version),
                None => None,
            }
        };
        let _reading = match (self.reading.try_lock(), version) {
            (Ok(reading), _) => reading,
            (Err(_), Some(version)) => return Ok(version),
            (Err(_), None) => self.reading.lock().await,
        };
        // Another request may have read while this one waited for its turn.
        let fresh = {
            let seen = self.seen();
            seen.database
                .is_some_and(|(_, at)| at.elapsed() < OTHERS_WITHIN)
                .then_some(seen.version)
        };
        if let Some(version) = fresh {
            return Ok(version);
        }
        // Not behind other store calls, which wait for the reader or the writer: this one
        // connection answers at once.
        let reading = store.clone();
        let database = tokio::task::spawn_blocking(move || reading.data_version())
            .await
            .map_err(|_| StoreError::TaskFailed)??;
        let mut seen = self.seen();
        // This process's commits move `data_version` too, so one may count twice: one more
        // render at most per reading.
        if seen.database.is_none_or(|(before, _)| before != database) {
            seen.version += 1;
        }
        seen.database = Some((database, Instant::now()));
        seen.count_local(store);
        Ok(seen.version)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Seen {
    /// A new version if this process may have committed since it last looked.
    fn count_local(&mut self, store: &Store) {
        let local = store.local_changes();
        if local != self.local {
            self.local = local;
            self.version += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use tokio::task::JoinHandle;

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
        tokio::time::sleep(OTHERS_WITHIN).await;
        assert_eq!(
            current.get(&store).await.expect("version"),
            after_other,
            "a reading that finds nothing new keeps the version"
        );
    }

    /// A new store (its text index built, so nothing changes behind the test's back) and a
    /// version nobody has asked for yet.
    fn fresh() -> (tempfile::TempDir, Store, Arc<CurrentVersion>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("feeds.db")).expect("open");
        store.wait_for_text_index(None);
        (dir, store, Arc::new(CurrentVersion::default()))
    }

    /// 64 requests at once.
    fn requests(current: &Arc<CurrentVersion>, store: &Store) -> Vec<JoinHandle<i64>> {
        (0..64)
            .map(|_| {
                let (current, store) = (current.clone(), store.clone());
                tokio::spawn(async move { current.get(&store).await.expect("version") })
            })
            .collect()
    }

    /// The requests' answers, each within a few seconds.
    async fn answers(requests: Vec<JoinHandle<i64>>) -> Vec<i64> {
        let mut answers = Vec::new();
        for request in requests {
            let answer = tokio::time::timeout(Duration::from_secs(5), request)
                .await
                .expect("answered without waiting for the reading")
                .expect("task");
            answers.push(answer);
        }
        answers
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_take_the_version_as_it_stands_while_another_request_reads() {
        let (_dir, store, current) = fresh();
        let before = current.get(&store).await.expect("version");
        tokio::time::sleep(OTHERS_WITHIN).await;
        // A reading under way (the last one is stale): nobody waits for it …
        let under_way = current.reading.lock().await;
        let answers_meanwhile = answers(requests(&current, &store)).await;
        assert!(answers_meanwhile.iter().all(|v| *v == before));
        // … and this process's commits are served meanwhile all the same.
        store.sync_feeds(&[FeedSpec::named("a")]).expect("write");
        let after_own = answers(requests(&current, &store)).await;
        assert!(after_own.iter().all(|v| *v == after_own[0] && *v != before));
        drop(under_way);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_wait_for_the_first_reading_under_way_rather_than_read_again() {
        let (_dir, store, current) = fresh();
        // The first reading under way: every request waits for it instead of asking SQLite.
        let under_way = current.reading.lock().await;
        let requests = requests(&current, &store);
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            requests.iter().all(|r| !r.is_finished()),
            "no request answered before the first reading"
        );
        drop(under_way);
        let answers = answers(requests).await;
        assert!(answers.iter().all(|v| *v == answers[0]));
        assert!(current.seen().database.is_some(), "one of them read it");
    }
}
