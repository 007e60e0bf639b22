//! The near-duplicate index: each recent copy's shape, stored with its band keys, which the
//! band index (in memory) looks up when a new item arrives; kept only as long as a copy could
//! still join (`near_window`), so lookups cost the same however many items the store holds.
//! Also undoing a merge (`split`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::items::sort_time;
use super::text_writes::TextWrites;
use super::{Store, StoreError, unix};
use crate::model::{ContentHash, Item, NearShape};
use crate::near::{BandIndex, Verdict, judge};
use crate::text::html_to_text;

/// The stored story `item` (from feed `feed_id`) is another copy of, with the verdict.
pub(super) fn find_story(
    tx: &Connection,
    bands: &BandIndex,
    (feed_id, item, shape): (i64, &Item, &NearShape),
    window: Duration,
    now: DateTime<Utc>,
) -> Result<Option<(i64, Verdict)>, StoreError> {
    let at = sort_time(item, now);
    let window = window.as_secs();
    let mut best: Option<(i64, Verdict)> = None;
    for candidate in bands.candidates(&shape.bands) {
        let Some((story, their_at, theirs)) = stored_shape(tx, candidate)? else {
            continue;
        };
        if at.abs_diff(their_at) > window {
            continue;
        }
        if let Some(verdict) = judge(shape, &theirs)
            && best.is_none_or(|(_, b)| verdict.similarity > b.similarity)
            && !barred(tx, story, feed_id)?
        {
            best = Some((story, verdict));
        }
    }
    Ok(best)
}

/// Whether the feed may not join the stored story: it carries it already (copies within one
/// feed are never merged), or a user split it off.
fn barred(tx: &Connection, item_id: i64, feed_id: i64) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM sources WHERE item_id = ?1 AND feed_id = ?2)
                 OR EXISTS (SELECT 1 FROM near_splits WHERE item_id = ?1 AND feed_id = ?2)",
        )?
        .query_row(params![item_id, feed_id], |r| r.get(0))?)
}

/// A shape in the index: the story it belongs to, its story time and the shape (without its
/// bands); none when its story was pruned meanwhile.
fn stored_shape(
    tx: &Connection,
    shape_id: u32,
) -> Result<Option<(i64, i64, NearShape)>, StoreError> {
    let mut stmt = tx.prepare_cached(
        "SELECT item_id, at, size, sketch, figures, title FROM near_shapes WHERE id = ?1",
    )?;
    let shape = stmt
        .query_row([shape_id], |r| {
            let figures: String = r.get(4)?;
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                NearShape {
                    size: r.get(2)?,
                    sketch: NearShape::hashes_from_bytes(&r.get::<_, Vec<u8>>(3)?),
                    bands: Vec::new(),
                    figures: figures.lines().map(str::to_string).collect(),
                    title: NearShape::hashes_from_bytes(&r.get::<_, Vec<u8>>(5)?),
                },
            ))
        })
        .optional()?;
    Ok(shape)
}

/// Puts one copy's shape (of a story dated `at`) in the index under the story it belongs to.
pub(super) fn index(
    tx: &Connection,
    bands: &mut BandIndex,
    (item_id, feed_id, at): (i64, i64, i64),
    shape: &NearShape,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO near_shapes (item_id, feed_id, at, seen, size, sketch, figures, title, bands)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        item_id,
        feed_id,
        at,
        unix(now),
        shape.size,
        NearShape::hashes_to_bytes(&shape.sketch),
        shape.figures.join("\n"),
        NearShape::hashes_to_bytes(&shape.title),
        NearShape::hashes_to_bytes(&shape.bands),
    ])?;
    // Ids past 2³² (billions of shapes) go unindexed rather than wrap onto others.
    if let Ok(id) = u32::try_from(tx.last_insert_rowid()) {
        bands.insert(id, &shape.bands);
    }
    Ok(())
}

