//! Building the text index again from the stored items, while polls go on; and moving it out
//! of the store, where schema versions before 16 kept it.
//!
//! A rebuild reads the items in chunks by id, each chunk as of the store's batch number at
//! that moment, and writes the store's new batches between chunks: a write to an item a
//! chunk has read is kept only if it committed after that chunk was read; a write to an item
//! no chunk has read yet is left out, as the chunk that reads it will find it in the store.

use std::path::Path;
use std::sync::mpsc::{Receiver, TryRecvError};

use rusqlite::{Connection, OpenFlags, params};

use super::text_index::{self, Progress, SETTINGS, TABLE};
use super::text_thread;
use super::text_writes::TextBatch;
use super::{StoreError, configure};
use crate::model::{MAX_CONTENT_BYTES, truncate_utf8};
use crate::text::html_to_text;

/// Items read from the store at a time.
const CHUNK: i64 = 500;
/// Page cache of the rebuild's reading connection.
const CACHE_KIB: i64 = 2048;

/// What a rebuild has read from the store: every item below `cursor`, in chunks each read as
/// of a batch number.
#[derive(Default)]
pub(super) struct Covered {
    active: bool,
    cursor: i64,
    /// `(end, batch)`: items below `end` (and at or above the previous end) as of `batch`.
    chunks: Vec<(i64, i64)>,
}

impl Covered {
    /// Whether batch `number`'s write to `rowid` is still to be made.
    pub(super) fn keeps(&self, number: i64, rowid: i64) -> bool {
        if !self.active {
            return true;
        }
        if rowid >= self.cursor {
            return false;
        }
        let chunk = self.chunks.partition_point(|&(end, _)| end <= rowid);
        self.chunks
            .get(chunk)
            .is_none_or(|&(_, batch)| number > batch)
    }

    /// Batch `number` has been written: once the rebuild is done and a batch newer than every
    /// chunk comes, nothing is left out any more.
    pub(super) fn passed(&mut self, number: i64) {
        if self.cursor == i64::MAX && self.chunks.iter().all(|&(_, batch)| number > batch) {
            *self = Covered::default();
        }
    }

    fn newest(&self) -> i64 {
        self.chunks.iter().map(|&(_, b)| b).max().unwrap_or(0)
    }
}

/// Empties the index and fills it from the store at `store`; false when the store was
/// closed before it finished (the next start begins again).
pub(super) fn rebuild(
    conn: &Connection,
    store: &Path,
    batches: &Receiver<TextBatch>,
    progress: &Progress,
    covered: &mut Covered,
) -> Result<bool, StoreError> {
    conn.execute_batch(&format!(
        "BEGIN; DROP TABLE IF EXISTS item_text; {TABLE} {SETTINGS}
         UPDATE text_state SET stale = 1; COMMIT;"
    ))?;
    let items = Connection::open_with_flags(
        store,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&items, CACHE_KIB)?;
    *covered = Covered {
        active: true,
        cursor: i64::MIN,
        chunks: Vec::new(),
    };
    loop {
        loop {
            match batches.try_recv() {
                Ok(batch) => text_thread::commit(conn, batch, || None, covered, progress)?,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return Ok(false),
            }
        }
        let (batch, chunk) = read_chunk(&items, covered.cursor)?;
        let Some(&(last, _, _)) = chunk.last() else {
            break;
        };
        let tx = conn.unchecked_transaction()?;
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO item_text (rowid, title, body) VALUES (?1, ?2, ?3)")?;
            for (id, title, body) in chunk {
                insert.execute(params![id, title, body])?;
            }
        }
        tx.commit()?;
        covered.chunks.push((last + 1, batch));
        covered.cursor = last + 1;
        progress.written(batch);
    }
    covered.cursor = i64::MAX;
    let tx = conn.unchecked_transaction()?;
    text_index::set_state(&tx, covered.newest())?;
    tx.execute("UPDATE text_state SET stale = 0", [])?;
    tx.commit()?;
    Ok(true)
}

/// The items from id `from` on, [`CHUNK`] of them, with their searchable text, and the
/// store's batch number they are as of.
#[allow(clippy::type_complexity)]
fn read_chunk(
    items: &Connection,
    from: i64,
) -> Result<(i64, Vec<(i64, String, String)>), StoreError> {
    let tx = items.unchecked_transaction()?;
    let batch: i64 = tx.query_row("SELECT batch FROM text_state", [], |r| r.get(0))?;
    let rows = tx
        .prepare_cached(
            "SELECT i.id, i.title, coalesce(
                 (SELECT content FROM articles WHERE item_id = i.id AND state = 'fetched'),
                 (SELECT content FROM (
                      SELECT i.content AS content
                      UNION ALL SELECT content FROM sources
                                WHERE item_id = i.id AND near_rule IS NOT NULL)
                  ORDER BY octet_length(content) DESC LIMIT 1))
             FROM items i WHERE i.id >= ?1 ORDER BY i.id LIMIT ?2",
        )?
        .query_map(params![from, CHUNK], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?))
        })?
        .map(|row| {
            row.map(|(id, title, html)| {
                let body = html.as_deref().map(html_to_text).unwrap_or_default();
                (id, title, truncate_utf8(body, MAX_CONTENT_BYTES))
            })
        })
        .collect::<Result<_, _>>()?;
    tx.commit()?;
    Ok((batch, rows))
}

/// Moves the index that schema versions before 16 kept in the store into the file at `index`:
/// copies its tables there as they are (no text is indexed again), records that it holds
/// every batch the store numbered, then drops it from the store. Begun again from the start
/// if interrupted.
pub(super) fn move_out_of_store(store: &Connection, index: &Path) -> Result<(), StoreError> {
    let tables: Vec<String> = store
        .prepare(
            "SELECT name FROM main.sqlite_schema
             WHERE type = 'table' AND name LIKE 'item\\_text\\_%' ESCAPE '\\'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    if tables.is_empty() {
        return Ok(());
    }
    // A new store's empty index is left behind: the file's own has this version's settings.
    let documents: i64 =
        store.query_row("SELECT count(*) FROM main.item_text_docsize", [], |r| {
            r.get(0)
        })?;
    if documents == 0 {
        store.execute_batch("DROP TABLE item_text")?;
        return Ok(());
    }
    store.execute("ATTACH DATABASE ?1 AS search", [index.to_string_lossy()])?;
    let copied = copy_index(store, &tables);
    store.execute_batch("DETACH DATABASE search")?;
    copied?;
    store.execute_batch("DROP TABLE item_text")?;
    Ok(())
}

fn copy_index(store: &Connection, tables: &[String]) -> Result<(), StoreError> {
    let mut sql = format!(
        "BEGIN; DROP TABLE IF EXISTS search.item_text; {}",
        TABLE.replace("TABLE item_text", "TABLE search.item_text")
    );
    for table in tables {
        sql.push_str(&format!(
            "DELETE FROM search.{table}; INSERT INTO search.{table} SELECT * FROM main.{table};"
        ));
    }
    sql.push_str(
        "DELETE FROM search.text_state;
         INSERT INTO search.text_state (batch, stale) SELECT batch, 0 FROM main.text_state;
         COMMIT;",
    );
    store.execute_batch(&sql).inspect_err(|_| {
        let _ = store.execute_batch("ROLLBACK");
    })?;
    Ok(())
}
