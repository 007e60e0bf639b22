//! Where documents are parsed: on threads of their own, one per parsing slot.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

use crate::parse::{Limits, ParseError};

type Job = Box<dyn FnOnce() + Send>;

/// How documents are parsed: how much of each is read, how many at once, and where.
///
/// Parses run on a few threads of their own rather than on tokio's blocking pool: glibc gives
/// each thread that allocates an arena of its own and keeps what is freed there, so parses
/// spread over dozens of pool threads left their memory resident in as many arenas.
#[derive(Clone)]
pub struct Parsing {
    /// How much of a document is read (`max_items_per_feed`, `max_body`).
    pub limits: Limits,
    /// One per document being parsed. A parse abandoned at the time budget runs on to its end,
    /// holding its slot, so never more documents than slots are parsed (and held in memory)
    /// at once.
    slots: Arc<Semaphore>,
    /// As many threads take jobs from here as there are slots; they end with the last clone.
    jobs: Arc<mpsc::Sender<Job>>,
}

impl Parsing {
    /// `concurrent` documents parsed at once, each on a thread of its own, read within `limits`.
    pub fn new(limits: Limits, concurrent: usize) -> std::io::Result<Parsing> {
        let concurrent = concurrent.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..concurrent {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name("feedsift-parse".into())
                .spawn(move || {
                    crate::priority::lower_current_thread();
                    loop {
                        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match next {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => return,
                        }
                    }
                })?;
        }
        Ok(Parsing {
            limits,
            slots: Arc::new(Semaphore::new(concurrent)),
            jobs: Arc::new(jobs),
        })
    }

    /// The same slots and threads, reading within other limits.
    pub fn with_limits(&self, limits: Limits) -> Parsing {
        Parsing {
            limits,
            ..self.clone()
        }
    }

    /// Slots free now.
    #[cfg(test)]
    pub(crate) fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    /// Runs `work` on a parsing thread once a slot is free, and waits for it `budget` at most
    /// from then on. A panic in `work` is a failed parse.
    pub async fn run<T: Send + 'static>(
        &self,
        budget: Duration,
        work: impl FnOnce(Limits) -> Result<T, ParseError> + Send + 'static,
    ) -> Result<T, ParseError> {
        // The semaphore is never closed, so waiting for a slot only ever ends with one.
        let slot = self.slots.clone().acquire_owned().await.ok();
        let limits = self.limits;
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _slot = slot;
            let outcome = catch_unwind(AssertUnwindSafe(|| work(limits)));
            // Nobody listens any more when the poll gave up at the budget.
            let _ = done.send(outcome);
        });
        // The threads live as long as `jobs` does, so the job always reaches one.
        if self.jobs.send(job).is_err() {
            return Err(ParseError::Panicked);
        }
        match tokio::time::timeout(budget, result).await {
            Ok(Ok(Ok(parsed))) => parsed,
            Ok(Ok(Err(_))) | Ok(Err(_)) => Err(ParseError::Panicked),
            Err(_) => Err(ParseError::TooSlow(budget)),
        }
    }
}