/// Records `item` as a near copy of the stored story `story`: a source with its own title,
/// content and hash, the verdict that merged it, and its text searchable (in `texts`) when it
/// is the fullest copy.
pub(super) fn join<'a>(
    tx: &Connection,
    texts: &mut TextWrites<'a>,
    story: i64,
    feed_id: i64,
    item: &'a Item,
    verdict: Verdict,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let fullest: Option<i64> = tx
        .prepare_cached(
            "SELECT max(octet_length(content)) FROM (
                 SELECT content FROM items WHERE id = ?1
                 UNION ALL SELECT content FROM sources WHERE item_id = ?1 AND near_rule IS NOT NULL)",
        )?
        .query_row([story], |r| r.get(0))?;
    let dropped = (!item.dropped_links.is_empty()).then(|| item.dropped_links.join("\n"));
    tx.prepare_cached(
        "INSERT INTO sources (feed_id, upstream_key, item_id, link, first_seen, dropped_links,
                              title, near_rule, near_score, content, published, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        feed_id,
        item.key.0,
        story,
        item.link,
        unix(now),
        dropped,
        item.title,
        verdict.rule.as_str(),
        verdict.similarity,
        item.content,
        item.published.or(item.updated).map(unix),
        item.hash.as_bytes(),
    ])?;
    // An exact copy of this wording arriving from elsewhere is this story too.
    tx.prepare_cached("INSERT OR IGNORE INTO earlier_hashes (hash, item_id) VALUES (?1, ?2)")?
        .execute(params![item.hash.as_bytes(), story])?;
    let longer = item.content.as_ref().map(|c| c.len() as i64) > fullest;
    if longer {
        replace_text(tx, texts, story, item.text.clone())?;
    }
    Ok(())
}

/// The story's searchable text becomes `text` (its title stays).
fn replace_text<'a>(
    tx: &Connection,
    texts: &mut TextWrites<'a>,
    story: i64,
    text: std::sync::Arc<str>,
) -> Result<(), StoreError> {
    let title: String = tx
        .prepare_cached("SELECT title FROM items WHERE id = ?1")?
        .query_row([story], |r| r.get(0))?;
    texts.replace(story, title.into(), text);
    Ok(())
}

/// The fullest text of a story told in several wordings: its own, or a near copy's.
pub(super) fn fullest_content(conn: &Connection, story: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT content FROM (
                 SELECT content FROM items WHERE id = ?1
                 UNION ALL SELECT content FROM sources WHERE item_id = ?1 AND near_rule IS NOT NULL)
             ORDER BY octet_length(content) DESC LIMIT 1",
        )?
        .query_row([story], |r| r.get(0))
        .optional()?
        .flatten())
}

/// A near copy whose feed changed it: its own record follows, the story does not change
/// (a copy's edits are not the story's).
pub(super) fn update_copy(
    tx: &Connection,
    story: i64,
    feed_id: i64,
    item: &Item,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE sources SET title = ?3, content = ?4, hash = ?5, link = ?6
         WHERE feed_id = ?1 AND upstream_key = ?2",
    )?
    .execute(params![
        feed_id,
        item.key.0,
        item.title,
        item.content,
        item.hash.as_bytes(),
        item.link
    ])?;
    tx.prepare_cached("INSERT OR IGNORE INTO earlier_hashes (hash, item_id) VALUES (?1, ?2)")?
        .execute(params![item.hash.as_bytes(), story])?;
    Ok(())
}

/// Forgets the copies first seen before `before`: no new copy can join them any more (their
/// dates are no later than when they were seen). Returns the last shape id forgotten, for the
/// band index to forget too once the transaction commits.
pub(super) fn forget_before(tx: &Connection, before: i64) -> Result<Option<i64>, StoreError> {
    let last: Option<i64> = tx
        .prepare_cached("SELECT max(id) FROM near_shapes WHERE seen < ?1")?
        .query_row([before], |r| r.get(0))?;
    if let Some(last) = last {
        tx.prepare_cached("DELETE FROM near_shapes WHERE id <= ?1")?
            .execute([last])?;
    }
    Ok(last)
}

