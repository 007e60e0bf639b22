//! An article page's main text, as a reader view shows it: navigation, banners, ads, share
//! buttons, comments and related links left out. Pure; the page's bytes come from `fetch`.
//!
//! Extraction is dom_smoothie's port of Mozilla's Readability (Firefox's reader view).

use crate::text::html_to_text;

/// Elements a page may have before extraction gives up on it: a bound on the work one hostile
/// page can cause (a 300 KB news page has a few thousand).
const MAX_ELEMENTS: usize = 60_000;
/// Text an article must keep to replace the feed's teaser: less is a failed extraction
/// (a paywall, a consent wall, a page of links).
pub const MIN_ARTICLE_CHARS: usize = 200;

/// What extraction kept of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// The main text as HTML, links absolute against the page's URL (sanitised when published,
    /// as item content is).
    pub html: String,
    /// The same as plain text.
    pub text: String,
}

/// Why a page gave no article.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArticleError {
    #[error("not a web page ({0})")]
    NotHtml(String),
    #[error("no article found: {0}")]
    NotFound(String),
    #[error("the article kept only {0} characters")]
    TooLittle(usize),
}

/// Whether a response's media type may hold an article.
pub fn is_page(media_type: Option<&str>) -> Result<(), ArticleError> {
    match media_type {
        None | Some("text/html" | "application/xhtml+xml") => Ok(()),
        Some(other) => Err(ArticleError::NotHtml(other.to_string())),
    }
}

/// The article of the page `body` (decoded by `charset`, else as its bytes say) found at `url`.
pub fn extract(body: &[u8], charset: Option<&str>, url: &str) -> Result<Article, ArticleError> {
    let html = decode(body, charset);
    let config = dom_smoothie::Config {
        max_elements_to_parse: MAX_ELEMENTS,
        ..dom_smoothie::Config::default()
    };
    let mut readability = dom_smoothie::Readability::new(html, Some(url), Some(config))
        .map_err(|e| ArticleError::NotFound(e.to_string()))?;
    let article = readability
        .parse()
        .map_err(|e| ArticleError::NotFound(e.to_string()))?;
    let html = article.content.to_string();
    let text = html_to_text(&html);
    if text.chars().count() < MIN_ARTICLE_CHARS {
        return Err(ArticleError::TooLittle(text.chars().count()));
    }
    Ok(Article { html, text })
}

/// The page as text: by the HTTP charset, else a byte-order mark, else UTF-8 (invalid bytes
/// replaced), as browsers fall back for pages that declare nothing usable.
fn decode(body: &[u8], charset: Option<&str>) -> String {
    let encoding = charset
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(main: &str) -> String {
        format!(
            "<html><head><title>T</title></head><body>\
             <nav><a href=\"/\">Home</a> <a href=\"/news\">News</a> <a href=\"/about\">About us</a></nav>\
             <div class=\"cookie-banner\">We use cookies to improve your experience. Accept all cookies?</div>\
             <article><h1>Headline</h1>{main}</article>\
             <aside class=\"related\"><h3>Related</h3><ul><li><a href=\"/a\">Other story one</a></li>\
             <li><a href=\"/b\">Other story two</a></li></ul></aside>\
             <footer>Copyright 2026 Example News. All rights reserved.</footer></body></html>"
        )
    }

    #[test]
    fn the_main_text_is_kept_and_the_clutter_is_not() {
        let paragraphs: String = (0..6)
            .map(|n| format!("<p>Paragraph {n} of the story tells what happened, who said it and why it matters to readers today.</p>"))
            .collect();
        let main = format!("{paragraphs}<p>#Microsoft #OpenAI</p>");
        let article =
            extract(page(&main).as_bytes(), None, "https://news.example/story").expect("article");
        for n in 0..6 {
            assert!(
                article
                    .text
                    .contains(&format!("Paragraph {n} of the story")),
                "{}",
                article.text
            );
        }
        assert!(article.text.contains("#Microsoft #OpenAI"));
        for clutter in [
            "cookies",
            "Other story one",
            "All rights reserved",
            "About us",
        ] {
            assert!(
                !article.text.contains(clutter),
                "{clutter} kept: {}",
                article.text
            );
        }
    }

    #[test]
    fn a_page_with_too_little_text_is_no_article() {
        let result = extract(
            page("<p>Subscribe to read.</p>").as_bytes(),
            None,
            "https://x.example/",
        );
        assert!(result.is_err(), "{result:?}");
    }

    #[test]
    fn only_web_pages_hold_articles() {
        assert!(is_page(Some("text/html")).is_ok());
        assert!(is_page(None).is_ok());
        assert_eq!(
            is_page(Some("application/pdf")),
            Err(ArticleError::NotHtml("application/pdf".into()))
        );
    }
}
