//! Counters of what the daemon did since it started, for `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::model::PollStatus;

/// Upper bounds (seconds) of the fetch-latency histogram's buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// Counters shared by the poller and the server.
#[derive(Debug, Default)]
pub struct Metrics {
    polls: [AtomicU64; 4],
    items_new: AtomicU64,
    items_updated: AtomicU64,
    items_deduplicated: AtomicU64,
    bytes_fetched: AtomicU64,
    latency_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
    requests: Mutex<BTreeMap<u16, u64>>,
    polls_unrecorded: AtomicU64,
    /// Why the last poll could not be written to the database, until one is written again.
    unrecorded: Mutex<Option<String>>,
}

impl Metrics {
    /// Counts one poll recorded in the database: its status, items, bytes and fetch time.
    pub fn record_poll(
        &self,
        status: PollStatus,
        items: (usize, usize, usize),
        bytes: usize,
        fetch_time: Duration,
    ) {
        *self.unrecorded.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if let Some(i) = PollStatus::ALL.iter().position(|s| *s == status) {
            self.polls[i].fetch_add(1, Ordering::Relaxed);
        }
        self.items_new.fetch_add(items.0 as u64, Ordering::Relaxed);
        self.items_updated
            .fetch_add(items.1 as u64, Ordering::Relaxed);
        self.items_deduplicated
            .fetch_add(items.2 as u64, Ordering::Relaxed);
        self.bytes_fetched
            .fetch_add(bytes as u64, Ordering::Relaxed);
        let seconds = fetch_time.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros
            .fetch_add(fetch_time.as_micros() as u64, Ordering::Relaxed);
    }

    /// Counts a poll whose outcome could not be written to the database.
    pub fn record_unrecorded(&self, error: &str) {
        self.polls_unrecorded.fetch_add(1, Ordering::Relaxed);
        *self.unrecorded.lock().unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
    }

    /// Why polls cannot be recorded now: the last one failed to be written, none since was.
    pub fn unrecorded(&self) -> Option<String> {
        self.unrecorded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A one-line summary for systemd's STATUS: polls, failures and new items since start.
    pub fn status_line(&self) -> String {
        let polls: u64 = self.polls.iter().map(|p| p.load(Ordering::Relaxed)).sum();
        let failed: u64 = PollStatus::ALL
            .iter()
            .zip(&self.polls)
            .filter(|(status, _)| matches!(status, PollStatus::Failed | PollStatus::Gone))
            .map(|(_, p)| p.load(Ordering::Relaxed))
            .sum();
        let new = self.items_new.load(Ordering::Relaxed);
        format!("{polls} polls since start, {failed} failed; {new} new items")
    }

    /// Counts one HTTP response of ours by status.
    pub fn record_request(&self, status: u16) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(status)
            .or_default() += 1;
    }

    /// The counters in Prometheus text format.
    pub fn render(&self) -> String {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut out = String::new();
        header(
            &mut out,
            "feedsift_polls_total",
            "counter",
            "Polls by outcome.",
        );
        for (outcome, count) in PollStatus::ALL.iter().zip(&self.polls) {
            let _ = writeln!(
                out,
                "feedsift_polls_total{{outcome=\"{}\"}} {}",
                outcome.as_str(),
                load(count)
            );
        }
        header(
            &mut out,
            "feedsift_polls_unrecorded_total",
            "counter",
            "Polls whose outcome could not be written to the database.",
        );
        let _ = writeln!(
            out,
            "feedsift_polls_unrecorded_total {}",
            load(&self.polls_unrecorded)
        );
        header(
            &mut out,
            "feedsift_items_total",
            "counter",
            "Items stored by what happened to them.",
        );
        for (kind, count) in [
            ("new", &self.items_new),
            ("updated", &self.items_updated),
            ("deduplicated", &self.items_deduplicated),
        ] {
            let _ = writeln!(
                out,
                "feedsift_items_total{{kind=\"{kind}\"}} {}",
                load(count)
            );
        }
        header(
            &mut out,
            "feedsift_fetched_bytes_total",
            "counter",
            "Feed bytes fetched (decompressed).",
        );
        let _ = writeln!(
            out,
            "feedsift_fetched_bytes_total {}",
            load(&self.bytes_fetched)
        );
        header(
            &mut out,
            "feedsift_fetch_duration_seconds",
            "histogram",
            "Time a poll's fetch took.",
        );
        for (bucket, bound) in self.latency_buckets.iter().zip(LATENCY_BUCKETS) {
            let _ = writeln!(
                out,
                "feedsift_fetch_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                load(bucket)
            );
        }
        let count = load(&self.latency_count);
        let _ = writeln!(
            out,
            "feedsift_fetch_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "feedsift_fetch_duration_seconds_sum {}",
            load(&self.latency_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "feedsift_fetch_duration_seconds_count {count}");
        header(
            &mut out,
            "feedsift_http_responses_total",
            "counter",
            "Responses served, by status.",
        );
        for (status, count) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "feedsift_http_responses_total{{status=\"{status}\"}} {count}"
            );
        }
        out
    }
}

/// The `# HELP` and `# TYPE` lines that open a metric family in Prometheus text.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls_and_requests_are_counted_and_rendered() {
        let m = Metrics::default();
        m.record_poll(
            PollStatus::Fetched,
            (3, 1, 2),
            1000,
            Duration::from_millis(200),
        );
        m.record_poll(PollStatus::Failed, (0, 0, 0), 0, Duration::from_secs(3));
        m.record_request(200);
        m.record_request(304);
        m.record_request(304);
        assert_eq!(
            m.status_line(),
            "2 polls since start, 1 failed; 3 new items"
        );
        let text = m.render();
        for line in [
            "feedsift_polls_total{outcome=\"fetched\"} 1",
            "feedsift_polls_total{outcome=\"failed\"} 1",
            "feedsift_items_total{kind=\"new\"} 3",
            "feedsift_fetched_bytes_total 1000",
            "feedsift_fetch_duration_seconds_bucket{le=\"0.25\"} 1",
            "feedsift_fetch_duration_seconds_bucket{le=\"5\"} 2",
            "feedsift_fetch_duration_seconds_count 2",
            "feedsift_http_responses_total{status=\"304\"} 2",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn a_poll_that_cannot_be_recorded_is_the_problem_until_one_is() {
        let m = Metrics::default();
        assert_eq!(m.unrecorded(), None);
        m.record_unrecorded("database is locked");
        assert_eq!(m.unrecorded().as_deref(), Some("database is locked"));
        assert!(m.render().contains("feedsift_polls_unrecorded_total 1\n"));
        m.record_poll(
            PollStatus::NotModified,
            (0, 0, 0),
            0,
            Duration::from_millis(5),
        );
        assert_eq!(m.unrecorded(), None);
    }
}
