//! Content from strangers made safe to republish.

use ammonia::{Builder, UrlRelative};
use url::Url;

/// HTML without scripts, styles, frames, event handlers or `javascript:`/`data:` links;
/// relative links and image sources made absolute against `base`.
pub fn sanitize_html(html: &str, base: Option<&Url>) -> String {
    let mut builder = Builder::default();
    match base {
        Some(base) => builder.url_relative(UrlRelative::RewriteWithBase(base.clone())),
        None => builder.url_relative(UrlRelative::Deny),
    };
    clean_text(&builder.clean(html).to_string())
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
    fn control_characters_are_dropped() {
        assert_eq!(clean_text("a\u{1}b\tc"), "ab\tc");
    }
}
