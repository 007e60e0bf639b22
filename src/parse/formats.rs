//! Old and odd feed formats feed-rs reads as nothing, rewritten into ones it reads: RSS with
//! a missing or unusual `version`, the UserLand namespace or no `<channel>`, RSS 0.90 and 1.1,
//! RSS 1.0 items without a link, Atom 0.3, Atom text and content typed with MIME types or
//! types Atom does not define, and Microsoft's Channel Definition Format. Applied tag by tag
//! by `repair`.

use base64::Engine;

use super::lexical::{Markup, markup};

const ATOM_03: &str = "http://purl.org/atom/ns#";
const ATOM_10: &str = "http://www.w3.org/2005/Atom";
const RSS_090: &str = "http://my.netscape.com/rdf/simple/0.9/";
const RSS_10: &str = "http://purl.org/rss/1.0/";
const RSS_11: &str = "http://purl.org/net/rss1.1#";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const USERLAND: [&str; 2] = [
    "http://backend.userland.com/rss2",
    "http://backend.userland.com/rss",
];

/// A start tag being rewritten.
#[derive(Debug)]
pub struct StartTag {
    pub name: String,
    /// Names and escaped values.
    pub attributes: Vec<(String, String)>,
    pub self_closing: bool,
    /// The element's text is base64 to be decoded (Atom 0.3 `mode="base64"`).
    pub base64: bool,
    /// Written right after the tag.
    pub after: String,
}

impl StartTag {
    pub fn new(name: String) -> StartTag {
        StartTag {
            name,
            attributes: Vec::new(),
            self_closing: false,
            base64: false,
            after: String::new(),
        }
    }

    pub fn render(&self) -> String {
        let mut out = format!("<{}", self.name);
        for (name, value) in &self.attributes {
            out.push_str(&format!(" {name}=\"{value}\""));
        }
        out.push_str(if self.self_closing { "/>" } else { ">" });
        out.push_str(&self.after);
        out
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn set(&mut self, name: &str, value: &str) {
        self.attributes.retain(|(n, _)| n != name);
        self.attributes.push((name.to_string(), value.to_string()));
    }

    /// Replaces every namespace declaration of `from` with `to`.
    fn rebind(&mut self, from: &str, to: &str) -> bool {
        let mut changed = false;
        for (name, value) in &mut self.attributes {
            if (name == "xmlns" || name.starts_with("xmlns:")) && value == from {
                *value = to.to_string();
                changed = true;
            }
        }
        changed
    }
}

/// What a conversion did, as shown to users ("Atom 0.3 read as Atom 1.0").
pub type Conversion = &'static str;

/// The format of a document, from its root element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Rss,
    /// RSS with its items directly under `<rss>`.
    RssWithoutChannel,
    Rss090,
    Rss10,
    Rss11,
    Atom03,
    Atom10,
    /// Microsoft's Channel Definition Format (`<CHANNEL HREF=…><ITEM HREF=…>`).
    Cdf,
    Other,
}

/// The link given to RSS 1.0 items that have none, which feed-rs would drop; never published.
pub const NO_LINK: &str = "urn:feedsift:no-link";

impl Dialect {
    pub fn detect(doc: &str) -> Dialect {
        let Some(root) = root_tag(doc) else {
            return Dialect::Other;
        };
        let name = root.trim_start_matches('<');
        let local = |n: &str| name.split([' ', '>', '/', '\t', '\r', '\n']).next() == Some(n);
        let has = |what: &str| memchr::memmem::find(doc.as_bytes(), what.as_bytes()).is_some();
        if local("rss") && !has("<channel") && has("<item") {
            Dialect::RssWithoutChannel
        } else if local("rss") {
            Dialect::Rss
        } else if local("Channel") && root.contains(RSS_11) {
            Dialect::Rss11
        } else if root.contains(RSS_090) {
            Dialect::Rss090
        } else if root.contains(RSS_10) {
            Dialect::Rss10
        } else if local("CHANNEL") || local("channel") {
            Dialect::Cdf
        } else if (local("feed") || local("atom:feed")) && root.contains(ATOM_03) {
            Dialect::Atom03
        } else if local("feed") || local("atom:feed") {
            Dialect::Atom10
        } else {
            Dialect::Other
        }
    }

