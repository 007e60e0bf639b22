//! When each feed is due, and the loop that hands due feeds to the poller.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// How often the loop looks for due feeds.
const TICK: Duration = Duration::from_secs(1);

/// Overdue feeds at start are polled within this time, not all at once.
const START_SPREAD: Duration = Duration::from_secs(60);

/// How far back `interval = "auto"` looks at a feed's publishing.
pub const AUTO_HISTORY: Duration = Duration::from_secs(28 * 24 * 3600);

/// The bounds every interval is kept in.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub min: Duration,
    pub max: Duration,
    /// Failing feeds are retried at least this often, however long they have failed.
    pub max_backoff: Duration,
}

/// How the last poll went, as far as timing is concerned.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    /// 2xx or 304; `hint` is the longest interval the feed or server asked for
    /// (ttl, sy:updatePeriod, Cache-Control max-age, Expires).
    Success { hint: Option<Duration> },
    /// The `failures`-th failure in a row; `retry_after` when the server named a time.
    Failure {
        failures: u32,
        retry_after: Option<Duration>,
    },
}

/// When to poll next. Successes wait the interval, or longer when the feed asks, within the
/// bounds; failures back off exponentially from the interval up to `bounds.max_backoff`, or wait
/// what `Retry-After` says (within the bounds and the backoff cap). `jitter` in `[0, 1)`
/// adds up to a quarter of the wait so that feeds spread out.
pub fn next_poll(
    now: DateTime<Utc>,
    interval: Duration,
    bounds: Bounds,
    outcome: Outcome,
    jitter: f64,
) -> DateTime<Utc> {
    let interval = interval.clamp(bounds.min, bounds.max);
    let wait = match outcome {
        Outcome::Success { hint } => interval.max(hint.unwrap_or_default()).min(bounds.max),
        Outcome::Failure {
            retry_after: Some(after),
            ..
        } => after.clamp(bounds.min, bounds.max_backoff.max(bounds.min)),
        Outcome::Failure { failures, .. } => {
            let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
            interval
                .saturating_mul(factor)
                .min(bounds.max_backoff.max(interval))
        }
    };
    let wait = wait + wait.mul_f64(jitter.clamp(0.0, 1.0) / 4.0);
    now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX)
}

/// The interval of an `auto` feed: the median gap between its recent publications, within
/// the bounds. Without two recent publications to measure (a new or quiet feed) it is
/// `fallback`, the configured default.
pub fn auto_interval(dates: &[DateTime<Utc>], bounds: Bounds, fallback: Duration) -> Duration {
    let mut gaps: Vec<i64> = dates
        .windows(2)
        .map(|w| (w[1] - w[0]).num_seconds().abs())
        .collect();
    if gaps.is_empty() {
        return fallback.clamp(bounds.min, bounds.max);
    }
    gaps.sort_unstable();
    let median = u64::try_from(gaps[gaps.len() / 2]).unwrap_or(0);
    Duration::from_secs(median).clamp(bounds.min, bounds.max)
}

/// A stable pseudo-random number in `[0, 1)` for `name` at `now`: spreads feeds without
/// making a test depend on a random generator.
pub fn jitter(name: &str, now: DateTime<Utc>) -> f64 {
    let digest = blake3::hash(format!("{name}@{}", now.timestamp()).as_bytes());
    f64::from(u16::from_le_bytes([
        digest.as_bytes()[0],
        digest.as_bytes()[1],
    ])) / 65536.0
}

/// Polls due feeds until `cancel` fires, at most `concurrency` at a time; a feed is never
/// polled twice at once. `configured` names the feeds of the config in force and
/// `concurrency` gives its limit (both asked on every tick, so a reload takes effect at once);
/// `poll` polls one by name. Every tick is written to `heartbeat` (unix seconds) for health
/// checks.
pub async fn run<C, N, F, Fut>(
    store: Store,
    configured: C,
    concurrency: N,
    heartbeat: Arc<AtomicI64>,
    cancel: CancellationToken,
    poll: F,
) where
    C: Fn() -> HashSet<String>,
    N: Fn() -> usize,
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if let Err(e) = store
        .call(|s| s.spread_overdue(Utc::now(), START_SPREAD))
        .await
    {
        tracing::error!(error = %e, "cannot spread the first polls");
    }
    let mut permits = Permits::new(concurrency());
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
                heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
                permits.resize(concurrency());
                let configured = configured();
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
                    let permits = permits.semaphore.clone();
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

/// The polls allowed in flight, as a semaphore whose size can change while permits are out.
struct Permits {
    semaphore: Arc<Semaphore>,
    size: usize,
}

