//! Feed discovery: the feeds a web page links with `<link rel="alternate">`, as reader apps
//! find them when given a site's address instead of its feed's. Pure; no network.

use url::Url;

/// The `type`s of linked feeds, most wanted first.
const FEED_TYPES: [&str; 4] = [
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json",
];

/// Only the head of a page is searched: feed links sit in `<head>`.
const HEAD: usize = 256 * 1024;

/// Whether `body` is an HTML page rather than a feed document: its first markup, past an
/// XML declaration and comments, is `<!DOCTYPE html>` or `<html>` (a feed that quotes a page
/// in its items is still a feed).
pub fn is_web_page(body: &[u8]) -> bool {
    let start = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
    let mut rest = start.trim_start_matches('\u{feff}').trim_start();
    loop {
        let skipped = if rest.starts_with("<?") {
            rest.find("?>").map(|end| end + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|end| end + 3)
        } else {
            break;
        };
        match skipped {
            Some(end) => rest = rest[end..].trim_start(),
            None => return false,
        }
    }
    rest.starts_with("<!doctype html") || rest.starts_with("<html")
}

/// The feeds `page` (fetched from `base`) links as alternates, best first: Atom, RSS, then
/// JSON Feed, each in page order; only `http` and `https` URLs.
pub fn feed_links(page: &[u8], base: &Url) -> Vec<Url> {
    let head = String::from_utf8_lossy(&page[..page.len().min(HEAD)]);
    let lower = head.to_ascii_lowercase();
    let mut found: Vec<(usize, usize, Url)> = Vec::new();
    for (at, _) in lower.match_indices("<link") {
        let end = lower[at..].find('>').map_or(lower.len(), |e| at + e);
        let tag = &head[at + 5..end];
        let rel = attribute(tag, "rel")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let kind = attribute(tag, "type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let Some(rank) = FEED_TYPES.iter().position(|t| kind.trim() == *t) else {
            continue;
        };
        if !rel.split_whitespace().any(|r| r == "alternate") {
            continue;
        }
        let href = attribute(tag, "href").unwrap_or_default();
        let decoded = html_escape::decode_html_entities(href.trim());
        match base.join(&decoded) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => found.push((rank, at, url)),
            _ => {}
        }
    }
    found.sort_by_key(|(rank, at, _)| (*rank, *at));
    let mut urls: Vec<Url> = Vec::new();
    for (_, _, url) in found {
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// The value of attribute `name` in the inside of a tag: quoted, or up to the next space.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let preceded = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !preceded || !rest.starts_with('=') {
            continue;
        }
        let value_at = tag.len() - rest.len() + 1;
        let value = tag[value_at..].trim_start();
        let offset = tag.len() - value.len();
        return Some(match value.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &tag[offset + 1..];
                &inner[..inner.find(quote).unwrap_or(inner.len())]
            }
            _ => &value[..value.find(char::is_whitespace).unwrap_or(value.len())],
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_links_its_feeds_atom_first() {
        let page = br#"<!DOCTYPE html><html><head><title>Blog</title>
<link rel="stylesheet" href="/s.css">
<link rel="alternate" type="application/rss+xml" title="RSS" href="/feed.rss">
<LINK REL='alternate' TYPE='application/atom+xml' HREF='https://blog.example/atom.xml'>
<link rel="alternate" type="text/html" hreflang="de" href="/de/">
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
</head><body>x</body></html>"#;
        let base = Url::parse("https://blog.example/posts/").expect("url");
        assert!(is_web_page(page));
        let links: Vec<String> = feed_links(page, &base).iter().map(Url::to_string).collect();
        assert_eq!(
            links,
            [
                "https://blog.example/atom.xml",
                "https://blog.example/feed.rss"
            ]
        );
    }

    #[test]
    fn feeds_are_not_web_pages() {
        assert!(!is_web_page(
            b"<rss version=\"2.0\"><channel><item><description><![CDATA[<html><head>\
              <link rel=\"alternate\" type=\"application/rss+xml\" href=\"/x\"></head></html>]]>\
              </description></item></channel></rss>"
        ));
        assert!(is_web_page(
            b"<?xml version=\"1.0\"?>\n<!-- generated -->\n<html><head></head></html>"
        ));
        assert!(!is_web_page(
            b"<?xml version=\"1.0\"?><rss version=\"2.0\"></rss>"
        ));
        assert!(!is_web_page(
            b"{\"version\":\"https://jsonfeed.org/version/1.1\"}"
        ));
    }
}
