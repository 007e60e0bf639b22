//! Group commit: one thread writes every poll, taking whatever polls are waiting as one
//! transaction (each poll still in its own savepoint). Many feeds finishing together then
//! cost one commit instead of one each, which is most of the cost of writing to SQLite.

use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError};
use crate::model::{IngestStats, PollWrite};

/// Polls waiting to be written at most; senders wait beyond that.
const QUEUE: usize = 64;
/// Polls in one transaction at most.
const MAX_BATCH: usize = 32;
/// How long no poll must come before the writer gives back its page cache.
const QUIET: std::time::Duration = std::time::Duration::from_secs(1);

type Job = (PollWrite, oneshot::Sender<Result<IngestStats, StoreError>>);

/// Hands polls to the writer thread; cheap to clone. The thread ends when the last clone is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
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
        GroupCommit { jobs }
    }

    /// Writes one poll; resolves when its transaction has committed.
    pub async fn write(&self, poll: PollWrite) -> Result<IngestStats, StoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send((poll, done))
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
    let (polls, replies): (Vec<PollWrite>, Vec<_>) = batch.into_iter().unzip();
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
