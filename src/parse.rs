//! Feed documents (RSS, Atom, JSON Feed) → model items, with feed-rs. No network, no database.

use std::time::Duration;

use feed_rs::model::{Entry, Feed, Link, Text};
use feed_rs::parser::Builder;

use crate::model::{ParsedFeed, ParsedItem};

/// A document that is not a usable feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("the feed parser crashed on this document")]
    Panicked,
    #[error("parsing took longer than {0:?}")]
    TooSlow(std::time::Duration),
}

/// Parses raw bytes (never pre-decoded: the parser follows the BOM and XML declaration).
/// `base` resolves relative links. Blocking; run it off the async executor.
pub fn parse_feed(bytes: &[u8], base: Option<&str>) -> Result<ParsedFeed, ParseError> {
    // feed-rs can panic on hostile values; one bad document must not take the daemon down.
    let parsed = std::panic::catch_unwind(|| {
        Builder::new()
            .base_uri(base)
            // An empty id marks "the feed gave none": feed-rs's made-up ids change when a
            // title is edited, or on every parse when there is no link (SPEC identity rule).
            .id_generator(|_, _, _| String::new())
            .sanitize_content(false)
            .build()
            .parse(bytes)
    })
    .map_err(|_| ParseError::Panicked)?;
    let feed = parsed.map_err(|e| ParseError::NotAFeed(e.to_string()))?;
    let ttl = feed
        .ttl
        .map(|minutes| Duration::from_secs(u64::from(minutes) * 60));
    let mut parsed = convert_feed(feed);
    parsed.update_every = ttl.max(syndication_period(bytes));
    Ok(parsed)
}

/// The RSS 1.0 syndication module's hint (`sy:updatePeriod` / `sy:updateFrequency`), which
/// feed-rs does not read. Only the document's head is searched: the hint sits in the channel.
fn syndication_period(bytes: &[u8]) -> Option<Duration> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(SYNDICATION_HEAD)]);
    let element = |name: &str| {
        let start = head.find(&format!(":{name}>"))? + name.len() + 2;
        let end = head[start..].find('<')? + start;
        Some(head[start..end].trim().to_ascii_lowercase())
    };
    let period = match element("updatePeriod")?.as_str() {
        "hourly" => 3600,
        "daily" => 86_400,
        "weekly" => 7 * 86_400,
        "monthly" => 30 * 86_400,
        "yearly" => 365 * 86_400,
        _ => return None,
    };
    let frequency = element("updateFrequency")
        .and_then(|f| f.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    Some(Duration::from_secs(period / frequency))
}

/// How much of a document is searched for the syndication hint.
const SYNDICATION_HEAD: usize = 64 * 1024;

fn convert_feed(feed: Feed) -> ParsedFeed {
    ParsedFeed {
        title: feed.title.as_ref().map(text_to_html),
        site_link: main_link(&feed.links),
        items: feed.entries.into_iter().map(convert_entry).collect(),
        update_every: None,
    }
}

fn convert_entry(entry: Entry) -> ParsedItem {
    let content = entry
        .content
        .and_then(|c| {
            let plain = c.content_type.essence().to_string() == "text/plain";
            c.body.map(|b| if plain { escape(&b) } else { b })
        })
        .filter(|b| !b.trim().is_empty())
        .or_else(|| entry.summary.as_ref().map(text_to_html));
    ParsedItem {
        guid: Some(entry.id).filter(|id| !id.trim().is_empty()),
        title: entry.title.as_ref().map(text_to_html),
        link: main_link(&entry.links),
        content,
        base: entry.base,
        author: entry.authors.iter().find_map(|p| p.name.clone()),
        published: entry.published,
        updated: entry.updated,
        categories: entry
            .categories
            .iter()
            .map(|c| {
                c.label
                    .clone()
                    .filter(|l| !l.trim().is_empty())
                    .unwrap_or_else(|| c.term.clone())
            })
            .collect(),
    }
}

/// The link to the page itself: `rel="alternate"` or no rel, else the first one.
fn main_link(links: &[Link]) -> Option<String> {
    links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| links.first())
        .map(|l| l.href.clone())
}

fn is_plain(text: &Text) -> bool {
    text.content_type.essence().to_string() == "text/plain"
}

/// Every text as HTML, so later stages handle one kind of markup.
fn text_to_html(text: &Text) -> String {
    if is_plain(text) {
        escape(&text.content)
    } else {
        text.content.clone()
    }
}

fn escape(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

#[cfg(test)]
mod tests;
