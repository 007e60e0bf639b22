//! Retention: items stored longer than `retention` (counted from when feedsift first saw
//! them, so a new subscription's older posts are shown too) and beyond each feed's `max_items_per_feed` are removed in
//! small transactions, leaving tombstones (hash and upstream key only) so that an old item
//! reappearing in a feed is never published as new.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::text_writes::TextWrites;
use super::{Store, StoreError, unix};

/// Tombstones not seen in any feed for this long are forgotten: feeds that still carry an
/// old item refresh its tombstone on every poll, so only items gone upstream expire.
const TOMBSTONE_TTL: Duration = Duration::from_secs(90 * 24 * 3600);

/// What one pruning pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Canonical items deleted.
    pub items: usize,
    /// Sources (feed, item) dropped because their feed holds too many.
    pub sources: usize,
}

/// Limits that decide what is pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub max_age: Duration,
    pub max_items_per_feed: u32,
    /// The longest `near_window` in force: copies older than that leave the near-duplicate index.
    pub near_window: Duration,
}

/// Copies stay in the near-duplicate index this long beyond the window, for items that
/// arrive late.
const NEAR_SLACK: Duration = Duration::from_secs(24 * 3600);

impl Store {
    /// Prunes at most `batch` items or sources in one transaction. Call until it returns
    /// zeros; each call holds the write lock only briefly.
    pub fn prune_batch(
        &self,
        now: DateTime<Utc>,
        retention: Retention,
        batch: usize,
    ) -> Result<PruneStats, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let mut stats = PruneStats::default();
        let mut texts = TextWrites::default();
        let cutoff =
            now - chrono::Duration::from_std(retention.max_age).unwrap_or(chrono::Duration::MAX);
        let expired: Vec<i64> = tx
            .prepare_cached("SELECT id FROM items WHERE first_seen < ?1 LIMIT ?2")?
            .query_map(params![unix(cutoff), batch as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in expired {
            delete_item(&tx, &mut texts, id, now)?;
            stats.items += 1;
        }
        let excess = excess_sources(
            &tx,
            retention.max_items_per_feed,
            batch.saturating_sub(stats.items),
        )?;
        for (feed_id, upstream_key, item_id) in excess {
            if drop_source(&tx, &mut texts, (feed_id, &upstream_key, item_id), now)? {
                stats.items += 1;
            }
            stats.sources += 1;
        }
        let ttl = chrono::Duration::from_std(TOMBSTONE_TTL).unwrap_or(chrono::Duration::MAX);
        tx.execute(
            "DELETE FROM pruned_hashes WHERE seen < ?1",
            [unix(now - ttl)],
        )?;
        tx.execute("DELETE FROM pruned_keys WHERE seen < ?1", [unix(now - ttl)])?;
        let near_horizon = chrono::Duration::from_std(retention.near_window + NEAR_SLACK)
            .unwrap_or(chrono::Duration::MAX);
        let forgotten = super::near::forget_before(&tx, unix(now - near_horizon))?;
        let batch = texts.finish(&tx)?;
        tx.commit()?;
        self.send_text(batch);
        if let Some(last) = forgotten {
            super::bands::forget_indexed(&self.inner.bands, last);
        }
        Ok(stats)
    }
}

/// (feed, upstream key, item) of sources beyond their feed's newest `max` items.
fn excess_sources(
    tx: &Connection,
    max: u32,
    limit: usize,
) -> Result<Vec<(i64, String, i64)>, StoreError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut stmt = tx.prepare_cached(
        "SELECT feed_id, upstream_key, item_id FROM (
             SELECT s.feed_id, s.upstream_key, s.item_id, row_number() OVER (
                 PARTITION BY s.feed_id ORDER BY (SELECT sort_time FROM items WHERE id = s.item_id) DESC, s.item_id DESC
             ) AS rank
             FROM sources s WHERE s.feed_id IN (
                 SELECT feed_id FROM sources GROUP BY feed_id HAVING count(*) > ?1))
         WHERE rank > ?1 LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![max, limit as i64], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Removes one feed's source of an item, and the item itself when no source is left.
/// Returns whether the item was deleted.
fn drop_source(
    tx: &Connection,
    texts: &mut TextWrites,
    (feed_id, upstream_key, item_id): (i64, &str, i64),
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    tombstone_key(tx, feed_id, upstream_key, now)?;
    forget_tags(tx, item_id, feed_id)?;
    tx.prepare_cached("DELETE FROM sources WHERE feed_id = ?1 AND upstream_key = ?2")?
        .execute(params![feed_id, upstream_key])?;
    let left: i64 = tx
        .prepare_cached("SELECT count(*) FROM sources WHERE item_id = ?1")?
        .query_row([item_id], |r| r.get(0))?;
    if left == 0 {
        delete_item(tx, texts, item_id, now)?;
    }
    Ok(left == 0)
}

/// Deletes an item with everything that refers to it, leaving tombstones of its hashes and keys.
fn delete_item(
    tx: &Connection,
    texts: &mut TextWrites,
    item_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let keys: Vec<(i64, String)> = tx
        .prepare_cached("SELECT feed_id, upstream_key FROM sources WHERE item_id = ?1")?
        .query_map([item_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (feed_id, key) in keys {
        tombstone_key(tx, feed_id, &key, now)?;
    }
    tx.prepare_cached(
        "INSERT INTO pruned_hashes (hash, seen)
         SELECT hash, ?2 FROM items WHERE id = ?1
         UNION SELECT hash, ?2 FROM earlier_hashes WHERE item_id = ?1
         ON CONFLICT (hash) DO UPDATE SET seen = excluded.seen",
    )?
    .execute(params![item_id, unix(now)])?;
    texts.delete(item_id);
    // Sources, hashes and tags go with it (ON DELETE CASCADE).
    tx.prepare_cached("DELETE FROM items WHERE id = ?1")?
        .execute([item_id])?;
    Ok(())
}

fn tombstone_key(
    tx: &Connection,
    feed_id: i64,
    key: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO pruned_keys (feed_id, upstream_key, seen) VALUES (?1, ?2, ?3)
         ON CONFLICT (feed_id, upstream_key) DO UPDATE SET seen = excluded.seen",
    )?
    .execute(params![feed_id, key, unix(now)])?;
    Ok(())
}

/// Removes the tags one feed gave the item.
fn forget_tags(tx: &Connection, item_id: i64, feed_id: i64) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM item_tags WHERE item_id = ?1 AND feed_id = ?2")?
        .execute(params![item_id, feed_id])?;
    Ok(())
}

/// Marks the tombstones of a pruned item as seen again, so they outlive the feed carrying it.
pub(super) fn refresh_tombstones(
    tx: &Connection,
    feed_id: i64,
    key: &str,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE pruned_keys SET seen = ?3 WHERE feed_id = ?1 AND upstream_key = ?2")?
        .execute(params![feed_id, key, unix(now)])?;
    tx.prepare_cached("UPDATE pruned_hashes SET seen = ?2 WHERE hash = ?1")?
        .execute(params![hash, unix(now)])?;
    Ok(())
}
