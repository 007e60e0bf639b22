//! The only place with SQL: one SQLite file in WAL mode, a writer and a reader connection,
//! used from blocking threads (async callers go through [`Store::call`]).

mod archive;
mod articles;
mod bands;
mod explain;
mod feeds;
mod filter_sql;
mod items;
mod migrations;
mod near;
mod prune;
mod query;
mod text_index;
mod text_rebuild;
mod text_thread;
mod text_writes;
mod websub;
mod writer;

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use archive::ARCHIVE_PAGE_SIZE;
pub use articles::{ArticleJob, ArticleOutcome, ArticleRecord};
pub use explain::{ItemDetail, SourceDetail, TagSource};
pub use feeds::{FeedRecord, FeedSpec};
pub use migrations::latest_version;
pub use near::SplitError;
pub use prune::{PruneStats, Retention};
pub use websub::Subscription;
pub use writer::GroupCommit;

/// How long a connection waits for a lock held by another one before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// A backup waits this many times 100 ms at most for a busy database.
const BACKUP_TRIES: u32 = 50;
/// Page cache of the writer, SQLite's default: 8 MiB was no faster (poll bench: 1,000 feeds
/// cold 12.1–14.0 s with 8 MiB, 12.7–13.2 s with 2 MiB; 5,000 feeds 99 s and 87 s) and held
/// about 7 MiB more at the peak, the operating system caching the file anyway. Emptied whenever
/// the writer goes idle.
const WRITER_CACHE_KIB: i64 = 2048;
/// Page cache of each reading connection: an output's newest entries need a few hundred
/// pages, and the operating system caches the file anyway.
const READER_CACHE_KIB: i64 = 2048;
/// Pages of write-ahead log (~32 MiB) that make a checkpoint, rather than 1,000: fewer fsyncs
/// and fewer rewrites of the same index pages when many polls land at once.
const CHECKPOINT_PAGES: i64 = 8192;
/// [`Store::call`]s that hold a thread of the blocking pool at once: enough for each of the
/// writer, the reader and the version connection to be busy, and one waiting.
const CALLS_AT_ONCE: usize = 4;
/// How long a search waits at most for the text index to take in what this process has
/// committed (it follows the store's writer within milliseconds, but a rebuild takes longer).
const TEXT_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}", open_message(path, cause))]
    Open {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error(
        "database schema version {0} is newer than this feedsift understands; upgrade feedsift"
    )]
    NewerSchema(i64),
    // The cause is in the message, not returned as the source, so `{:#}` shows it once.
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("cannot back up the database to {path}: {cause}")]
    Backup {
        path: PathBuf,
        cause: rusqlite::Error,
    },
    #[error("cannot put the backup in place at {path}: {cause}")]
    BackupRename {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "this file is another program's SQLite database, not feedsift's; set [storage] path to another file"
    )]
    NotOurs,
    #[error("cannot lock {path}: {cause}")]
    Lock {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("database task failed")]
    TaskFailed,
    /// Every poll of a group commit gets the one error of the batch.
    #[error("writing a batch of polls failed: {0}")]
    Batch(std::sync::Arc<StoreError>),
}

/// SQLite names the path in some of its messages: it is said once.
fn open_message(path: &std::path::Path, cause: &rusqlite::Error) -> String {
    let cause = cause.to_string();
    let path = path.display().to_string();
    if cause.contains(&path) {
        format!("cannot open database: {cause}")
    } else {
        format!("cannot open database {path}: {cause}")
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Sqlite(error)
    }
}

/// The writer's connection, held: letting it go counts in [`Store::local_changes`], since
/// whatever it committed is visible by then.
struct Writer<'s> {
    conn: MutexGuard<'s, Connection>,
    released: &'s AtomicU64,
}

impl Deref for Writer<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.released.fetch_add(1, Ordering::Release);
    }
}

