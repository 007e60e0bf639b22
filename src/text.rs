//! Text made comparable, used by every stage that compares or matches text: HTML to plain
//! text (markup stripped, entities decoded, Unicode NFC, whitespace collapsed), and the key
//! tags are matched by. Pure; depends on no other module.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Elements whose content is not text a reader sees.
const SKIPPED_ELEMENTS: [&str; 4] = ["script", "style", "template", "noscript"];

/// Elements that separate words; inline ones (`a`, `span`, `em` …) do not, so that
/// Mastodon's `#<span>tag</span>` stays one word.
const BLOCK_ELEMENTS: [&str; 32] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "img",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
];

/// The visible text of an HTML fragment, normalised (see module docs).
pub fn html_to_text(html: &str) -> String {
    normalise(&html_escape::decode_html_entities(&strip_markup(html)))
}

/// Unicode NFC with every run of whitespace folded into one space, trimmed.
pub fn normalise(text: &str) -> String {
    if text.is_ascii() {
        collapse_ascii_whitespace(text)
    } else {
        normalise_unicode(text)
    }
}

fn normalise_unicode(text: &str) -> String {
    // Most text is already NFC; the quick check spares composing it again.
    let composed = is_nfc_quick(text.chars()) == IsNormalized::Yes;
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if composed {
            out.push_str(word);
        } else {
            out.extend(word.nfc());
        }
    }
    out
}

/// ASCII text is already NFC, so only its whitespace (as `char::is_whitespace` defines it,
/// which includes the vertical tab) is folded, copying each word in one piece.
fn collapse_ascii_whitespace(text: &str) -> String {
    let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r');
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    while let Some(skip) = bytes[start..].iter().position(|b| !is_space(b)) {
        let word = start + skip;
        let end = bytes[word..]
            .iter()
            .position(is_space)
            .map_or(bytes.len(), |n| word + n);
        if !out.is_empty() {
            out.push(' ');
        }
        // Every byte of ASCII text is a character boundary.
        out.push_str(&text[word..end]);
        start = end;
    }
    out
}

/// Removes tags, comments and the content of non-text elements; keeps entities as they are.
fn strip_markup(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        if let Some(comment) = after.strip_prefix("!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let starts_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        if !starts_tag {
            out.push('<');
            rest = after;
            continue;
        }
        let Some(gt) = after.find('>') else {
            // No tag closes after this point, so the rest is text (and is scanned once).
            out.push('<');
            rest = after;
            break;
        };
        let name = tag_name(&after[..gt]);
        rest = &after[gt + 1..];
        if is_one_of(name, &BLOCK_ELEMENTS) {
            out.push(' ');
        }
        if is_one_of(name, &SKIPPED_ELEMENTS) && !after.starts_with('/') {
            rest = skip_element_content(rest, name);
        }
    }
    out.push_str(rest);
    out
}

/// The element name at the start of a tag's inside (`/p class="x"` → `p`), as written.
fn tag_name(tag: &str) -> &str {
    let tag = tag.trim_start_matches('/');
    let end = tag
        .bytes()
        .position(|b| !b.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    &tag[..end]
}

fn is_one_of(name: &str, names: &[&str]) -> bool {
    names.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The text after the closing tag of `name`, or nothing when it is never closed.
fn skip_element_content<'a>(html: &'a str, name: &str) -> &'a str {
    let closer = html.match_indices("</").find(|(i, _)| {
        html.get(i + 2..i + 2 + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    });
    match closer {
        Some((start, _)) => html[start..]
            .find('>')
            .map_or("", |gt| &html[start + gt + 1..]),
        None => "",
    }
}

/// The key tags are matched by: NFKC case-folded (Unicode's NFKC_Casefold, approximated as
/// NFKC → full case folding → NFKC), without whitespace, `-` and `_`, so `#OpenAI`,
/// "Open AI", `#open_ai` and `#ＯｐｅｎＡＩ` are one tag.
pub fn tag_key(label: &str) -> String {
    let label = label.trim_start_matches('#');
    if label.is_ascii() {
        // On ASCII, NFKC changes nothing and case folding is lowercasing.
        label
            .chars()
            .filter(|c| is_kept_in_key(*c))
            .map(|c| c.to_ascii_lowercase())
            .collect()
    } else {
        folded_key(label)
    }
}

fn folded_key(label: &str) -> String {
    let nfkc: String = label.nfkc().collect();
    caseless::default_case_fold_str(&nfkc)
        .nfkc()
        .filter(|c| is_kept_in_key(*c))
        .collect()
}

fn is_kept_in_key(c: char) -> bool {
    !c.is_whitespace() && c != '-' && c != '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_removed_and_entities_decoded() {
        assert_eq!(
            html_to_text("<p>Fish &amp; <b>chips</b></p><p>&#8217;twas</p>"),
            "Fish & chips \u{2019}twas"
        );
    }

    #[test]
    fn block_elements_separate_words_but_inline_ones_do_not() {
        assert_eq!(html_to_text("<p>one</p><p>two</p>"), "one two");
        assert_eq!(html_to_text("#<span>OpenAI</span> x<br/>y"), "#OpenAI x y");
    }

    #[test]
    fn scripts_styles_and_comments_are_not_text() {
        assert_eq!(
            html_to_text(
                "a<script>var x = '<p>';</script>b<style>p{color:#fff}</style>c<!-- #hidden -->d"
            ),
            "abcd"
        );
    }

    #[test]
    fn many_scripts_are_skipped_in_linear_time() {
        let html = "<p>x</p><SCRIPT>a</Script>".repeat(20_000);
        let started = std::time::Instant::now();
        assert_eq!(
            html_to_text(&html).len(),
            "x ".repeat(20_000).trim_end().len()
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn unclosed_tags_are_scanned_in_linear_time() {
        let html = "<a".repeat(200_000);
        let started = std::time::Instant::now();
        assert_eq!(html_to_text(&html), html);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_lone_less_than_sign_is_text() {
        assert_eq!(html_to_text("1 < 2 and 3 <4"), "1 < 2 and 3 <4");
    }

    #[test]
    fn text_is_nfc_normalised() {
        assert_eq!(normalise("cafe\u{301}"), "caf\u{e9}");
        assert_eq!(normalise(" a\u{a0}b\u{2003}\u{b}c "), "a b c");
        assert_eq!(normalise("\t a\x0b\x0cb\r\n"), "a b");
    }

    #[test]
    fn keys_ignore_case_width_spaces_dashes_and_underscores() {
        assert_eq!(tag_key("#OpenAI"), "openai");
        assert_eq!(tag_key("Open AI"), "openai");
        assert_eq!(tag_key("open-a_i"), "openai");
        assert_eq!(tag_key("ＯｐｅｎＡＩ"), "openai");
        assert_eq!(tag_key("Straße"), tag_key("STRASSE"));
        assert_eq!(tag_key("#Café"), tag_key("cafe\u{301}"));
    }

    proptest::proptest! {
        #[test]
        fn ascii_keys_are_folded_as_any_other(label in "[ -~\t\x0b]{0,20}") {
            let label = label.trim_start_matches('#');
            proptest::prop_assert_eq!(tag_key(label), folded_key(label));
        }

        #[test]
        fn ascii_text_is_normalised_as_any_other(text in "[ -~\t\n\x0b\x0c\r\x1c]{0,40}") {
            proptest::prop_assert_eq!(collapse_ascii_whitespace(&text), normalise_unicode(&text));
        }
    }
}