impl Permits {
    fn new(size: usize) -> Permits {
        let size = size.max(1);
        Permits {
            semaphore: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// Grows at once; shrinks as polls in flight return their permits. The semaphore is fair, so
    /// no new poll starts before the surplus is retired.
    fn resize(&mut self, size: usize) {
        let size = size.max(1);
        if size > self.size {
            self.semaphore.add_permits(size - self.size);
        } else if size < self.size {
            let surplus = u32::try_from(self.size - size).unwrap_or(u32::MAX);
            let semaphore = self.semaphore.clone();
            tokio::spawn(async move {
                if let Ok(retired) = semaphore.acquire_many_owned(surplus).await {
                    retired.forget();
                }
            });
        }
        self.size = size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap_or_default()
    }

    const MIN: u64 = 300;
    const HOUR: u64 = 3600;
    const HALF_HOUR: Duration = Duration::from_secs(1800);
    const MAX_BACKOFF: Duration = Duration::from_secs(7 * 24 * HOUR);
    const BOUNDS: Bounds = Bounds {
        min: Duration::from_secs(MIN),
        max: Duration::from_secs(24 * HOUR),
        max_backoff: MAX_BACKOFF,
    };

    fn wait(interval: u64, outcome: Outcome) -> i64 {
        (next_poll(at(0), Duration::from_secs(interval), BOUNDS, outcome, 0.0) - at(0))
            .num_seconds()
    }

    fn success(hint: Option<u64>) -> Outcome {
        Outcome::Success {
            hint: hint.map(Duration::from_secs),
        }
    }

    fn failure(failures: u32, retry_after: Option<u64>) -> Outcome {
        Outcome::Failure {
            failures,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn success_waits_the_interval_within_the_bounds() {
        assert_eq!(wait(1800, success(None)), 1800);
        assert_eq!(wait(60, success(None)), 300, "raised to min_interval");
        assert_eq!(
            wait(48 * HOUR, success(None)),
            24 * 3600,
            "lowered to max_interval"
        );
    }

    #[test]
    fn feed_hints_lengthen_the_wait_but_never_past_the_bound() {
        assert_eq!(wait(1800, success(Some(HOUR))), 3600, "ttl of an hour");
        assert_eq!(
            wait(1800, success(Some(60))),
            1800,
            "a short max-age does not poll faster"
        );
        assert_eq!(
            wait(1800, success(Some(7 * 24 * HOUR))),
            24 * 3600,
            "clamped to max_interval"
        );
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap() {
        assert_eq!(wait(600, failure(1, None)), 600);
        assert_eq!(wait(600, failure(2, None)), 1200);
        assert_eq!(wait(600, failure(4, None)), 4800);
        assert_eq!(wait(600, failure(1000, None)), MAX_BACKOFF.as_secs() as i64);
    }

    #[test]
    fn retry_after_is_honoured_within_min_interval_and_the_cap() {
        assert_eq!(wait(600, failure(1, Some(2 * HOUR))), 7200);
        assert_eq!(wait(600, failure(1, Some(5))), 300);
        assert_eq!(
            wait(600, failure(1, Some(30 * 24 * HOUR))),
            MAX_BACKOFF.as_secs() as i64
        );
    }

    #[test]
    fn jitter_adds_at_most_a_quarter() {
        let base = next_poll(at(0), Duration::from_secs(1000), BOUNDS, success(None), 0.0);
        let most = next_poll(
            at(0),
            Duration::from_secs(1000),
            BOUNDS,
            success(None),
            0.999,
        );
        assert_eq!((base - at(0)).num_seconds(), 1000);
        assert!((most - at(0)).num_seconds() <= 1250);
        let spread: std::collections::HashSet<u64> = (0..50)
            .map(|i| (jitter(&format!("feed{i}"), at(0)) * 100.0) as u64)
            .collect();
        assert!(spread.len() > 20, "jitter differs between feeds");
    }

    #[test]
    fn auto_intervals_follow_the_median_gap() {
        let hourly: Vec<_> = (0..10).map(|h| at(h * 3600)).collect();
        assert_eq!(
            auto_interval(&hourly, BOUNDS, HALF_HOUR),
            Duration::from_secs(3600)
        );
        let bursty = [at(0), at(60), at(120), at(180), at(86400 * 3)];
        assert_eq!(
            auto_interval(&bursty, BOUNDS, HALF_HOUR),
            Duration::from_secs(300),
            "clamped to min"
        );
        assert_eq!(auto_interval(&[at(0)], BOUNDS, HALF_HOUR), HALF_HOUR);
        assert_eq!(
            auto_interval(&[], BOUNDS, HALF_HOUR),
            HALF_HOUR,
            "a new feed is polled at the default"
        );
    }

    #[tokio::test]
    async fn poll_permits_grow_at_once_and_shrink_as_polls_return() {
        let mut permits = Permits::new(2);
        let held: Vec<_> = (0..2)
            .map(|_| permits.semaphore.clone().try_acquire_owned())
            .collect::<Result<_, _>>()
            .expect("two permits");
        permits.resize(3);
        let third = permits.semaphore.clone().try_acquire_owned();
        assert!(third.is_ok(), "a larger limit applies at once");

        permits.resize(1);
        drop(third);
        drop(held);
        // Let the task that retires the surplus run.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(permits.semaphore.available_permits(), 1);
        let one = permits.semaphore.clone().try_acquire_owned();
        assert!(one.is_ok());
        assert!(
            permits.semaphore.clone().try_acquire_owned().is_err(),
            "once polls in flight return, only the new limit is handed out"
        );
    }
}
