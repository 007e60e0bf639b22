//! The articles of new items of `full_text` feeds: the queue lives in the database, so each
//! article is fetched once (across restarts too), and what extraction kept is stored beside
//! the item, which keeps its identity and content hash.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::text_writes::TextWrites;
use super::{Store, StoreError, from_unix, unix};
use crate::model::{NearShape, Tag};

/// An article to fetch.
#[derive(Debug, Clone)]
pub struct ArticleJob {
    pub item_id: i64,
    /// The name of the feed whose item links it (its address policy applies).
    pub feed: String,
    pub url: String,
    /// Fetches tried before this one.
    pub attempts: u32,
    /// The item's title.
    pub title: String,
}

/// What fetching an article came to.
#[derive(Debug, Clone)]
pub enum ArticleOutcome {
    /// The article's main text, as HTML and as plain text, the size of the page and the
    /// hashtags in the text.
    Kept {
        html: String,
        text: String,
        bytes: usize,
        tags: Vec<Tag>,
        /// The article's near-duplicate shape, when its feed near-merges: later copies of
        /// the story elsewhere are compared with the article, not the teaser.
        shape: Option<NearShape>,
    },
    /// No article this time; tried again at `retry_at`, or never when `None`.
    Failed {
        error: String,
        bytes: Option<usize>,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Not tried (its site is being left alone for a while); due again at `until`.
    Postponed { until: DateTime<Utc> },
}

/// An item's article as `explain` shows it.
#[derive(Debug, Clone)]
pub struct ArticleRecord {
    pub url: String,
    /// `pending`, `fetched` or `failed` (given up).
    pub state: String,
    pub attempts: u32,
    pub fetched: Option<DateTime<Utc>>,
    /// The page's size in bytes.
    pub bytes: Option<i64>,
    /// Characters of text extraction kept.
    pub kept: Option<i64>,
    pub error: Option<String>,
}

/// Queues the article of a new item.
pub(super) fn enqueue(
    tx: &Connection,
    item_id: i64,
    feed_id: i64,
    url: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO articles (item_id, feed_id, url, state, next_attempt)
         VALUES (?1, ?2, ?3, 'pending', ?4)",
    )?
    .execute(params![item_id, feed_id, url, unix(now)])?;
    Ok(())
}

impl Store {
    /// Articles due at `now`, oldest first, `limit` at most.
    pub fn due_articles(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<ArticleJob>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT a.item_id, f.name, a.url, a.attempts, i.title
             FROM articles a JOIN feeds f ON f.id = a.feed_id JOIN items i ON i.id = a.item_id
             WHERE a.state = 'pending' AND a.next_attempt <= ?1
             ORDER BY a.next_attempt, a.item_id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![unix(now), limit as i64], |r| {
            Ok(ArticleJob {
                item_id: r.get(0)?,
                feed: r.get(1)?,
                url: r.get(2)?,
                attempts: r.get(3)?,
                title: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what fetching an item's article came to. A kept article becomes the item's
    /// searchable text and adds its hashtags to the item's tags.
    pub fn record_article(
        &self,
        item_id: i64,
        outcome: &ArticleOutcome,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        let mut bands = None;
        let mut batch = None;
        match outcome {
            ArticleOutcome::Kept {
                html,
                text,
                bytes,
                tags,
                shape,
            } => {
                let feed_id: Option<i64> = tx
                    .query_row(
                        "UPDATE articles SET state = 'fetched', attempts = attempts + 1,
                                fetched = ?2, bytes = ?3, kept = ?4, content = ?5, error = NULL
                         WHERE item_id = ?1 RETURNING feed_id",
                        params![
                            item_id,
                            unix(now),
                            *bytes as i64,
                            text.chars().count() as i64,
                            html
                        ],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(feed_id) = feed_id else {
                    // The item was pruned meanwhile.
                    return Ok(());
                };
                let title: String =
                    tx.query_row("SELECT title FROM items WHERE id = ?1", [item_id], |r| {
                        r.get(0)
                    })?;
                let mut texts = TextWrites::default();
                texts.replace(item_id, title.into(), text.as_str().into());
                batch = texts.finish(&tx)?;
                let mut insert = tx.prepare_cached(super::items::INSERT_TAG)?;
                super::items::insert_tags(&mut insert, item_id, feed_id, tags)?;
                if let Some(shape) = shape {
                    let at: i64 = tx.query_row(
                        "SELECT sort_time FROM items WHERE id = ?1",
                        [item_id],
                        |r| r.get(0),
                    )?;
                    let mut writes = self.band_writes(&tx)?;
                    super::near::index(&tx, writes.index(), (item_id, feed_id, at), shape, now)?;
                    bands = Some(writes);
                }
            }
            ArticleOutcome::Failed {
                error,
                bytes,
                retry_at,
            } => {
                tx.execute(
                    "UPDATE articles SET attempts = attempts + 1, error = ?2, bytes = ?3,
                            state = CASE WHEN ?4 IS NULL THEN 'failed' ELSE 'pending' END,
                            next_attempt = coalesce(?4, next_attempt)
                     WHERE item_id = ?1",
                    params![item_id, error, bytes.map(|b| b as i64), retry_at.map(unix)],
                )?;
            }
            ArticleOutcome::Postponed { until } => {
                tx.execute(
                    "UPDATE articles SET next_attempt = ?2 WHERE item_id = ?1",
                    params![item_id, unix(*until)],
                )?;
            }
        }
        tx.commit()?;
        self.send_text(batch);
        if let Some(bands) = bands {
            bands.keep();
        }
        Ok(())
    }
}

/// The item's article, when its feed fetches articles.
pub(super) fn record_of(
    conn: &Connection,
    item_id: i64,
) -> Result<Option<ArticleRecord>, StoreError> {
    let record = conn
        .prepare_cached(
            "SELECT url, state, attempts, fetched, bytes, kept, error FROM articles
             WHERE item_id = ?1",
        )?
        .query_row([item_id], |r| {
            Ok(ArticleRecord {
                url: r.get(0)?,
                state: r.get(1)?,
                attempts: r.get(2)?,
                fetched: r.get::<_, Option<i64>>(3)?.map(from_unix),
                bytes: r.get(4)?,
                kept: r.get(5)?,
                error: r.get(6)?,
            })
        })
        .optional()?;
    Ok(record)
}

/// The kept article of an item, which its published entry carries instead of the feed's text.
pub(super) fn kept_article(conn: &Connection, item_id: i64) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT content FROM articles WHERE item_id = ?1 AND state = 'fetched'")?
        .query_row([item_id], |r| r.get(0))
        .optional()?
        .flatten())
}
