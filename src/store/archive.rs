//! Archive pages of outputs (RFC 5005): every item an output ever showed gets a place in the
//! order it was first seen, pages of `page_size` places, and a full page's documents are
//! kept as they were first rendered, so they never change.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};

use super::filter_sql::{Condition, Mode, condition};
use super::query::{Catalog, item_by_id};
use super::{Store, StoreError, unix};
use crate::filter::Expr;
use crate::model::StoredItem;

/// Entries on one archive page.
pub const ARCHIVE_PAGE_SIZE: i64 = 50;

/// The first and last kept page of an output, each found from one end of the primary key.
/// `min(page), max(page)` in one query cannot do that: it read every kept document of the
/// output (each row holds its body, overflow pages and all), 0.4 s for 900 pages, on every
/// render of the output.
pub(super) const ARCHIVE_SPAN: &str =
    "SELECT (SELECT min(page) FROM archive_pages WHERE output = ?1),
                                   (SELECT max(page) FROM archive_pages WHERE output = ?1)";

impl Store {
    /// Gives every item `filter` selects that has no place in `output`'s archive yet the next
    /// places, in the order the items were first seen (older dates first among those seen
    /// together); returns the full pages (of
    /// [`ARCHIVE_PAGE_SIZE`]) that have no kept documents yet, oldest first.
    pub fn assign_archive_places(
        &self,
        output: &str,
        filter: Option<&Expr>,
    ) -> Result<Vec<i64>, StoreError> {
        let cond = filter.map_or_else(Condition::default, |f| condition(f, Mode::Probe, &|_| None));
        let mut values: Vec<Value> = cond.params.clone();
        values.push(Value::Text(output.to_string()));
        let where_clause = if cond.sql.is_empty() {
            "1".to_string()
        } else {
            cond.sql.clone()
        };
        // Only items first seen since the last placed one are candidates, so a render looks
        // at the new items, not at the whole history (an old item that starts to match later
        // stays out of the archive).
        let sql = format!(
            "SELECT i.id FROM items i WHERE {where_clause}
               AND i.first_seen >= coalesce((SELECT l.first_seen FROM archive_places p
                                               JOIN items l ON l.id = p.item_id
                                              WHERE p.output = ?{n} ORDER BY p.place DESC LIMIT 1), 0)
               AND NOT EXISTS (SELECT 1 FROM archive_places p WHERE p.output = ?{n} AND p.item_id = i.id)
             ORDER BY i.first_seen, i.sort_time, i.id",
            n = values.len()
        );
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let new: Vec<i64> = tx
            .prepare(&sql)?
            .query_map(params_from_iter(values.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut next: i64 = tx.query_row(
            "SELECT coalesce(max(place), 0) FROM archive_places WHERE output = ?1",
            [output],
            |r| r.get(0),
        )?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO archive_places (output, place, item_id) VALUES (?1, ?2, ?3)",
            )?;
            for id in new {
                next += 1;
                insert.execute(params![output, next, id])?;
            }
        }
        let size = ARCHIVE_PAGE_SIZE;
        let pages: Vec<i64> = tx
            .prepare(
                "SELECT filled.page FROM (SELECT (place - 1) / ?2 + 1 AS page, count(*) AS n
                                          FROM archive_places WHERE output = ?1 GROUP BY page) filled
                  WHERE filled.n = ?2
                    AND NOT EXISTS (SELECT 1 FROM archive_pages a
                                     WHERE a.output = ?1 AND a.page = filled.page)
                  ORDER BY filled.page",
            )?
            .query_map(params![output, size], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        tx.commit()?;
        Ok(pages)
    }

    /// The items of page `page` of `output`'s archive that are still stored, newest first.
    pub fn archive_page_items(
        &self,
        output: &str,
        page: i64,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let conn = self.reader();
        let size = ARCHIVE_PAGE_SIZE;
        let ids: Vec<i64> = conn
            .prepare_cached(
                "SELECT item_id FROM archive_places WHERE output = ?1 AND place > ?2 AND place <= ?3
                 ORDER BY place DESC",
            )?
            .query_map(params![output, (page - 1) * size, page * size], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let catalog = Catalog::load(&conn, &self.inner.spellings)?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            items.extend(item_by_id(&conn, &catalog, id)?);
        }
        Ok(items)
    }

    /// Keeps the documents of a full page (format → body) as they are now, for good.
    pub fn keep_archive_page(
        &self,
        output: &str,
        page: i64,
        documents: &[(&str, String)],
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        for (format, body) in documents {
            tx.execute(
                "INSERT OR IGNORE INTO archive_pages (output, page, format, body, kept)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![output, page, format, body, unix(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// A kept archive document.
    pub fn archive_page(
        &self,
        output: &str,
        page: i64,
        format: &str,
    ) -> Result<Option<String>, StoreError> {
        let conn = self.reader();
        Ok(conn
            .prepare_cached(
                "SELECT body FROM archive_pages WHERE output = ?1 AND page = ?2 AND format = ?3",
            )?
            .query_row(params![output, page, format], |r| r.get(0))
            .optional()?)
    }

    /// The oldest and newest kept pages of `output`'s archive. Every render of an output asks.
    pub fn archive_span(&self, output: &str) -> Result<Option<(i64, i64)>, StoreError> {
        let conn = self.reader();
        let span: (Option<i64>, Option<i64>) = conn
            .prepare_cached(ARCHIVE_SPAN)?
            .query_row([output], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(span.0.zip(span.1))
    }

    /// Drops the archive pages none of whose items is stored any more: retention prunes the
    /// oldest items first, so whole pages go, oldest first.
    pub fn prune_archives(&self) -> Result<usize, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let gone: Vec<(String, i64)> = tx
            .prepare(
                "SELECT output, (place - 1) / ?1 + 1 AS page FROM archive_places p
                  GROUP BY output, page
                 HAVING count(*) = ?1
                    AND sum(EXISTS (SELECT 1 FROM items WHERE id = p.item_id)) = 0",
            )?
            .query_map([ARCHIVE_PAGE_SIZE], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (output, page) in &gone {
            tx.execute(
                "DELETE FROM archive_pages WHERE output = ?1 AND page = ?2",
                params![output, page],
            )?;
            tx.execute(
                "DELETE FROM archive_places WHERE output = ?1 AND place > ?2 AND place <= ?3",
                params![
                    output,
                    (page - 1) * ARCHIVE_PAGE_SIZE,
                    page * ARCHIVE_PAGE_SIZE
                ],
            )?;
        }
        tx.commit()?;
        Ok(gone.len())
    }
}
