//! `GET /metrics` in the Prometheus text format (version 0.0.4): every feed's health and
//! the size of the store, read from the database at scrape time.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::{AppState, ServeError};
use crate::model::FeedHealth;

/// The metrics page.
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ServeError> {
    let (health, items) = state
        .store
        .call(|s| Ok((s.feed_health()?, s.item_count()?)))
        .await?;
    let config = state.config();
    let configured: Vec<&FeedHealth> = health
        .iter()
        .filter(|h| config.feeds.iter().any(|f| f.name.as_str() == h.name))
        .collect();
    let mut out = String::new();
    gauge(
        &mut out,
        "feedsift_items",
        "Canonical items stored.",
        &[("", items)],
    );
    let per_feed = |value: &dyn Fn(&FeedHealth) -> i64| -> Vec<(String, i64)> {
        configured
            .iter()
            .map(|h| (format!("feed=\"{}\"", escape(&h.name)), value(h)))
            .collect()
    };
    let up = per_feed(&|h| i64::from(h.up()));
    gauge(
        &mut out,
        "feedsift_feed_up",
        "1 when the feed's last poll succeeded.",
        &labelled(&up),
    );
    let failures = per_feed(&|h| i64::from(h.consecutive_failures));
    gauge(
        &mut out,
        "feedsift_feed_consecutive_failures",
        "Failed polls in a row.",
        &labelled(&failures),
    );
    let broken = per_feed(&|h| i64::from(matches!(h.state(), "broken" | "gone")));
    gauge(
        &mut out,
        "feedsift_feed_broken",
        "1 when the feed has failed for long or is gone.",
        &labelled(&broken),
    );
    let stored = per_feed(&|h| h.items);
    gauge(
        &mut out,
        "feedsift_feed_items",
        "Items stored from the feed.",
        &labelled(&stored),
    );
    let next = per_feed(&|h| h.next_poll.timestamp());
    gauge(
        &mut out,
        "feedsift_feed_next_poll_timestamp_seconds",
        "When the feed is polled next.",
        &labelled(&next),
    );
    out.push_str(&state.metrics().render());
    Ok((
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    ))
}

fn labelled(rows: &[(String, i64)]) -> Vec<(&str, i64)> {
    rows.iter()
        .map(|(labels, v)| (labels.as_str(), *v))
        .collect()
}

fn gauge(out: &mut String, name: &str, help: &str, rows: &[(&str, i64)]) {
    crate::metrics::header(out, name, "gauge", help);
    for (labels, value) in rows {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

/// Label values escape `\`, `"` and newlines.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
