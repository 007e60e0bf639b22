//! Group commit: one thread writes every poll, taking whatever polls are waiting as one
//! transaction (each poll still in its own savepoint). Many feeds finishing together then
//! cost one commit instead of one each, which is most of the cost of writing to SQLite.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::{Store, StoreError};
use crate::model::{IngestStats, PollWrite};

/// Polls waiting to be written at most; senders wait beyond that.
const QUEUE: usize = 64;
/// KiB of items that wait to be written, or are being written, at most; senders wait beyond
/// that, though one poll may always wait. Polls of large documents would otherwise queue
/// tens of MiB for the writer when it falls behind the parsers.
const WAITING_KIB: usize = 4096;
/// Polls in one transaction at most.
const MAX_BATCH: usize = 32;
/// How long no poll must come before the writer gives back its page cache.
const QUIET: std::time::Duration = std::time::Duration::from_secs(1);

/// A poll, where its result goes, and its share of [`WAITING_KIB`], given back once it is
/// written (or dropped unwritten).
type Job = (
    PollWrite,
    oneshot::Sender<Result<IngestStats, StoreError>>,
    OwnedSemaphorePermit,
);

/// Hands polls to the writer thread; cheap to clone. The thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
    /// A permit per KiB of [`WAITING_KIB`].
    waiting: Arc<Semaphore>,
}

impl GroupCommit {
    /// Starts the writer thread for `store`.
    pub fn spawn(store: Store) -> GroupCommit {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("feedsift-writer".into())
            .spawn(move || {
                crate::priority::lower_current_thread();
                // Only to wait for a poll with a time limit: this thread runs no tasks.
                let waiting = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .expect("a timer for the writer thread");
                while let Some(first) = next_job(&mut queue, &store, &waiting) {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    write_batch(&store, batch);
                }
            })
            .expect("the writer thread starts");
        GroupCommit {
            jobs,
            waiting: Arc::new(Semaphore::new(WAITING_KIB)),
        }
    }

    /// Writes one poll; resolves when its transaction has committed. Waits first while
    /// [`WAITING_KIB`] of other polls' items wait.
    pub async fn write(&self, poll: PollWrite) -> Result<IngestStats, StoreError> {
        let kib = (poll.bytes() / 1024 + 1).min(WAITING_KIB);
        let waiting = self
            .waiting
            .clone()
            .acquire_many_owned(u32::try_from(kib).unwrap_or(u32::MAX))
            .await
            .map_err(|_| StoreError::TaskFailed)?;
        let (done, result) = oneshot::channel();
        self.jobs
            .send((poll, done, waiting))
            .await
            .map_err(|_| StoreError::TaskFailed)?;
        result.await.map_err(|_| StoreError::TaskFailed)?
    }
}

/// The next poll to write. Once none has come for [`QUIET`], the page cache is released
/// first (a cold poll filled it, and it would stay resident until the next burst of polls).
fn next_job(
    queue: &mut mpsc::Receiver<Job>,
    store: &Store,
    waiting: &tokio::runtime::Runtime,
) -> Option<Job> {
    let waited = waiting.block_on(async { tokio::time::timeout(QUIET, queue.recv()).await });
    if let Ok(job) = waited {
        return job;
    }
    if let Err(e) = store.release_memory() {
        tracing::debug!(error = %e, "the page cache was not released");
    }
    queue.blocking_recv()
}

/// Writes a batch in one transaction.
fn write_batch(store: &Store, batch: Vec<Job>) {
    // Declared first, so dropped last: the polls' items are freed before their shares of
    // the budget are given back.
    let mut shares = Vec::with_capacity(batch.len());
    let (mut polls, mut replies) = (
        Vec::with_capacity(batch.len()),
        Vec::with_capacity(batch.len()),
    );
    for (poll, reply, share) in batch {
        polls.push(poll);
        replies.push(reply);
        shares.push(share);
    }
    match store.record_polls(&polls) {
        Ok(results) => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let shared = std::sync::Arc::new(e);
            for reply in replies {
                let _ = reply.send(Err(StoreError::Batch(shared.clone())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{Item, PollOutcome};
    use crate::store::FeedSpec;

    /// A poll of `feed` with one item of about `kib` KiB of text (content and plain text).
    fn large_poll(feed: &str, kib: usize) -> PollWrite {
        let text = format!("{feed} ").repeat(kib * 1024 / 2 / (feed.len() + 1));
        let item = Item {
            content: Some(text.clone()),
            ..Item::plain(feed, &text)
        };
        PollWrite {
            name: feed.to_string(),
            outcome: PollOutcome::NotModified,
            items: vec![item],
            now: chrono::Utc::now(),
            next_poll: chrono::Utc::now(),
            near_window: None,
            full_text: false,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn polls_beyond_the_byte_budget_wait_to_be_handed_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("feeds.db")).expect("open");
        let feeds = ["a", "b", "c"];
        let specs: Vec<FeedSpec> = feeds.iter().map(|name| FeedSpec::named(name)).collect();
        store.sync_feeds(&specs).expect("feeds");
        let writer = GroupCommit::spawn(store.clone());
        // Each poll holds about 3 MiB: one fits the budget, two do not.
        let kib = WAITING_KIB * 3 / 4;
        assert!(large_poll("a", kib).bytes() / 1024 >= kib);
        let held = store.writer();
        let polls: Vec<_> = feeds
            .iter()
            .map(|feed| {
                let (writer, poll) = (writer.clone(), large_poll(feed, kib));
                tokio::spawn(async move { writer.write(poll).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let taken = WAITING_KIB - writer.waiting.available_permits();
        assert!(
            (kib..2 * kib).contains(&taken),
            "{taken} KiB taken while the writer is held: one poll only"
        );
        drop(held);
        for poll in polls {
            let stats = poll.await.expect("task").expect("written");
            assert_eq!(stats.new, 1);
        }
        // Given back by the writer thread once it has dropped the batch, just after replying.
        let returned = async {
            while writer.waiting.available_permits() < WAITING_KIB {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(5), returned)
            .await
            .expect("every share of the budget given back");
        assert_eq!(store.item_count().expect("count"), 3);
    }
}
