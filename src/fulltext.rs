//! Whole articles for feeds that carry only a teaser: the new items of `full_text` feeds have
//! their link fetched (as politely and safely as feeds: the same client, host gates, timeout,
//! body cap, address policy and redirect rules) and the article's main text kept (`article`).
//!
//! Articles wait in the database, so a slow site never holds up a poll: at most
//! [`AT_ONCE`] are fetched at a time, beside the polls, and each new item's article is fetched
//! once. Failures are recorded on the item and tried again [`MAX_ATTEMPTS`] times at most when
//! they may pass (a timeout, a 5xx); a site failing [`SKIP_AFTER`] times in a row is left
//! alone for [`SKIP_FOR`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::article::{self, ArticleError};
use crate::config::Config;
use crate::fetch::{FetchError, Fetched, Reply, Validators};
use crate::model::TagOrigin;
use crate::near::shape_text;
use crate::process::{hashtags, tag};
use crate::refresh::Poller;
use crate::store::{ArticleJob, ArticleOutcome, StoreError};

/// Articles fetched at the same time at most.
pub const AT_ONCE: usize = 2;
/// Articles taken from the queue per round.
const BATCH: usize = 16;
/// Fetches of one article at most.
pub const MAX_ATTEMPTS: u32 = 3;
/// The first retry's delay; each later one doubles it.
const RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// Failures in a row after which a site is left alone …
pub const SKIP_AFTER: u32 = 3;
/// … for this long.
pub const SKIP_FOR: Duration = Duration::from_secs(3600);
/// Longest extraction of one page.
const EXTRACT_BUDGET: Duration = Duration::from_secs(10);
/// How often the queue is looked at while the daemon runs.
const EVERY: Duration = Duration::from_secs(5);
/// Sites remembered as failing at most.
const MAX_SITES: usize = 10_000;

/// A site's failures in a row, and until when it is left alone.
#[derive(Default)]
struct Failing {
    in_a_row: u32,
    skipped_until: Option<DateTime<Utc>>,
}

/// Sites that fail, by host.
#[derive(Default, Clone)]
pub struct Sites(Arc<Mutex<HashMap<String, Failing>>>);

impl Sites {
    fn skipped_until(&self, host: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let sites = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sites
            .get(host)
            .and_then(|f| f.skipped_until)
            .filter(|u| *u > now)
    }

    fn record(&self, host: &str, failed: bool, now: DateTime<Utc>) {
        let mut sites = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !failed {
            sites.remove(host);
            return;
        }
        if sites.len() >= MAX_SITES {
            sites.clear();
        }
        let site = sites.entry(host.to_string()).or_default();
        site.in_a_row += 1;
        if site.in_a_row >= SKIP_AFTER {
            let pause = chrono::Duration::from_std(SKIP_FOR).unwrap_or_default();
            site.skipped_until = Some(now + pause);
            site.in_a_row = 0;
        }
    }
}

/// Fetches the articles due now, [`AT_ONCE`] at a time; returns how many were taken.
pub async fn fetch_due(
    poller: &Poller,
    config: &Config,
    sites: &Sites,
) -> Result<usize, StoreError> {
    let now = (poller.clock)();
    let jobs = poller
        .store
        .call(move |s| s.due_articles(now, BATCH))
        .await?;
    let taken = jobs.len();
    let mut running = JoinSet::new();
    for job in jobs {
        if running.len() >= AT_ONCE
            && let Some(done) = running.join_next().await
        {
            done.map_err(|_| StoreError::TaskFailed)??;
        }
        let feed = config
            .feeds
            .iter()
            .find(|f| f.name.as_str() == job.feed)
            .map(|f| Policy {
                allow_private: f.allow_private,
                near: f.near.is_some(),
            });
        let (poller, sites) = (poller.clone(), sites.clone());
        running.spawn(async move { fetch_one(&poller, job, feed, &sites).await });
    }
    while let Some(done) = running.join_next().await {
        done.map_err(|_| StoreError::TaskFailed)??;
    }
    Ok(taken)
}

/// What an article's feed allows: the addresses it may reach, and whether it near-merges.
#[derive(Debug, Clone, Copy)]
struct Policy {
    allow_private: bool,
    near: bool,
}

/// Fetches and extracts one article and records the outcome on its item.
async fn fetch_one(
    poller: &Poller,
    job: ArticleJob,
    feed: Option<Policy>,
    sites: &Sites,
) -> Result<(), StoreError> {
    let now = (poller.clock)();
    let url = Url::parse(&job.url).ok();
    let host = url
        .as_ref()
        .and_then(Url::host_str)
        .unwrap_or_default()
        .to_string();
    let outcome = match (url, feed) {
        (_, None) => give_up("its feed is no longer configured".into()),
        (None, _) => give_up("not a URL".into()),
        (Some(url), Some(feed)) => match sites.skipped_until(&host, now) {
            Some(until) => ArticleOutcome::Postponed { until },
            None => {
                let outcome = fetch_article(poller, &url, feed, &job).await;
                let failed = matches!(outcome, ArticleOutcome::Failed { .. });
                sites.record(&host, failed, now);
                outcome
            }
        },
    };
    match &outcome {
        ArticleOutcome::Kept { bytes, text, .. } => {
            tracing::debug!(url = %job.url, bytes, kept = text.len(), "article kept")
        }
        ArticleOutcome::Failed {
            error, retry_at, ..
        } => tracing::info!(url = %job.url, %error, retry = retry_at.is_some(), "article not kept"),
        ArticleOutcome::Postponed { .. } => {
            tracing::debug!(url = %job.url, "article postponed: its site keeps failing")
        }
    }
    let item = job.item_id;
    poller
        .store
        .call(move |s| s.record_article(item, &outcome, now))
        .await
}

