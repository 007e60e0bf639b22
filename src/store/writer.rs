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
/// How long no poll must come before the writer tidies the text index.
const QUIET: std::time::Duration = std::time::Duration::from_secs(1);
/// While polls keep coming, one merge step after this many transactions that stored stories…
const BUSY_MERGE_EVERY: usize = 8;
/// … or after this many that stored none (unchanged feeds): a daemon of many feeds that never
/// idles for a second still tidies what an earlier run left, without a warm poll paying for
/// a cold one's index step by step.
const UNCHANGED_MERGE_EVERY: usize = 64;

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
                // A store opened again may hold what an earlier run left unmerged.
                let mut untidy = true;
                let (mut stored, mut unchanged) = (0_usize, 0_usize);
                while let Some(first) = next_job(&mut queue, &store, &mut untidy, &waiting) {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    // A daemon whose polls never pause for a second still merges, a step every
                    // few batches; batches of unchanged feeds write no text, so they count less.
                    let step = if write_batch(&store, batch) {
                        untidy = true;
                        stored += 1;
                        stored.is_multiple_of(BUSY_MERGE_EVERY)
                    } else {
                        unchanged += 1;
                        unchanged.is_multiple_of(UNCHANGED_MERGE_EVERY)
                    };
                    if step && untidy {
                        tidy_step(&store);
                    }
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

/// The next poll to write. Once none has come for [`QUIET`], the text index is merged a step
/// at a time (a few milliseconds each, so a poll arriving meanwhile hardly waits) until it is
/// tidy (merging while polls arrive would only slow them), then the page cache is released.
fn next_job(
    queue: &mut mpsc::Receiver<Job>,
    store: &Store,
    untidy: &mut bool,
    waiting: &tokio::runtime::Runtime,
) -> Option<Job> {
    if *untidy {
        let waited = waiting.block_on(async { tokio::time::timeout(QUIET, queue.recv()).await });
        if let Ok(job) = waited {
            return job;
        }
    }
    while *untidy {
        match queue.try_recv() {
            Ok(job) => return Some(job),
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
            Err(mpsc::error::TryRecvError::Empty) => {
                *untidy = tidy_step(store);
                if !*untidy && let Err(e) = store.release_memory() {
                    tracing::debug!(error = %e, "the page cache was not released");
                }
            }
        }
    }
    queue.blocking_recv()
}

/// One merge step of the text index; whether there is more to merge.
fn tidy_step(store: &Store) -> bool {
    store.tidy_text_index().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "merging the text index failed; left for later");
        false
    })
}

/// Writes a batch in one transaction; whether it stored any story (new, changed or another
/// source of one), so may have written to the text index.
fn write_batch(store: &Store, batch: Vec<Job>) -> bool {
    let (polls, replies): (Vec<PollWrite>, Vec<_>) = batch.into_iter().unzip();
    match store.record_polls(&polls) {
        Ok(results) => {
            let stored = results
                .iter()
                .flatten()
                .any(|s| s.new + s.updated + s.deduplicated > 0);
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
            stored
        }
        Err(e) => {
            let shared = std::sync::Arc::new(e);
            for reply in replies {
                let _ = reply.send(Err(StoreError::Batch(shared.clone())));
            }
            false
        }
    }
}
