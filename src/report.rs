//! Plain-text reports for the terminal: config summary, poll summary, feed health table.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::app::PollSummary;
use crate::config::Config;
use crate::store::FeedHealth;

/// What `feedsift check` prints for a valid config.
pub fn config_summary(config: &Config) -> String {
    format!(
        "{}: ok: {} feeds, {} outputs, database {}, listening on {}",
        config.path.display(),
        config.feeds.len(),
        config.outputs.len(),
        config.storage.path.display(),
        config.server.listen
    )
}

/// The last line of `feedsift poll`.
pub fn poll_summary(s: &PollSummary) -> String {
    format!(
        "{} fetched, {} not modified, {} failed; {} new items, {} updated, {} deduplicated",
        s.fetched, s.not_modified, s.failed, s.items.new, s.items.updated, s.items.deduplicated
    )
}

/// `feedsift feeds`: one line per configured feed.
pub fn health_table(config: &Config, health: &[FeedHealth], now: DateTime<Utc>) -> String {
    let mut out = format!(
        "{:<24} {:<13} {:>6} {:>8} {:>12} {:>12}  {}\n",
        "FEED", "STATUS", "ITEMS", "FAILURES", "LAST POLL", "NEXT POLL", "ERROR"
    );
    for feed in &config.feeds {
        let Some(h) = health.iter().find(|h| h.name == feed.name.as_str()) else {
            continue;
        };
        let _ = writeln!(
            out,
            "{:<24} {:<13} {:>6} {:>8} {:>12} {:>12}  {}",
            h.name,
            h.last_status.as_deref().unwrap_or("never polled"),
            h.items,
            h.consecutive_failures,
            h.last_poll.map_or("-".to_string(), |t| relative(now, t)),
            relative(now, h.next_poll),
            h.last_error.as_deref().unwrap_or("")
        );
    }
    out
}

/// "5m ago" / "in 2h" / "now".
fn relative(now: DateTime<Utc>, t: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let abs = secs.unsigned_abs();
    let span = match abs {
        0..60 => return "now".into(),
        60..3600 => format!("{}m", abs / 60),
        3600..86400 => format!("{}h", abs / 3600),
        _ => format!("{}d", abs / 86400),
    };
    if secs < 0 {
        format!("{span} ago")
    } else {
        format!("in {span}")
    }
}
