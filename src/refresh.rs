//! The one place the stages meet: fetch → parse → process → store, for one feed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::{FeedConfig, FetchConfig, Interval};
use crate::fetch::{FetchError, Fetched, Fetcher, Reply, Validators};
use crate::metrics::Metrics;
use crate::model::Item;
use crate::model::{Clock, IngestStats, Location, PollOutcome, PollStatus, PollWrite};
use crate::near::shape_items;
use crate::parse::{ParseError, Source, parse_feed};
use crate::process::{Identity, WebLink, process_feed, web_link};
use crate::relocate::relocate;
use crate::schedule::{self, Bounds, Outcome};
use crate::store::{GroupCommit, Store, StoreError};
use crate::text::html_to_text;

mod discovery;
mod parsing;

use discovery::follow_feed_link;
pub use parsing::Parsing;

/// The interval of an `auto` feed that cannot be measured yet, when the default is `auto` too.
const DEFAULT_AUTO_START: std::time::Duration = std::time::Duration::from_secs(3600);

/// Longest a document may take to parse and process before its poll counts as failed.
const PARSE_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

/// What refreshing needs: the store (reads), the writer (group commit), the HTTP client and
/// the counters. Cheap to clone.
#[derive(Clone)]
pub struct Poller {
    pub store: Store,
    pub writer: GroupCommit,
    pub fetcher: Fetcher,
    pub metrics: Arc<Metrics>,
    pub parsing: Parsing,
    /// When things happen: polls are stamped and scheduled by it.
    pub clock: Clock,
}

/// What one refresh came to, for summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub status: PollStatus,
    pub stats: IngestStats,
}

/// What a fetch and parse gave, before it is stored.
struct Polled {
    outcome: PollOutcome,
    items: Vec<Item>,
    timing: Outcome,
    moved_to: Option<Url>,
}

/// Refreshes one feed end to end and records the outcome on it. Only a database failure is
/// an error; a failing feed is recorded as data and logged once.
pub async fn refresh(
    poller: &Poller,
    fetch: &FetchConfig,
    feed: &FeedConfig,
) -> Result<Report, StoreError> {
    let Poller {
        store,
        writer,
        fetcher,
        metrics,
        parsing,
        clock,
    } = poller;
    let name = feed.name.as_str().to_string();
    let record = store
        .call({
            let name = name.clone();
            move |s| s.feed_record(&name)
        })
        .await?;
    let url = record
        .location
        .effective_url
        .as_deref()
        .and_then(|u| Url::parse(u).ok())
        .unwrap_or_else(|| feed.url.clone());
    let validators = Validators {
        etag: record.etag.clone(),
        last_modified: record.last_modified.clone(),
    };
    let started = std::time::Instant::now();
    let fetched = fetcher.fetch(&url, &validators, feed.allow_private).await;
    let (fetched, page) = follow_feed_link(fetcher, fetched, &url, &validators, feed).await;
    let fetch_time = started.elapsed();
    let bytes = match &fetched {
        Ok(Fetched {
            reply: Reply::Modified { body, .. },
            ..
        }) => body.len(),
        _ => 0,
    };
    let mut polled = read_reply(
        fetched,
        &url,
        record.consecutive_failures,
        parsing,
        clock(),
        feed.near,
    )
    .await;
    if let Some(page) = page {
        page.note(&mut polled);
    }

    let location = relocate(&url, &record.location, polled.moved_to.as_ref());
    if location != record.location {
        log_move(feed, &record.location, &location);
        let (name, location) = (name.clone(), location.clone());
        store
            .call(move |s| s.record_location(&name, &location))
            .await?;
    }
    let now = clock();
    let bounds = Bounds {
        min: fetch.min_interval,
        max: fetch.max_interval,
        max_backoff: fetch.max_backoff,
    };
    let interval = interval_of(store, feed, fetch, bounds, now).await?;
    let next = schedule::next_poll(
        now,
        interval,
        bounds,
        polled.timing,
        schedule::jitter(&name, now),
    );
    tracing::debug!(
        feed = %name,
        interval = %humantime::format_duration(interval),
        timing = ?polled.timing,
        next_poll = %next.to_rfc3339(),
        "scheduled"
    );
    let Polled { outcome, items, .. } = polled;
    let report_outcome = outcome.clone();
    let stats = writer
        .write(PollWrite {
            name,
            outcome,
            items,
            now,
            next_poll: next,
            near_window: feed.near,
            full_text: feed.full_text,
        })
        .await?;
    log_outcome(feed, &report_outcome, &stats, next);
    metrics.record_poll(
        report_outcome.status(),
        (stats.new, stats.updated, stats.deduplicated),
        bytes,
        fetch_time,
    );
    Ok(Report {
        status: report_outcome.status(),
        stats,
    })
}

