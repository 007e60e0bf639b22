//! RSS 2.0 documents, with `content:encoded`, `dc:creator` and an `atom:link rel="self"`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Guid, Item, Source};

use super::{Channel, clean_text, entry_author, entry_content, web};
use crate::model::StoredItem;

/// Renders `items` (newest first) as an RSS 2.0 channel.
pub fn render(channel: &Channel, items: &[StoredItem]) -> String {
    let updated = items.iter().map(|i| i.updated).max();
    let mut links = vec![Link {
        href: channel.self_url.to_string(),
        rel: "self".into(),
        mime_type: Some("application/rss+xml".into()),
        ..Link::default()
    }];
    let archive = &channel.archive;
    for (url, rel) in [
        (&archive.prev, "prev-archive"),
        (&archive.current, "current"),
        (&channel.hub, "hub"),
    ] {
        links.extend(url.iter().map(|u| Link {
            href: u.to_string(),
            rel: rel.into(),
            ..Link::default()
        }));
    }
    let mut namespaces = BTreeMap::new();
    let mut extensions = rss::extension::ExtensionMap::new();
    if archive.is_archive() {
        namespaces.insert("fh".to_string(), super::FEED_HISTORY.to_string());
        let marker = rss::extension::Extension {
            name: "fh:archive".into(),
            ..Default::default()
        };
        extensions
            .entry("fh".into())
            .or_default()
            .insert("archive".into(), vec![marker]);
    }
    let rss = rss::Channel {
        title: clean_text(&channel.title),
        link: channel.page_url.to_string(),
        description: clean_text(&channel.title),
        last_build_date: updated.map(rfc2822),
        generator: Some(format!("feedsift {}", env!("CARGO_PKG_VERSION"))),
        atom_ext: Some(AtomExtension { links }),
        items: items.iter().map(|i| item(i, channel)).collect(),
        namespaces,
        extensions,
        ..rss::Channel::default()
    };
    rss.to_string()
}

fn item(item: &StoredItem, channel: &super::Channel) -> Item {
    let content = entry_content(item, channel);
    Item {
        title: Some(clean_text(&item.title)),
        link: item.link.as_deref().and_then(web).map(str::to_string),
        // Readers show the description; content:encoded carries the same full text.
        description: content.clone(),
        content,
        guid: Some(Guid {
            value: item.entry_id.clone(),
            permalink: false,
        }),
        pub_date: Some(rfc2822(item.published.unwrap_or(item.updated))),
        categories: item
            .tags
            .iter()
            .map(|t| Category {
                name: clean_text(t),
                domain: None,
            })
            .collect(),
        source: item.sources.first().and_then(|s| {
            Some(Source {
                url: web(&s.feed_url)?.to_string(),
                title: Some(clean_text(s.feed_title.as_deref().unwrap_or(&s.feed_name))),
            })
        }),
        dublin_core_ext: entry_author(item).map(|a| DublinCoreExtension {
            creators: vec![a],
            ..DublinCoreExtension::default()
        }),
        ..Item::default()
    }
}

fn rfc2822(time: DateTime<Utc>) -> String {
    time.to_rfc2822()
}
