//! The subscriptions as OPML 2.0, for moving them to another reader or aggregator.

use opml::{Head, OPML, Outline};

use crate::model::Subscription;

/// An OPML document listing every subscription under a folder named by its first tag (as
/// readers and `feedsift import-opml` turn folders into tags), its other tags as `category`.
pub fn render(title: &str, subscriptions: &[Subscription]) -> String {
    let mut outlines: Vec<Outline> = Vec::new();
    // Only web feeds are listed: a `file://` feed means nothing on another machine.
    for s in subscriptions
        .iter()
        .filter(|s| super::web(&s.url).is_some())
    {
        let name = s.title.clone().unwrap_or_else(|| s.name.clone());
        let (folder, categories) = match s.tags.split_first() {
            Some((folder, rest)) => (Some(folder), rest),
            None => (None, &[][..]),
        };
        let outline = Outline {
            text: name.clone(),
            title: Some(name),
            r#type: Some("rss".into()),
            xml_url: Some(s.url.clone()),
            category: (!categories.is_empty()).then(|| categories.join(",")),
            ..Outline::default()
        };
        match folder {
            Some(folder) => match outlines
                .iter_mut()
                .find(|o| o.xml_url.is_none() && &o.text == folder)
            {
                Some(existing) => existing.outlines.push(outline),
                None => outlines.push(Outline {
                    text: folder.clone(),
                    title: Some(folder.clone()),
                    outlines: vec![outline],
                    ..Outline::default()
                }),
            },
            None => outlines.push(outline),
        }
    }
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
