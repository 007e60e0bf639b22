//! When each feed is due, and the loop that hands due feeds to the poller.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
// Tokio's clock, so the loop runs on a paused clock in tests.
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often the loop looks for due feeds.
const TICK: Duration = Duration::from_secs(1);

/// The first wait of a feed whose poll could not be recorded, and the longest.
const HOLD_FIRST: Duration = Duration::from_secs(60);
const HOLD_MAX: Duration = Duration::from_secs(3600);

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

/// Where the scheduler learns which feeds are due (the database, in the daemon).
pub trait Schedule: Send + Sync {
    /// Spreads the feeds that are overdue at start over `window`, so that a daemon started
    /// after a long stop does not poll everything at once.
    fn spread_overdue(
        &self,
        now: DateTime<Utc>,
        window: Duration,
    ) -> impl Future<Output = Result<(), ScheduleError>> + Send;

    /// The names of the feeds due at `now`.
    fn due(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<String>, ScheduleError>> + Send;
}

/// Why the schedule could not be read; logged, and the next tick tries again.
pub type ScheduleError = Box<dyn std::error::Error + Send + Sync>;

/// Polls due feeds until `cancel` fires, at most `concurrency` at a time; a feed is never
/// polled twice at once. `configured` names the feeds of the config in force and
/// `concurrency` gives its limit (both asked on every tick, so a reload takes effect at once);
/// `poll` polls one by name and says whether its outcome was recorded; a feed whose poll was
/// not (the database cannot be written) is held back, see [`Holds`]. Every tick is written to
/// `heartbeat` (unix seconds) for health checks.
pub async fn run<S, C, N, F, Fut>(
    schedule: S,
    configured: C,
    concurrency: N,
    heartbeat: Arc<AtomicI64>,
    cancel: CancellationToken,
    poll: F,
) where
    S: Schedule,
    C: Fn() -> HashSet<String>,
    N: Fn() -> usize,
    F: Fn(String) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    if let Err(e) = schedule.spread_overdue(Utc::now(), START_SPREAD).await {
        tracing::error!(error = %e, "cannot spread the first polls");
    }
    let mut permits = Permits::new(concurrency());
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut holds = Holds::default();
    let mut tasks: JoinSet<(String, bool)> = JoinSet::new();
    // Due feeds not started yet: only their names wait, not a poll's state each (kilobytes).
    let mut waiting: VecDeque<String> = VecDeque::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            Some(done) = tasks.join_next() => {
                if let Ok((name, recorded)) = done {
                    holds.after_poll(&name, recorded, Instant::now());
                    in_flight.remove(&name);
                }
                start_due(&mut waiting, &permits, &mut tasks, &poll);
            }
            _ = ticker.tick() => {
                heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
                permits.resize(concurrency());
                let configured = configured();
                holds.keep_only(&configured);
                let due = match schedule.due(Utc::now()).await {
                    Ok(due) => due,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot read the schedule");
                        continue;
                    }
                };
                let now = Instant::now();
                for name in due {
                    if !configured.contains(&name)
                        || holds.holds(&name, now)
                        || !in_flight.insert(name.clone())
                    {
                        continue;
                    }
                    waiting.push_back(name);
                }
                start_due(&mut waiting, &permits, &mut tasks, &poll);
            }
        }
    }
    // Dropping a poll mid-fetch loses nothing: its writes happen in one transaction at the end.
    tasks.shutdown().await;
}

/// Starts the polls of waiting feeds while a permit is free; a poll holds its permit to its end.
fn start_due<F, Fut>(
    waiting: &mut VecDeque<String>,
    permits: &Permits,
    tasks: &mut JoinSet<(String, bool)>,
    poll: &F,
) where
    F: Fn(String) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    while !waiting.is_empty() {
        let Ok(permit) = permits.semaphore.clone().try_acquire_owned() else {
            return;
        };
        let Some(name) = waiting.pop_front() else {
            return;
        };
        let work = poll(name.clone());
        tasks.spawn(async move {
            let _permit = permit;
            (name, work.await)
        });
    }
}

/// Feeds whose last polls could not be recorded (a full disk, a file system remounted
/// read-only, a lock held elsewhere). Their schedule in the database still says they are due,
/// so without a hold they would be fetched again every tick: each waits `HOLD_FIRST`, doubling
/// with every such poll in a row up to `HOLD_MAX`.
#[derive(Debug, Default)]
struct Holds(HashMap<String, Hold>);

#[derive(Debug, Clone, Copy)]
struct Hold {
    until: Instant,
    in_a_row: u32,
}

impl Holds {
    fn holds(&self, name: &str, now: Instant) -> bool {
        self.0.get(name).is_some_and(|hold| hold.until > now)
    }

    fn after_poll(&mut self, name: &str, recorded: bool, now: Instant) {
        if recorded {
            self.0.remove(name);
            return;
        }
        let in_a_row = self.0.get(name).map_or(1, |hold| hold.in_a_row + 1);
        let wait = HOLD_FIRST
            .saturating_mul(2u32.saturating_pow(in_a_row - 1))
            .min(HOLD_MAX);
        tracing::warn!(feed = name, retry_in = %humantime::format_duration(wait), "poll not recorded; the feed waits before it is polled again");
        self.0.insert(
            name.to_string(),
            Hold {
                until: now + wait,
                in_a_row,
            },
        );
    }

    /// Forgets feeds no longer configured.
    fn keep_only(&mut self, configured: &HashSet<String>) {
        self.0.retain(|name, _| configured.contains(name));
    }
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
mod tests;
