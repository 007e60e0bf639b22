//! When each feed is due, and the loop that hands due feeds to the poller.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Failing feeds are retried at least this often, however long they have failed.
pub const MAX_BACKOFF: Duration = Duration::from_secs(7 * 24 * 3600);

/// How often the loop looks for due feeds.
const TICK: Duration = Duration::from_secs(1);

/// The next poll after one with `failures` consecutive failures (0 = it succeeded):
/// the interval, doubled for every failure after the first, capped at [`MAX_BACKOFF`].
pub fn next_poll(now: DateTime<Utc>, interval: Duration, failures: u32) -> DateTime<Utc> {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
    let delay = interval
        .saturating_mul(factor)
        .min(MAX_BACKOFF.max(interval));
    now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
}

/// Polls due feeds until `cancel` fires, at most `concurrency` at a time; a feed is never
/// polled twice at once. `feeds` names the configured feeds; `poll` polls one by name.
pub async fn run<F, Fut>(
    store: Store,
    feeds: Vec<String>,
    concurrency: usize,
    cancel: CancellationToken,
    poll: F,
) where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let configured: HashSet<String> = feeds.into_iter().collect();
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut tasks: JoinSet<String> = JoinSet::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            Some(done) = tasks.join_next() => {
                if let Ok(name) = done {
                    in_flight.remove(&name);
                }
            }
            _ = ticker.tick() => {
                let due = match store.call(|s| s.due_feeds(Utc::now())).await {
                    Ok(due) => due,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the schedule");
                        continue;
                    }
                };
                for name in due {
                    if !configured.contains(&name) || !in_flight.insert(name.clone()) {
                        continue;
                    }
                    let permits = permits.clone();
                    let work = poll(name.clone());
                    tasks.spawn(async move {
                        let _permit = permits.acquire_owned().await;
                        work.await;
                        name
                    });
                }
            }
        }
    }
    // Dropping a poll mid-fetch loses nothing: its writes happen in one transaction at the end.
    tasks.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap_or_default()
    }

    #[test]
    fn success_polls_again_after_the_interval() {
        assert_eq!(next_poll(at(1000), Duration::from_secs(60), 0), at(1060));
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        let i = Duration::from_secs(60);
        assert_eq!(next_poll(at(0), i, 1), at(60));
        assert_eq!(next_poll(at(0), i, 2), at(120));
        assert_eq!(next_poll(at(0), i, 4), at(480));
        assert_eq!(next_poll(at(0), i, 1000), at(MAX_BACKOFF.as_secs() as i64));
    }
}
