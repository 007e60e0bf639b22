//! The only place with SQL: one SQLite file in WAL mode, a writer and a reader connection,
//! used from blocking threads (async callers go through [`Store::call`]).

mod explain;
mod feeds;
mod filter_sql;
mod items;
mod migrations;
mod prune;
mod query;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use explain::{ItemDetail, SourceDetail, TagSource};
pub use feeds::{
    BROKEN_AFTER_FAILURES, FeedHealth, FeedRecord, FeedSpec, Location, PollOutcome, PollWrite,
};
pub use items::IngestStats;
pub use migrations::latest_version;
pub use prune::{PruneStats, Retention};
pub use query::{SourceRef, StoredItem};
pub use writer::Writer;

/// How long a connection waits for a lock held by another one before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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
    #[error("database task failed")]
    TaskFailed,
    #[error("writing a batch of polls failed: {0}")]
    Batch(String),
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

/// The database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// Only asks `PRAGMA data_version`, so that question never waits behind a long read.
    version: Mutex<Connection>,
    /// The published spelling of tag keys (see `query::common_spelling`).
    spellings: Mutex<std::collections::HashMap<String, Option<String>>>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_error = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let mut writer = Connection::open(path).map_err(open_error)?;
        configure(&writer).map_err(open_error)?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        // Checkpoint every ~32 MiB of WAL rather than 4 MiB: fewer fsyncs and fewer
        // rewrites of the same index pages when many polls land at once.
        writer
            .pragma_update(None, "wal_autocheckpoint", 8192)
            .map_err(open_error)?;
        migrations::migrate(&mut writer)?;
        let read_only = || -> Result<Connection, rusqlite::Error> {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&conn)?;
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
            }),
        })
    }

    /// Runs blocking store work on tokio's blocking pool.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|_| StoreError::TaskFailed)?
    }

    fn writer(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction open (rusqlite rolls
        // back on drop), so the connection stays usable.
        self.inner.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reader(&self) -> MutexGuard<'_, Connection> {
        self.inner.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A number that changes whenever any connection, in this process or another, commits
    /// a change to the database. Cheap: answered from the WAL index.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        let conn = self.inner.version.lock().unwrap_or_else(|p| p.into_inner());
        Ok(conn.query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// The number of canonical items stored.
    pub fn item_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .reader()
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))?)
    }
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // WAL with NORMAL sync loses at most the last commits on power loss, never integrity.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Index pages of a busy database stay in memory: 8 MiB (the default is 2 MiB).
    conn.pragma_update(None, "cache_size", -8192)?;
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
