//! Plain-text reports for the terminal: config and poll summaries, the feed health table,
//! query results and item explanations.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::inspect::{Explanation, Verdict};
use crate::model::PollSummary;
use crate::model::{FeedHealth, StoredItem};

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
            h.state(),
            h.items,
            h.consecutive_failures,
            h.last_poll.map_or("-".to_string(), |t| relative(now, t)),
            next_poll(h, now),
            h.last_error.as_deref().unwrap_or("")
        );
        if let Some(moved) = &h.effective_url {
            let _ = writeln!(
                out,
                "{:<24} moved to {moved}: update its `url` in the config",
                ""
            );
        }
        if let Some(repairs) = &h.repairs {
            let _ = writeln!(out, "{:<24} parsed with repairs: {repairs}", "");
        }
        if h.guid_fallback {
            let _ = writeln!(
                out,
                "{:<24} its guids repeat or are missing: items are told apart by link",
                ""
            );
        }
    }
    out
}

/// When the feed is polled next; a gone feed (410) is not polled again.
fn next_poll(h: &FeedHealth, now: DateTime<Utc>) -> String {
    if h.gone {
        "not polled".into()
    } else {
        relative(now, h.next_poll)
    }
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

/// `feedsift query` in text form.
pub fn query_results(results: &[(StoredItem, Option<Verdict>)]) -> String {
    let mut out = String::new();
    for (item, verdict) in results {
        let date = item
            .published
            .unwrap_or(item.updated)
            .format("%Y-%m-%d %H:%M");
        let _ = writeln!(out, "{date}  {}", item.title);
        if let Some(link) = &item.link {
            let _ = writeln!(out, "    {link}");
        }
        let sources: Vec<_> = item.sources.iter().map(|s| s.feed_name.as_str()).collect();
        let _ = writeln!(
            out,
            "    from {} · tags: {}",
            sources.join(", "),
            item.tags.join(", ")
        );
        let _ = writeln!(out, "    id {}", item.entry_id);
        if let Some(verdict) = verdict {
            let _ = writeln!(out, "    {}", terms_line(verdict));
        }
    }
    if results.is_empty() {
        out.push_str("no items match\n");
    }
    out
}

fn terms_line(verdict: &Verdict) -> String {
    let terms: Vec<String> = verdict
        .terms
        .iter()
        .map(|(term, hit)| format!("{term} {}", if *hit { "✓" } else { "✗" }))
        .collect();
    terms.join("  ")
}

/// `feedsift explain`.
pub fn explanation(e: &Explanation) -> String {
    let d = &e.detail;
    let mut out = String::new();
    let _ = writeln!(out, "{}\n  id:       {}", d.item.title, d.item.entry_id);
    if let Some(link) = &d.item.link {
        let _ = writeln!(out, "  link:     {link}");
    }
    let hash = d.hash.map_or("-".to_string(), |h| h.to_hex());
    let _ = writeln!(
        out,
        "  hash:     {hash} (normalisation v{})",
        d.hash.map_or(0, |h| h.0[0])
    );
    let published = d.item.published.map_or_else(
        || "none given (placed by when first seen)".to_string(),
        |p| p.format("%Y-%m-%d %H:%M").to_string(),
    );
    let _ = writeln!(out, "  date:     {published}");
    let _ = writeln!(
        out,
        "  first seen {} · updated {} · {} content updates",
        d.first_seen.format("%Y-%m-%d %H:%M"),
        d.item.updated.format("%Y-%m-%d %H:%M"),
        d.content_updates
    );
    out.push_str("sources:\n");
    for (n, s) in d.sources.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:<20} since {}  by {}  {}",
            s.feed,
            s.first_seen.format("%Y-%m-%d %H:%M"),
            s.upstream_key,
            s.link.as_deref().unwrap_or("")
        );
        if let Some(title) = s.title.as_deref().filter(|t| *t != d.item.title) {
            let _ = writeln!(out, "  {:<20} headline: {title}", "");
        }
        match &s.near {
            Some((rule, similarity)) => {
                let _ = writeln!(
                    out,
                    "  {:<20} merged as a near copy: {rule}, similarity {:.0} %",
                    "",
                    similarity * 100.0
                );
            }
            None if d.sources.len() == 1 => {}
            None if n == 0 => {
                let _ = writeln!(out, "  {:<20} carried the story first", "");
            }
            None => {
                let _ = writeln!(out, "  {:<20} merged: same content hash", "");
            }
        }
        for dropped in &s.dropped_links {
            let _ = writeln!(
                out,
                "  {:<20} link dropped, not http or https: {dropped:?}",
                ""
            );
        }
    }
    if let Some(a) = &d.article {
        let when = a.fetched.map_or("not yet".to_string(), |t| {
            t.format("%Y-%m-%d %H:%M").to_string()
        });
        let _ = writeln!(
            out,
            "article:  {} ({}, {} attempts)",
            a.url, a.state, a.attempts
        );
        let _ = writeln!(
            out,
            "  fetched {when} · page {} bytes · kept {} characters of text",
            a.bytes.map_or("-".to_string(), |b| b.to_string()),
            a.kept.map_or("-".to_string(), |k| k.to_string())
        );
        if let Some(error) = &a.error {
            let _ = writeln!(
                out,
                "  {}: {error}",
                if a.state == "failed" {
                    "gave up"
                } else {
                    "last failure"
                }
            );
        }
    }
    out.push_str("tags:\n");
    for t in &d.tags {
        let origin = if t.origin == "feed" {
            "feed tag"
        } else {
            t.origin.as_str()
        };
        let _ = writeln!(
            out,
            "  {:<20} {origin}, from feed {} (key `{}`)",
            t.label, t.feed, t.key
        );
    }
    out.push_str("outputs:\n");
    for o in &e.outputs {
        let (mark, filter) = match &o.filter {
            Some(f) => (
                if o.verdict.matched { "in " } else { "out" },
                format!("filter {f}: {}", terms_line(&o.verdict)),
            ),
            None => ("in ", "no filter: every item".to_string()),
        };
        let _ = writeln!(out, "  {mark} {:<20} {filter}", o.output);
    }
    out
}
