//! How many items a document holds, and reading only the first of them: a document of a
//! million tiny items must not become a million parsed entries in memory.

use std::borrow::Cow;

use super::ParseError;
use super::repair::repair_xml;

/// How many items a document seems to hold: `<item>`s or `<entry>`s, or the objects in the
/// top-level arrays of a JSON document (its `items`, and a few authors at most).
pub fn count_items(text: &str) -> usize {
    if text.trim_start().starts_with('{') {
        return json_array_objects(text);
    }
    ITEM_OPENINGS
        .iter()
        .map(|open| starts(text, open).count())
        .max()
        .unwrap_or(0)
}

/// Objects directly inside arrays that are values of the root object; strings skipped.
fn json_array_objects(text: &str) -> usize {
    let mut stack = Vec::new();
    let (mut count, mut in_string, mut escaped) = (0, false, false);
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' => {
                count += usize::from(stack == [b'{', b'[']);
                stack.push(byte);
            }
            b'[' => stack.push(byte),
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    count
}

/// A document cut to its first items.
pub struct FirstItems<'a> {
    pub text: Cow<'a, str>,
    /// About how many items `text` holds (see `count_items`).
    pub items: usize,
    /// Says what was cut, when anything was.
    pub cut: Option<String>,
}

/// The document with only its first `max` items (the rest cut and the open elements
/// closed); unchanged when it has no more than `max`.
pub fn first_items(text: Cow<'_, str>, max: usize) -> Result<FirstItems<'_>, ParseError> {
    let total = count_items(&text);
    if total <= max {
        return Ok(FirstItems {
            text,
            items: total,
            cut: None,
        });
    }
    if text.trim_start().starts_with('{') {
        return Err(ParseError::TooManyItems { total, max });
    }
    let cut = ITEM_OPENINGS
        .iter()
        .filter_map(|open| starts(&text, open).nth(max))
        .min()
        .unwrap_or(text.len());
    let closed = repair_xml(&text[..cut])?.text;
    Ok(FirstItems {
        text: Cow::Owned(closed),
        items: max,
        cut: Some(cut_note(max, total)),
    })
}

/// What is recorded on a feed whose document had more items than are read.
pub fn cut_note(max: usize, total: usize) -> String {
    format!("only the first {max} of {total} items read")
}

const ITEM_OPENINGS: [&str; 2] = ["<item", "<entry"];

/// Where each element opening with `open` starts (`<item>` and `<item …>`, not `<items>`).
fn starts<'t>(text: &'t str, open: &'static str) -> impl Iterator<Item = usize> + 't {
    text.match_indices(open)
        .map(|(at, _)| at)
        .filter(move |at| {
            let next = text.as_bytes().get(at + open.len());
            matches!(next, Some(b'>' | b'/' | b' ' | b'\n' | b'\t' | b'\r'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_over_the_limit_keep_their_first_items() {
        let items: String = (0..5)
            .map(|i| format!("<item><guid>{i}</guid></item>"))
            .collect();
        let doc = format!("<rss version=\"2.0\"><channel><title>t</title>{items}</channel></rss>");
        assert_eq!(count_items(&doc), 5);
        let same = first_items(Cow::Borrowed(&doc), 5).expect("fits");
        assert_eq!(
            (same.text.as_ref(), same.items, same.cut),
            (doc.as_str(), 5, None)
        );
        let cut = first_items(Cow::Borrowed(&doc), 2).expect("cut");
        assert_eq!(
            cut.text,
            "<rss version=\"2.0\"><channel><title>t</title><item><guid>0</guid></item><item><guid>1</guid></item></channel></rss>"
        );
        assert_eq!(cut.items, 2);
        assert_eq!(cut.cut.as_deref(), Some("only the first 2 of 5 items read"));
        let json = r#"{"title":"{[{","items":[{"id":"1","x":[{}]},{"url":"\"}{"}]}"#;
        assert_eq!(count_items(json), 2);
        assert!(matches!(
            first_items(Cow::Borrowed(json), 1),
            Err(ParseError::TooManyItems { total: 2, max: 1 })
        ));
    }
}
