//! Plain data shared by the pipeline stages; no I/O here.

mod poll;
mod published;

use std::fmt;

use chrono::{DateTime, Utc};
use url::Url;

pub use poll::{
    BROKEN_AFTER_FAILURES, FeedHealth, IngestStats, Location, PollOutcome, PollStatus, PollSummary,
    PollWrite,
};
pub use published::{SourceRef, StoredItem, Story, StoryCopy};

/// An item's content is cut to this size once hashed: feeds carry articles, not books, and
/// one huge item must not cost a huge amount of memory in the store and every output.
pub const MAX_CONTENT_BYTES: usize = 2 * 1024 * 1024;

/// What time it is: the system clock in the daemon, a clock the test sets in tests.
pub type Clock = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(Utc::now)
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub fn truncate_utf8(mut text: String, max: usize) -> String {
    if text.len() > max {
        let end = (0..=max)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        text.truncate(end);
        text.shrink_to_fit();
    }
    text
}

/// Feeds `text` to `hasher` with letter case folded: ASCII a chunk at a time without
/// copying the whole text (most text is ASCII), anything else by Unicode case folding.
fn hash_folded(hasher: &mut blake3::Hasher, text: &str) {
    if !text.is_ascii() {
        hasher.update(caseless::default_case_fold_str(text).as_bytes());
        return;
    }
    let mut chunk = [0u8; 4096];
    for part in text.as_bytes().chunks(chunk.len()) {
        let folded = &mut chunk[..part.len()];
        folded.copy_from_slice(part);
        folded.make_ascii_lowercase();
        hasher.update(folded);
    }
}

/// The unique, user-visible name of a configured feed (used in `feed:NAME` filters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedName(String);

impl FeedName {
    /// Accepts a name a filter expression can spell: no whitespace, quotes or parentheses.
    pub fn new(name: &str) -> Result<FeedName, String> {
        let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '"' | '(' | ')');
        if name.is_empty() || name.chars().any(bad) {
            return Err(format!(
                "`{name}` is not a feed name: use no spaces, quotes or parentheses"
            ));
        }
        Ok(FeedName(name.to_string()))
    }

    /// Derives a name from the URL's host (without `www.`), or the file name of a `file://` URL.
    pub fn from_url(url: &Url) -> Option<FeedName> {
        let base = match url.host_str() {
            Some(host) if !host.is_empty() => host.trim_start_matches("www.").to_string(),
            _ => url
                .path_segments()?
                .next_back()?
                .split('.')
                .next()?
                .to_string(),
        };
        FeedName::new(&base.to_ascii_lowercase()).ok()
    }

    /// A name from the URL that `taken` does not hold: the host, else the host and the
    /// path (`example.com-blog-feed`), else that with `-2`, `-3` …
    pub fn unique_from_url(url: &Url, taken: impl Fn(&str) -> bool) -> Option<FeedName> {
        let host = FeedName::from_url(url)?;
        if !taken(host.as_str()) {
            return Some(host);
        }
        let path: String = url
            .path()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|part| !part.is_empty() && !matches!(*part, "xml" | "rss" | "atom" | "json"))
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        let with_path = if path.is_empty() {
            host.0.clone()
        } else {
            format!("{}-{path}", host.0)
        };
        (1..1000)
            .map(|n| match n {
                1 => with_path.clone(),
                n => format!("{with_path}-{n}"),
            })
            .find(|candidate| !taken(candidate))
            .and_then(|name| FeedName::new(&name).ok())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FeedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The normalisation version; the first byte of every content hash. 2: letter case folded,
/// media URLs covered, the canonical link joins short stories.
pub const HASH_VERSION: u8 = 2;

/// Stories of fewer words than this (title and text together) also hash their canonical
/// link: two sites' "Open thread" posts are not one story.
pub const SHORT_STORY_WORDS: usize = 8;

/// A versioned hash of an item's normalised title and text; the first byte is the
/// normalisation version, so a future change of normalisation never silently mixes with old hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash(pub [u8; 33]);

