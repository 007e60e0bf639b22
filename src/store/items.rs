//! Canonical items: insert new stories, add sources to known ones, update changed ones in place.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, prune, unix};
use crate::model::{ContentHash, Item};

/// An item's content may change at most this often, so a feed with a changing timestamp
/// in its body cannot churn readers' unread counts.
const MAX_CONTENT_UPDATES: i64 = 24;

/// What storing one document's items did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Stories never seen before.
    pub new: usize,
    /// Known stories whose content changed.
    pub updated: usize,
    /// Stories already stored from another feed (or under another id): one more source.
    pub deduplicated: usize,
    /// Stories pruned earlier that the feed still carries; not stored again.
    pub pruned: usize,
}

/// A stored item as identity lookups see it.
struct Known {
    id: i64,
    hash: Vec<u8>,
    content_updates: i64,
}

/// Stores one feed's items inside the poll's transaction.
pub fn ingest(
    tx: &Connection,
    feed_id: i64,
    items: &[Item],
    now: DateTime<Utc>,
) -> Result<IngestStats, StoreError> {
    let mut stats = IngestStats::default();
    for item in items {
        match source_item(tx, feed_id, item)? {
            Some(known) if known.hash == item.hash.as_bytes() => {}
            Some(known) => {
                if update_item(tx, feed_id, &known, item, now)? {
                    stats.updated += 1;
                }
            }
            None if prune::was_pruned(tx, feed_id, &item.key.0, item.hash.as_bytes(), now)? => {
                stats.pruned += 1;
            }
            None => match item_by_hash(tx, &item.hash)? {
                Some(item_id) => {
                    add_source(tx, feed_id, item_id, item, now)?;
                    stats.deduplicated += 1;
                }
                None => {
                    let item_id = insert_item(tx, item, now)?;
                    add_source(tx, feed_id, item_id, item, now)?;
                    stats.new += 1;
                }
            },
        }
    }
    Ok(stats)
}

/// The item this feed already delivered under the same upstream key.
fn source_item(tx: &Connection, feed_id: i64, item: &Item) -> Result<Option<Known>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, hash, content_updates FROM items
         WHERE id = (SELECT item_id FROM sources WHERE feed_id = ?1 AND upstream_key = ?2)",
    )?;
    let known = stmt
        .query_row(params![feed_id, item.key.0], |r| {
            Ok(Known {
                id: r.get(0)?,
                hash: r.get(1)?,
                content_updates: r.get(2)?,
            })
        })
        .optional()?;
    Ok(known)
}

fn item_by_hash(tx: &Connection, hash: &ContentHash) -> Result<Option<i64>, StoreError> {
    let mut stmt = tx.prepare_cached("SELECT item_id FROM item_hashes WHERE hash = ?1")?;
    Ok(stmt.query_row([hash.as_bytes()], |r| r.get(0)).optional()?)
}

/// Future dates would pin an item to the top of every merged feed.
fn sort_time(item: &Item, now: DateTime<Utc>) -> i64 {
    unix(item.published.or(item.updated).unwrap_or(now).min(now))
}

fn insert_item(tx: &Connection, item: &Item, now: DateTime<Utc>) -> Result<i64, StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO items (entry_id, hash, title, link, author, content, published, updated,
                            first_seen, sort_time, base)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    let updated = item.updated.or(item.published).unwrap_or(now).min(now);
    stmt.execute(params![
        item.hash.entry_id(),
        item.hash.as_bytes(),
        item.title,
        item.link,
        item.author,
        item.content,
        item.published.map(unix),
        unix(updated),
        unix(now),
        sort_time(item, now),
        item.base,
    ])?;
    let item_id = tx.last_insert_rowid();
    tx.prepare_cached("INSERT OR IGNORE INTO item_hashes (hash, item_id) VALUES (?1, ?2)")?
        .execute(params![item.hash.as_bytes(), item_id])?;
    tx.prepare_cached("INSERT INTO item_text (rowid, title, body) VALUES (?1, ?2, ?3)")?
        .execute(params![item_id, item.title, item.text])?;
    Ok(item_id)
}

fn add_source(
    tx: &Connection,
    feed_id: i64,
    item_id: i64,
    item: &Item,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO sources (feed_id, upstream_key, item_id, link, first_seen) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![feed_id, item.key.0, item_id, item.link, unix(now)])?;
    insert_item_tags(tx, item_id, feed_id, item)
}

/// Updates a changed item in place; returns false when the change is not taken (the update cap
/// is reached, or the new content is another stored story).
fn update_item(
    tx: &Connection,
    feed_id: i64,
    known: &Known,
    item: &Item,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if known.content_updates >= MAX_CONTENT_UPDATES {
        return Ok(false);
    }
    if item_by_hash(tx, &item.hash)?.is_some_and(|other| other != known.id) {
        return Ok(false);
    }
    tx.prepare_cached(
        "UPDATE items SET hash = ?2, title = ?3, link = ?4, author = ?5, content = ?6,
                          updated = max(updated + 1, ?7), content_updates = content_updates + 1, base = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        known.id,
        item.hash.as_bytes(),
        item.title,
        item.link,
        item.author,
        item.content,
        unix(now), item.base
    ])?;
    tx.prepare_cached("INSERT OR IGNORE INTO item_hashes (hash, item_id) VALUES (?1, ?2)")?
        .execute(params![item.hash.as_bytes(), known.id])?;
    tx.prepare_cached("DELETE FROM item_text WHERE rowid = ?1")?
        .execute([known.id])?;
    tx.prepare_cached("INSERT INTO item_text (rowid, title, body) VALUES (?1, ?2, ?3)")?
        .execute(params![known.id, item.title, item.text])?;
    replace_item_tags(tx, known.id, feed_id, item)?;
    Ok(true)
}

/// The item's category and hashtag tags as this feed gives them now.
fn replace_item_tags(
    tx: &Connection,
    item_id: i64,
    feed_id: i64,
    item: &Item,
) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM item_tags WHERE item_id = ?1 AND feed_id = ?2")?
        .execute(params![item_id, feed_id])?;
    insert_item_tags(tx, item_id, feed_id, item)
}

/// The item's category and hashtag tags from this feed, which has none recorded for it yet.
fn insert_item_tags(
    tx: &Connection,
    item_id: i64,
    feed_id: i64,
    item: &Item,
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO item_tags (item_id, feed_id, origin, key, label) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for tag in &item.tags {
        insert.execute(params![
            item_id,
            feed_id,
            tag.origin.as_str(),
            tag.key,
            tag.label
        ])?;
    }
    Ok(())
}
