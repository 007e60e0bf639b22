//! JSON Feeds feed-rs rejects as a whole for one bad value: numeric ids, numeric or mixed
//! tags, a missing or old `version`, a missing `title`, a lone UTF-16 surrogate escape.

use super::formats::Conversion;

/// JSON Feeds that feed-rs rejects for their types: numeric ids, numeric or mixed tags, a
/// missing or old `version`, a missing `title`, or for a lone UTF-16 surrogate escape
/// (`\ud800`). `None` when there is nothing to change.
pub fn repair_json(doc: &str) -> Option<(String, Conversion)> {
    let surrogates = without_lone_surrogates(doc);
    let mut changed = surrogates.is_some();
    let mut feed: serde_json::Value =
        serde_json::from_str(surrogates.as_deref().unwrap_or(doc)).ok()?;
    let object = feed.as_object_mut()?;
    let version_ok = object
        .get("version")
        .and_then(|v| v.as_str())
        .is_some_and(|v| v.starts_with("https://jsonfeed.org/version/1"));
    if !version_ok {
        object.insert("version".into(), "https://jsonfeed.org/version/1.1".into());
        changed = true;
    }
    if !object.get("title").is_some_and(|t| t.is_string()) {
        let title = object.get("title").map(scalar_text).unwrap_or_default();
        object.insert("title".into(), title.into());
        changed = true;
    }
    for item in object
        .get_mut("items")
        .and_then(|i| i.as_array_mut())
        .into_iter()
        .flatten()
        .filter_map(|i| i.as_object_mut())
    {
        for field in JSON_ITEM_STRINGS {
            if let Some(value) = item
                .get_mut(field)
                .filter(|v| v.is_number() || v.is_boolean())
            {
                *value = scalar_text(value).into();
                changed = true;
            }
        }
        match item.get_mut("tags") {
            Some(serde_json::Value::Array(tags)) if tags.iter().any(|t| !t.is_string()) => {
                tags.retain(|t| t.is_string() || t.is_number() || t.is_boolean());
                for tag in tags.iter_mut() {
                    *tag = scalar_text(tag).into();
                }
                changed = true;
            }
            Some(serde_json::Value::Array(_)) | None => {}
            Some(_) => {
                item.remove("tags");
                changed = true;
            }
        }
    }
    changed.then(|| (feed.to_string(), "JSON Feed types coerced"))
}

/// The document with each `\uXXXX` escape of an unpaired UTF-16 surrogate replaced by
/// U+FFFD, which JSON parsers reject along with the whole document; `None` when it has none.
fn without_lone_surrogates(doc: &str) -> Option<String> {
    let bytes = doc.as_bytes();
    let escape_at = |at: usize| -> Option<u32> {
        let digits = doc.get(at + 2..at + 6)?;
        (bytes.get(at) == Some(&b'\\') && bytes.get(at + 1) == Some(&b'u'))
            .then(|| u32::from_str_radix(digits, 16).ok())
            .flatten()
    };
    let mut out: Option<String> = None;
    let (mut at, mut copied) = (0, 0);
    while let Some(offset) = memchr::memchr(b'\\', &bytes[at..]) {
        at += offset;
        let Some(code) = escape_at(at) else {
            at += 2;
            continue;
        };
        let paired = (0xD800..0xDC00).contains(&code)
            && escape_at(at + 6).is_some_and(|low| (0xDC00..0xE000).contains(&low));
        if paired {
            at += 12;
        } else if (0xD800..0xE000).contains(&code) {
            let text = out.get_or_insert_with(|| String::with_capacity(doc.len()));
            text.push_str(&doc[copied..at]);
            text.push_str("\\ufffd");
            at += 6;
            copied = at;
        } else {
            at += 6;
        }
    }
    out.map(|mut text| {
        text.push_str(&doc[copied..]);
        text
    })
}

/// Item fields feed-rs wants as strings.
const JSON_ITEM_STRINGS: [&str; 9] = [
    "id",
    "url",
    "external_url",
    "title",
    "content_html",
    "content_text",
    "summary",
    "date_published",
    "date_modified",
];

fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}
