//! Reading items back for publishing: newest first, with their sources and tags.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params, params_from_iter};

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
        let conn = self.reader();
        let cond = filter.map(condition).unwrap_or_default();
        let where_clause = if cond.sql.is_empty() {
            "1".to_string()
        } else {
            cond.sql
        };
        let sql = format!(
            "SELECT i.id, i.entry_id, i.title, i.link, i.author, i.content, i.published, i.updated
             FROM items i WHERE {where_clause} ORDER BY i.sort_time DESC, i.id DESC LIMIT {limit}"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params_from_iter(cond.params.iter()), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                StoredItem {
                    entry_id: r.get(1)?,
                    title: r.get(2)?,
                    link: r.get(3)?,
                    author: r.get(4)?,
                    content: r.get(5)?,
                    published: r.get::<_, Option<i64>>(6)?.map(from_unix),
                    updated: from_unix(r.get(7)?),
                    sources: Vec::new(),
                    tags: Vec::new(),
                },
            ))
        })?;
        let mut items = Vec::new();
        for row in rows {
            let (id, mut item) = row?;
            item.sources = sources_of(&conn, id)?;
            item.tags = tags_of(&conn, id)?;
            items.push(item);
        }
        Ok(items)
    }
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