/// Turns a fetch result into what is stored, parsing the document when there is one.
async fn read_reply(
    fetched: Result<Fetched, FetchError>,
    url: &Url,
    failures: u32,
    parsing: &Parsing,
    now: DateTime<Utc>,
    near: Option<std::time::Duration>,
) -> Polled {
    let failure = |reason: String, retry_after| Polled {
        outcome: PollOutcome::Failed { reason },
        items: Vec::new(),
        timing: Outcome::Failure {
            failures: failures + 1,
            retry_after,
        },
        moved_to: None,
    };
    match fetched {
        Ok(Fetched {
            reply: Reply::NotModified,
            fresh_for,
            moved_to,
        }) => Polled {
            outcome: PollOutcome::NotModified,
            items: Vec::new(),
            timing: Outcome::Success { hint: fresh_for },
            moved_to,
        },
        Ok(Fetched {
            reply:
                Reply::Modified {
                    body,
                    validators,
                    charset,
                    ..
                },
            fresh_for,
            moved_to,
        }) => match parse_and_process(
            body,
            url.clone(),
            charset,
            parsing,
            (PARSE_BUDGET, near),
            now,
        )
        .await
        {
            Ok(doc) => Polled {
                outcome: PollOutcome::Fetched {
                    etag: validators.etag,
                    last_modified: validators.last_modified,
                    title: doc.title,
                    site_link: doc.site_link,
                    guid_fallback: doc.identity == Identity::LinkFallback,
                    repairs: (!doc.repairs.is_empty()).then(|| doc.repairs.join(", ")),
                },
                items: doc.items,
                timing: Outcome::Success {
                    hint: fresh_for.max(doc.update_every),
                },
                moved_to,
            },
            Err(e) => failure(e.to_string(), None),
        },
        Err(FetchError::Gone) => Polled {
            outcome: PollOutcome::Gone,
            items: Vec::new(),
            timing: Outcome::Failure {
                failures: failures + 1,
                retry_after: None,
            },
            moved_to: None,
        },
        Err(e) => failure(e.to_string(), e.retry_after()),
    }
}

/// The feed's interval: as configured, or adapted to its recent publishing.
async fn interval_of(
    store: &Store,
    feed: &FeedConfig,
    fetch: &FetchConfig,
    bounds: Bounds,
    now: DateTime<Utc>,
) -> Result<std::time::Duration, StoreError> {
    if let Interval::Fixed(interval) = feed.interval {
        return Ok(interval);
    }
    let name = feed.name.as_str().to_string();
    let since = now - chrono::Duration::from_std(schedule::AUTO_HISTORY).unwrap_or_default();
    let dates = store
        .call(move |s| s.publication_dates(&name, since))
        .await?;
    let fallback = match fetch.interval {
        Interval::Fixed(default) => default,
        Interval::Auto => DEFAULT_AUTO_START,
    };
    Ok(schedule::auto_interval(&dates, bounds, fallback))
}

/// A parsed and processed document.
struct ReadFeed {
    title: Option<String>,
    site_link: Option<String>,
    items: Vec<Item>,
    identity: Identity,
    update_every: Option<std::time::Duration>,
    repairs: Vec<String>,
}

/// Parsing whole documents is CPU-bound: it runs on a parsing thread, within `budget`;
/// items told within the `near` window get their near-duplicate shapes (older ones are never
/// compared).
async fn parse_and_process(
    body: Vec<u8>,
    url: Url,
    charset: Option<String>,
    parsing: &Parsing,
    (budget, near): (std::time::Duration, Option<std::time::Duration>),
    now: DateTime<Utc>,
) -> Result<ReadFeed, ParseError> {
    parsing
        .run(budget, move |limits| {
            let source = Source {
                base: Some(url.as_str()),
                charset: charset.as_deref(),
                limits,
                now,
            };
            let parsed = parse_feed(&body, &source)?;
            // The document is no longer needed: its memory is free for processing.
            drop(body);
            let mut processed = process_feed(&parsed, Some(&url));
            if let Some(window) = near {
                shape_items(&mut processed.items, |item| item.told_within(window, now));
            }
            let mut repairs = parsed.repairs;
            let site_link = match parsed.site_link.as_deref().map(|l| web_link(l, Some(&url))) {
                Some(WebLink::Web(link)) => Some(link.to_string()),
                Some(WebLink::Dropped(link)) => {
                    tracing::debug!(site_link = %link, "dropped: not http or https");
                    repairs.push("site link dropped: not http or https".into());
                    None
                }
                _ => None,
            };
            Ok(ReadFeed {
                title: parsed
                    .title
                    .as_deref()
                    .map(html_to_text)
                    .filter(|t| !t.is_empty()),
                site_link,
                items: processed.items,
                identity: processed.identity,
                update_every: parsed.update_every,
                repairs,
            })
        })
        .await
}

fn log_move(feed: &FeedConfig, before: &Location, after: &Location) {
    if after.effective_url != before.effective_url {
        tracing::warn!(
            feed = feed.name.as_str(),
            configured = %feed.url,
            now_at = after.effective_url.as_deref().unwrap_or(""),
            "feed moved permanently; update its url in the config"
        );
    } else if let Some(candidate) = &after.candidate {
        tracing::info!(
            feed = feed.name.as_str(),
            to = candidate.as_str(),
            seen = after.candidate_seen,
            "feed redirects permanently to another host"
        );
    }
}

/// One event per refresh, with stable field names.
fn log_outcome(feed: &FeedConfig, outcome: &PollOutcome, stats: &IngestStats, next: DateTime<Utc>) {
    let name = feed.name.as_str();
    let next = next.to_rfc3339();
    let status = outcome.status().as_str();
    match outcome {
        PollOutcome::Fetched {
            guid_fallback,
            repairs,
            ..
        } => tracing::info!(
            feed = name,
            status,
            items_new = stats.new,
            items_updated = stats.updated,
            items_deduplicated = stats.deduplicated,
            guid_fallback = *guid_fallback,
            repairs = repairs.as_deref().unwrap_or(""),
            next_poll = next,
            "feed polled"
        ),
        PollOutcome::NotModified => tracing::info!(
            feed = name,
            status,
            items_new = 0,
            next_poll = next,
            "feed polled"
        ),
        PollOutcome::Failed { reason } => {
            tracing::warn!(feed = name, status, error = %reason, url = %feed.url, next_poll = next, "feed polled")
        }
        PollOutcome::Gone => {
            tracing::warn!(feed = name, status, url = %feed.url, "feed polled: 410 Gone, polling stopped; remove it from the config")
        }
    }
}

#[cfg(test)]
mod tests;
