//! Content from strangers made safe to republish.

use ammonia::{Builder, UrlRelative};
use url::Url;

/// Markup nested deeper than this is not sanitised but left out: html5ever's tree building
/// is quadratic in the nesting depth (100,000 nested `<div>`s took minutes), and no real
/// article nests this deep.
const MAX_DEPTH: usize = 256;
/// Larger content is left out for the same reason (new items are cut to it when read).
const MAX_BYTES: usize = crate::model::MAX_CONTENT_BYTES;

/// What replaces content that is too large or too deeply nested to sanitise safely.
const OMITTED: &str = "<p>(content omitted: its markup is too large or too deeply nested)</p>";

/// Elements that close themselves or are closed by the next sibling, so they do not nest.
const NON_NESTING: [&str; 21] = [
    "area", "base", "br", "col", "dd", "dt", "embed", "hr", "img", "input", "li", "link", "meta",
    "option", "p", "param", "source", "td", "th", "tr", "wbr",
];

/// HTML without scripts, styles, frames or event handlers, whose links and image sources are
/// all `http` or `https` (relative ones made absolute against `base`).
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    if html.len() > MAX_BYTES || nesting_depth(html) > MAX_DEPTH {
        return OMITTED.to_string();
    }
    let mut builder = Builder::default();
    builder.url_schemes(["http", "https"].into());
    match base {
        Some(base) => builder.url_relative(UrlRelative::RewriteWithBase(base.clone())),
        None => builder.url_relative(UrlRelative::Deny),
    };
    clean_text(&builder.clean(html).to_string())
}

/// The deepest nesting of elements in `html`, counted cheaply (no parse).
fn nesting_depth(html: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for tag in html.split('<').skip(1) {
        let end = tag.find('>').unwrap_or(tag.len());
        let inner = &tag[..end];
        if let Some(closing) = inner.strip_prefix('/') {
            if !NON_NESTING.contains(&element_name(closing).as_str()) {
                depth = depth.saturating_sub(1);
            }
            continue;
        }
        let name = element_name(inner);
        if name.is_empty() || inner.ends_with('/') || NON_NESTING.contains(&name.as_str()) {
            continue;
        }
        depth += 1;
        deepest = deepest.max(depth);
    }
    deepest
}

fn element_name(tag: &str) -> String {
    tag.chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Text without the control characters XML 1.0 forbids (they make a whole document invalid).
pub fn clean_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = r#"<p onclick="x()">hi<script>alert(1)</script><a href="javascript:alert(1)">a</a></p>"#;
        let clean = sanitize_html(html, None);
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(clean.contains("hi"), "{clean}");
    }

    #[test]
    fn relative_links_become_absolute() {
        let base = Url::parse("https://example.com/blog/post").ok();
        let clean = sanitize_html(r#"<img src="/a.png"><a href="b">b</a>"#, base.as_ref());
        assert!(
            clean.contains(r#"src="https://example.com/a.png""#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"href="https://example.com/blog/b""#),
            "{clean}"
        );
    }

    #[test]
    fn deeply_nested_markup_is_left_out_quickly() {
        let hostile = "<div>".repeat(100_000);
        let started = std::time::Instant::now();
        assert_eq!(sanitize_html(&hostile, None), OMITTED);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        let sloppy = "<p>one<p>two<br><img src=x><li>three".repeat(500);
        assert_ne!(
            sanitize_html(&sloppy, None),
            OMITTED,
            "unclosed paragraphs are not nesting"
        );
        assert_eq!(nesting_depth("<div><b>x</b><i>y</i></div><span/>"), 2);
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(clean_text("a\u{1}b\tc"), "ab\tc");
    }
}
