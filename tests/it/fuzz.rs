//! Proptest-driven fuzzing (stable Rust; no cargo-fuzz needed) of what strangers control:
//! documents through parse → process → hash → tag → sanitise, and filter expressions
//! through the filter parser. Documents are the fixtures, mutated: bytes flipped, ranges cut
//! or doubled, tokens that break parsers inserted. CI runs a few hundred cases; a long run:
//!
//! `PROPTEST_CASES=200000 cargo test --release --test it fuzz`
//!
//! Inputs that once failed are kept in `tests/fixtures/fuzz/` and replayed by
//! `fuzz_regressions_stay_fixed`.

use std::path::Path;

use chrono::Utc;
use feedsift::model::MAX_CONTENT_BYTES;
use feedsift::parse::{Limits, ParseError, Source, parse_feed};
use feedsift::process::MAX_TITLE_CHARS;
use feedsift::process::process_feed;
use feedsift::publish::sanitize_html;
use proptest::prelude::*;

/// Tokens that have broken, or could break, a parser or a repair step.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "&",
    ";",
    "/",
    "\"",
    "'",
    "=",
    "]]>",
    "<![CDATA[",
    "<!--",
    "-->",
    "<?",
    "?>",
    "<!DOCTYPE rss [",
    "<!ENTITY a \"b\">",
    "&amp;",
    "&#0;",
    "&#x1F600;",
    "&eacute;",
    "&#",
    "<item>",
    "</item>",
    "<entry>",
    "</entry>",
    "<rss>",
    "<rss version=\"9\">",
    "</channel>",
    "xmlns=\"http://purl.org/atom/ns#\"",
    "xmlns=\"http://backend.userland.com/rss2\"",
    "mode=\"base64\"",
    "type=\"text/plain\"",
    "xml:base=\"../\"",
    "<pubDate>",
    "</pubDate>",
    "2024/13/45 99:99",
    "\0",
    "\u{1}",
    "\u{feff}",
    "\u{fffe}",
    "é",
    "€",
    "\u{10ffff}",
    "<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    "encoding=\"koi8-r\"",
    "{",
    "}",
    "\"id\": 1",
    "\"items\": [",
    "\"tags\": [1, null]",
    "\"version\": 3",
    "#",
    "#tag",
];

