//! Reading items back for publishing: newest first, with their sources and tags.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::filter_sql::condition;
use super::{Store, StoreError, from_unix};
use crate::filter::Expr;

/// A feed an item came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub feed_name: String,
    /// The feed's own title, when its document had one.
    pub feed_title: Option<String>,
    pub feed_url: String,
    /// The feed's website.
    pub site_link: Option<String>,
    /// The item's link in this feed.
    pub link: Option<String>,
}

/// A canonical item as published.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub entry_id: String,
    pub title: String,
    pub link: Option<String>,
    pub author: Option<String>,
    /// Unsanitised HTML as received.
    pub content: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
    /// In the order they were first seen.
    pub sources: Vec<SourceRef>,
    /// Tag labels in their most common spelling, sorted.
    pub tags: Vec<String>,
}

impl Store {
    /// The newest `limit` items matching `filter` (all items when `None`).
    pub fn items_matching(
        &self,
        filter: Option<&Expr>,
        limit: usize,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let ids = self.matching_ids(filter, limit)?;
        let conn = self.reader();
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            items.extend(item_by_id(&conn, id)?);
        }
        Ok(items)
    }

    /// Ids of the newest `limit` items matching `filter`.
    pub fn matching_ids(
        &self,
        filter: Option<&Expr>,
        limit: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let cond = filter.map(condition).unwrap_or_default();
        let where_clause = if cond.sql.is_empty() {
            "1"
        } else {
            cond.sql.as_str()
        };
        let sql = format!(
            "SELECT i.id FROM items i WHERE {where_clause}
             ORDER BY i.sort_time DESC, i.id DESC LIMIT ?{}",
            cond.params.len() + 1
        );
        let mut values = cond.params;
        values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let conn = self.reader();
        let mut stmt = conn.prepare(&sql)?;
        let ids = stmt.query_map(params_from_iter(values.iter()), |r| r.get(0))?;
        Ok(ids.collect::<Result<_, _>>()?)
    }
}

/// One item with its sources and tags.
pub(super) fn item_by_id(conn: &Connection, id: i64) -> Result<Option<StoredItem>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT entry_id, title, link, author, content, published, updated FROM items WHERE id = ?1",
    )?;
    let item = stmt
        .query_row([id], |r| {
            Ok(StoredItem {
                entry_id: r.get(0)?,
                title: r.get(1)?,
                link: r.get(2)?,
                author: r.get(3)?,
                content: r.get(4)?,
                published: r.get::<_, Option<i64>>(5)?.map(from_unix),
                updated: from_unix(r.get(6)?),
                sources: Vec::new(),
                tags: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut item) = item else {
        return Ok(None);
    };
    item.sources = sources_of(conn, id)?;
    item.tags = tags_of(conn, id)?;
    Ok(Some(item))
}

fn sources_of(conn: &Connection, item_id: i64) -> Result<Vec<SourceRef>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.name, f.title, f.url, f.site_link, s.link FROM sources s JOIN feeds f ON f.id = s.feed_id
         WHERE s.item_id = ?1 ORDER BY s.first_seen, f.name",
    )?;
    let rows = stmt.query_map([item_id], |r| {
        Ok(SourceRef {
            feed_name: r.get(0)?,
            feed_title: r.get(1)?,
            feed_url: r.get(2)?,
            site_link: r.get(3)?,
            link: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Each tag key of the item once, spelled as most items spell it (feed tags as configured).
fn tags_of(conn: &Connection, item_id: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "WITH keys AS (
             SELECT key, min(label) AS label FROM item_tags WHERE item_id = ?1 GROUP BY key
             UNION
             SELECT ft.key, ft.label FROM sources s JOIN feed_tags ft ON ft.feed_id = s.feed_id
             WHERE s.item_id = ?1)
         SELECT k.key, coalesce(
             (SELECT ts.label FROM tag_spellings ts WHERE ts.key = k.key AND ts.uses > 0
              ORDER BY ts.uses DESC, ts.label LIMIT 1), k.label)
         FROM keys k",
    )?;
    let rows = stmt.query_map(params![item_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut tags: Vec<(String, String)> = rows.collect::<Result<_, _>>()?;
    tags.sort();
    tags.dedup_by(|a, b| a.0 == b.0);
    let mut labels: Vec<String> = tags.into_iter().map(|(_, label)| label).collect();
    labels.sort_by_key(|l| l.to_lowercase());
    Ok(labels)
}
