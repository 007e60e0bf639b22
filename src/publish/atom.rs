//! Atom 1.0 (RFC 4287) documents.

use atom_syndication::{
    Category, Content, Entry, Feed, FixedDateTime, Generator, Link, Person, Source, Text,
};
use chrono::{DateTime, Utc};

use super::{Channel, clean_text, entry_author, entry_content, web};
use crate::model::{SourceRef, StoredItem};

/// Renders `items` (newest first) as an Atom feed.
pub fn render(channel: &Channel, items: &[StoredItem]) -> String {
    // The feed changes when its newest change does, so its `updated` is stable between polls.
    let updated = items
        .iter()
        .map(|i| i.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let mut feed = Feed {
        title: Text::plain(clean_text(&channel.title)),
        id: channel.self_url.to_string(),
        updated: fixed(updated),
        authors: vec![person("feedsift")],
        generator: Some(Generator {
            value: "feedsift".into(),
            uri: Some(env!("CARGO_PKG_REPOSITORY").into()),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        links: vec![
            link(
                channel.self_url.as_str(),
                "self",
                Some("application/atom+xml"),
            ),
            link(channel.page_url.as_str(), "alternate", Some("text/html")),
        ],
        entries: items.iter().map(|i| entry(i, channel)).collect(),
        ..Feed::default()
    };
    feed.links.extend(archive_links(&channel.archive));
    feed.links
        .extend(channel.hub.iter().map(|h| link(h.as_str(), "hub", None)));
    if channel.archive.is_archive() {
        feed.namespaces
            .insert("fh".into(), super::FEED_HISTORY.into());
        let marker = atom_syndication::extension::Extension {
            name: "fh:archive".into(),
            ..Default::default()
        };
        feed.extensions
            .entry("fh".into())
            .or_default()
            .insert("archive".into(), vec![marker]);
    }
    feed.to_string()
}

/// `prev-archive` and `current` links (RFC 5005).
fn archive_links(archive: &super::ArchiveLinks) -> Vec<Link> {
    let prev = archive
        .prev
        .iter()
        .map(|u| link(u.as_str(), "prev-archive", None));
    let current = archive
        .current
        .iter()
        .map(|u| link(u.as_str(), "current", None));
    prev.chain(current).collect()
}

fn entry(item: &StoredItem, channel: &Channel) -> Entry {
    let mut links: Vec<Link> = item
        .link
        .as_deref()
        .and_then(web)
        .map(|l| link(l, "alternate", Some("text/html")))
        .into_iter()
        .collect();
    links.extend(
        item.sources
            .iter()
            .filter_map(|s| s.link.as_deref().and_then(web).or_else(|| web(&s.feed_url)))
            .map(|l| link(l, "via", None)),
    );
    Entry {
        title: Text::plain(clean_text(&item.title)),
        id: item.entry_id.clone(),
        updated: fixed(item.updated),
        published: item.published.map(fixed),
        authors: entry_author(item).iter().map(|a| person(a)).collect(),
        categories: item
            .tags
            .iter()
            .map(|t| Category {
                term: clean_text(t),
                ..Category::default()
            })
            .collect(),
        links,
        source: item.sources.first().map(|s| source(s, item.updated)),
        content: entry_content(item, channel).map(|html| Content {
            value: Some(html),
            content_type: Some("html".into()),
            ..Content::default()
        }),
        ..Entry::default()
    }
}

/// RFC 4287 §4.2.11: the feed an entry was copied from.
fn source(s: &SourceRef, updated: DateTime<Utc>) -> Source {
    let mut links: Vec<Link> = web(&s.feed_url)
        .map(|l| link(l, "self", None))
        .into_iter()
        .collect();
    links.extend(
        s.site_link
            .as_deref()
            .and_then(web)
            .map(|l| link(l, "alternate", Some("text/html"))),
    );
    Source {
        title: Text::plain(clean_text(s.feed_title.as_deref().unwrap_or(&s.feed_name))),
        id: s.feed_url.clone(),
        updated: fixed(updated),
        links,
        ..Source::default()
    }
}

fn link(href: &str, rel: &str, mime_type: Option<&str>) -> Link {
    Link {
        href: clean_text(href),
        rel: rel.into(),
        mime_type: mime_type.map(Into::into),
        ..Link::default()
    }
}

fn person(name: &str) -> Person {
    Person {
        name: clean_text(name),
        ..Person::default()
    }
}

fn fixed(time: DateTime<Utc>) -> FixedDateTime {
    time.fixed_offset()
}
