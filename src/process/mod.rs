//! Pure processing of parsed items: identity within the feed, the content hash, tags.

mod link;
mod tags;

use std::collections::HashMap;

use url::Url;

use crate::model::{
    ContentHash, Item, MAX_CONTENT_BYTES, ParsedFeed, ParsedItem, TagOrigin, UpstreamKey,
    truncate_utf8,
};
use crate::text::{html_to_text, normalise};

pub use link::{WebLink, canonical, canonical_link, web_link};
pub use tags::{hashtags, tag};

pub use crate::model::HASH_VERSION;

/// Share of items with a missing or repeated guid above which a feed's guids are not trusted
/// (FreshRSS uses the same 5 %).
const BROKEN_GUID_SHARE: f64 = 0.05;

/// How the items of one document were identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Each item by its guid, or its link, or its hash when it has neither.
    Guid,
    /// The guids were missing or repeated too often; links (else hashes) were used instead.
    LinkFallback,
}

/// A processed document: its items and how they were identified.
#[derive(Debug)]
pub struct Processed {
    pub items: Vec<Item>,
    pub identity: Identity,
}

/// Normalises every item of a document; `base` resolves relative links.
pub fn process_feed(feed: &ParsedFeed, base: Option<&Url>) -> Processed {
    let identity = identity_mode(&feed.items);
    let mut seen = HashMap::new();
    let mut items = Vec::with_capacity(feed.items.len());
    for parsed in &feed.items {
        let item = process_item(parsed, base, identity);
        // A key repeated within one document names one item: the first one wins.
        if seen.insert(item.key.clone(), ()).is_none() {
            items.push(item);
        }
    }
    Processed { items, identity }
}

fn identity_mode(items: &[ParsedItem]) -> Identity {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut untrusted = 0usize;
    for item in items {
        match item.guid.as_deref() {
            Some(guid) => *counts.entry(guid).or_default() += 1,
            None => untrusted += 1,
        }
    }
    untrusted += counts.values().filter(|n| **n > 1).sum::<usize>();
    if items.len() > 1 && untrusted as f64 > items.len() as f64 * BROKEN_GUID_SHARE && untrusted > 1
    {
        Identity::LinkFallback
    } else {
        Identity::Guid
    }
}

fn process_item(parsed: &ParsedItem, base: Option<&Url>, identity: Identity) -> Item {
    let title = parsed
        .title
        .as_deref()
        .map(html_to_text)
        .unwrap_or_default();
    let body = parsed
        .content
        .as_deref()
        .map(html_to_text)
        .unwrap_or_default();
    let mut dropped_links = Vec::new();
    let mut web = |raw: &str, base: Option<&Url>| match web_link(raw, base) {
        WebLink::Web(url) => Some(canonical(url)),
        WebLink::Dropped(value) => {
            dropped_links.push(value);
            None
        }
        WebLink::Absent => None,
    };
    // The item's `xml:base` is where its relative links and content resolve.
    let item_base = parsed
        .base
        .as_deref()
        .and_then(|b| web(b, base))
        .and_then(|b| Url::parse(&b).ok());
    let link_base = item_base.as_ref().or(base);
    let link = parsed.link.as_deref().and_then(|l| web(l, link_base));
    let media: Vec<String> = parsed
        .media
        .iter()
        .filter_map(|m| web(m, link_base))
        .collect();
    let hash = ContentHash::of_story(&title, &body, &media, link.as_deref());
    let guid = match identity {
        Identity::Guid => parsed
            .guid
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty()),
        Identity::LinkFallback => None,
    };
    let key = match (guid, &link, hash) {
        (Some(guid), _, _) => format!("g:{guid}"),
        (None, Some(link), _) => format!("l:{link}"),
        (None, None, Some(hash)) => format!("h:{}", hash.to_hex()),
        (None, None, None) => "h:".to_string(),
    };
    let feed = base.map_or("", Url::as_str);
    let hash = hash.unwrap_or_else(|| ContentHash::unique_to_feed(feed, &key));
    let mut tags: Vec<_> = parsed
        .categories
        .iter()
        .filter_map(|c| tag(c, TagOrigin::Category))
        .collect();
    tags.extend(
        hashtags(&title)
            .into_iter()
            .chain(hashtags(&body))
            .filter_map(|h| tag(&h, TagOrigin::Hashtag)),
    );
    dedup_tags(&mut tags);
    let display_title = if title.is_empty() {
        shorten(&body, 80)
    } else {
        shorten(&title, MAX_TITLE_CHARS)
    };
    Item {
        key: UpstreamKey(key),
        hash,
        title: display_title,
        link,
        content: parsed
            .content
            .clone()
            .map(|c| truncate_utf8(c, MAX_CONTENT_BYTES)),
        base: item_base.map(String::from),
        author: parsed
            .author
            .as_deref()
            .map(normalise)
            .filter(|a| !a.is_empty()),
        published: parsed.published,
        updated: parsed.updated,
        tags,
        text: truncate_utf8(body, MAX_CONTENT_BYTES).into(),
        dropped_links,
        shape: None,
    }
}

/// Titles longer than this are cut for display (the hash still covers all of it): a
/// megabyte-long title would otherwise fill every reader's list.
pub const MAX_TITLE_CHARS: usize = 500;

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// One tag per (key, origin), keeping the first spelling seen.
fn dedup_tags(tags: &mut Vec<crate::model::Tag>) {
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert((t.key.clone(), t.origin)));
}

#[cfg(test)]
mod tests;
