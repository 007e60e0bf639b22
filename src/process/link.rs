//! Canonical links for identity: the same page reached through a tracking link is the same page.

use url::Url;

/// Query parameters that only track the reader, never select content.
const TRACKING_PARAMS: [&str; 12] = [
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
    "mc_cid", "mc_eid", "_hsenc",
];

fn is_tracking(name: &str) -> bool {
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name)
}

/// The link without tracking parameters; scheme and host lower-cased and default ports
/// dropped (by `Url` itself). The fragment is kept: `day.html#a1` and `day.html#a2` are two
/// posts. Relative links resolve against `base`.
pub fn canonical_link(link: &str, base: Option<&Url>) -> Option<String> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    let mut url = match base {
        Some(base) => base.join(link).ok()?,
        None => Url::parse(link).ok()?,
    };
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
    Some(url.to_string())
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
}
