//! Canonical items: insert new stories, add sources to known ones, update changed ones in place.

use chrono::{DateTime, Utc};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};

use super::text_writes::TextWrites;
use super::{StoreError, articles, near, prune, unix};
use crate::model::{ContentHash, IngestStats, Item, Tag};
use crate::near::BandIndex;

/// An item's content may change at most this often, so a feed with a changing timestamp
/// in its body cannot churn readers' unread counts.
const MAX_CONTENT_UPDATES: i64 = 24;

/// A stored item as identity lookups see it.
struct Known {
    id: i64,
    /// The hash of this feed's copy: the story's, or a near copy's own.
    hash: Vec<u8>,
    content_updates: i64,
    /// This feed's copy was merged into the story as a near duplicate.
    near: bool,
}

/// What the store knows of an item's content when its feed has not delivered it before.
enum ByContent {
    /// Pruned earlier (by this feed's key or by hash): not stored again.
    Pruned,
    /// Stored already, from another feed or under another key.
    Stored(i64),
    New,
}

/// SQL for the item whose current or an earlier content hash is the parameter `$hash`: one
/// text for both lookups that need it, built at compile time.
macro_rules! hash_owner {
    ($hash:literal) => {
        concat!(
            "coalesce((SELECT id FROM items WHERE hash = ",
            $hash,
            "), (SELECT item_id FROM earlier_hashes WHERE hash = ",
            $hash,
            "))"
        )
    };
}

/// The statements of one document's ingest, prepared once rather than looked up per item.
struct Statements<'c> {
    by_key: CachedStatement<'c>,
    by_content: CachedStatement<'c>,
    insert_item: CachedStatement<'c>,
    insert_source: CachedStatement<'c>,
    insert_tag: CachedStatement<'c>,
}