impl ContentHash {
    /// The hash of a story: its whole normalised title and text with letter case folded,
    /// its media URLs, and its canonical link when title and text are only a few words.
    /// `None` when there is no title, text or media: such items are never merged.
    pub fn of_story(
        title: &str,
        text: &str,
        media: &[String],
        link: Option<&str>,
    ) -> Option<ContentHash> {
        if title.is_empty() && text.is_empty() && media.is_empty() {
            return None;
        }
        let mut hasher = blake3::Hasher::new();
        hash_folded(&mut hasher, title);
        hasher.update(b"\n");
        hash_folded(&mut hasher, text);
        for url in media {
            hasher.update(b"\nmedia:");
            hasher.update(url.as_bytes());
        }
        let words = title.split_whitespace().count() + text.split_whitespace().count();
        if let Some(link) = link.filter(|_| words < SHORT_STORY_WORDS) {
            hasher.update(b"\nlink:");
            hasher.update(link.as_bytes());
        }
        Some(ContentHash::versioned(hasher.finalize()))
    }

    /// A hash no other feed can produce, for an item with nothing to compare: made from the
    /// feed's URL and the item's key within it.
    pub fn unique_to_feed(feed: &str, key: &str) -> ContentHash {
        let mut hasher = blake3::Hasher::new();
        hasher.update(b"feedsift:no-content\n");
        hasher.update(feed.as_bytes());
        hasher.update(b"\n");
        hasher.update(key.as_bytes());
        ContentHash::versioned(hasher.finalize())
    }

    fn versioned(digest: blake3::Hash) -> ContentHash {
        let mut bytes = [0u8; 33];
        bytes[0] = HASH_VERSION;
        bytes[1..].copy_from_slice(digest.as_bytes());
        ContentHash(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn from_slice(bytes: &[u8]) -> Option<ContentHash> {
        Some(ContentHash(bytes.try_into().ok()?))
    }

    /// Parses the hex form written by [`ContentHash::to_hex`].
    pub fn from_hex(hex: &str) -> Option<ContentHash> {
        if hex.len() != 66 || !hex.is_ascii() {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect();
        ContentHash::from_slice(&bytes?)
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The published entry id of an item first stored with this hash: a name-based
    /// (version 8) `urn:uuid:`, so the same story gets the same id whichever feed brought it first.
    pub fn entry_id(&self) -> String {
        let digest = blake3::hash(&self.0);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest.as_bytes()[..16]);
        uuid::Builder::from_custom_bytes(bytes)
            .into_uuid()
            .urn()
            .to_string()
    }
}

/// Where a tag of an item came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TagOrigin {
    /// The `tags` of a configured feed the item came from.
    Feed,
    /// An RSS/Atom category or JSON Feed tag.
    Category,
    /// A `#hashtag` in the title or text.
    Hashtag,
}

impl TagOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            TagOrigin::Feed => "feed",
            TagOrigin::Category => "category",
            TagOrigin::Hashtag => "hashtag",
        }
    }
}

/// A tag as spelled somewhere, with the key it is matched by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    /// Case-, width-, space-, `-`- and `_`-insensitive matching key.
    pub key: String,
    /// The spelling as found.
    pub label: String,
    pub origin: TagOrigin,
}

/// An item as one feed document delivers it, before normalisation.
#[derive(Debug, Clone, Default)]
pub struct ParsedItem {
    /// The guid / id given by the feed itself, never one made up by the parser.
    pub guid: Option<String>,
    /// As HTML (plain-text titles are escaped by the parser).
    pub title: Option<String>,
    pub link: Option<String>,
    /// HTML content, else the summary.
    pub content: Option<String>,
    /// The `xml:base` in force for the item, which its relative links resolve against.
    pub base: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub categories: Vec<String>,
    /// Image and enclosure URLs, as given.
    pub media: Vec<String>,
}

/// A feed document as parsed.
#[derive(Debug, Clone, Default)]
pub struct ParsedFeed {
    /// The feed's own title, as HTML.
    pub title: Option<String>,
    pub site_link: Option<String>,
    pub items: Vec<ParsedItem>,
    /// How often the feed says it changes (RSS `ttl`, `sy:updatePeriod`/`sy:updateFrequency`).
    pub update_every: Option<std::time::Duration>,
    /// What had to be repaired or guessed to read the document (empty when it was valid).
    pub repairs: Vec<String>,
}

/// How an item is known within its feed: its guid, else its link, else its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UpstreamKey(pub String);

