//! Links: which are published (only `http` and `https`, however a hostile feed disguises
//! another scheme), and their canonical form for identity (the same page reached through a
//! tracking link is the same page).

use url::Url;

/// Query parameters that only track the reader, never select content.
const TRACKING_PARAMS: [&str; 12] = [
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_hsenc",
];

fn is_tracking(name: &str) -> bool {
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name)
}

/// What became of a link an item or feed gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebLink {
    /// An `http` or `https` URL, absolute.
    Web(Url),
    /// Another scheme, or nothing a browser could open: not published. Holds the value as given.
    Dropped(String),
    /// No link was given.
    Absent,
}

/// `raw` resolved against `base` as a browser would read it in an `href`, kept only when it
/// is `http` or `https`. The disguises browsers still follow are seen through: letter case,
/// leading spaces and control characters, tabs and newlines inside the scheme (WHATWG URL
/// parsing), character references (`java&#x09;script:`) and percent-encoded schemes
/// (`%6Aavascript:`); a scheme-less value resolves against `base`, which must be web too.
pub fn web_link(raw: &str, base: Option<&Url>) -> WebLink {
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c.is_control());
    if trimmed.is_empty() {
        return WebLink::Absent;
    }
    let dropped = || WebLink::Dropped(raw.to_string());
    let decoded = html_escape::decode_html_entities(trimmed);
    if has_foreign_scheme(&decoded) {
        return dropped();
    }
    let base = base.filter(|b| is_web(b));
    let parsed = match base {
        Some(base) => base.join(&decoded),
        None => Url::parse(&decoded),
    };
    match parsed {
        Ok(url) if is_web(&url) && url.host_str().is_some_and(|h| !h.is_empty()) => {
            WebLink::Web(url)
        }
        _ => dropped(),
    }
}

/// Whether a URL is `http` or `https`.
fn is_web(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
}

/// Whether `value` starts with a scheme other than `http`/`https`, once percent-decoded and
/// stripped of the whitespace and control characters URL parsers skip.
fn has_foreign_scheme(value: &str) -> bool {
    let decoded = percent_decode(value.get(..value.len().min(64)).unwrap_or(value));
    let compact: String = decoded
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(32)
        .collect();
    let Some((scheme, _)) = compact.split_once(':') else {
        return false;
    };
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    is_scheme && !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https")
}

/// `%XX` sequences decoded (lossily), the rest as it is.
fn percent_decode(value: &str) -> String {
    let mut out = Vec::with_capacity(value.len());
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = value
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The web link without tracking parameters; scheme and host lower-cased and default ports
/// dropped (by `Url` itself). The fragment is kept: `day.html#a1` and `day.html#a2` are two
/// posts. Relative links resolve against `base`. `None` unless `link` is a web link.
pub fn canonical_link(link: &str, base: Option<&Url>) -> Option<String> {
    match web_link(link, base) {
        WebLink::Web(url) => Some(canonical(url)),
        _ => None,
    }
}

/// A web link without its tracking parameters.
pub fn canonical(mut url: Url) -> String {
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_are_removed_and_fragments_kept() {
        assert_eq!(
            canonical_link(
                "HTTPS://Example.COM:443/a?utm_source=x&id=3&fbclid=y#top",
                None
            )
            .as_deref(),
            Some("https://example.com/a?id=3#top")
        );
        // Two posts on one page are two posts.
        assert_ne!(
            canonical_link("https://e.org/day.html#a1", None),
            canonical_link("https://e.org/day.html#a2", None)
        );
        assert_eq!(
            canonical_link("http://example.com/a?utm_medium=rss", None).as_deref(),
            Some("http://example.com/a")
        );
    }

    #[test]
    fn relative_links_resolve_against_the_base() {
        let base = Url::parse("https://example.com/blog/feed.xml").ok();
        assert_eq!(
            canonical_link("post/1", base.as_ref()).as_deref(),
            Some("https://example.com/blog/post/1")
        );
    }

    #[test]
    fn garbage_is_no_link() {
        assert_eq!(canonical_link("  ", None), None);
        assert_eq!(canonical_link("not a url", None), None);
    }

    #[test]
    fn only_web_links_are_kept_however_disguised() {
        let base = Url::parse("https://site.example/feed").ok();
        let hostile = [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "  \u{1}javascript:alert(1)",
            "java\tscript:alert(1)",
            "java&#x09;script:alert(1)",
            "&#106;avascript:alert(1)",
            "%6Aavascript:alert(1)",
            "vbscript:msgbox(1)",
            "data:text/html,<script>alert(1)</script>",
            "file:///etc/passwd",
            "feed:https://x.example/",
        ];
        for value in hostile {
            assert_eq!(
                web_link(value, base.as_ref()),
                WebLink::Dropped(value.to_string()),
                "{value}"
            );
        }
        // A hostile base is no base: scheme-less values cannot resolve against it.
        let js_base = Url::parse("javascript:alert(1)//").ok();
        assert!(matches!(
            web_link("//evil.example/x", js_base.as_ref()),
            WebLink::Dropped(_)
        ));
        assert!(matches!(
            web_link("post/1", js_base.as_ref()),
            WebLink::Dropped(_)
        ));
        assert_eq!(
            web_link("//cdn.example/a.png", base.as_ref()),
            WebLink::Web(Url::parse("https://cdn.example/a.png").expect("url"))
        );
        assert_eq!(web_link(" \n", base.as_ref()), WebLink::Absent);
        assert_eq!(
            web_link("HTTPS://Site.Example/a?q=javascript:x", None),
            WebLink::Web(Url::parse("https://site.example/a?q=javascript:x").expect("url"))
        );
    }
}
