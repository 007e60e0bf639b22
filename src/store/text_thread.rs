//! The text index's thread: writes the batches the store's writer hands over, several to a
//! transaction; merges the index's segments while idle; and builds the index again when it
//! does not match the store, or when writing to it fails.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, params};

use super::StoreError;
use super::text_index::{Progress, set_state};
use super::text_rebuild::{self, Covered};
use super::text_writes::TextBatch;

/// Rows written to the index in one of its transactions at most.
const MAX_ROWS: usize = 512;
/// How long no batch must come before the index is tidied.
const QUIET: Duration = Duration::from_secs(1);
/// While batches keep coming, one merge step after this many transactions.
const BUSY_MERGE_EVERY: usize = 8;
/// Pages of the index one merge step writes at most.
const MERGE_PAGES: i64 = 256;
/// How long after a failed rebuild the next one is tried, at first and at most.
const RETRY_FIRST: Duration = Duration::from_secs(60);
const RETRY_MOST: Duration = Duration::from_secs(3600);

/// Starts the thread on the index's connection `conn`, for the store at `store`; `stale`: the
/// index does not match the store and is built again first.
pub(super) fn spawn(
    conn: Connection,
    store: PathBuf,
    lock: Arc<File>,
    batches: Receiver<TextBatch>,
    progress: Arc<Progress>,
    stale: bool,
) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name("feedsift-text".into())
        .spawn(move || {
            let indexer = Indexer {
                conn: &conn,
                store: &store,
                lock: &lock,
                batches: &batches,
                progress: &progress,
            };
            indexer.run(stale);
        })
        .map_err(|_| StoreError::TaskFailed)
}

/// What the text thread works with.
struct Indexer<'a> {
    conn: &'a Connection,
    store: &'a Path,
    lock: &'a File,
    batches: &'a Receiver<TextBatch>,
    progress: &'a Progress,
}

/// When the index, known to miss writes, is built again.
struct Repair {
    due: Option<Instant>,
    /// The wait after the next failed attempt.
    delay: Duration,
}

impl Repair {
    /// The index misses writes: built again at once, unless an attempt failed lately.
    fn needed(&mut self) {
        self.due.get_or_insert_with(Instant::now);
    }

    fn is_due(&self) -> bool {
        self.due.is_some_and(|due| due <= Instant::now())
    }

    fn attempted(&mut self, rebuilt: bool) {
        if rebuilt {
            self.due = None;
            self.delay = RETRY_FIRST;
        } else {
            self.due = Some(Instant::now() + self.delay);
            self.delay = (self.delay * 2).min(RETRY_MOST);
        }
    }
}

/// What the thread does next.
enum Next {
    Batch(TextBatch),
    Repair,
    Closed,
}

impl Indexer<'_> {
    /// A rebuild first if the index does not match the store, then every batch the store
    /// sends, several to a transaction, and a rebuild whenever writing them fails; merges
    /// the index's segments while it is idle.
    fn run(&self, stale: bool) {
        crate::priority::lower_current_thread();
        let mut covered = Covered::default();
        let mut repair = Repair {
            due: stale.then(Instant::now),
            delay: RETRY_FIRST,
        };
        let mut untidy = true;
        let mut written = 0_usize;
        loop {
            if repair.is_due() {
                let Some(rebuilt) = self.rebuild(&mut covered) else {
                    return;
                };
                repair.attempted(rebuilt);
            }
            let first = match self.next_batch(&mut untidy, repair.due) {
                Next::Batch(first) => first,
                Next::Repair => continue,
                Next::Closed => return,
            };
            let more = || self.batches.try_recv().ok();
            if let Err(e) = commit(self.conn, first, more, &mut covered, self.progress) {
                tracing::error!(error = %e, "the text index missed writes; it is built again");
                repair.needed();
                if !repair.is_due() {
                    self.progress.rebuilding(false);
                }
            }
            untidy = true;
            written += 1;
            if written.is_multiple_of(BUSY_MERGE_EVERY) {
                tidy_step(self.conn);
            }
        }
    }

    /// Builds the index again from the store if no other process has the store open (one
    /// that has may be writing to the index meanwhile); whether it did, or `None` once the
    /// store is closing.
    fn rebuild(&self, covered: &mut Covered) -> Option<bool> {
        self.progress.rebuilding(true);
        let rebuilt = if !alone(self.lock) {
            tracing::warn!(
                "the text index is built again once no other process has the store open"
            );
            false
        } else {
            match text_rebuild::rebuild(self.conn, self.store, self.batches, self.progress, covered)
            {
                Ok(true) => {
                    tracing::info!("the text index is rebuilt");
                    true
                }
                Ok(false) => return None,
                Err(e) => {
                    tracing::error!(error = %e, "rebuilding the text index failed; tried again later");
                    false
                }
            }
        };
        self.progress.rebuilding(false);
        Some(rebuilt)
    }

    /// The next batch, or that a repair is due (`repair`). Once no batch has come for
    /// [`QUIET`], the index is merged a step at a time (a few milliseconds each) until it is
    /// tidy, then the page cache is released.
    fn next_batch(&self, untidy: &mut bool, repair: Option<Instant>) -> Next {
        let left = || repair.map(|due| due.saturating_duration_since(Instant::now()));
        if *untidy {
            match receive(self.batches, Some(left().map_or(QUIET, |l| l.min(QUIET)))) {
                Waited::Batch(batch) => return Next::Batch(batch),
                Waited::TimedOut => {}
                Waited::Closed => return Next::Closed,
            }
        }
        while *untidy {
            if left() == Some(Duration::ZERO) {
                return Next::Repair;
            }
            match self.batches.try_recv() {
                Ok(batch) => return Next::Batch(batch),
                Err(TryRecvError::Disconnected) => return Next::Closed,
                Err(TryRecvError::Empty) => {
                    *untidy = tidy_step(self.conn);
                    if !*untidy && let Err(e) = self.conn.execute_batch("PRAGMA shrink_memory") {
                        tracing::debug!(error = %e, "the text index's page cache was not released");
                    }
                }
            }
        }
        match receive(self.batches, left()) {
            Waited::Batch(batch) => Next::Batch(batch),
            Waited::TimedOut => Next::Repair,
            Waited::Closed => Next::Closed,
        }
    }
}

