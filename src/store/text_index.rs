//! The text index (FTS5, for phrase search) lives in a database file of its own beside the
//! store's (`<path>-text`) and is written by a thread of its own: indexing is about a third
//! of what storing an item costs, and on its own file it runs beside the store's writer, on
//! the other core, instead of inside the writer's transactions.
//!
//! The store numbers each of its transactions that changes the index (`text_state.batch` in
//! the store) and hands the rows over once the transaction has committed; the text database
//! keeps the highest number it has taken in. The two agree whenever the store was closed
//! cleanly. When they differ on opening (a crash or a power cut lost one side's last writes,
//! or the store was copied without its index), the index is built again from the stored
//! items in the background (see [`super::text_rebuild`]) while polls go on; so it is when a
//! write to the index fails while the store is open, at once and then, while attempts fail,
//! a minute later, doubling up to an hour (see [`super::text_thread`]).
//!
//! Only a process that opens the store while no other has it open can tell a difference that
//! matters from writes still on their way: each process holds a shared lock on `<path>-text.lock`
//! while it has the store open, and only one that could first take it exclusively compares.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension};

use super::text_writes::TextBatch;
use super::{CHECKPOINT_PAGES, StoreError, configure};
use super::{text_rebuild, text_thread};

/// Bytes of text that wait for the text thread at most (one batch, however large, may
/// always wait); the store's writer waits beyond that. More lets the writer run further
/// ahead but is no faster (poll bench: 8 MiB and 128 KiB alike) and costs memory.
const WAITING_BYTES: usize = 1 << 20;
/// Page size of a new index file, with FTS5's leaves (`pgsz`) as large: the index is written
/// in long runs of new pages, and 16 KiB pages took a quarter fewer system calls and 8 %
/// less time than 4 KiB ones (poll bench, 1,000 feeds: 7.9–8.2 s against 8.7–8.8 s).
const PAGE_SIZE: i64 = 16384;
/// Page cache of the text thread's connection: FTS5 writes its segments whole and reads few
/// pages back (256 KiB held 1.5–2.5 MiB less at the cold poll's peak than 2 MiB, no slower).
const CACHE_KIB: i64 = 256;

/// The index's table, as the store kept it before it moved, and in its own file since.
pub(super) const TABLE: &str = "
    CREATE VIRTUAL TABLE item_text USING fts5 (
        title, body, content = '', contentless_delete = 1,
        tokenize = 'unicode61 remove_diacritics 2'
    );";
/// Its settings: segments merged 16 at a time while batches are written, and 8 MiB of terms
/// gathered before a segment is written (rather than 4 and 1 MiB): a cold poll of 1,000 feeds
/// spent a third of its time merging. The idle merge steps bring levels down to 4 segments.
/// Leaves of about a page (see [`PAGE_SIZE`]).
pub(super) const SETTINGS: &str = "
    INSERT INTO item_text (item_text, rank) VALUES ('pgsz', 16000);
    INSERT INTO item_text (item_text, rank) VALUES ('automerge', 16);
    INSERT INTO item_text (item_text, rank) VALUES ('crisismerge', 64);
    INSERT INTO item_text (item_text, rank) VALUES ('hashsize', 8388608);
    INSERT INTO item_text (item_text, rank) VALUES ('usermerge', 4);";

/// The text index's file beside the store at `store`.
pub(super) fn path_beside(store: &Path) -> PathBuf {
    let mut path = store.as_os_str().to_owned();
    path.push("-text");
    PathBuf::from(path)
}

/// The text thread's handle: sends it committed batches, tells how far it has come.
pub(super) struct TextIndex {
    batches: Option<Sender<TextBatch>>,
    progress: Arc<Progress>,
    thread: Option<JoinHandle<()>>,
    /// Held (shared) while the store is open; see the module's documentation. The thread
    /// asks it whether this process is alone before a rebuild.
    _lock: Arc<File>,
}