fn corpus() -> Vec<Vec<u8>> {
    let mut docs = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for dir in [root.clone(), root.join("formats"), root.join("fuzz")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for path in paths.into_iter().filter(|p| p.is_file()) {
            docs.push(std::fs::read(&path).expect("fixture"));
        }
    }
    docs
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, &'static str),
    Cut(usize, usize),
    Double(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = any::<usize>();
    prop_oneof![
        (at, any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        (at, prop::sample::select(TOKENS)).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (at, 1usize..200).prop_map(|(a, n)| Mutation::Cut(a, n)),
        (at, 1usize..200).prop_map(|(a, n)| Mutation::Double(a, n)),
        at.prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut doc: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = doc.len().max(1);
        match *m {
            Mutation::Flip(at, byte) if !doc.is_empty() => doc[at % len] = byte,
            Mutation::Insert(at, token) => {
                let at = at % (doc.len() + 1);
                doc.splice(at..at, token.bytes());
            }
            Mutation::Cut(at, n) if !doc.is_empty() => {
                let at = at % len;
                doc.drain(at..(at + n).min(doc.len()));
            }
            Mutation::Double(at, n) if !doc.is_empty() => {
                let at = at % len;
                let part = doc[at..(at + n).min(doc.len())].to_vec();
                doc.splice(at..at, part);
            }
            Mutation::Truncate(at) => doc.truncate(at % (doc.len() + 1)),
            _ => {}
        }
    }
    doc
}

/// The whole path a stranger's document takes, with the invariants it must keep.
fn check_document(doc: &[u8], charset: Option<&str>, max_items: usize) {
    let source = Source {
        base: Some("https://fuzz.example/feed"),
        charset,
        limits: Limits {
            max_items,
            max_text: 1 << 20,
        },
        ..Source::at(None)
    };
    let parsed = match parse_feed(doc, &source) {
        Ok(parsed) => parsed,
        Err(ParseError::Panicked) => {
            panic!("feed-rs panicked on {:?}", String::from_utf8_lossy(doc))
        }
        // Refusing is fine; a panic anywhere else fails the test.
        Err(_) => return,
    };
    assert!(
        parsed.items.len() <= max_items,
        "{} items from {:?}",
        parsed.items.len(),
        String::from_utf8_lossy(doc)
    );
    let tomorrow = Utc::now() + chrono::Duration::days(1) + chrono::Duration::minutes(1);
    for item in &parsed.items {
        assert!(item.published.is_none_or(|d| d <= tomorrow));
    }
    let base = url::Url::parse("https://fuzz.example/feed").ok();
    let processed = process_feed(&parsed, base.as_ref());
    // Texts are read whole and hashed whole; what is stored is bounded.
    for item in &processed.items {
        assert!(
            item.content
                .as_ref()
                .is_none_or(|c| c.len() <= MAX_CONTENT_BYTES)
        );
        assert!(item.text.len() <= MAX_CONTENT_BYTES);
        assert!(item.title.chars().count() <= MAX_TITLE_CHARS + 1);
        assert_eq!(item.hash.0[0], feedsift::process::HASH_VERSION);
        if let Some(content) = &item.content {
            assert_harmless(&sanitize_html(content, base.as_ref()));
        }
    }
}

/// Sanitised HTML has no script element, event handler or `javascript:` URL in any tag
/// (text may mention them: it is escaped, so a raw `<` always starts a tag).
fn assert_harmless(html: &str) {
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("").to_lowercase();
        let name = tag.split_whitespace().next().unwrap_or("");
        assert!(!matches!(name, "script" | "iframe" | "style"), "<{tag}>");
        let script_url = tag.split("=\"").skip(1).any(|value| {
            let value = value.trim_start();
            value.starts_with("javascript:") || value.starts_with("vbscript:")
        });
        assert!(!script_url, "<{tag}>");
        let handler = tag
            .split_whitespace()
            .skip(1)
            .any(|a| a.starts_with("on") && a.contains('='));
        assert!(!handler, "<{tag}>");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn fuzz_documents_never_break_the_pipeline(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..12),
        charset in prop::sample::select(vec![None, Some("utf-8"), Some("windows-1252"), Some("utf-16"), Some("koi8-r"), Some("x-bogus")]),
        max_items in 1usize..50,
    ) {
        let corpus = corpus();
        let doc = mutate(pick.get(&corpus).clone(), &mutations);
        check_document(&doc, charset, max_items);
    }

    #[test]
    fn fuzz_filter_expressions_parse_or_fail_cleanly(
        parts in prop::collection::vec(prop::sample::select(vec![
            "#", "#a", "#OpenAI", "feed:", "feed:x", "tag:", "\"", "\"a b\"", "(", ")", " ",
            "and", "or", "not", "-", "AND", "a", "é", "\u{0}", "\\", ":", "*", "\u{fe0f}",
        ]), 0..30),
    ) {
        let expr = parts.concat();
        if let Ok(parsed) = feedsift::filter::parse(&expr) {
            prop_assert_eq!(feedsift::filter::parse(&parsed.to_string()), Ok(parsed));
        }
    }
}

#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let entries = std::fs::read_dir(&dir).expect("tests/fixtures/fuzz");
    let mut replayed = 0;
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        let doc = std::fs::read(&path).expect("fixture");
        // How many items are read changes where reading stops, so several limits.
        for max_items in [1, 2, 50] {
            check_document(&doc, None, max_items);
        }
        replayed += 1;
    }
    assert!(replayed > 0, "no regression inputs in {}", dir.display());
}
