//! A light second look at the raw document for what feed-rs drops: dates under other names
//! (`dcterms:modified`, `atom:published` inside RSS, …), titles and texts in other
//! vocabularies (`dc:title`, `dc:description`, `dcterms:abstract`), and `xml:base` on the feed
//! and its entries. Only run when an item came out without a date, title or text, or the
//! document uses `xml:base`.

use chrono::{DateTime, Utc};

use super::dates::parse_date;
use super::lexical::{Markup, markup};

/// What the scan found for one `<item>` / `<entry>`, in document order.
#[derive(Debug, Default, PartialEq)]
pub struct ItemExtras {
    pub date: Option<DateTime<Utc>>,
    pub base: Option<String>,
    /// A title from another vocabulary (`dc:title`), as HTML.
    pub title: Option<String>,
    /// A text from another vocabulary (`dc:description`), as HTML.
    pub text: Option<String>,
}

/// The document's own `xml:base` (on its root) and each item's extras.
#[derive(Debug, Default)]
pub struct Scan {
    pub root_base: Option<String>,
    pub items: Vec<ItemExtras>,
}

/// Element names (without prefix) that carry an item's date, best first.
const DATE_NAMES: [&str; 7] = [
    "published",
    "issued",
    "created",
    "date",
    "pubDate",
    "updated",
    "modified",
];

pub fn scan(doc: &str) -> Scan {
    let mut scan = Scan::default();
    let mut depth = 0usize;
    // Depth of the item being read, and the rank of the date it has so far.
    let mut item: Option<(usize, usize)> = None;
    for piece in markup(doc, 0) {
        let Markup::Piece {
            at: start,
            text: tag,
        } = piece
        else {
            break;
        };
        let at = start + tag.len() + 2;
        if tag.starts_with(['?', '!']) {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            depth = depth.saturating_sub(1);
            if item.is_some_and(|(d, _)| d == depth) && is_item(local(name.trim())) {
                item = None;
            }
            continue;
        }
        let self_closing = tag.ends_with('/');
        let name = tag
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("");
        if depth == 0 {
            scan.root_base = attribute(tag, "xml:base");
        }
        match item {
            None if is_item(local(name)) && !self_closing => {
                scan.items.push(ItemExtras {
                    base: attribute(tag, "xml:base"),
                    ..ItemExtras::default()
                });
                item = Some((depth, usize::MAX));
            }
            Some((d, rank)) if depth == d + 1 && !self_closing => {
                if let Some(current) = scan.items.last_mut() {
                    fallback_text(doc, at, name, current);
                }
                let found = DATE_NAMES.iter().position(|n| *n == local(name));
                if let Some(r) = found.filter(|r| *r < rank) {
                    let text = doc[at..].split('<').next().unwrap_or("");
                    if let (Some(date), Some(current)) = (parse_date(text), scan.items.last_mut()) {
                        current.date = Some(date);
                        item = Some((d, r));
                    }
                }
            }
            _ => {}
        }
        if !self_closing {
            depth += 1;
        }
    }
    scan
}

/// Records the element `name` whose content starts at `at` when it is a prefixed title or
/// text (`dc:title`, `dc:description`, `dcterms:abstract`) and the item has none yet. A title
/// is plain text; a description is HTML, as RSS reads its own.
fn fallback_text(doc: &str, at: usize, name: &str, item: &mut ItemExtras) {
    let Some((_, local)) = name.split_once(':') else {
        return;
    };
    let slot = match local {
        "title" if item.title.is_none() => &mut item.title,
        "description" | "abstract" if item.text.is_none() => &mut item.text,
        _ => return,
    };
    *slot = element_text(doc, at, name)
        .filter(|t| !t.trim().is_empty())
        .map(|t| match local {
            "title" => html_escape::encode_text(&t).into_owned(),
            _ => t,
        });
}

/// The text of a simple element whose content starts at `at` and ends at `</name>`: CDATA
/// as written, references decoded. `None` when the element holds markup of its own.
fn element_text(doc: &str, mut at: usize, name: &str) -> Option<String> {
    let mut text = String::new();
    loop {
        let rest = doc.get(at..)?;
        let plain = rest.find('<').unwrap_or(rest.len());
        text.push_str(&html_escape::decode_html_entities(&rest[..plain]));
        let markup = &rest[plain..];
        if let Some(cdata) = markup.strip_prefix("<![CDATA[") {
            let end = cdata.find("]]>")?;
            text.push_str(&cdata[..end]);
            at += plain + 9 + end + 3;
            continue;
        }
        let closed = markup
            .strip_prefix("</")
            .and_then(|m| m.strip_prefix(name))
            .is_some_and(|m| m.trim_start().starts_with('>'));
        return closed.then_some(text);
    }
}

fn is_item(local: &str) -> bool {
    matches!(local, "item" | "entry")
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!(" {name}="))? + name.len() + 2;
    let rest = &tag[at..];
    let quote = rest.chars().next().filter(|q| matches!(q, '"' | '\''))?;
    let end = rest[1..].find(quote)?;
    Some(html_escape::decode_html_entities(&rest[1..=end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_under_other_names_and_bases_are_found_per_item() {
        let doc = r#"<rss version="2.0" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><item><title>a</title><dcterms:modified>2024-01-06T00:00:00Z</dcterms:modified>
<dcterms:created>2024-01-05T00:00:00Z</dcterms:created></item>
<item><description><![CDATA[<date>not this</date>]]></description><atom:published>2024-02-01T00:00:00Z</atom:published></item>
<item><title>no date <!-- <pubDate>2020-01-01</pubDate> --></title></item></channel></rss>"#;
        let scan = scan(doc);
        let dates: Vec<_> = scan
            .items
            .iter()
            .map(|i| i.date.map(|d| d.to_rfc3339()))
            .collect();
        assert_eq!(
            dates,
            [
                Some("2024-01-05T00:00:00+00:00".into()),
                Some("2024-02-01T00:00:00+00:00".into()),
                None
            ]
        );
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.com/blog/">
<entry xml:base="posts/"><id>1</id></entry><entry><id>2</id></entry></feed>"#;
        let scan = super::scan(atom);
        assert_eq!(scan.root_base.as_deref(), Some("https://example.com/blog/"));
        assert_eq!(scan.items[0].base.as_deref(), Some("posts/"));
        assert_eq!(scan.items[1].base, None);
    }
}
