//! Feed documents (RSS, Atom, JSON Feed) → model items, with feed-rs. No network, no
//! database, no clock: the caller says when the document was fetched.

mod dates;
mod decode;
mod entry;
mod formats;
mod json_repair;
mod lexical;
mod limits;
mod repair;
mod scan;

use std::time::Duration;

use chrono::{DateTime, Utc};
use feed_rs::model::Feed;
use feed_rs::parser::Builder;

use crate::model::{ParsedFeed, ParsedItem};

use entry::{convert_entry, main_link, text_to_html};

pub use dates::parse_date;
pub use decode::decode;
pub use repair::{Refused, repair_xml};

/// A document that is not a usable feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("not a feed: {0}")]
    NotAFeed(feed_rs::parser::ParseFeedError),
    #[error("not a feed: an XML declaration in the middle of the document")]
    MisplacedDeclaration,
    #[error("the document has {0} items but none could be read")]
    NoItemsRead(usize),
    #[error("the document has {total} items, more than the {max} a feed keeps")]
    TooManyItems { total: usize, max: usize },
    #[error("the document decoded to UTF-8 is larger than {0} bytes (max_body)")]
    TooLarge(usize),
    #[error("refused: {0}")]
    Refused(Refused),
    #[error("the feed parser crashed on this document")]
    Panicked,
    #[error("parsing took longer than {0:?}")]
    TooSlow(std::time::Duration),
}

impl From<Refused> for ParseError {
    fn from(refused: Refused) -> ParseError {
        ParseError::Refused(refused)
    }
}

/// Where a document came from, and how much of it to read.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The document's URL: relative links resolve against it.
    pub base: Option<&'a str>,
    /// The `charset` of the HTTP Content-Type.
    pub charset: Option<&'a str>,
    pub limits: Limits,
    /// When the document was fetched: dates later than a day after it are clamped to it.
    pub now: DateTime<Utc>,
}

impl<'a> Source<'a> {
    /// A document from `base` fetched now, with no HTTP charset and no limits (for tests
    /// and tools; a poll says when it fetched).
    pub fn at(base: Option<&'a str>) -> Source<'a> {
        Source {
            base,
            charset: None,
            limits: Limits::NONE,
            now: Utc::now(),
        }
    }
}

/// How much of a document is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Items beyond this many are not read (`max_items_per_feed`: no more would be kept).
    pub max_items: usize,
    /// A document larger than this once decoded to UTF-8 is refused (`max_body`): decoding
    /// can triple the size of single-byte text.
    pub max_text: usize,
}

impl Limits {
    pub const NONE: Limits = Limits {
        max_items: usize::MAX,
        max_text: usize::MAX,
    };
}

/// Parses raw bytes: decoded here (BOM, then the HTTP charset, then the XML declaration),
/// cut to the limits, parsed strictly, and only when that fails, reads fewer items than the
/// document holds or would mangle text, repaired and parsed again (what was done is listed
/// on the result). Texts are read whole: size limits apply after hashing, in `process`.
/// Blocking; run it off the async executor.
pub fn parse_feed(bytes: &[u8], source: &Source) -> Result<ParsedFeed, ParseError> {
    let Limits {
        max_items,
        max_text,
    } = source.limits;
    // 1. Decode to UTF-8, within the size limit.
    let decoded = decode(bytes, source.charset);
    if decoded.text.len() > max_text {
        return Err(ParseError::TooLarge(max_text));
    }
    let mut notes: Vec<String> = decoded.fallback.into_iter().collect();
    // 2. Keep only the items that would be kept.
    let first = limits::first_items(decoded.text, max_items)?;
    notes.extend(first.cut);
    let text = first.text.as_ref();
    // 3. Parse strictly; repair and convert the dialect only when that is needed.
    let (mut feed, repairs) = read(text, first.items)?;
    notes.extend(repairs);
    // The count above is an estimate; the limit is not.
    if feed.entries.len() > max_items {
        notes.push(limits::cut_note(max_items, feed.entries.len()));
        feed.entries.truncate(max_items);
    }
    // 4. Read the items into the model, with what feed-rs leaves out.
    let ttl = feed
        .ttl
        .map(|minutes| Duration::from_secs(u64::from(minutes) * 60));
    let mut parsed = convert_feed(feed, text, source.base, source.now);
    parsed.update_every = ttl.max(syndication_period(text));
    parsed.repairs = notes;
    Ok(parsed)
}

/// The document parsed strictly, or repaired (with its dialect converted) when the strict
/// parse fails, reads fewer than the `items` the document seems to have, or would mangle
/// text; with the names of the repairs made.
fn read(text: &str, items: usize) -> Result<(Feed, Vec<String>), ParseError> {
    let strict_result = strict(text);
    let strict_entries = strict_result.as_ref().map_or(0, |f| f.entries.len());
    let readable = strict_result.is_ok() && (strict_entries > 0 || items == 0);
    // feed-rs reads control characters and undefined entities without complaint, but
    // mangles the text; and one item it cannot read (an RSS 1.0 item without a link) drops
    // just that item: those documents are repaired too, and the repair kept when it reads
    // at least as many items.
    if readable && strict_entries >= items && !lexical::suspicious(text) {
        return Ok((strict_result?, Vec::new()));
    }
    let repaired = match repaired(text)? {
        Some((repaired, done)) => strict(&repaired).ok().map(|feed| (feed, done)),
        None => None,
    };
    match (repaired, strict_result) {
        (Some((feed, done)), _)
            if (!feed.entries.is_empty() || items == 0) && feed.entries.len() >= strict_entries =>
        {
            Ok((feed, done))
        }
        (_, Ok(feed)) if readable => Ok((feed, Vec::new())),
        (_, failed) => Err(unreadable(failed, items)),
    }
}

