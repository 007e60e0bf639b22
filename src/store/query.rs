//! Reading items back for publishing: newest first, with their sources and tags.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};

use super::filter_sql::{Condition, Mode, condition};
use super::{Store, StoreError, from_unix};
use crate::filter::Expr;
use crate::model::{SourceRef, StoredItem};
use crate::text::tag_key;

impl Store {
    /// The newest `limit` items matching `filter` (all items when `None`).
    pub fn items_matching(
        &self,
        filter: Option<&Expr>,
        limit: usize,
    ) -> Result<Vec<StoredItem>, StoreError> {
        let ids = self.matching_ids(filter, limit)?;
        let conn = self.reader();
        let catalog = Catalog::load(&conn, &self.inner.spellings)?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            items.extend(item_by_id(&conn, &catalog, id)?);
        }
        Ok(items)
    }

    /// Ids of the newest `limit` items matching `filter`.
    ///
    /// Two plans: first the newest items are scanned in order with an index probe per term,
    /// which finds the matches of common terms at once; when that window holds too few
    /// matches, each term's item set is built instead, which is cheap for rare terms.
    pub fn matching_ids(
        &self,
        filter: Option<&Expr>,
        limit: usize,
    ) -> Result<Vec<i64>, StoreError> {
        let Some(expr) = filter else {
            return newest_ids(&self.reader(), &Condition::default(), None, limit);
        };
        let searches = expr
            .terms()
            .iter()
            .any(|term| matches!(term, Expr::Phrase(_) | Expr::TitlePhrase(_)));
        if searches && !self.wait_for_text_index(Some(super::TEXT_WAIT)) {
            tracing::debug!("searching a text index that is still catching up");
        }
        let conn = self.reader();
        let window = (limit * PROBE_WINDOW_PER_RESULT).max(MIN_PROBE_WINDOW);
        let cutoff: Option<i64> = conn
            .prepare_cached(
                "SELECT sort_time FROM items ORDER BY sort_time DESC, id DESC LIMIT 1 OFFSET ?1",
            )?
            .query_row([window as i64 - 1], |r| r.get(0))
            .optional()?;
        let recent = newest_ids(
            &conn,
            &condition(expr, Mode::Probe, &|_| None),
            cutoff,
            limit,
        )?;
        if recent.len() >= limit || cutoff.is_none() {
            return Ok(recent);
        }
        let size = |term: &Expr| term_size(&conn, term).ok().flatten();
        newest_ids(&conn, &condition(expr, Mode::Set, &size), None, limit)
    }
}

/// About how many items a tag or feed term selects (none for phrases: FTS5 cannot say cheaply).
fn term_size(conn: &Connection, term: &Expr) -> Result<Option<u64>, StoreError> {
    let count: i64 = match term {
        Expr::Tag(label) => conn
            .prepare_cached(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM item_tags WHERE key = ?1 LIMIT 100000))
                      + (SELECT count(*) FROM sources WHERE feed_id IN (SELECT feed_id FROM feed_tags WHERE key = ?1))",
            )?
            .query_row([tag_key(label)], |r| r.get(0))?,
        Expr::Feed(name) => conn
            .prepare_cached("SELECT count(*) FROM sources WHERE feed_id IN (SELECT id FROM feeds WHERE name = ?1)")?
            .query_row([name], |r| r.get(0))?,
        _ => return Ok(None),
    };
    Ok(u64::try_from(count).ok())
}

/// Newest items scanned per result wanted before switching plans (see `matching_ids`).
const PROBE_WINDOW_PER_RESULT: usize = 40;
const MIN_PROBE_WINDOW: usize = 2000;

