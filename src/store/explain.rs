//! Everything known about one item, for `feedsift explain` and `query --explain`.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params_from_iter};

use super::filter_sql::condition;
use super::query::item_by_id;
use super::{Store, StoreError, from_unix};
use crate::filter::Expr;
use crate::model::ContentHash;

/// One place a tag of the item came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSource {
    pub label: String,
    pub key: String,
    /// `feed`, `category` or `hashtag`.
    pub origin: String,
    /// The feed that gave it.
    pub feed: String,
}

/// How one feed delivered the item.
#[derive(Debug, Clone)]
pub struct SourceDetail {
    pub feed: String,
    /// guid (`g:`), link (`l:`) or content hash (`h:`).
    pub upstream_key: String,
    pub link: Option<String>,
    pub first_seen: DateTime<Utc>,
}

/// An item with its provenance.
#[derive(Debug, Clone)]
pub struct ItemDetail {
    pub id: i64,
    pub item: super::StoredItem,
    pub hash: Option<ContentHash>,
    pub first_seen: DateTime<Utc>,
    pub content_updates: i64,
    pub sources: Vec<SourceDetail>,
    pub tags: Vec<TagSource>,
}

impl Store {
    /// The item with this published entry id, or whose link (or a source's link) is this URL.
    pub fn find_item(&self, needle: &str) -> Result<Option<i64>, StoreError> {
        let conn = self.reader();
        let id = conn
            .query_row(
                "SELECT id FROM items WHERE entry_id = ?1
                 UNION ALL SELECT id FROM items WHERE link = ?1
                 UNION ALL SELECT item_id FROM sources WHERE link = ?1 LIMIT 1",
                [needle],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id)
    }

    /// The item's stored data, sources and tag provenance.
    pub fn item_detail(&self, id: i64) -> Result<Option<ItemDetail>, StoreError> {
        let conn = self.reader();
        let Some(item) = item_by_id(&conn, id)? else {
            return Ok(None);
        };
        let (hash, first_seen, content_updates) = conn.query_row(
            "SELECT hash, first_seen, content_updates FROM items WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, Vec<u8>>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT f.name, s.upstream_key, s.link, s.first_seen FROM sources s
             JOIN feeds f ON f.id = s.feed_id WHERE s.item_id = ?1 ORDER BY s.first_seen, f.name",
        )?;
        let sources = stmt
            .query_map([id], |r| {
                Ok(SourceDetail {
                    feed: r.get(0)?,
                    upstream_key: r.get(1)?,
                    link: r.get(2)?,
                    first_seen: from_unix(r.get(3)?),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare_cached(
            "SELECT t.label, t.key, t.origin, f.name FROM item_tags t JOIN feeds f ON f.id = t.feed_id
             WHERE t.item_id = ?1
             UNION ALL
             SELECT ft.label, ft.key, 'feed', f.name FROM sources s JOIN feed_tags ft ON ft.feed_id = s.feed_id
             JOIN feeds f ON f.id = s.feed_id WHERE s.item_id = ?1
             ORDER BY 2, 3, 4",
        )?;
        let tags = stmt
            .query_map([id], |r| {
                Ok(TagSource {
                    label: r.get(0)?,
                    key: r.get(1)?,
                    origin: r.get(2)?,
                    feed: r.get(3)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(ItemDetail {
            id,
            item,
            hash: ContentHash::from_slice(&hash),
            first_seen: from_unix(first_seen),
            content_updates,
            sources,
            tags,
        }))
    }

    /// Whether the item matches `expr`, evaluated exactly as outputs are.
    pub fn item_matches(&self, id: i64, expr: &Expr) -> Result<bool, StoreError> {
        let cond = condition(expr);
        let sql = format!(
            "SELECT EXISTS (SELECT 1 FROM items i WHERE i.id = ?{} AND {})",
            cond.params.len() + 1,
            cond.sql
        );
        let mut values = cond.params;
        values.push(rusqlite::types::Value::Integer(id));
        let conn = self.reader();
        Ok(conn.query_row(&sql, params_from_iter(values.iter()), |r| r.get(0))?)
    }
}
