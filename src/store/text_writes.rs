//! The text index's writes of one transaction, held until its end and then made in rowid
//! order.
//!
//! FTS5 keeps a transaction's new terms in memory and writes them out as one segment at
//! commit, but only while rows arrive in ascending rowid order: a row written below the last
//! one (a stored story whose text is replaced by a fuller near copy, an item its feed edited)
//! makes it write out what it holds first. Written as they came, each such replacement cost a
//! segment of its own and the merges that follow (a quarter of near merging's ingest cost).

use std::borrow::Cow;
use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::StoreError;

/// One row's text as the transaction leaves it.
struct Row<'a> {
    /// The index holds a text for the row from before the transaction: removed first.
    indexed: bool,
    title: Cow<'a, str>,
    body: Cow<'a, str>,
}

/// Text index rows to write before the transaction commits.
#[derive(Default)]
pub(super) struct TextWrites<'a> {
    rows: BTreeMap<i64, Row<'a>>,
}

impl<'a> TextWrites<'a> {
    /// The text of a row new in this transaction.
    pub(super) fn insert(&mut self, rowid: i64, title: &'a str, body: &'a str) {
        self.rows.insert(
            rowid,
            Row {
                indexed: false,
                title: Cow::Borrowed(title),
                body: Cow::Borrowed(body),
            },
        );
    }

    /// The row's text becomes this, whether the row is new in this transaction or not.
    pub(super) fn replace(&mut self, rowid: i64, title: Cow<'a, str>, body: Cow<'a, str>) {
        let indexed = self.rows.get(&rowid).is_none_or(|row| row.indexed);
        self.rows.insert(
            rowid,
            Row {
                indexed,
                title,
                body,
            },
        );
    }

    /// Makes the writes, lowest rowid first.
    pub(super) fn write(self, tx: &Connection) -> Result<(), StoreError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut delete = tx.prepare_cached("DELETE FROM item_text WHERE rowid = ?1")?;
        let mut insert =
            tx.prepare_cached("INSERT INTO item_text (rowid, title, body) VALUES (?1, ?2, ?3)")?;
        for (rowid, row) in self.rows {
            if row.indexed {
                delete.execute([rowid])?;
            }
            insert.execute(params![rowid, row.title, row.body])?;
        }
        Ok(())
    }
}