impl<'c> Statements<'c> {
    fn prepare(tx: &'c Connection) -> Result<Statements<'c>, StoreError> {
        Ok(Statements {
            by_key: tx.prepare_cached(
                "SELECT i.id, coalesce(s.hash, i.hash), i.content_updates, s.near_rule IS NOT NULL
                 FROM sources s JOIN items i ON i.id = s.item_id
                 WHERE s.feed_id = ?1 AND s.upstream_key = ?2",
            )?,
            by_content: tx.prepare_cached(concat!(
                "SELECT EXISTS (SELECT 1 FROM pruned_keys WHERE feed_id = ?1 AND upstream_key = ?2)
                        OR EXISTS (SELECT 1 FROM pruned_hashes WHERE hash = ?3), ",
                hash_owner!("?3")
            ))?,
            insert_item: tx.prepare_cached(
                "INSERT INTO items (entry_id, hash, title, link, author, content, published,
                                    updated, first_seen, sort_time, base)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?,
            insert_source: tx.prepare_cached(
                "INSERT INTO sources (feed_id, upstream_key, item_id, link, first_seen, dropped_links,
                                      title, published)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?,
            insert_tag: tx.prepare_cached(INSERT_TAG)?,
        })
    }

    /// The item this feed already delivered under the same upstream key.
    fn by_key(&mut self, feed_id: i64, item: &Item) -> Result<Option<Known>, StoreError> {
        let known = self
            .by_key
            .query_row(params![feed_id, item.key.0], |r| {
                Ok(Known {
                    id: r.get(0)?,
                    hash: r.get(1)?,
                    content_updates: r.get(2)?,
                    near: r.get(3)?,
                })
            })
            .optional()?;
        Ok(known)
    }

    /// Tombstones and stored items with this item's content, in one look.
    fn by_content(&mut self, feed_id: i64, item: &Item) -> Result<ByContent, StoreError> {
        let (pruned, stored) = self
            .by_content
            .query_row(params![feed_id, item.key.0, item.hash.as_bytes()], |r| {
                Ok((r.get::<_, bool>(0)?, r.get::<_, Option<i64>>(1)?))
            })?;
        Ok(match (pruned, stored) {
            (true, _) => ByContent::Pruned,
            (false, Some(id)) => ByContent::Stored(id),
            (false, None) => ByContent::New,
        })
    }

    fn insert_item(&mut self, item: &Item, now: DateTime<Utc>) -> Result<i64, StoreError> {
        let updated = item.updated.or(item.published).unwrap_or(now).min(now);
        let item_id = self.insert_item.insert(params![
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
        Ok(item_id)
    }

    fn add_source(
        &mut self,
        feed_id: i64,
        item_id: i64,
        item: &Item,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let dropped = (!item.dropped_links.is_empty()).then(|| item.dropped_links.join("\n"));
        self.insert_source.execute(params![
            feed_id,
            item.key.0,
            item_id,
            item.link,
            unix(now),
            dropped,
            item.title,
            item.published.or(item.updated).map(unix)
        ])?;
        self.insert_tags(item_id, feed_id, item)
    }

    /// The item's category and hashtag tags from this feed, which has none recorded for it yet.
    fn insert_tags(&mut self, item_id: i64, feed_id: i64, item: &Item) -> Result<(), StoreError> {
        insert_tags(&mut self.insert_tag, item_id, feed_id, &item.tags)
    }
}

/// Records `tags` of the item as `feed_id` gives them, with the tag statement.
pub(super) fn insert_tags(
    insert: &mut CachedStatement,
    item_id: i64,
    feed_id: i64,
    tags: &[Tag],
) -> Result<(), StoreError> {
    for tag in tags {
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

/// The statement that records a tag (ignoring one recorded already).
pub(super) const INSERT_TAG: &str =
    "INSERT OR IGNORE INTO item_tags (item_id, feed_id, origin, key, label)
                 VALUES (?1, ?2, ?3, ?4, ?5)";

/// Stores one feed's items inside the poll's transaction, their text to be indexed in `texts`
/// and their near shapes in `bands`;
/// new items join a story another feed told within `near_window` when they are near copies of
/// it, and new stories have their articles queued when `full_text` is set.
pub(super) fn ingest<'a>(
    tx: &Connection,
    texts: &mut TextWrites<'a>,
    bands: &mut BandIndex,
    feed_id: i64,
    items: &'a [Item],
    (near_window, full_text): (Option<std::time::Duration>, bool),
    now: DateTime<Utc>,
) -> Result<IngestStats, StoreError> {
    let mut stats = IngestStats::default();
    let mut stmts = Statements::prepare(tx)?;
    for item in items {
        match stmts.by_key(feed_id, item)? {
            Some(known) if known.hash == item.hash.as_bytes() => {}
            Some(known) if known.near => near::update_copy(tx, known.id, feed_id, item)?,
            Some(known) => {
                if update_item(tx, &mut stmts, texts, (feed_id, &known), item, now)? {
                    stats.updated += 1;
                }
            }
            None => match stmts.by_content(feed_id, item)? {
                ByContent::Pruned => {
                    tracing::debug!(feed_id, key = %item.key.0, "pruned earlier: not stored again");
                    prune::refresh_tombstones(tx, feed_id, &item.key.0, item.hash.as_bytes(), now)?;
                    stats.pruned += 1;
                }
                ByContent::Stored(item_id) => {
                    tracing::debug!(feed_id, key = %item.key.0, item_id, "same story as a stored item: one more source");
                    stmts.add_source(feed_id, item_id, item, now)?;
                    stats.deduplicated += 1;
                }
                ByContent::New => {
                    // Stories older than the window can join no new copy: on a first poll, most
                    // of a feed's items are, and are not compared at all.
                    let recent = |window: &std::time::Duration| item.told_within(*window, now);
                    let near_shape = item.shape.as_ref().zip(near_window.filter(recent));
                    let story = match near_shape {
                        Some((shape, window)) => {
                            near::find_story(tx, bands, (feed_id, item, shape), window, now)?
                        }
                        None => None,
                    };
                    let item_id = match story {
                        Some((story, verdict)) => {
                            tracing::debug!(feed_id, key = %item.key.0, story, rule = verdict.rule.as_str(), similarity = verdict.similarity, "near copy of a stored story: one more source");
                            near::join(tx, texts, story, feed_id, item, verdict, now)?;
                            stmts.insert_tags(story, feed_id, item)?;
                            stats.deduplicated += 1;
                            story
                        }
                        None => {
                            let item_id = stmts.insert_item(item, now)?;
                            texts.insert(item_id, &item.title, item.text.clone());
                            stmts.add_source(feed_id, item_id, item, now)?;
                            if let Some(link) = item.link.as_deref().filter(|_| full_text) {
                                articles::enqueue(tx, item_id, feed_id, link, now)?;
                            }
                            stats.new += 1;
                            item_id
                        }
                    };
                    if let Some((shape, _)) = near_shape {
                        let at = sort_time(item, now);
                        near::index(tx, bands, (item_id, feed_id, at), shape, now)?;
                    }
                }
            },
        }
    }
    Ok(stats)
}

/// The item that has (or once had) this content hash.
pub(super) fn item_by_hash(tx: &Connection, hash: &ContentHash) -> Result<Option<i64>, StoreError> {
    let mut stmt = tx.prepare_cached(concat!("SELECT ", hash_owner!("?1")))?;
    Ok(stmt.query_row([hash.as_bytes()], |r| r.get(0))?)
}

/// [`Item::told_at`] as stored.
pub(super) fn sort_time(item: &Item, now: DateTime<Utc>) -> i64 {
    unix(item.told_at(now))
}

/// Updates a changed item in place; returns false when the change is not taken (the update cap
/// is reached, or the new content is another stored story).
fn update_item<'a>(
    tx: &Connection,
    stmts: &mut Statements,
    texts: &mut TextWrites<'a>,
    (feed_id, known): (i64, &Known),
    item: &'a Item,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    if item_by_hash(tx, &item.hash)?.is_some_and(|other| other != known.id) {
        return Ok(false);
    }
    if looks_the_same(tx, known.id, item)? {
        // A new hash for what readers see unchanged (a new hash version, media URLs moved):
        // the hash is replaced, the item is not updated.
        supersede_hash(tx, known)?;
        tx.prepare_cached("UPDATE items SET hash = ?2 WHERE id = ?1")?
            .execute(params![known.id, item.hash.as_bytes()])?;
        return Ok(false);
    }
    if known.content_updates >= MAX_CONTENT_UPDATES {
        return Ok(false);
    }
    supersede_hash(tx, known)?;
    tx.prepare_cached(
        "UPDATE items SET hash = ?2, title = ?3, link = ?4, author = ?5, content = ?6,
                          updated = max(updated + 1, ?7), content_updates = content_updates + 1,
                          base = ?8
         WHERE id = ?1",
    )?
    .execute(params![
        known.id,
        item.hash.as_bytes(),
        item.title,
        item.link,
        item.author,
        item.content,
        unix(now),
        item.base
    ])?;
    texts.replace(known.id, (&item.title).into(), item.text.clone());
    // The item's tags as this feed gives them now.
    tx.prepare_cached("DELETE FROM item_tags WHERE item_id = ?1 AND feed_id = ?2")?
        .execute(params![known.id, feed_id])?;
    stmts.insert_tags(known.id, feed_id, item)?;
    Ok(true)
}

/// The superseded hash stays known, so the older version arriving from elsewhere is
/// recognised as this story.
fn supersede_hash(tx: &Connection, known: &Known) -> Result<(), StoreError> {
    tx.prepare_cached("INSERT OR IGNORE INTO earlier_hashes (hash, item_id) VALUES (?1, ?2)")?
        .execute(params![known.hash, known.id])?;
    Ok(())
}

/// Whether the stored item shows readers what `item` would: the same title and content.
fn looks_the_same(tx: &Connection, id: i64, item: &Item) -> Result<bool, StoreError> {
    let same = tx
        .prepare_cached("SELECT title = ?2 AND content IS ?3 FROM items WHERE id = ?1")?
        .query_row(params![id, item.title, item.content], |r| {
            r.get::<_, Option<bool>>(0)
        })
        .optional()?;
    Ok(same.flatten().unwrap_or(false))
}