    /// Rewrites one start tag at `depth` (0 = root); returns the repair made, if any.
    pub fn start(&self, tag: &mut StartTag, depth: usize) -> Option<Conversion> {
        match self {
            Dialect::Rss if depth == 0 => rss_root(tag),
            Dialect::Rss if depth == 1 => without_userland(tag),
            Dialect::RssWithoutChannel if depth == 0 => {
                rss_root(tag);
                tag.after = "<channel>".into();
                Some("RSS items without a channel")
            }
            Dialect::Rss090 => {
                item_link(tag);
                tag.rebind(RSS_090, RSS_10)
                    .then_some("RSS 0.90 read as RSS 1.0")
            }
            Dialect::Rss10 => {
                item_link(tag).then_some("RSS 1.0 items read whether or not they have a link")
            }
            Dialect::Rss11 => {
                item_link(tag);
                rss11(tag, depth)
            }
            Dialect::Atom03 => atom03(tag),
            Dialect::Atom10 => atom_text_type(tag).or_else(|| atom_content_type(tag)),
            Dialect::Cdf => cdf(tag, depth),
            _ => None,
        }
    }

    /// What to write for the end tag of `name` at `depth` (0 = root), when it is not `</name>`.
    pub fn end(&self, name: &str, depth: usize) -> Option<String> {
        match self {
            Dialect::RssWithoutChannel if depth == 0 => Some("</channel></rss>".into()),
            Dialect::Rss11 if name == "Channel" => Some("</rdf:RDF>".into()),
            Dialect::Rss11 if name == "items" => Some(String::new()),
            Dialect::Atom03 => atom03_name(name).map(|n| format!("</{n}>")),
            Dialect::Cdf if depth == 0 => Some("</channel></rss>".into()),
            Dialect::Cdf => cdf_name(name).map(|n| format!("</{n}>")),
            _ => None,
        }
    }
}

/// RSS 2.0 under the UserLand default namespace is plain RSS 2.0 to feed-rs without it.
fn without_userland(tag: &mut StartTag) -> Option<Conversion> {
    USERLAND.iter().any(|u| tag.rebind(u, "")).then(|| {
        tag.attributes
            .retain(|(n, v)| !(n == "xmlns" && v.is_empty()));
        "UserLand namespace removed"
    })
}

fn rss_root(tag: &mut StartTag) -> Option<Conversion> {
    let mut repair = without_userland(tag);
    if !matches!(tag.attribute("version"), Some("2.0" | "0.91" | "0.92")) {
        tag.set("version", "2.0");
        repair = Some("RSS version set to 2.0");
    }
    repair
}

/// RSS 1.1 keeps its items in `<items>` inside `<Channel>`; RSS 1.0 puts them next to the
/// channel in `<rdf:RDF>`.
fn rss11(tag: &mut StartTag, depth: usize) -> Option<Conversion> {
    tag.rebind(RSS_11, RSS_10);
    match (depth, tag.name.as_str()) {
        (0, "Channel") => {
            tag.name = "rdf:RDF".into();
            tag.set("xmlns:rdf", RDF);
            tag.after = "<channel>".into();
            Some("RSS 1.1 read as RSS 1.0")
        }
        (1, "items") => {
            tag.name = "rdf:Seq".into();
            tag.attributes.clear();
            tag.self_closing = true;
            tag.after = "</channel>".into();
            None
        }
        _ => None,
    }
}

/// feed-rs drops RSS 1.0 items without a `<link>`: each item gets a placeholder first, which
/// the parser never publishes (a real link that follows wins). Only done when the strict
/// parse read fewer items than the document has.
/// Returns whether the tag was an item.
fn item_link(tag: &mut StartTag) -> bool {
    let (prefix, local) = tag.name.rsplit_once(':').unwrap_or(("", &tag.name));
    if local != "item" || tag.self_closing {
        return false;
    }
    let name = if prefix.is_empty() {
        "link".to_string()
    } else {
        format!("{prefix}:link")
    };
    tag.after = format!("<{name}>{NO_LINK}</{name}>");
    true
}

/// CDF as RSS 2.0: the root `CHANNEL` with its `HREF` becomes the channel and its link, each
/// `ITEM HREF` an item with that link (and `LASTMOD` its date), `ABSTRACT` the description.
/// Nested channels are left as they are, so their items are not read.
fn cdf(tag: &mut StartTag, depth: usize) -> Option<Conversion> {
    let href = tag
        .attribute("HREF")
        .or(tag.attribute("href"))
        .map(str::to_string);
    let link = |href: Option<String>| {
        href.map(|h| format!("<link>{h}</link>"))
            .unwrap_or_default()
    };
    if depth == 0 {
        let base = tag.attribute("BASE").map(str::to_string);
        *tag = StartTag::new("rss".into());
        tag.set("version", "2.0");
        if let Some(base) = base {
            tag.set("xml:base", &base);
        }
        tag.after = format!("<channel>{}", link(href));
        return Some("CDF read as RSS 2.0");
    }
    let name = cdf_name(&tag.name)?;
    let modified = tag.attribute("LASTMOD").map(str::to_string);
    let self_closing = tag.self_closing;
    *tag = StartTag::new(name.into());
    tag.self_closing = self_closing;
    if name == "item" && !self_closing {
        tag.after = link(href);
        if let Some(date) = modified {
            tag.after.push_str(&format!("<pubDate>{date}</pubDate>"));
        }
    }
    None
}

