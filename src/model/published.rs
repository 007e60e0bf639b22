//! Items as the store gives them back for publishing.

use chrono::{DateTime, Utc};

/// A feed an item came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub feed_name: String,
    /// The feed's own title, when its document had one.
    pub feed_title: Option<String>,
    pub feed_url: String,
    /// The feed's website.
    pub site_link: Option<String>,
    /// The item's link in this feed.
    pub link: Option<String>,
}

/// A canonical item as published.
#[derive(Debug, Clone)]
pub struct StoredItem {
    pub entry_id: String,
    pub title: String,
    pub link: Option<String>,
    pub author: Option<String>,
    /// Unsanitised HTML as received.
    pub content: Option<String>,
    /// The item's `xml:base`, when its feed gave one.
    pub base: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: DateTime<Utc>,
    /// In the order they were first seen.
    pub sources: Vec<SourceRef>,
    /// Tag labels in their most common spelling, sorted.
    pub tags: Vec<String>,
}

/// A story and every copy of it, for its timeline.
#[derive(Debug, Clone)]
pub struct Story {
    pub entry_id: String,
    pub title: String,
    /// In the order they appeared.
    pub copies: Vec<StoryCopy>,
}

/// One site's copy of a story.
#[derive(Debug, Clone)]
pub struct StoryCopy {
    pub source: SourceRef,
    /// The site's own headline.
    pub headline: String,
    pub first_seen: DateTime<Utc>,
    /// When the site says it published (else last updated) it.
    pub published: Option<DateTime<Utc>>,
    /// For a copy merged as a near duplicate: the rule and the similarity (0–1).
    pub near: Option<(String, f64)>,
}

impl StoryCopy {
    /// When the copy appeared: when its site says it published it, else when it was first seen.
    pub fn appeared(&self) -> DateTime<Utc> {
        self.published.unwrap_or(self.first_seen)
    }
}