/// Why a split was refused.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("no item {0}")]
    NoItem(String),
    #[error("feed `{feed}` is not a source of this item")]
    NotASource { feed: String },
    #[error(
        "feed `{feed}` brought this story first; split off the copies that were merged into it (`feedsift explain` lists them)"
    )]
    Original { feed: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for SplitError {
    fn from(error: rusqlite::Error) -> SplitError {
        SplitError::Store(error.into())
    }
}

impl Store {
    /// Undoes a near merge for good: the copy `feed` carried becomes an item of its own, with
    /// its own title, text, tags and entry id, and is never merged into `item_id` again.
    /// Returns the new item's entry id.
    pub fn split(
        &self,
        item_id: i64,
        feed: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SplitError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let feed_id: i64 = tx
            .query_row("SELECT id FROM feeds WHERE name = ?1", [feed], |r| r.get(0))
            .optional()?
            .ok_or_else(|| SplitError::NotASource { feed: feed.into() })?;
        let copy = tx
            .query_row(
                "SELECT upstream_key, near_rule IS NOT NULL, title, link, content, published, hash,
                        first_seen
                 FROM sources WHERE item_id = ?1 AND feed_id = ?2
                 ORDER BY near_rule IS NULL LIMIT 1",
                params![item_id, feed_id],
                |r| {
                    Ok(NearCopy {
                        near: r.get(1)?,
                        title: r.get(2)?,
                        link: r.get(3)?,
                        content: r.get(4)?,
                        published: r.get(5)?,
                        hash: r.get(6)?,
                        first_seen: r.get(7)?,
                    })
                },
            )
            .optional()?
            .ok_or_else(|| SplitError::NotASource { feed: feed.into() })?;
        if !copy.near {
            return Err(SplitError::Original { feed: feed.into() });
        }
        let hash = copy
            .hash
            .as_deref()
            .and_then(ContentHash::from_slice)
            .ok_or_else(|| SplitError::NoItem(item_id.to_string()))?;
        let title = copy.title.unwrap_or_default();
        let text = copy
            .content
            .as_deref()
            .map(html_to_text)
            .unwrap_or_default();
        let sort_time = copy.published.unwrap_or(copy.first_seen).min(unix(now));
        tx.execute(
            "INSERT INTO items (entry_id, hash, title, link, content, published, updated,
                                first_seen, sort_time)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                hash.entry_id(),
                hash.as_bytes(),
                title,
                copy.link,
                copy.content,
                copy.published,
                unix(now),
                copy.first_seen,
                sort_time
            ],
        )?;
        let split_id = tx.last_insert_rowid();
        let mut texts = TextWrites::default();
        texts.insert(split_id, &title, text.into());
        tx.execute(
            "UPDATE sources SET item_id = ?3, near_rule = NULL, near_score = NULL, content = NULL,
                                hash = NULL
             WHERE item_id = ?1 AND feed_id = ?2",
            params![item_id, feed_id, split_id],
        )?;
        tx.execute(
            "UPDATE item_tags SET item_id = ?3 WHERE item_id = ?1 AND feed_id = ?2",
            params![item_id, feed_id, split_id],
        )?;
        tx.execute(
            "UPDATE near_shapes SET item_id = ?3 WHERE item_id = ?1 AND feed_id = ?2",
            params![item_id, feed_id, split_id],
        )?;
        tx.execute(
            "DELETE FROM earlier_hashes WHERE hash = ?1 AND item_id = ?2",
            params![hash.as_bytes(), item_id],
        )?;
        tx.execute(
            "INSERT OR IGNORE INTO near_splits (item_id, feed_id) VALUES (?1, ?2)",
            params![item_id, feed_id],
        )?;
        // The story's searchable text is that of its fullest copy left.
        let fullest = fullest_content(&tx, item_id)?;
        let fullest = fullest.as_deref().map(html_to_text).unwrap_or_default();
        replace_text(&tx, &mut texts, item_id, fullest.into())?;
        let batch = texts.finish(&tx)?;
        tx.commit()?;
        self.send_text(batch);
        Ok(hash.entry_id())
    }
}

/// A near copy as its source row keeps it.
struct NearCopy {
    near: bool,
    title: Option<String>,
    link: Option<String>,
    content: Option<String>,
    published: Option<i64>,
    hash: Option<Vec<u8>>,
    first_seen: i64,
}
