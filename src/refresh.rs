//! The one place the stages meet: fetch → parse → process → store, for one feed.

use chrono::Utc;
use url::Url;

use crate::config::{FeedConfig, Fetch};
use crate::fetch::{Fetched, Fetcher, Validators};
use crate::model::Item;
use crate::parse::{ParseError, parse_feed};
use crate::process::{Identity, html_to_text, process_feed};
use crate::schedule;
use crate::store::{IngestStats, PollOutcome, Store, StoreError};

/// What one refresh came to, for summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Fetched,
    NotModified,
    Failed,
}

/// The result of refreshing one feed.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub status: Status,
    pub stats: IngestStats,
}

/// Refreshes one feed end to end and records the outcome on it. Only a database failure is
/// an error; a failing feed is recorded as data and logged once.
pub async fn refresh(
    store: &Store,
    fetcher: &Fetcher,
    fetch: &Fetch,
    feed: &FeedConfig,
) -> Result<Report, StoreError> {
    let name = feed.name.as_str().to_string();
    let record = store
        .call({
            let name = name.clone();
            move |s| s.feed_record(&name)
        })
        .await?;
    let validators = Validators {
        etag: record.etag,
        last_modified: record.last_modified,
    };
    let (outcome, items) = match fetcher.fetch(&feed.url, &validators).await {
        Ok(Fetched::NotModified) => (PollOutcome::NotModified, Vec::new()),
        Ok(Fetched::Modified { body, validators }) => {
            match parse_and_process(body, feed.url.clone()).await {
                Ok(doc) => (
                    PollOutcome::Fetched {
                        etag: validators.etag,
                        last_modified: validators.last_modified,
                        title: doc.title,
                        site_link: doc.site_link,
                        guid_fallback: doc.identity == Identity::LinkFallback,
                    },
                    doc.items,
                ),
                Err(e) => failed(e.to_string()),
            }
        }
        Err(e) => failed(e.to_string()),
    };
    let failures = match outcome {
        PollOutcome::Failed { .. } => record.consecutive_failures + 1,
        _ => 0,
    };
    let now = Utc::now();
    let next = schedule::next_poll(now, feed.effective_interval(fetch), failures);
    let report_outcome = outcome.clone();
    let stats = store
        .call(move |s| s.record_poll(&name, &outcome, &items, now, next))
        .await?;
    log_outcome(feed, &report_outcome, &stats);
    Ok(Report {
        status: match report_outcome {
            PollOutcome::Fetched { .. } => Status::Fetched,
            PollOutcome::NotModified => Status::NotModified,
            PollOutcome::Failed { .. } => Status::Failed,
        },
        stats,
    })
}

fn failed(reason: String) -> (PollOutcome, Vec<Item>) {
    (PollOutcome::Failed { reason }, Vec::new())
}

/// A parsed and processed document.
struct Document {
    title: Option<String>,
    site_link: Option<String>,
    items: Vec<Item>,
    identity: Identity,
}

/// Parsing whole documents is CPU-bound: it runs on the blocking pool.
async fn parse_and_process(body: Vec<u8>, url: Url) -> Result<Document, ParseError> {
    let work = move || {
        let parsed = parse_feed(&body, Some(url.as_str()))?;
        let processed = process_feed(&parsed, Some(&url));
        Ok(Document {
            title: parsed
                .title
                .as_deref()
                .map(html_to_text)
                .filter(|t| !t.is_empty()),
            site_link: parsed.site_link,
            items: processed.items,
            identity: processed.identity,
        })
    };
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or(Err(ParseError::Panicked))
}

/// One event per refresh, with stable field names.
fn log_outcome(feed: &FeedConfig, outcome: &PollOutcome, stats: &IngestStats) {
    let name = feed.name.as_str();
    match outcome {
        PollOutcome::Fetched { guid_fallback, .. } => tracing::info!(
            feed = name,
            status = "fetched",
            items_new = stats.new,
            items_updated = stats.updated,
            items_deduplicated = stats.deduplicated,
            guid_fallback = *guid_fallback,
            "feed polled"
        ),
        PollOutcome::NotModified => tracing::info!(
            feed = name,
            status = "not_modified",
            items_new = 0,
            "feed polled"
        ),
        PollOutcome::Failed { reason } => {
            tracing::warn!(feed = name, status = "failed", error = %reason, url = %feed.url, "feed polled")
        }
    }
}