async fn fetch_article(
    poller: &Poller,
    url: &Url,
    feed: Policy,
    job: &ArticleJob,
) -> ArticleOutcome {
    let attempts = job.attempts;
    let retry = |error: String, bytes: Option<usize>| {
        let now = (poller.clock)();
        let delay = RETRY_AFTER * 2u32.saturating_pow(attempts);
        let retry_at = (attempts + 1 < MAX_ATTEMPTS)
            .then(|| now + chrono::Duration::from_std(delay).unwrap_or_default());
        ArticleOutcome::Failed {
            error,
            bytes,
            retry_at,
        }
    };
    let fetched = poller
        .fetcher
        .fetch(url, &Validators::default(), feed.allow_private)
        .await;
    let (body, charset, media_type) = match fetched {
        Ok(Fetched {
            reply:
                Reply::Modified {
                    body,
                    charset,
                    media_type,
                    ..
                },
            ..
        }) => (body, charset, media_type),
        Ok(_) => {
            return retry(
                "the site answered 304 to an unconditional request".into(),
                None,
            );
        }
        Err(e) if passes(&e) => return retry(e.to_string(), None),
        Err(e) => return give_up(e.to_string()),
    };
    let bytes = body.len();
    if let Err(e) = article::is_page(media_type.as_deref()) {
        return ArticleOutcome::Failed {
            error: e.to_string(),
            bytes: Some(bytes),
            retry_at: None,
        };
    }
    let page = url.to_string();
    let extracted = poller
        .parsing
        .run(EXTRACT_BUDGET, move |_| {
            Ok(article::extract(&body, charset.as_deref(), &page))
        })
        .await;
    match extracted {
        Ok(Ok(article)) => {
            let tags = hashtags(&article.text)
                .iter()
                .filter_map(|h| tag(h, TagOrigin::Hashtag))
                .collect();
            let shape = if feed.near {
                shape_text(&job.title, &article.text)
            } else {
                None
            };
            ArticleOutcome::Kept {
                html: article.html,
                text: article.text,
                bytes,
                tags,
                shape,
            }
        }
        Ok(Err(
            e @ (ArticleError::NotFound(_) | ArticleError::TooLittle(_) | ArticleError::NotHtml(_)),
        )) => ArticleOutcome::Failed {
            error: e.to_string(),
            bytes: Some(bytes),
            retry_at: None,
        },
        Err(e) => ArticleOutcome::Failed {
            error: format!("extraction failed: {e}"),
            bytes: Some(bytes),
            retry_at: None,
        },
    }
}

fn give_up(error: String) -> ArticleOutcome {
    ArticleOutcome::Failed {
        error,
        bytes: None,
        retry_at: None,
    }
}

/// Whether a failure may pass by itself: worth another try later.
fn passes(error: &FetchError) -> bool {
    match error {
        FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Request(_) => true,
        FetchError::Status { status, .. } => status.is_server_error() || status.as_u16() == 429,
        _ => false,
    }
}

/// Fetches due articles every few seconds until `cancel` fires; `current` gives the poller
/// and config in force.
pub async fn run(current: impl Fn() -> (Poller, Arc<Config>), cancel: CancellationToken) {
    let sites = Sites::default();
    while !cancel.is_cancelled() {
        let (poller, config) = current();
        match fetch_due(&poller, &config, &sites).await {
            Ok(taken) if taken > 0 => continue,
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "cannot fetch articles"),
        }
        tokio::select! {
            () = cancel.cancelled() => {}
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_site_failing_again_and_again_is_left_alone_for_a_while() {
        let sites = Sites::default();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        for _ in 0..SKIP_AFTER - 1 {
            sites.record("slow.example", true, now);
        }
        assert_eq!(sites.skipped_until("slow.example", now), None);
        sites.record("slow.example", true, now);
        let until = sites.skipped_until("slow.example", now).expect("skipped");
        assert_eq!((until - now).to_std().ok(), Some(SKIP_FOR));
        assert_eq!(sites.skipped_until("other.example", now), None);
        assert_eq!(
            sites.skipped_until("slow.example", until),
            None,
            "only for a while"
        );
        sites.record("slow.example", false, now);
        assert_eq!(
            sites.skipped_until("slow.example", now),
            None,
            "a success forgives"
        );
    }

    #[test]
    fn only_failures_that_may_pass_are_tried_again() {
        assert!(passes(&FetchError::Timeout(Duration::from_secs(1))));
        assert!(passes(&FetchError::Status {
            status: reqwest::StatusCode::SERVICE_UNAVAILABLE,
            retry_after: None
        }));
        assert!(!passes(&FetchError::Status {
            status: reqwest::StatusCode::NOT_FOUND,
            retry_after: None
        }));
        assert!(!passes(&FetchError::TooLarge(10)));
    }
}
