//! The subscriptions as OPML 2.0, for moving them to another reader or aggregator.

use opml::{Head, OPML, Outline};

/// One subscription.
pub struct Subscription {
    pub name: String,
    pub url: String,
    pub tags: Vec<String>,
}

/// An OPML document listing every subscription, each with its tags as `category`.
pub fn render(title: &str, subscriptions: &[Subscription]) -> String {
    // Only web feeds are listed: a `file://` feed means nothing on another machine.
    let outlines = subscriptions
        .iter()
        .filter(|s| super::web(&s.url).is_some())
        .map(|s| Outline {
            text: s.name.clone(),
            title: Some(s.name.clone()),
            r#type: Some("rss".into()),
            xml_url: Some(s.url.clone()),
            category: (!s.tags.is_empty()).then(|| s.tags.join(",")),
            ..Outline::default()
        })
        .collect();
    let doc = OPML {
        head: Some(Head {
            title: Some(title.into()),
            ..Head::default()
        }),
        body: opml::Body { outlines },
        ..OPML::default()
    };
    doc.to_string().unwrap_or_default()
}
