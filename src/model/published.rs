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
