//! The text index's writes of one transaction, gathered while it runs and handed to the text
//! index's thread (see [`super::text_index`]) once it commits, in rowid order.
//!
//! FTS5 keeps a transaction's new terms in memory and writes them out as one segment at
//! commit, but only while rows arrive in ascending rowid order: a row written below the last
//! one (a stored story whose text is replaced by a fuller near copy, an item its feed edited)
//! makes it write out what it holds first. Written as they came, each such replacement cost a
//! segment of its own and the merges that follow (a quarter of near merging's ingest cost).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::Connection;

use super::StoreError;

/// One row's text as the transaction leaves it.
struct Row<'a> {
    /// The index holds a text for the row from before the transaction: removed first.
    indexed: bool,
    /// The row's new title and body (shared with the item it came from); none when the row
    /// is deleted.
    text: Option<(Cow<'a, str>, Arc<str>)>,
}

/// Text index rows to write once the transaction commits.
#[derive(Default)]
pub(super) struct TextWrites<'a> {
    rows: BTreeMap<i64, Row<'a>>,
}

impl<'a> TextWrites<'a> {
    /// The text of a row new in this transaction.
    pub(super) fn insert(&mut self, rowid: i64, title: &'a str, body: Arc<str>) {
        let text = Some((Cow::Borrowed(title), body));
        self.rows.insert(
            rowid,
            Row {
                indexed: false,
                text,
            },
        );
    }

    /// The row's text becomes this, whether the row is new in this transaction or not.
    pub(super) fn replace(&mut self, rowid: i64, title: Cow<'a, str>, body: Arc<str>) {
        self.set(rowid, true, Some((title, body)));
    }

    /// The row leaves the index.
    pub(super) fn delete(&mut self, rowid: i64) {
        self.set(rowid, true, None);
    }

    /// Takes in the writes of a savepoint that committed inside this transaction.
    pub(super) fn absorb(&mut self, later: TextWrites<'a>) {
        for (rowid, row) in later.rows {
            self.set(rowid, row.indexed, row.text);
        }
    }

    /// A write to `rowid`, which the index holds from before (`indexed`) unless this
    /// transaction made the row.
    fn set(&mut self, rowid: i64, indexed: bool, text: Option<(Cow<'a, str>, Arc<str>)>) {
        let indexed = self.rows.get(&rowid).map_or(indexed, |row| row.indexed);
        if !indexed && text.is_none() {
            self.rows.remove(&rowid);
        } else {
            self.rows.insert(rowid, Row { indexed, text });
        }
    }

    /// Numbers this transaction's writes among all the store's (the count the text index keeps
    /// to know it holds every one, see [`super::text_index`]); `None` when there are none.
    pub(super) fn finish(self, tx: &Connection) -> Result<Option<TextBatch>, StoreError> {
        if self.rows.is_empty() {
            return Ok(None);
        }
        let number = tx
            .prepare_cached("UPDATE text_state SET batch = batch + 1 RETURNING batch")?
            .query_row([], |r| r.get(0))?;
        let rows = self
            .rows
            .into_iter()
            .map(|(rowid, row)| TextRow {
                rowid,
                indexed: row.indexed,
                text: row.text.map(|(title, body)| (title.into_owned(), body)),
            })
            .collect();
        Ok(Some(TextBatch { number, rows }))
    }
}

/// The text index writes of one committed transaction.
pub(super) struct TextBatch {
    /// Its place among the store's transactions with text writes (`text_state.batch`).
    pub(super) number: i64,
    /// Ascending by rowid.
    pub(super) rows: Vec<TextRow>,
}

impl TextBatch {
    /// The bytes of text it holds.
    pub(super) fn bytes(&self) -> usize {
        self.rows
            .iter()
            .filter_map(|row| row.text.as_ref())
            .map(|(title, body)| title.len() + body.len())
            .sum()
    }
}

/// One row's write.
pub(super) struct TextRow {
    pub(super) rowid: i64,
    pub(super) indexed: bool,
    pub(super) text: Option<(String, Arc<str>)>,
}