/// The database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// Fields drop in order: the text index's thread writes what waits and closes its file once
/// the readers have; the writer goes last, so that closing it (as the last connection) folds
/// the write-ahead log into the database file, as SQLite does on a last close.
struct Inner {
    reader: Mutex<Connection>,
    /// Only asks `PRAGMA data_version`, so that question never waits behind a long read.
    version: Mutex<Connection>,
    /// The published spelling of tag keys (see `query::common_spelling`).
    spellings: Mutex<std::collections::HashMap<String, Option<String>>>,
    text: text_index::TextIndex,
    writer: Mutex<Connection>,
    /// Times the writer was let go: each may have committed something.
    released: AtomicU64,
    /// Turns of [`Store::call`] on the blocking pool.
    calls: Arc<tokio::sync::Semaphore>,
    /// The near band index (see [`bands::BandWrites`]), written under the writer's lock.
    bands: Mutex<Option<crate::near::BandIndex>>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let mut writer = Connection::open(path).map_err(open_error)?;
        configure(&writer, WRITER_CACHE_KIB).map_err(open_error)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        writer
            .pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)
            .map_err(open_error)?;
        migrations::migrate(&mut writer)?;
        let text = text_index::TextIndex::open(path, &writer)?;
        let read_only = || -> Result<Connection, rusqlite::Error> {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&conn, READER_CACHE_KIB)?;
            conn.execute(
                "ATTACH DATABASE ?1 AS search",
                [text_index::path_beside(path).to_string_lossy()],
            )?;
            Ok(conn)
        };
        let reader = read_only().map_err(open_error)?;
        let version = read_only().map_err(open_error)?;
        Ok(Store {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                reader: Mutex::new(reader),
                version: Mutex::new(version),
                spellings: Mutex::default(),
                text,
                released: AtomicU64::new(0),
                calls: Arc::new(tokio::sync::Semaphore::new(CALLS_AT_ONCE)),
                bands: Mutex::default(),
            }),
        })
    }

    /// Folds the write-ahead log into the database file and empties it, so the `.db` file
    /// alone holds everything committed (on clean exit; see [`Store::backup_to`] for copies of a
    /// live database).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.writer()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Copies what the log holds into the database file without waiting for readers or
    /// writers; run regularly while the daemon works.
    pub fn checkpoint_passive(&self) -> Result<(), StoreError> {
        self.writer()
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Gives back the memory of the writer's page cache (the writer has gone idle: a cold
    /// poll filled it, and it would stay resident until the next burst of polls).
    pub fn release_memory(&self) -> Result<(), StoreError> {
        self.writer().execute_batch("PRAGMA shrink_memory")?;
        Ok(())
    }

    /// Writes a consistent copy of the database to `dest` with SQLite's online backup, safe
    /// while the daemon writes: the copy is made under one read transaction into a file beside
    /// `dest`, then renamed over it.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        let partial = dest.with_extension("partial");
        let copy_error = |cause| StoreError::Backup {
            path: dest.to_path_buf(),
            cause,
        };
        let _ = std::fs::remove_file(&partial);
        let mut target = Connection::open(&partial).map_err(copy_error)?;
        {
            let source = self.reader();
            let backup = rusqlite::backup::Backup::new(&source, &mut target).map_err(copy_error)?;
            // One step of every page (-1): the copy is one snapshot, never restarted by a
            // write; in WAL mode it does not hold up the daemon's writer.
            let mut tries = 0;
            while backup.step(-1).map_err(copy_error)? != rusqlite::backup::StepResult::Done {
                tries += 1;
                if tries > BACKUP_TRIES {
                    return Err(copy_error(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                        Some("the database stayed busy".into()),
                    )));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        target
            .pragma_update(None, "journal_mode", "DELETE")
            .map_err(copy_error)?;
        drop(target);
        std::fs::rename(&partial, dest).map_err(|cause| StoreError::BackupRename {
            path: dest.to_path_buf(),
            cause,
        })
    }

    /// Runs blocking store work on tokio's blocking pool, [`CALLS_AT_ONCE`] at most: the
    /// rest wait without a thread (each would only wait for a connection's lock in one).
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let turn = self
            .inner
            .calls
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::TaskFailed)?;
        let store = self.clone();
        // The turn ends with the work, even when the caller stopped waiting for it.
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            work(&store)
        })
        .await
        .map_err(|_| StoreError::TaskFailed)?
    }

    /// The band index for a transaction of the writer's (`conn`).
    fn band_writes(&self, conn: &Connection) -> Result<bands::BandWrites<'_>, StoreError> {
        bands::BandWrites::lock(&self.inner.bands, conn)
    }

    fn writer(&self) -> Writer<'_> {
        // A panic while holding the lock cannot leave a transaction open (rusqlite rolls
        // back on drop), so the connection stays usable.
        Writer {
            conn: self.inner.writer.lock().unwrap_or_else(|p| p.into_inner()),
            released: &self.inner.released,
        }
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.inner.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A number that changes whenever any connection, in this process or another, commits
    /// a change to the database or its text index. Cheap: answered from the WAL indexes.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        let conn = self.inner.version.lock().unwrap_or_else(|p| p.into_inner());
        // Both only ever grow, so their sum changes whenever either does.
        let store: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let text: i64 = conn.query_row("PRAGMA search.data_version", [], |r| r.get(0))?;
        Ok(store + text)
    }

    /// A number that grows whenever this process may have committed a change to the database
    /// or its text index (by then visible to [`Store::data_version`]): while it stays the same,
    /// only another process can have changed what `data_version` says.
    pub fn local_changes(&self) -> u64 {
        self.inner.released.load(Ordering::Acquire) + self.inner.text.changes()
    }

    /// Waits until the text index holds what this process has committed (and any rebuild of
    /// it has finished), at most `limit` (`None`: however long that takes); whether it does.
    pub fn wait_for_text_index(&self, limit: Option<Duration>) -> bool {
        self.inner.text.wait(limit)
    }

    /// Hands a committed transaction's text index writes to the text index's thread. Called
    /// with the writer's lock still held, so they arrive in the order they committed.
    fn send_text(&self, batch: Option<text_writes::TextBatch>) {
        self.inner.text.send(batch);
    }

    /// The number of canonical items stored.
    pub fn item_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .reader()
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))?)
    }
}

fn configure(conn: &Connection, cache_kib: i64) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The bundled SQLite is built with STAT4, which otherwise compiles a statement again
    // whenever a value bound against an indexed column changes: on nearly every run of the
    // ingest's lookups. Plans from the schema alone serve these statements as well.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // WAL with NORMAL sync loses at most the last commits on power loss, never integrity.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Unix seconds, as stored.
fn unix(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp()
}

fn from_unix(seconds: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests;