/// How far the text thread has come, for those who wait for it.
#[derive(Default)]
pub(super) struct Progress {
    reached: Mutex<Reached>,
    changed: Condvar,
    /// Updates made: each may follow a commit.
    updates: AtomicU64,
}

#[derive(Default, Clone, Copy)]
struct Reached {
    /// The highest batch number this process has sent.
    sent: i64,
    /// The highest batch number the thread has written (or found already written).
    written: i64,
    /// A rebuild is under way: the index lacks items it has not reached yet.
    rebuilding: bool,
    /// Bytes of text sent and not yet written.
    waiting: usize,
}

impl Progress {
    fn update(&self, change: impl FnOnce(&mut Reached)) {
        let mut reached = self.reached.lock().unwrap_or_else(|p| p.into_inner());
        change(&mut reached);
        // Counted before the lock is let go: whoever sees the change sees it counted.
        self.updates.fetch_add(1, Ordering::Release);
        drop(reached);
        self.changed.notify_all();
    }

    /// Batch `number` is written (or was found written).
    pub(super) fn written(&self, number: i64) {
        self.update(|r| r.written = r.written.max(number));
    }

    /// Batches of these numbers and bytes of text are written and committed.
    pub(super) fn committed(&self, batches: &[(i64, usize)]) {
        self.update(|r| {
            for &(number, bytes) in batches {
                r.written = r.written.max(number);
                r.waiting = r.waiting.saturating_sub(bytes);
            }
        });
    }

    pub(super) fn rebuilding(&self, on: bool) {
        self.update(|r| r.rebuilding = on);
    }
}

impl TextIndex {
    /// Opens (creating if needed) the text index beside the store at `path`, whose writer is
    /// `store`: moves the index out of the store where an earlier version kept it, and starts
    /// the thread, which first rebuilds the index if it does not match the store.
    pub(super) fn open(path: &Path, store: &Connection) -> Result<TextIndex, StoreError> {
        let file = path_beside(path);
        let open_error = |cause| StoreError::Open {
            path: file.clone(),
            cause,
        };
        let lock = owner_lock(&file)?;
        let conn = Connection::open(&file).map_err(open_error)?;
        configure(&conn, CACHE_KIB).map_err(open_error)?;
        // Only a new, empty file takes the page size.
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        let page_size: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(open_error)?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            CHECKPOINT_PAGES * 4096 / page_size.max(512),
        )
        .map_err(open_error)?;
        create(&conn)?;
        text_rebuild::move_out_of_store(store, &file)?;
        let stale = match lock {
            Lock::Alone(_) => {
                let written = state(&conn)?;
                let sent: i64 =
                    store.query_row("SELECT batch FROM text_state", [], |r| r.get(0))?;
                written != Some(sent)
            }
            Lock::Shared(_) => false,
        };
        let lock = Arc::new(lock.into_shared()?);
        if stale {
            tracing::info!(
                index = %file.display(),
                "the text index does not match the store (an unclean stop, or a copy made \
                 without it): rebuilding it in the background; searches miss items until then"
            );
        }
        let (batches, received) = std::sync::mpsc::channel();
        let progress = Arc::new(Progress::default());
        progress.rebuilding(stale);
        let thread = text_thread::spawn(
            conn,
            path.to_path_buf(),
            lock.clone(),
            received,
            progress.clone(),
            stale,
        )?;
        Ok(TextIndex {
            batches: Some(batches),
            progress,
            thread: Some(thread),
            _lock: lock,
        })
    }

    /// Grows whenever the thread may have committed (see [`super::Store::local_changes`]).
    pub(super) fn changes(&self) -> u64 {
        self.progress.updates.load(Ordering::Acquire)
    }

    /// Hands a committed batch to the thread, waiting while [`WAITING_BYTES`] of text wait
    /// for it already. Call with the store's writer held, so batches arrive in the order they
    /// commit.
    pub(super) fn send(&self, batch: Option<TextBatch>) {
        let Some(batch) = batch else {
            return;
        };
        let (number, bytes) = (batch.number, batch.bytes());
        {
            let mut reached = self
                .progress
                .reached
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            while reached.waiting > 0 && reached.waiting + bytes > WAITING_BYTES {
                reached = self
                    .progress
                    .changed
                    .wait(reached)
                    .unwrap_or_else(|p| p.into_inner());
            }
            reached.sent = reached.sent.max(number);
            reached.waiting += bytes;
        }
        let sent = self.batches.as_ref().map(|batches| batches.send(batch));
        if !matches!(sent, Some(Ok(()))) {
            tracing::error!("the text index's thread has stopped; searches miss new items");
            self.progress.committed(&[(number, bytes)]);
        }
    }

    /// Waits until the index holds everything this process committed so far (and any rebuild
    /// has finished), at most `limit` (`None`: however long it takes); whether it does.
    pub(super) fn wait(&self, limit: Option<Duration>) -> bool {
        let deadline = limit.map(|limit| Instant::now() + limit);
        let mut reached = self
            .progress
            .reached
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let target = reached.sent;
        while reached.written < target || reached.rebuilding {
            let left = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) => left,
                    None => return false,
                },
                None => Duration::from_secs(3600),
            };
            reached = self
                .progress
                .changed
                .wait_timeout(reached, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

impl Drop for TextIndex {
    /// Lets the thread write what waits, then waits for it.
    fn drop(&mut self) {
        self.batches = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the text index's thread panicked");
        }
    }
}