/// feed-rs on UTF-8 text, with feedsift's identity rule and dates.
fn strict(text: &str) -> Result<Feed, ParseError> {
    // quick-xml panics when a declaration naming an encoding comes after the start.
    if lexical::misplaced_declaration(text) {
        return Err(ParseError::MisplacedDeclaration);
    }
    // feed-rs can panic on hostile values; one bad document must not take the daemon down.
    std::panic::catch_unwind(|| {
        // No base URI: links come out as written, and `process` resolves them, so a
        // disguised scheme (`java&#x09;script:`) is seen before it could pass as a path.
        Builder::new()
            // An empty id marks "the feed gave none": feed-rs's made-up ids change when a
            // title is edited, or on every parse when there is no link (our identity rule: guid, else link, else content hash).
            .id_generator(|_, _, _| String::new())
            .sanitize_content(false)
            .timestamp_parser(parse_date)
            .build()
            .parse(text.as_bytes())
    })
    .map_err(|_| ParseError::Panicked)?
    .map_err(ParseError::NotAFeed)
}

/// The error to report when neither the document nor its repair could be read: the strict
/// parser's, or the items that were lost.
fn unreadable(strict: Result<Feed, ParseError>, items: usize) -> ParseError {
    match strict {
        Err(e) => e,
        Ok(_) => ParseError::NoItemsRead(items),
    }
}

/// The repaired document and the names of its repairs; `None` when nothing could be done.
fn repaired(text: &str) -> Result<Option<(String, Vec<String>)>, ParseError> {
    if text.trim_start().starts_with('{') {
        return Ok(
            json_repair::repair_json(text).map(|(json, done)| (json, vec![done.to_string()]))
        );
    }
    let repaired = repair_xml(text)?;
    if repaired.repairs.is_empty() {
        return Ok(None);
    }
    let done = repaired.repairs.iter().map(ToString::to_string).collect();
    Ok(Some((repaired.text, done)))
}

/// The RSS 1.0 syndication module's hint (`sy:updatePeriod` / `sy:updateFrequency`), which
/// feed-rs does not read. Only the document's head is searched: the hint sits in the channel.
fn syndication_period(text: &str) -> Option<Duration> {
    let mut end = text.len().min(SYNDICATION_HEAD);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let head = &text[..end];
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

fn convert_feed(feed: Feed, text: &str, base: Option<&str>, now: DateTime<Utc>) -> ParsedFeed {
    let items: Vec<ParsedItem> = feed.entries.into_iter().map(convert_entry).collect();
    // The second look is only needed where feed-rs left a gap.
    let gaps = items.iter().any(|i| {
        (i.published.is_none() && i.updated.is_none()) || i.title.is_none() || i.content.is_none()
    });
    let scan = (gaps || text.contains("xml:base"))
        .then(|| scan::scan(text))
        .filter(|s| s.items.len() == items.len())
        .unwrap_or_default();
    let root_base = resolve(base, scan.root_base.as_deref());
    let mut extras = scan.items.into_iter();
    let items = items
        .into_iter()
        .map(|mut item| {
            let extra = extras.next().unwrap_or_default();
            if item.published.is_none() && item.updated.is_none() {
                item.published = extra.date;
            }
            item.title = item.title.or(extra.title);
            item.content = item.content.or(extra.text);
            if item.base.is_none() {
                item.base = extra
                    .base
                    .and_then(|b| resolve(root_base.as_deref().or(base), Some(&b)))
                    .or_else(|| scan.root_base.as_ref().and(root_base.clone()));
            }
            item.published = item.published.map(|d| not_future(d, now));
            item.updated = item.updated.map(|d| not_future(d, now));
            item
        })
        .collect();
    ParsedFeed {
        title: feed.title.as_ref().map(text_to_html),
        site_link: main_link(&feed.links),
        items,
        update_every: None,
        repairs: Vec::new(),
    }
}

/// Dates more than a day ahead are clock or time-zone mistakes; they would pin an item to
/// the top of every merged feed.
fn not_future(date: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    if date > now + chrono::Duration::days(1) {
        now
    } else {
        date
    }
}

/// `relative` resolved against `base`, as text.
fn resolve(base: Option<&str>, relative: Option<&str>) -> Option<String> {
    let relative = relative?;
    let joined = match base.and_then(|b| url::Url::parse(b).ok()) {
        Some(base) => base.join(relative),
        None => url::Url::parse(relative),
    };
    joined.ok().map(String::from)
}

#[cfg(test)]
mod tests;
