//! Tags: the matching key, and hashtags found in plain text.

use crate::model::{Tag, TagOrigin};
use crate::text::tag_key;

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
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'#', &text.as_bytes()[from..]).map(|i| from + i) {
        from = at + 1;
        // `#` is ASCII, so `at` and `at + 1` are character boundaries.
        let at_word_start = text[..at]
            .chars()
            .next_back()
            .is_none_or(|p| !(p.is_alphanumeric() || matches!(p, '_' | '/' | '&' | '#')));
        let rest = &text[at + 1..];
        if !at_word_start || !rest.chars().next().is_some_and(char::is_alphabetic) {
            continue;
        }
        let len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        found.push(rest[..len].to_string());
        from += len;
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

    /// Hashtags by the rule read literally, one character at a time: the oracle for the
    /// search that jumps from `#` to `#`.
    fn hashtags_char_by_char(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let starts_word = i == 0
                || !(chars[i - 1].is_alphanumeric()
                    || matches!(chars[i - 1], '_' | '/' | '&' | '#'));
            if chars[i] == '#' && starts_word && chars.get(i + 1).is_some_and(|c| c.is_alphabetic())
            {
                let end = (i + 1..chars.len())
                    .find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_'))
                    .unwrap_or(chars.len());
                found.push(chars[i + 1..end].iter().collect());
                i = end;
            } else {
                i += 1;
            }
        }
        found
    }

    proptest::proptest! {
        #[test]
        fn hashtags_follow_the_rule(text in "([#a_/&1 .é人]|#[a-z]{1,3}){0,24}") {
            proptest::prop_assert_eq!(hashtags(&text), hashtags_char_by_char(&text));
        }
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
