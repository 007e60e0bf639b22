//! Copies the write-ahead log into the database file on a thread of its own, so that the
//! writer never does. A checkpoint writes every page the log holds into the database file
//! and waits for the disk twice (`fsync`); done by the committing writer, as SQLite does by
//! default, it stalled every poll waiting behind it (a cold poll of 1,000 feeds: 40
//! checkpoints, 81 `fsync`s, 1.5 s of waiting on the writer alone).
//!
//! The writer's log hook asks for a checkpoint once the log holds [`CHECKPOINT_PAGES`]; a
//! passive checkpoint on this thread's connection copies what it can without blocking the
//! writer or any reader. Should it fall far behind (readers holding old snapshots for long),
//! the writer checkpoints itself at [`WRITER_CHECKPOINTS_AT`], so the log stays bounded.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::configure;

/// Pages in the log (4 KiB each) at which a checkpoint is asked for: ~32 MiB, so pages
/// that many polls rewrite (index pages) are copied once rather than each time.
#[cfg(not(test))]
pub(super) const CHECKPOINT_PAGES: i32 = 8192;
/// Small in tests, so a few polls reach it.
#[cfg(test)]
pub(super) const CHECKPOINT_PAGES: i32 = 64;
/// Pages in the log at which the writer stops waiting for this thread and checkpoints.
pub(super) const WRITER_CHECKPOINTS_AT: i32 = 4 * CHECKPOINT_PAGES;
/// This thread's page cache: a checkpoint reads the log and writes the file directly.
const CACHE_KIB: i64 = 256;

/// Whether a checkpoint is wanted, and whether the thread should end.
#[derive(Default)]
struct State {
    wanted: bool,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

/// Asks the checkpointing thread for a checkpoint; cheap to clone.
#[derive(Clone)]
pub(super) struct Request(Arc<Shared>);

impl Request {
    /// Asks for a checkpoint and returns at once; asks made before it starts are one.
    pub(super) fn checkpoint(&self) {
        self.0
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .wanted = true;
        self.0.wake.notify_one();
    }
}

/// The checkpointing thread; dropping it ends the thread and closes its connection.
pub(super) struct Checkpointer {
    request: Request,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread, with a connection of its own to the database at `path`.
    pub(super) fn spawn(path: &Path) -> Result<Checkpointer, rusqlite::Error> {
        let conn = Connection::open(path)?;
        configure(&conn, CACHE_KIB)?;
        let request = Request(Arc::default());
        let shared = request.0.clone();
        let thread = std::thread::Builder::new()
            .name("feedsift-checkpoint".into())
            .spawn(move || run(&conn, &shared))
            .map_err(|e| {
                rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                    Some(format!("cannot start the checkpointing thread: {e}")),
                )
            })?;
        Ok(Checkpointer {
            request,
            thread: Some(thread),
        })
    }

    /// A handle that asks this thread for checkpoints.
    pub(super) fn request(&self) -> Request {
        self.request.clone()
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.request
            .0
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stop = true;
        self.request.0.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, shared: &Shared) {
    crate::priority::lower_current_thread();
    loop {
        {
            let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
            while !state.wanted && !state.stop {
                state = shared
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if state.stop {
                return;
            }
            state.wanted = false;
        }
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "cannot copy the write-ahead log into the database");
        }
    }
}

/// The size of the file at `path` once it reaches `at_least` bytes, or after 10 s.
#[cfg(test)]
pub(super) fn file_size_reaching(path: &Path, at_least: u64) -> u64 {
    let started = std::time::Instant::now();
    loop {
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if size >= at_least || started.elapsed() > std::time::Duration::from_secs(10) {
            return size;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_requested_checkpoint_copies_the_log_into_the_database_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("db");
        let writer = Connection::open(&path).expect("open");
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .expect("WAL");
        writer
            .pragma_update(None, "wal_autocheckpoint", 0)
            .expect("no checkpoints of the writer's own");
        writer
            .execute_batch(
                "CREATE TABLE t (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256)
                 INSERT INTO t SELECT randomblob(4000) FROM n;",
            )
            .expect("a megabyte in the log");
        let checkpointer = Checkpointer::spawn(&path).expect("thread");
        std::thread::sleep(Duration::from_millis(200));
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        assert!(size < 1 << 20, "nothing asked, nothing copied: {size}");
        checkpointer.request().checkpoint();
        assert!(file_size_reaching(&path, 1 << 20) >= 1 << 20);
        drop(checkpointer);
        let rows: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 256);
    }
}
