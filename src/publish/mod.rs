//! Pure rendering of published documents from stored items.

mod atom;
pub mod html;
mod json;
pub mod opml;
mod rss;
mod sanitize;

pub use sanitize::{clean_text, sanitize_html};

use url::Url;

use crate::model::{SourceRef, StoredItem};

/// What a published document is: its title, its own URL and its web page.
#[derive(Debug, Clone)]
pub struct Channel {
    pub title: String,
    /// The URL this document is served at (`rel="self"`).
    pub self_url: Url,
    /// The HTML page of the same output (`rel="alternate"`).
    pub page_url: Url,
    /// Its place among the output's archive pages (RFC 5005).
    pub archive: ArchiveLinks,
    /// The WebSub hub that pushes it (`rel="hub"`).
    pub hub: Option<Url>,
    /// Where stories' timelines are served (`/stories/`), under the same base.
    pub stories: Url,
}

/// RFC 5005 links: a current document names its newest archive page; an archive page names
/// the current document and the page before it.
#[derive(Debug, Clone, Default)]
pub struct ArchiveLinks {
    /// The next older archive page (`rel="prev-archive"`).
    pub prev: Option<Url>,
    /// On an archive page: the output's current document (`rel="current"`).
    pub current: Option<Url>,
}

impl ArchiveLinks {
    /// Whether the document is an archive page (`<fh:archive/>`).
    pub fn is_archive(&self) -> bool {
        self.current.is_some()
    }
}

/// The Feed History namespace of RFC 5005.
const FEED_HISTORY: &str = "http://purl.org/syndication/history/1.0";

impl Channel {
    /// The document served at `path` (`feeds/NAME`, `tags/TAG`, `search`) under `base`, in
    /// `format` (its HTML page when `None`); `query` is a search's expression.
    pub fn new(
        base: &Url,
        title: String,
        path: &str,
        query: Option<&str>,
        format: Option<Format>,
    ) -> Channel {
        Channel {
            title,
            self_url: document_url(base, path, query, format),
            page_url: document_url(base, path, query, None),
            archive: ArchiveLinks::default(),
            hub: None,
            stories: story_url(base, ""),
        }
    }
}

/// Where the timeline of the story with this entry id is served (`/stories/UUID`).
pub fn story_url(base: &Url, entry_id: &str) -> Url {
    let id = entry_id.strip_prefix("urn:uuid:").unwrap_or(entry_id);
    base.join(&format!("stories/{id}"))
        .unwrap_or_else(|_| base.clone())
}

/// Where the document at `path` is served in `format` (the page when `None`).
pub fn document_url(base: &Url, path: &str, query: Option<&str>, format: Option<Format>) -> Url {
    let ext = format.map_or(String::new(), |f| format!(".{}", f.extension()));
    let mut url = base
        .join(&format!("{path}{ext}"))
        .unwrap_or_else(|_| base.clone());
    if let Some(q) = query {
        url.query_pairs_mut().append_pair("q", q);
    }
    url
}

/// A published document format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Atom,
    Rss,
    Json,
}

impl Format {
    /// The format named by a file extension (`atom`, `rss`, `json`).
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext {
            "atom" => Some(Format::Atom),
            "rss" => Some(Format::Rss),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Atom => "atom",
            Format::Rss => "rss",
            Format::Json => "json",
        }
    }

    pub const ALL: [Format; 3] = [Format::Atom, Format::Rss, Format::Json];

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    /// Renders `items` (newest first) in this format.
    pub fn render(self, channel: &Channel, items: &[StoredItem]) -> String {
        match self {
            Format::Atom => atom::render(channel, items),
            Format::Rss => rss::render(channel, items),
            Format::Json => json::render(channel, items),
        }
    }
}

/// `link` when it may be published: an absolute `http` or `https` URL. Links are checked
/// when stored; this is the last guard, for rows stored by older versions and for
/// configured `file://` feeds.
pub fn web(link: &str) -> Option<&str> {
    Url::parse(link)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|_| link)
}

/// What relative links in an item's content resolve against: its `xml:base`, else its link,
/// else its first feed.
fn content_base(item: &StoredItem) -> Option<Url> {
    [
        item.base.as_deref(),
        item.link.as_deref(),
        item.sources.first().map(|s| s.feed_url.as_str()),
    ]
    .into_iter()
    .flatten()
    .find_map(web)
    .and_then(|l| Url::parse(l).ok())
}

/// The item's content, safe to republish.
fn safe_content(item: &StoredItem) -> Option<String> {
    let html = item.content.as_deref()?;
    Some(sanitize_html(html, content_base(item).as_ref()))
}

/// What a published entry carries as its content: the item's content, then, when other
/// sites carried the story too, a line naming them with links ("Also reported by …"), since
/// reader apps show the content but not `rel="via"` links or more than one `<source>`.
/// Every entry links its story's timeline, where the copies and their times are listed.
fn entry_content(item: &StoredItem, channel: &Channel) -> Option<String> {
    let id = item
        .entry_id
        .strip_prefix("urn:uuid:")
        .unwrap_or(&item.entry_id);
    let timeline = channel.stories.join(id).map_or(String::new(), |url| {
        format!(
            "<p><a href=\"{}\">Story timeline</a></p>",
            html_escape::encode_double_quoted_attribute(url.as_str())
        )
    });
    let content = safe_content(item).unwrap_or_default();
    let also = also_reported_by(item).unwrap_or_default();
    Some(format!("{content}{also}{timeline}"))
}

/// `<p>Also reported by <a href=…>Site B</a>, Site C</p>` for every source after the first.
fn also_reported_by(item: &StoredItem) -> Option<String> {
    let others: Vec<String> = item
        .sources
        .iter()
        .skip(1)
        .map(|s| {
            let name = html_escape::encode_text(site_name(s)).into_owned();
            match s
                .link
                .as_deref()
                .and_then(web)
                .or(s.site_link.as_deref().and_then(web))
            {
                Some(link) => format!(
                    "<a href=\"{}\">{name}</a>",
                    html_escape::encode_double_quoted_attribute(link)
                ),
                None => name,
            }
        })
        .collect();
    (!others.is_empty()).then(|| format!("<p>Also reported by {}</p>", others.join(", ")))
}

/// The name a reader sees for a source: its feed's title, else its configured name.
fn site_name(source: &SourceRef) -> &str {
    source.feed_title.as_deref().unwrap_or(&source.feed_name)
}

/// Who an entry is by, as reader apps show it: the upstream author, else the site that
/// carried the story first.
fn entry_author(item: &StoredItem) -> Option<String> {
    item.author
        .clone()
        .or_else(|| item.sources.first().map(|s| site_name(s).to_string()))
        .map(|a| clean_text(&a))
}
