//! Tags: the matching key, and hashtags found in plain text.

use unicode_normalization::UnicodeNormalization;

use crate::model::{Tag, TagOrigin};

/// The key tags are matched by: NFKC case-folded (Unicode's NFKC_Casefold, approximated as
/// NFKC → full case folding → NFKC), without whitespace, `-` and `_`, so `#OpenAI`,
/// "Open AI", `#open_ai` and `#ＯｐｅｎＡＩ` are one tag.
pub fn tag_key(label: &str) -> String {
    let nfkc: String = label.trim_start_matches('#').nfkc().collect();
    caseless::default_case_fold_str(&nfkc)
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .collect()
}

/// A tag from a spelling, or none when nothing is left to match by.
pub fn tag(label: &str, origin: TagOrigin) -> Option<Tag> {
    let label = label.trim().trim_start_matches('#').trim();
    let key = tag_key(label);
    (!key.is_empty()).then(|| Tag {
        key,
        label: label.to_string(),
        origin,
    })
}

/// Hashtags in plain text (markup already stripped, entities decoded): a `#` that starts a
/// word, then a letter, then letters, digits or `_`. A `#` after a word character, `/`, `&`
/// or another `#` is a URL fragment, a character reference or not a hashtag at all.
pub fn hashtags(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at_word_start =
            prev.is_none_or(|p| !(p.is_alphanumeric() || matches!(p, '_' | '/' | '&' | '#')));
        prev = Some(c);
        if c != '#' || !at_word_start {
            continue;
        }
        if !chars.peek().is_some_and(|(_, n)| n.is_alphabetic()) {
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some(&(j, n)) = chars.peek() {
            if !(n.is_alphanumeric() || n == '_') {
                break;
            }
            end = j + n.len_utf8();
            prev = Some(n);
            chars.next();
        }
        found.push(text[start..end].to_string());
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_found_at_word_starts() {
        assert_eq!(
            hashtags("#Microsoft #Officially invests (#OpenAI), #人工智能 and #café."),
            ["Microsoft", "Officially", "OpenAI", "人工智能", "café"]
        );
    }

    #[test]
    fn fragments_references_colours_and_numbers_are_not_hashtags() {
        assert!(hashtags("see https://x.com/page#top or /#anchor").is_empty());
        assert!(hashtags("&#8217; and &#x27; and #123 and ##x and a#b").is_empty());
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

    #[test]
    fn empty_spellings_make_no_tag() {
        assert!(tag(" # ", TagOrigin::Category).is_none());
        assert_eq!(
            tag("#AI", TagOrigin::Hashtag).map(|t| t.label),
            Some("AI".to_string())
        );
    }
}
