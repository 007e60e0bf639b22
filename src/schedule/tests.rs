//! The schedule's arithmetic and the poll loop's bookkeeping.

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
    (next_poll(at(0), Duration::from_secs(interval), BOUNDS, outcome, 0.0) - at(0)).num_seconds()
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

#[test]
fn a_feed_whose_polls_are_not_recorded_waits_longer_each_time() {
    let mut holds = Holds::default();
    let start = Instant::now();
    assert!(!holds.holds("a", start));
    holds.after_poll("a", false, start);
    assert!(holds.holds("a", start + HOLD_FIRST - Duration::from_secs(1)));
    assert!(!holds.holds("a", start + HOLD_FIRST));
    assert!(!holds.holds("b", start), "other feeds go on");

    let later = start + HOLD_FIRST;
    holds.after_poll("a", false, later);
    assert!(holds.holds("a", later + HOLD_FIRST));
    assert!(!holds.holds("a", later + HOLD_FIRST * 2));
    for _ in 0..20 {
        holds.after_poll("a", false, later);
    }
    assert!(
        !holds.holds("a", later + HOLD_MAX),
        "never longer than HOLD_MAX"
    );

    holds.after_poll("a", true, later);
    assert!(!holds.holds("a", later), "a recorded poll lifts the hold");
    holds.after_poll("c", false, later);
    holds.keep_only(&HashSet::from(["a".to_string()]));
    assert!(
        !holds.holds("c", later),
        "feeds no longer configured are forgotten"
    );
}

/// A schedule where `feeds` are due once, at the first tick.
struct DueOnce(std::sync::Mutex<Vec<String>>);

impl Schedule for DueOnce {
    async fn spread_overdue(&self, _: DateTime<Utc>, _: Duration) -> Result<(), ScheduleError> {
        Ok(())
    }

    async fn due(&self, _: DateTime<Utc>) -> Result<Vec<String>, ScheduleError> {
        Ok(std::mem::take(&mut *self.0.lock().expect("lock")))
    }
}

/// Due feeds beyond `concurrency` wait as names: a poll's state (kilobytes) exists only while
/// it runs, however many feeds are due at once (5,000 on a first start).
#[tokio::test]
async fn only_running_polls_hold_their_state() {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let names: Vec<String> = (0..50).map(|n| format!("feed{n}")).collect();
    let configured: HashSet<String> = names.iter().cloned().collect();
    let (live, most, done) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let cancel = CancellationToken::new();
    let poll = {
        let (live, most, done, cancel) = (live.clone(), most.clone(), done.clone(), cancel.clone());
        move |_name: String| {
            let now = live.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            let (live, done, cancel) = (live.clone(), done.clone(), cancel.clone());
            async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                live.fetch_sub(1, SeqCst);
                if done.fetch_add(1, SeqCst) + 1 == 50 {
                    cancel.cancel();
                }
                true
            }
        }
    };
    let scheduler = run(
        DueOnce(std::sync::Mutex::new(names)),
        move || configured.clone(),
        || 4,
        Arc::new(AtomicI64::new(0)),
        cancel,
        poll,
    );
    tokio::time::timeout(Duration::from_secs(20), scheduler)
        .await
        .expect("every feed polled");
    assert_eq!(done.load(SeqCst), 50);
    assert_eq!(most.load(SeqCst), 4, "polls whose state existed at once");
}