/// The lock on `<index>.lock`: exclusive when no other process has the store open.
enum Lock {
    Alone(File),
    Shared(File),
}

impl Lock {
    fn into_shared(self) -> Result<File, StoreError> {
        match self {
            Lock::Shared(file) => Ok(file),
            Lock::Alone(file) => {
                file.unlock().map_err(|_| StoreError::TaskFailed)?;
                file.lock_shared().map_err(|_| StoreError::TaskFailed)?;
                Ok(file)
            }
        }
    }
}

fn owner_lock(index: &Path) -> Result<Lock, StoreError> {
    let mut path = index.as_os_str().to_owned();
    path.push(".lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|cause| StoreError::Lock {
            path: PathBuf::from(&path),
            cause,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(Lock::Alone(file)),
        Err(std::fs::TryLockError::WouldBlock) => {
            file.lock_shared().map_err(|cause| StoreError::Lock {
                path: PathBuf::from(&path),
                cause,
            })?;
            Ok(Lock::Shared(file))
        }
        Err(std::fs::TryLockError::Error(cause)) => Err(StoreError::Lock {
            path: PathBuf::from(&path),
            cause,
        }),
    }
}

/// Creates the index and its state where they are missing.
fn create(conn: &Connection) -> Result<(), StoreError> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'item_text'",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        conn.execute_batch(&format!(
            "BEGIN; {TABLE} {SETTINGS}
             CREATE TABLE IF NOT EXISTS text_state (batch INTEGER NOT NULL, stale INTEGER NOT NULL);
             COMMIT;"
        ))?;
    }
    Ok(())
}

/// The highest batch number the index holds, unless it is known to miss writes.
pub(super) fn state(conn: &Connection) -> Result<Option<i64>, StoreError> {
    let row: Option<(i64, bool)> = conn
        .query_row("SELECT batch, stale FROM text_state", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(row.and_then(|(batch, stale)| (!stale).then_some(batch)))
}

/// Records that the index holds batch `number` (and every one before, as far as this
/// process knows).
pub(super) fn set_state(conn: &Connection, number: i64) -> Result<(), StoreError> {
    let changed = conn.execute("UPDATE text_state SET batch = max(batch, ?1)", [number])?;
    if changed == 0 {
        conn.execute(
            "INSERT INTO text_state (batch, stale) VALUES (?1, 0)",
            [number],
        )?;
    }
    Ok(())
}