/// The RSS names of the CDF elements that carry a feed's text.
fn cdf_name(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_uppercase().as_str() {
        "ITEM" => "item",
        "TITLE" => "title",
        "ABSTRACT" => "description",
        _ => return None,
    })
}

fn atom03(tag: &mut StartTag) -> Option<Conversion> {
    tag.rebind(ATOM_03, ATOM_10);
    if let Some(name) = atom03_name(&tag.name) {
        tag.name = name;
    }
    if is_atom_text(&tag.name) || local_name(&tag.name) == "content" {
        let mode = tag.attribute("mode").unwrap_or("xml").to_string();
        let kind = match (mode.as_str(), tag.attribute("type").unwrap_or("text/plain")) {
            (_, "text/plain" | "text") => "text",
            ("xml", _) => "xhtml",
            _ => "html",
        };
        tag.base64 = mode == "base64";
        tag.attributes.retain(|(n, _)| n != "mode");
        tag.set("type", kind);
    }
    Some("Atom 0.3 read as Atom 1.0")
}

/// Atom 0.3 names that changed in 1.0.
fn atom03_name(name: &str) -> Option<String> {
    let (prefix, local) = name.rsplit_once(':').unwrap_or(("", name));
    let renamed = match local {
        "issued" => "published",
        "modified" => "updated",
        "tagline" => "subtitle",
        "copyright" => "rights",
        _ => return None,
    };
    Some(if prefix.is_empty() {
        renamed.to_string()
    } else {
        format!("{prefix}:{renamed}")
    })
}

/// Atom 1.0 text constructs allow only `text`, `html` and `xhtml` (feed-rs also takes
/// `text/html`); MIME types such as `text/plain` are mapped to those.
fn atom_text_type(tag: &mut StartTag) -> Option<Conversion> {
    if !is_atom_text(&tag.name) {
        return None;
    }
    let kind = match tag.attribute("type")? {
        "text" | "html" | "xhtml" | "text/html" => return None,
        "application/xhtml+xml" => "xhtml",
        t if t.ends_with("html") => "html",
        _ => "text",
    };
    tag.set("type", kind);
    Some("Atom text types")
}

/// Atom `content` with a `type` feed-rs rejects (`xml`, `pdf`, blank, inline `…+xml`, which
/// it reads as a text construct): costs only that content, not the document. Markup types
/// become `html` or `xhtml`, unknown ones an opaque MIME type the parser skips as not text.
fn atom_content_type(tag: &mut StartTag) -> Option<Conversion> {
    let (prefix, local) = tag.name.rsplit_once(':').unwrap_or(("", &tag.name));
    if !matches!(prefix, "" | "atom") || local != "content" || tag.attribute("src").is_some() {
        return None;
    }
    let kind = tag.attribute("type")?.trim().to_ascii_lowercase();
    let mapped = match kind.as_str() {
        "text" | "html" | "xhtml" | "text/html" => return None,
        "" | "text/plain" => "text",
        k if k.ends_with("xml") => "xhtml",
        k if k.ends_with("html") => "html",
        k if k.starts_with("text/") => return None,
        k if k
            .split_once('/')
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty()) =>
        {
            return None;
        }
        _ => "application/octet-stream",
    };
    tag.set("type", mapped);
    Some("Atom content types")
}

fn is_atom_text(name: &str) -> bool {
    let (prefix, local) = name.rsplit_once(':').unwrap_or(("", name));
    matches!(prefix, "" | "atom") && matches!(local, "title" | "subtitle" | "summary" | "rights")
}

fn local_name(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// Base64 text (already XML-escaped, which base64 never needs) → its escaped decoding.
pub fn decode_base64(text: &str) -> String {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
        .map(|bytes| html_escape::encode_text(&String::from_utf8_lossy(&bytes)).into_owned())
        .unwrap_or_default()
}

/// The root element's start tag (without its `>`), skipping the prolog: comments, which may
/// hold `<` themselves (`<!-- by Sam <sam@example.org> -->`), declarations and instructions.
fn root_tag(doc: &str) -> Option<&str> {
    markup(doc, 0).find_map(|piece| match piece {
        Markup::Piece { at, text } if !text.starts_with(['?', '!']) => {
            let end = (at + 1 + text.len()).min(at + 4096);
            doc.get(at..end).or(Some(&doc[at..at + 1 + text.len()]))
        }
        _ => None,
    })
}