/// An item ready to store: identity, hash, tags and displayable fields.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: UpstreamKey,
    pub hash: ContentHash,
    pub title: String,
    /// Canonical link (tracking parameters removed).
    pub link: Option<String>,
    pub content: Option<String>,
    /// What relative links in `content` resolve against (`xml:base`), when the feed says.
    pub base: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Category and hashtag tags; feed tags are attached through the item's sources.
    pub tags: Vec<Tag>,
    /// Plain text of title and content, for phrase search; shared with the text index's
    /// thread, which takes it in once the item is stored (no copy of every item's text).
    pub text: std::sync::Arc<str>,
    /// Links the feed gave that are not published (not `http` or `https`), as given.
    pub dropped_links: Vec<String>,
    /// What near-duplicate detection compares; `None` when the item is too short to compare
    /// or its feed is never near-merged.
    pub shape: Option<NearShape>,
}

#[cfg(test)]
impl Item {
    /// An item of `title` and plain `text` alone: no link, content, date or tags.
    pub(crate) fn plain(title: &str, text: &str) -> Item {
        Item {
            key: UpstreamKey(format!("g:{title}")),
            hash: ContentHash::unique_to_feed("t", title),
            title: title.into(),
            link: None,
            content: None,
            base: None,
            author: None,
            published: None,
            updated: None,
            tags: Vec::new(),
            text: text.into(),
            dropped_links: Vec::new(),
            shape: None,
        }
    }
}

impl Item {
    /// Bytes of memory its text fields hold, roughly: what a stored poll waits with.
    pub fn bytes(&self) -> usize {
        let optional = [&self.link, &self.content, &self.base, &self.author]
            .iter()
            .map(|s| s.as_ref().map_or(0, String::len))
            .sum::<usize>();
        let tags: usize = self.tags.iter().map(|t| t.key.len() + t.label.len()).sum();
        let shape = self.shape.as_ref().map_or(0, |s| {
            4 * (s.sketch.len() + s.bands.len() + s.title.len())
                + s.figures.iter().map(String::len).sum::<usize>()
        });
        std::mem::size_of::<Item>()
            + self.title.len()
            + optional
            + self.text.len()
            + tags
            + self.dropped_links.iter().map(String::len).sum::<usize>()
            + shape
    }

    /// When the story happened: its date, never in the future (which would pin it to the top of
    /// every merged feed), else `now`. What merged feeds sort by and `near_window` measures.
    pub fn told_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.published.or(self.updated).unwrap_or(now).min(now)
    }

    /// Whether the story happened within `window` before `now`: only such items are compared
    /// with other feeds' (`near_window`).
    pub fn told_within(&self, window: std::time::Duration, now: DateTime<Utc>) -> bool {
        chrono::TimeDelta::from_std(window)
            .ok()
            .and_then(|window| now.checked_sub_signed(window))
            .is_none_or(|since| self.told_at(now) >= since)
    }
}

/// What near-duplicate detection knows of an item's text, boilerplate of its feed removed
/// (computed by `near`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NearShape {
    /// Distinct word shingles in the text.
    pub size: u32,
    /// The smallest shingle hashes, ascending: a bottom-k sketch of the shingle set.
    pub sketch: Vec<u32>,
    /// Locality-sensitive band keys: texts alike share at least one.
    pub bands: Vec<u32>,
    /// Figures with the word they follow (`raises 10b`, `week 44`).
    pub figures: Vec<String>,
    /// Hashes of the title's words, ascending.
    pub title: Vec<u32>,
}

impl NearShape {
    /// A sequence of hashes as stored: 4 bytes each, little-endian.
    pub fn hashes_to_bytes(hashes: &[u32]) -> Vec<u8> {
        hashes.iter().flat_map(|h| h.to_le_bytes()).collect()
    }

    /// The hashes [`NearShape::hashes_to_bytes`] wrote.
    pub fn hashes_from_bytes(bytes: &[u8]) -> Vec<u32> {
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }
}

/// One subscription, as OPML carries it.
pub struct Subscription {
    pub name: String,
    /// The reader's title for the feed; the name when absent.
    pub title: Option<String>,
    pub url: String,
    /// The first is the folder it is listed in.
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests;