/// The newest `limit` items satisfying `cond`, only among those sorted at or after `cutoff`.
pub(super) fn newest_ids(
    conn: &Connection,
    cond: &Condition,
    cutoff: Option<i64>,
    limit: usize,
) -> Result<Vec<i64>, StoreError> {
    let mut values = cond.params.clone();
    let mut clauses = Vec::new();
    if !cond.sql.is_empty() {
        clauses.push(cond.sql.clone());
    }
    if let Some(cutoff) = cutoff {
        values.push(Value::Integer(cutoff));
        clauses.push(format!("i.sort_time >= ?{}", values.len()));
    }
    values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    let where_clause = if clauses.is_empty() {
        "1".to_string()
    } else {
        clauses.join(" AND ")
    };
    let sql = format!(
        "SELECT i.id FROM items i WHERE {where_clause} ORDER BY i.sort_time DESC, i.id DESC LIMIT ?{}",
        values.len()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids = stmt.query_map(params_from_iter(values.iter()), |r| r.get(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

/// The feeds and their configured tags, read once per request: a handful of rows that every
/// item refers to. (Joining them in per-item statements made SQLite, built with STAT4,
/// re-prepare those statements on every run.)
pub(super) struct Catalog<'s> {
    feeds: HashMap<i64, FeedRow>,
    /// The published spelling of tag keys, kept by the store across requests.
    spellings: &'s Mutex<HashMap<String, Option<String>>>,
}

struct FeedRow {
    name: String,
    title: Option<String>,
    url: String,
    site_link: Option<String>,
    /// (key, label) of the feed's configured tags.
    tags: Vec<(String, String)>,
}

impl<'s> Catalog<'s> {
    pub(super) fn load(
        conn: &Connection,
        spellings: &'s Mutex<HashMap<String, Option<String>>>,
    ) -> Result<Catalog<'s>, StoreError> {
        let mut stmt = conn.prepare_cached("SELECT id, name, title, url, site_link FROM feeds")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                FeedRow {
                    name: r.get(1)?,
                    title: r.get(2)?,
                    url: r.get(3)?,
                    site_link: r.get(4)?,
                    tags: Vec::new(),
                },
            ))
        })?;
        let mut feeds: HashMap<i64, FeedRow> = rows.collect::<Result<_, _>>()?;
        let mut stmt = conn.prepare_cached("SELECT feed_id, key, label FROM feed_tags")?;
        let tags = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?;
        for tag in tags {
            let (feed_id, key, label) = tag?;
            if let Some(feed) = feeds.get_mut(&feed_id) {
                feed.tags.push((key, label));
            }
        }
        Ok(Catalog { feeds, spellings })
    }

    /// The name of the feed with this id.
    pub(super) fn name(&self, feed_id: i64) -> &str {
        self.feeds.get(&feed_id).map_or("", |f| f.name.as_str())
    }

    /// The feed with this id as a source reference, without an item link.
    pub(super) fn feed(&self, feed_id: i64) -> Option<SourceRef> {
        let feed = self.feeds.get(&feed_id)?;
        Some(SourceRef {
            feed_name: feed.name.clone(),
            feed_title: feed.title.clone(),
            feed_url: feed.url.clone(),
            site_link: feed.site_link.clone(),
            link: None,
        })
    }

    /// (key, label) of the configured tags of the feed with this id.
    pub(super) fn tags(&self, feed_id: i64) -> &[(String, String)] {
        self.feeds.get(&feed_id).map_or(&[], |f| f.tags.as_slice())
    }
}

/// One item with its sources and tags.
pub(super) fn item_by_id(
    conn: &Connection,
    catalog: &Catalog,
    id: i64,
) -> Result<Option<StoredItem>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT entry_id, title, link, author, content, published, updated, base FROM items WHERE id = ?1",
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
                base: r.get(7)?,
                sources: Vec::new(),
                tags: Vec::new(),
            })
        })
        .optional()?;
    let Some(mut item) = item else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT feed_id, link, near_rule IS NOT NULL FROM sources WHERE item_id = ?1
         ORDER BY first_seen, feed_id",
    )?;
    let mut near_copies = false;
    let sources: Vec<(i64, Option<String>)> = stmt
        .query_map([id], |r| {
            near_copies |= r.get::<_, bool>(2)?;
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    if near_copies {
        item.content = super::near::fullest_content(conn, id)?;
    }
    if let Some(article) = super::articles::kept_article(conn, id)? {
        item.content = Some(article);
    }
    item.tags = tags_of(conn, catalog, id, &sources)?;
    // A feed that re-issued the item under a new guid is one source, listed once.
    let mut seen = std::collections::HashSet::new();
    item.sources = sources
        .into_iter()
        .filter(|source| seen.insert(source.clone()))
        .filter_map(|(feed_id, link)| {
            Some(SourceRef {
                link,
                ..catalog.feed(feed_id)?
            })
        })
        .collect();
    Ok(Some(item))
}

/// Tag spellings remembered at most.
const MAX_CACHED_SPELLINGS: usize = 20_000;

/// How the most recent uses of a tag spell it, most often; ties go to the first in sort order.
fn common_spelling(
    conn: &Connection,
    catalog: &Catalog,
    key: &str,
) -> Result<Option<String>, StoreError> {
    let spellings = || catalog.spellings.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = spellings().get(key) {
        return Ok(known.clone());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT label FROM item_tags WHERE key = ?1 ORDER BY item_id DESC LIMIT 32",
    )?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for label in stmt.query_map([key], |r| r.get::<_, String>(0))? {
        *counts.entry(label?).or_default() += 1;
    }
    let best = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    let best = best.map(|(label, _)| label.clone());
    let mut cache = spellings();
    // Spellings change slowly; a full cache starts afresh rather than growing.
    if cache.len() >= MAX_CACHED_SPELLINGS {
        cache.clear();
    }
    cache.insert(key.to_string(), best.clone());
    Ok(best)
}

/// Each tag key of the item once, spelled as most items spell it (feed tags as configured).
fn tags_of(
    conn: &Connection,
    catalog: &Catalog,
    item_id: i64,
    sources: &[(i64, Option<String>)],
) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT key, label FROM item_tags WHERE item_id = ?1")?;
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for row in stmt.query_map([item_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })? {
        let (key, label) = row?;
        keys.entry(key).or_insert(label);
    }
    for (feed_id, _) in sources {
        for (key, label) in catalog.tags(*feed_id) {
            keys.entry(key.clone()).or_insert_with(|| label.clone());
        }
    }
    let mut labels = Vec::with_capacity(keys.len());
    for (key, label) in keys {
        labels.push(common_spelling(conn, catalog, &key)?.unwrap_or(label));
    }
    labels.sort_by_key(|l| l.to_lowercase());
    Ok(labels)
}
