//! One feed-rs entry as a model item: its text by the precedence reader apps use, its
//! title, link, author, dates, categories and media.

use feed_rs::model::{Entry, Link, Text};

use super::formats;
use crate::model::ParsedItem;

/// The item's text by the precedence reader apps use: content (Atom `content`, RSS
/// `content:encoded`, JSON `content_html`/`content_text`), then the summary (RSS
/// `description`, Atom and JSON `summary`), then a media description (`itunes:summary`,
/// `media:description`). `dc:description` and `dc:title` come from the second look (`scan`).
pub(super) fn convert_entry(entry: Entry) -> ParsedItem {
    let media_text = || {
        entry
            .media
            .iter()
            .find_map(|m| {
                m.description
                    .as_ref()
                    .filter(|d| !d.content.trim().is_empty())
            })
            .map(text_to_html)
    };
    let content = entry
        .content
        .and_then(|c| {
            let kind = c.content_type.essence().to_string();
            // Anything else (an image, base64 of some file) is not the item's text. feed-rs
            // types Atom xhtml content `application/xhtml`.
            let textual =
                kind.starts_with("text/") || kind.contains("xml") || kind.contains("xhtml");
            c.body
                .filter(|_| textual)
                .map(|b| as_html(b, kind == "text/plain"))
        })
        .filter(|b| !b.trim().is_empty())
        .or_else(|| entry.summary.as_ref().map(text_to_html))
        .filter(|b| !b.trim().is_empty())
        .or_else(media_text);
    let title = entry
        .title
        .as_ref()
        .map(text_to_html)
        .filter(|t| !t.trim().is_empty())
        .or_else(|| {
            let media = entry.media.iter().find_map(|m| m.title.as_ref())?;
            Some(text_to_html(media)).filter(|t| !t.trim().is_empty())
        });
    ParsedItem {
        guid: Some(entry.id).filter(|id| !id.trim().is_empty()),
        title,
        link: main_link(&entry.links),
        content,
        base: entry.base,
        // RSS writes `email (Name)`, which feed-rs leaves as `(Name)`.
        author: entry.authors.iter().find_map(|p| {
            let name = p.name.as_deref()?.trim();
            let name = name
                .strip_prefix('(')
                .and_then(|n| n.strip_suffix(')'))
                .unwrap_or(name);
            Some(name.to_string()).filter(|n| !n.is_empty())
        }),
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
        media: media_urls(&entry.media),
    }
}

/// The item's image and enclosure URLs, each once, in document order.
fn media_urls(media: &[feed_rs::model::MediaObject]) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    let found = media.iter().flat_map(|m| {
        let content = m
            .content
            .iter()
            .filter_map(|c| c.url.as_ref().map(|u| u.to_string()));
        content.chain(m.thumbnails.iter().map(|t| t.image.uri.clone()))
    });
    for url in found {
        if !url.trim().is_empty() && !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// The link to the page itself: `rel="alternate"` or no rel, else the first one; never the
/// placeholder that keeps an RSS 1.0 item without a link.
pub(super) fn main_link(links: &[Link]) -> Option<String> {
    let links: Vec<&Link> = links
        .iter()
        .filter(|l| l.href != formats::NO_LINK)
        .collect();
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
pub(super) fn text_to_html(text: &Text) -> String {
    as_html(text.content.clone(), is_plain(text))
}

/// `text` as HTML: escaped when it is plain text.
fn as_html(text: String, plain: bool) -> String {
    if plain {
        html_escape::encode_text(&text).into_owned()
    } else {
        text
    }
}