/// What waiting for a batch gave.
enum Waited {
    Batch(TextBatch),
    /// Nothing came within the limit.
    TimedOut,
    /// The store is closing.
    Closed,
}

/// Waits for a batch at most `limit` (`None`: however long it takes).
fn receive(batches: &Receiver<TextBatch>, limit: Option<Duration>) -> Waited {
    let received = match limit {
        None => batches.recv().map_err(|_| RecvTimeoutError::Disconnected),
        Some(limit) => batches.recv_timeout(limit),
    };
    match received {
        Ok(batch) => Waited::Batch(batch),
        Err(RecvTimeoutError::Timeout) => Waited::TimedOut,
        Err(RecvTimeoutError::Disconnected) => Waited::Closed,
    }
}

/// Whether no other process holds the store open. A flock changes kind by being dropped and
/// taken again, even when the change fails, so it is taken shared again whatever the answer.
fn alone(lock: &File) -> bool {
    let alone = lock.try_lock().is_ok();
    if let Err(e) = lock.lock_shared() {
        tracing::warn!(error = %e, "the text index's lock could not be taken again");
    }
    alone
}

/// One merge step; whether there is more to merge.
fn tidy_step(conn: &Connection) -> bool {
    merge_step(conn).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "merging the text index failed; left for later");
        false
    })
}

/// Merges some of the index's segments (about [`MERGE_PAGES`] pages, a few milliseconds of
/// work); false once there is nothing left to merge. Writing leaves up to 16 segments per
/// level for speed; this brings them down to 4, so that searches read few.
fn merge_step(conn: &Connection) -> Result<bool, StoreError> {
    let before = conn.total_changes();
    conn.execute(
        "INSERT INTO item_text (item_text, rank) VALUES ('merge', ?1)",
        [MERGE_PAGES],
    )?;
    // FTS5's documented test: fewer than 2 changes means the merge had nothing to do.
    Ok(conn.total_changes() - before >= 2)
}

/// Writes `first` and the batches `more` gives, up to [`MAX_ROWS`] rows, in one
/// transaction, leaving out what a rebuild has already read from the store. On failure the
/// index is marked as missing writes, for waiters and for the next start.
pub(super) fn commit(
    conn: &Connection,
    first: TextBatch,
    mut more: impl FnMut() -> Option<TextBatch>,
    covered: &mut Covered,
    progress: &Progress,
) -> Result<(), StoreError> {
    let mut done = Vec::new();
    let written = (|| -> Result<(), StoreError> {
        let tx = conn.unchecked_transaction()?;
        let mut rows = 0;
        let mut next = Some(first);
        while let Some(batch) = next {
            rows += batch.rows.len();
            done.push((batch.number, batch.bytes()));
            write_rows(&tx, batch, covered)?;
            next = if rows < MAX_ROWS { more() } else { None };
        }
        let last = done
            .iter()
            .map(|&(number, _)| number)
            .max()
            .unwrap_or_default();
        set_state(&tx, last)?;
        tx.commit()?;
        Ok(())
    })();
    if written.is_err() {
        progress.rebuilding(true);
        if let Err(e) = conn.execute("UPDATE text_state SET stale = 1", []) {
            tracing::error!(error = %e, "the text index could not be marked for rebuilding");
        }
    }
    progress.committed(&done);
    written
}

/// Writes one batch's rows (ascending by rowid, as FTS5 buffers them best) inside `tx`.
fn write_rows(tx: &Connection, batch: TextBatch, covered: &mut Covered) -> Result<(), StoreError> {
    let mut delete = tx.prepare_cached("DELETE FROM item_text WHERE rowid = ?1")?;
    let mut insert =
        tx.prepare_cached("INSERT INTO item_text (rowid, title, body) VALUES (?1, ?2, ?3)")?;
    for row in batch.rows {
        if !covered.keeps(batch.number, row.rowid) {
            continue;
        }
        if row.indexed {
            delete.execute([row.rowid])?;
        }
        if let Some((title, body)) = row.text {
            insert.execute(params![row.rowid, title, &*body])?;
        }
    }
    covered.passed(batch.number);
    Ok(())
}
