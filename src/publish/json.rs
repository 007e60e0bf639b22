//! JSON Feed 1.1 documents (https://www.jsonfeed.org/version/1.1/); no maintained crate
//! writes them, and the structs are short.

use serde::Serialize;

use super::{Channel, clean_text, entry_author, entry_content, web};
use crate::model::StoredItem;

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: String,
    home_page_url: &'a str,
    feed_url: &'a str,
    /// JSON Feed's pagination: the next older archive page.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    /// The WebSub hub that pushes this document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<JsonHub>,
    items: Vec<JsonItem>,
}

#[derive(Serialize)]
struct JsonHub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct JsonItem {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    /// JSON Feed extensions start with `_`: the feeds this story came from.
    _feedsift: JsonSources,
}

#[derive(Serialize)]
struct JsonAuthor {
    name: String,
}

#[derive(Serialize)]
struct JsonSources {
    sources: Vec<JsonSource>,
}

#[derive(Serialize)]
struct JsonSource {
    feed: String,
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    feed_url: Option<String>,
    url: Option<String>,
}

/// Renders `items` (newest first) as a JSON Feed.
pub fn render(channel: &Channel, items: &[StoredItem]) -> String {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: clean_text(&channel.title),
        home_page_url: channel.page_url.as_str(),
        feed_url: channel.self_url.as_str(),
        next_url: channel.archive.prev.as_ref().map(ToString::to_string),
        hubs: channel
            .hub
            .iter()
            .map(|url| JsonHub {
                kind: "WebSub",
                url: url.to_string(),
            })
            .collect(),
        items: items.iter().map(|i| item(i, channel)).collect(),
    };
    serde_json::to_string_pretty(&feed).expect("plain structs always serialise")
}

fn item(item: &StoredItem, channel: &super::Channel) -> JsonItem {
    JsonItem {
        id: item.entry_id.clone(),
        url: item.link.as_deref().and_then(web).map(str::to_string),
        title: clean_text(&item.title),
        content_html: entry_content(item, channel),
        date_published: item.published.map(|t| t.to_rfc3339()),
        date_modified: item.updated.to_rfc3339(),
        authors: entry_author(item)
            .into_iter()
            .map(|name| JsonAuthor { name })
            .collect(),
        tags: item.tags.clone(),
        _feedsift: JsonSources {
            sources: item
                .sources
                .iter()
                .map(|s| JsonSource {
                    feed: s.feed_name.clone(),
                    title: s.feed_title.clone(),
                    feed_url: web(&s.feed_url).map(str::to_string),
                    url: s.link.as_deref().and_then(web).map(str::to_string),
                })
                .collect(),
        },
    }
}
