//! Feeds: their configuration as last synced, their poll state and health.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::text_writes::TextWrites;
use super::{Store, StoreError, from_unix, items, unix};
use crate::model::{FeedHealth, IngestStats, Location, PollOutcome, PollStatus, PollWrite, Tag};
use crate::near::BandIndex;

/// The next poll of a feed that is never polled again (9999-12-31).
const NEVER: i64 = 253_402_300_799;

/// A configured feed, as the store needs it.
#[derive(Debug, Clone)]
pub struct FeedSpec {
    pub name: String,
    pub url: String,
    /// The feed's configured tags (origin `Feed`).
    pub tags: Vec<Tag>,
}

#[cfg(test)]
impl FeedSpec {
    /// A feed called `name` at `https://NAME.example/feed`, without tags.
    pub(crate) fn named(name: &str) -> FeedSpec {
        FeedSpec {
            name: name.into(),
            url: format!("https://{name}.example/feed"),
            tags: Vec::new(),
        }
    }
}

/// A feed's stored state, for the next poll.
#[derive(Debug, Clone, Default)]
pub struct FeedRecord {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub consecutive_failures: u32,
    pub location: Location,
}

impl Store {
    /// Makes the stored feeds match the config: new ones added, URLs and tags updated.
    /// Feeds no longer configured keep their rows (and items) but are not polled.
    pub fn sync_feeds(&self, specs: &[FeedSpec]) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction()?;
        for spec in specs {
            let changed_url = tx
                .prepare_cached("SELECT url FROM feeds WHERE name = ?1")?
                .query_row([&spec.name], |r| r.get::<_, String>(0))
                .optional()?
                .is_some_and(|url| url != spec.url);
            tx.prepare_cached(
                "INSERT INTO feeds (name, url) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET url = excluded.url",
            )?
            .execute(params![spec.name, spec.url])?;
            if changed_url {
                // Validators belong to the old URL; a new URL is due at once.
                tx.execute(
                    "UPDATE feeds SET etag = NULL, last_modified = NULL, next_poll = 0,
                     consecutive_failures = 0, effective_url = NULL, moved_candidate = NULL,
                     moved_seen = 0, gone = 0 WHERE name = ?1",
                    [&spec.name],
                )?;
            }
            replace_feed_tags(&tx, &spec.name, &spec.tags)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Names of the feeds whose next poll is at or before `now`.
    pub fn due_feeds(&self, now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let conn = self.reader();
        let mut stmt =
            conn.prepare_cached("SELECT name FROM feeds WHERE next_poll <= ?1 ORDER BY next_poll")?;
        let names = stmt
            .query_map([unix(now)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(names)
    }

    /// What the next poll of `name` needs from the last one.
    pub fn feed_record(&self, name: &str) -> Result<FeedRecord, StoreError> {
        let record = self
            .reader()
            .prepare_cached(
                "SELECT etag, last_modified, consecutive_failures, effective_url, moved_candidate, moved_seen
                 FROM feeds WHERE name = ?1",
            )?
            .query_row(
                [name],
                |r| {
                    Ok(FeedRecord {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                        consecutive_failures: r.get(2)?,
                        location: Location {
                            effective_url: r.get(3)?,
                            candidate: r.get(4)?,
                            candidate_seen: r.get(5)?,
                        },
                    })
                },
            )
            .optional()?;
        Ok(record.unwrap_or_default())
    }
    /// Records several polls in one transaction (group commit); a poll whose writes fail is
    /// rolled back alone and gets its error, the others commit.
    pub fn record_polls(
        &self,
        polls: &[PollWrite],
    ) -> Result<Vec<Result<IngestStats, StoreError>>, StoreError> {
        let mut conn = self.writer();
        // First all in one transaction without savepoints: a savepoint makes FTS5 flush its
        // buffer and SQLite journal every page it touches (measured: ~40 % of ingest time).
        // Only when a poll fails is the group redone with a savepoint per poll.
        let tx = conn.transaction()?;
        let mut bands = self.band_writes(&tx)?;
        let mut texts = TextWrites::default();
        let mut results = Vec::with_capacity(polls.len());
        for poll in polls {
            match write_poll(&tx, (&mut texts, bands.index()), poll) {
                Ok(stats) => results.push(Ok(stats)),
                Err(_) => break,
            }
        }
        if results.len() == polls.len() {
            let batch = texts.finish(&tx)?;
            tx.commit()?;
            self.send_text(batch);
            bands.keep();
            return Ok(results);
        }
        drop(bands);
        tx.rollback()?;
        results.clear();
        let mut tx = conn.transaction()?;
        let mut bands = self.band_writes(&tx)?;
        let mut texts = TextWrites::default();
        for poll in polls {
            let savepoint = tx.savepoint()?;
            let mut written = TextWrites::default();
            let result = write_poll(&savepoint, (&mut written, bands.index()), poll);
            if result.is_ok() {
                savepoint.commit()?;
                texts.absorb(written);
            }
            results.push(result);
        }
        let batch = texts.finish(&tx)?;
        tx.commit()?;
        self.send_text(batch);
        // A poll rolled back may have indexed shapes that are not stored: the index is
        // loaded again next time.
        if results.iter().all(Result::is_ok) {
            bands.keep();
        }
        Ok(results)
    }

    /// Spreads the feeds that fell due while the daemon was down over the next `window`, so a
    /// restart does not poll everything at once. Feeds never polled stay due at once.
    pub fn spread_overdue(
        &self,
        now: DateTime<Utc>,
        window: std::time::Duration,
    ) -> Result<usize, StoreError> {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX).max(1);
        let moved = self.writer().execute(
            "UPDATE feeds SET next_poll = ?1 + abs(random() % ?2)
             WHERE next_poll < ?1 AND gone = 0 AND last_poll IS NOT NULL",
            params![unix(now), window],
        )?;
        Ok(moved)
    }

    /// Records where the feed now lives (after permanent redirects).
    pub fn record_location(&self, name: &str, location: &Location) -> Result<(), StoreError> {
        self.writer().execute(
            "UPDATE feeds SET effective_url = ?2, moved_candidate = ?3, moved_seen = ?4 WHERE name = ?1",
            params![name, location.effective_url, location.candidate, location.candidate_seen],
        )?;
        Ok(())
    }

    /// Publication dates of the feed's items since `since`, for adapting its interval.
    pub fn publication_dates(
        &self,
        name: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT published FROM items WHERE published >= ?2 AND id IN (
                 SELECT item_id FROM sources WHERE feed_id = (SELECT id FROM feeds WHERE name = ?1))
             ORDER BY published",
        )?;
        let dates = stmt.query_map(params![name, unix(since)], |r| r.get::<_, i64>(0))?;
        Ok(dates.map(|d| d.map(from_unix)).collect::<Result<_, _>>()?)
    }

    /// Every stored feed's health, by name.
    pub fn feed_health(&self) -> Result<Vec<FeedHealth>, StoreError> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT f.name, f.url, f.last_poll, f.last_status, f.last_error, f.consecutive_failures,
                    f.next_poll, (SELECT count(*) FROM sources s WHERE s.feed_id = f.id),
                    f.effective_url, f.gone, f.identity, f.repairs, f.title, f.site_link
             FROM feeds f ORDER BY f.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FeedHealth {
                name: r.get(0)?,
                url: r.get(1)?,
                last_poll: r.get::<_, Option<i64>>(2)?.map(from_unix),
                last_status: r
                    .get::<_, Option<String>>(3)?
                    .and_then(|s| PollStatus::parse(&s)),
                last_error: r.get(4)?,
                consecutive_failures: r.get(5)?,
                next_poll: from_unix(r.get(6)?),
                items: r.get(7)?,
                effective_url: r.get(8)?,
                gone: r.get(9)?,
                guid_fallback: r.get::<_, String>(10)? != "guid",
                repairs: r.get(11)?,
                title: r.get(12)?,
                site_link: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The writes of one poll: the feed's state, then its items (their text to `texts`, their
/// shapes to `bands`).
fn write_poll<'a>(
    tx: &Connection,
    (texts, bands): (&mut TextWrites<'a>, &mut BandIndex),
    poll: &'a PollWrite,
) -> Result<IngestStats, StoreError> {
    let PollWrite {
        name,
        outcome,
        items,
        now,
        next_poll,
        near_window,
        full_text,
    } = poll;
    let (now, next_poll) = (*now, *next_poll);
    let feed_id: i64 = tx
        .prepare_cached("SELECT id FROM feeds WHERE name = ?1")?
        .query_row([name], |r| r.get(0))?;
    let (now_s, next_s) = (unix(now), unix(next_poll));
    let status = outcome.status().as_str();
    match outcome {
        PollOutcome::Fetched {
            etag,
            last_modified,
            title,
            site_link,
            guid_fallback,
            repairs,
        } => {
            tx.prepare_cached(
                "UPDATE feeds SET etag = ?2, last_modified = ?3, title = coalesce(?4, title),
                 site_link = coalesce(?5, site_link), identity = ?6, last_poll = ?7,
                 last_success = ?7, last_status = ?10, last_error = NULL,
                 consecutive_failures = 0, next_poll = ?8, repairs = ?9 WHERE id = ?1",
            )?
            .execute(params![
                feed_id,
                etag,
                last_modified,
                title,
                site_link,
                if *guid_fallback { "link" } else { "guid" },
                now_s,
                next_s,
                repairs,
                status
            ])?;
        }
        PollOutcome::NotModified => {
            tx.prepare_cached(
                "UPDATE feeds SET last_poll = ?2, last_success = ?2, last_status = ?4,
                 last_error = NULL, consecutive_failures = 0, next_poll = ?3 WHERE id = ?1",
            )?
            .execute(params![feed_id, now_s, next_s, status])?;
        }
        PollOutcome::Gone => {
            tx.prepare_cached(
                "UPDATE feeds SET last_poll = ?2, last_status = ?4, gone = 1,
                 last_error = 'HTTP 410 Gone: the feed was removed', next_poll = ?3 WHERE id = ?1",
            )?
            .execute(params![feed_id, now_s, NEVER, status])?;
        }
        PollOutcome::Failed { reason } => {
            tx.prepare_cached(
                "UPDATE feeds SET last_poll = ?2, last_status = ?5, last_error = ?3,
                 consecutive_failures = consecutive_failures + 1, next_poll = ?4 WHERE id = ?1",
            )?
            .execute(params![feed_id, now_s, reason, next_s, status])?;
        }
    }
    items::ingest(
        tx,
        texts,
        bands,
        feed_id,
        items,
        (*near_window, *full_text),
        now,
    )
}

fn replace_feed_tags(tx: &Transaction, name: &str, tags: &[Tag]) -> Result<(), StoreError> {
    tx.prepare_cached(
        "DELETE FROM feed_tags WHERE feed_id = (SELECT id FROM feeds WHERE name = ?1)",
    )?
    .execute([name])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO feed_tags (feed_id, key, label)
         SELECT id, ?2, ?3 FROM feeds WHERE name = ?1",
    )?;
    for tag in tags {
        insert.execute(params![name, tag.key, tag.label])?;
    }
    Ok(())
}
