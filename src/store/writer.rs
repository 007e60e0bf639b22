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
                while let Some(first) = queue.blocking_recv() {
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
