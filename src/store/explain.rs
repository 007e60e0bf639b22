//! Everything known about one item, for `feedsift explain` and `query --explain`.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params_from_iter};

use super::filter_sql::{Mode, condition};
use super::query::{Catalog, item_by_id};
use super::{Store, StoreError, from_unix};
use crate::filter::Expr;
use crate::model::{ContentHash, SourceRef, Story, StoryCopy};

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
    /// Links this feed gave that are not published (not `http` or `https`).
    pub dropped_links: Vec<String>,
    /// This feed's own headline for the story (absent in rows stored before it was kept).
    pub title: Option<String>,
    /// For a copy merged as a near duplicate: the rule that merged it and the similarity it
    /// measured (0–1).
    pub near: Option<(String, f64)>,
}

/// An item with its provenance.
#[derive(Debug, Clone)]
pub struct ItemDetail {
    pub id: i64,
    pub item: crate::model::StoredItem,
    pub hash: Option<ContentHash>,
    pub first_seen: DateTime<Utc>,
    pub content_updates: i64,
    pub sources: Vec<SourceDetail>,
    pub tags: Vec<TagSource>,
    /// Its article, when its feed fetches articles (`full_text`).
    pub article: Option<super::ArticleRecord>,
}

impl Store {
    /// The item a user names by any name they have for it: its published entry id (with or
    /// without `urn:uuid:`), its content hash or a prefix of it (8 hex digits or more), a
    /// source's guid, or its link or a source's link (`canonical` is the link with tracking
    /// parameters removed, as links are stored).
    pub fn find_item(
        &self,
        needle: &str,
        canonical: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(hash) = ContentHash::from_hex(needle) {
            return self.item_for_hash(&hash);
        }
        let link = canonical.unwrap_or(needle);
        let hash_prefix = (needle.len() >= 8 && needle.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| needle.to_ascii_uppercase());
        let conn = self.reader();
        let id = conn
            .query_row(
                "SELECT id FROM items WHERE entry_id IN (?1, 'urn:uuid:' || ?1)
                 UNION ALL SELECT id FROM items WHERE link IN (?1, ?2)
                 UNION ALL SELECT item_id FROM sources WHERE link IN (?1, ?2)
                 UNION ALL SELECT item_id FROM sources WHERE upstream_key = 'g:' || ?1
                 UNION ALL SELECT id FROM items WHERE ?3 IS NOT NULL AND hex(hash) LIKE ?3 || '%'
                 LIMIT 1",
                rusqlite::params![needle, link, hash_prefix],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id)
    }

    /// The item that has (or once had) this content hash.
    pub fn item_for_hash(&self, hash: &ContentHash) -> Result<Option<i64>, StoreError> {
        let conn = self.reader();
        super::items::item_by_hash(&conn, hash)
    }

    /// The item's stored data, sources and tag provenance.
    pub fn item_detail(&self, id: i64) -> Result<Option<ItemDetail>, StoreError> {
        let conn = self.reader();
        let catalog = Catalog::load(&conn, &self.inner.spellings)?;
        let Some(item) = item_by_id(&conn, &catalog, id)? else {
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
            "SELECT feed_id, upstream_key, link, first_seen, dropped_links, title, near_rule,
                    near_score
             FROM sources WHERE item_id = ?1 ORDER BY first_seen",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?
                    .zip(r.get::<_, Option<f64>>(7)?),
            ))
        })?;
        let mut sources = Vec::new();
        let mut tags = Vec::new();
        for row in rows {
            let (feed_id, upstream_key, link, seen, dropped, title, near) = row?;
            let feed = catalog.name(feed_id).to_string();
            tags.extend(catalog.tags(feed_id).iter().map(|(key, label)| TagSource {
                label: label.clone(),
                key: key.clone(),
                origin: "feed".into(),
                feed: feed.clone(),
            }));
            sources.push(SourceDetail {
                feed,
                upstream_key,
                link,
                first_seen: from_unix(seen),
                dropped_links: dropped
                    .map(|d| d.lines().map(str::to_string).collect())
                    .unwrap_or_default(),
                title,
                near,
            });
        }
        let mut stmt = conn.prepare_cached(
            "SELECT label, key, origin, feed_id FROM item_tags WHERE item_id = ?1",
        )?;
        for row in stmt.query_map([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })? {
            let (label, key, origin, feed_id) = row?;
            tags.push(TagSource {
                label,
                key,
                origin,
                feed: catalog.name(feed_id).to_string(),
            });
        }
        tags.sort_by(|a, b| (&a.key, &a.origin, &a.feed).cmp(&(&b.key, &b.origin, &b.feed)));
        Ok(Some(ItemDetail {
            id,
            item,
            hash: ContentHash::from_slice(&hash),
            first_seen: from_unix(first_seen),
            content_updates,
            sources,
            tags,
            article: super::articles::record_of(&conn, id)?,
        }))
    }

    /// The story with this entry id (with or without `urn:uuid:`) and every copy of it.
    pub fn story(&self, entry_id: &str) -> Result<Option<Story>, StoreError> {
        let conn = self.reader();
        let found = conn
            .query_row(
                "SELECT id, entry_id, title, published FROM items
                 WHERE entry_id IN (?1, 'urn:uuid:' || ?1)",
                [entry_id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, entry_id, title, published)) = found else {
            return Ok(None);
        };
        let catalog = Catalog::load(&conn, &self.inner.spellings)?;
        let mut stmt = conn.prepare_cached(
            "SELECT feed_id, link, title, first_seen, published, near_rule, near_score
             FROM sources WHERE item_id = ?1 ORDER BY first_seen, feed_id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?
                    .zip(r.get::<_, Option<f64>>(6)?),
            ))
        })?;
        let mut copies = Vec::new();
        for row in rows {
            let (feed_id, link, headline, seen, copy_published, near) = row?;
            let Some(feed) = catalog.feed(feed_id) else {
                continue;
            };
            // The story's own date is its first copy's; a near copy keeps its own.
            let published = if near.is_some() {
                copy_published
            } else {
                published
            };
            copies.push(StoryCopy {
                source: SourceRef { link, ..feed },
                headline: headline.unwrap_or_else(|| title.clone()),
                first_seen: from_unix(seen),
                published: published.map(from_unix),
                near,
            });
        }
        copies.sort_by_key(StoryCopy::appeared);
        Ok(Some(Story {
            entry_id,
            title,
            copies,
        }))
    }

    /// Whether the item matches `expr`, evaluated exactly as outputs are.
    pub fn item_matches(&self, id: i64, expr: &Expr) -> Result<bool, StoreError> {
        let cond = condition(expr, Mode::Probe, &|_| None);
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
