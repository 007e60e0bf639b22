use proptest::prelude::*;

use super::*;
use crate::model::ParsedItem;

/// The hash of a story with text, no media and no link.
fn story_hash(title: &str, text: &str) -> ContentHash {
    ContentHash::of_story(title, text, &[], None).expect("a story with text")
}

fn item(guid: Option<&str>, link: Option<&str>, title: &str, content: &str) -> ParsedItem {
    ParsedItem {
        guid: guid.map(Into::into),
        link: link.map(Into::into),
        title: Some(title.into()),
        content: Some(content.into()),
        ..ParsedItem::default()
    }
}

fn feed(items: Vec<ParsedItem>) -> ParsedFeed {
    ParsedFeed {
        items,
        ..ParsedFeed::default()
    }
}

#[test]
fn identity_is_guid_else_link_else_hash() {
    let items = vec![
        item(Some("g1"), Some("https://a.example/1"), "One", "x"),
        item(None, Some("https://a.example/2?utm_source=rss"), "Two", "y"),
        item(None, None, "Three", "z"),
    ];
    // Two of three without guid would trip the broken-guid fallback, so test them one by one.
    for (parsed, prefix) in items
        .into_iter()
        .zip(["g:g1", "l:https://a.example/2", "h:02"])
    {
        let processed = process_feed(&feed(vec![parsed]), None);
        assert!(
            processed.items[0].key.0.starts_with(prefix),
            "{:?}",
            processed.items[0].key
        );
    }
}

#[test]
fn feeds_whose_guids_repeat_fall_back_to_links() {
    let items: Vec<_> = (0..10)
        .map(|i| {
            item(
                Some("same"),
                Some(&format!("https://a.example/{i}")),
                &format!("T{i}"),
                "x",
            )
        })
        .collect();
    let processed = process_feed(&feed(items), None);
    assert_eq!(processed.identity, Identity::LinkFallback);
    assert_eq!(processed.items.len(), 10);
    assert!(processed.items.iter().all(|i| i.key.0.starts_with("l:")));
}

#[test]
fn tags_come_from_categories_and_hashtags_in_title_and_text() {
    let mut parsed = item(
        Some("g"),
        None,
        "About #Rust",
        "<p>Text #<span>OpenAI</span> and <a href=\"/x#frag\">l</a> #123</p>",
    );
    parsed.categories = vec!["Open AI".into(), "News".into()];
    let processed = process_feed(&feed(vec![parsed]), None);
    let tags: Vec<_> = processed.items[0]
        .tags
        .iter()
        .map(|t| (t.key.as_str(), t.origin))
        .collect();
    assert_eq!(
        tags,
        [
            ("openai", TagOrigin::Category),
            ("news", TagOrigin::Category),
            ("rust", TagOrigin::Hashtag),
            ("openai", TagOrigin::Hashtag)
        ]
    );
}

#[test]
fn the_hash_names_its_version() {
    assert_eq!(story_hash("a", "b").0[0], HASH_VERSION);
}

fn hash_of(title: &str, html: &str) -> ContentHash {
    story_hash(&html_to_text(title), &html_to_text(html))
}

proptest! {
    #[test]
    fn markup_only_variants_hash_the_same(words in prop::collection::vec("[A-Za-z0-9]{1,8}", 1..12)) {
        let plain = words.join(" ");
        let marked = words.iter().map(|w| format!("<p><b>{w}</b></p>")).collect::<String>();
        prop_assert_eq!(hash_of("T", &plain), hash_of("<i>T</i>", &marked));
    }

    #[test]
    fn whitespace_only_variants_hash_the_same(words in prop::collection::vec("[A-Za-z0-9]{1,8}", 1..12), gaps in prop::collection::vec("[ \t\n\r]{1,4}", 12)) {
        let spaced: String = words.iter().zip(&gaps).map(|(w, g)| format!("{w}{g}")).collect();
        prop_assert_eq!(hash_of("T", &words.join(" ")), hash_of(" T\n", &spaced));
    }

    #[test]
    fn entity_variants_hash_the_same(word in "[A-Za-z]{1,8}") {
        prop_assert_eq!(hash_of("T", &format!("{word} & {word}")), hash_of("T", &format!("{word} &amp; {word}")));
    }

    #[test]
    fn real_text_changes_change_the_hash(words in prop::collection::vec("[A-Za-z0-9]{1,8}", 1..12), extra in "[A-Za-z0-9]{1,8}") {
        let text = words.join(" ");
        prop_assert_ne!(hash_of("T", &text), hash_of("T", &format!("{text} {extra}")));
        prop_assert_ne!(hash_of("T", &text), hash_of("U", &text));
    }
}

#[test]
fn tracking_only_link_variants_are_the_same_identity() {
    let a = process_feed(
        &feed(vec![item(
            None,
            Some("https://a.example/p?utm_source=x&utm_medium=y"),
            "T",
            "x",
        )]),
        None,
    );
    let b = process_feed(
        &feed(vec![item(None, Some("https://A.example:443/p"), "T", "x")]),
        None,
    );
    assert_eq!(a.items[0].key, b.items[0].key);
    assert_eq!(a.items[0].link, b.items[0].link);
}

#[test]
fn absurdly_long_titles_are_cut_for_display_but_hashed_whole() {
    let long = "word ".repeat(100_000);
    let longer = format!("{long} end");
    let processed = process_feed(&feed(vec![item(Some("a"), None, &long, "x")]), None);
    let title = &processed.items[0].title;
    assert_eq!(title.chars().count(), MAX_TITLE_CHARS + 1);
    assert!(title.ends_with('…'));
    let other = process_feed(&feed(vec![item(Some("a"), None, &longer, "x")]), None);
    assert_ne!(processed.items[0].hash, other.items[0].hash);
}

/// The one item of a one-item document from `feed_url`.
fn only_item(parsed: ParsedItem, feed_url: &str) -> Item {
    let base = Url::parse(feed_url).ok();
    process_feed(&feed(vec![parsed]), base.as_ref())
        .items
        .remove(0)
}

#[test]
fn headline_capitalisation_is_not_a_difference() {
    let text = "<p>The deal, announced on Monday, extends a partnership of several years.</p>";
    let a = only_item(
        item(
            Some("1"),
            Some("https://a.example/1"),
            "Microsoft invests billions in OpenAI",
            text,
        ),
        "https://a.example/feed",
    );
    let b = only_item(
        item(
            Some("x"),
            Some("https://b.example/x"),
            "Microsoft Invests Billions In OpenAI",
            text,
        ),
        "https://b.example/feed",
    );
    assert_eq!(a.hash, b.hash);
    assert_eq!(a.hash.0[0], 2, "a new hash version");
}

#[test]
fn short_posts_of_two_sites_stay_apart_and_copies_of_one_page_do_not() {
    let post = |link: &str| item(None, Some(link), "Open thread", "");
    let a = only_item(post("https://a.example/open"), "https://a.example/feed");
    let b = only_item(post("https://b.example/open"), "https://b.example/feed");
    let a_again = only_item(
        post("https://a.example/open?utm_source=x"),
        "https://c.example/feed",
    );
    assert_ne!(a.hash, b.hash);
    assert_eq!(a.hash, a_again.hash);
}

#[test]
fn items_with_nothing_to_compare_are_never_merged_across_feeds() {
    let empty = || ParsedItem {
        guid: Some("1".into()),
        ..ParsedItem::default()
    };
    let a = only_item(empty(), "https://a.example/feed");
    let b = only_item(empty(), "https://b.example/feed");
    assert_ne!(a.hash, b.hash);
    let image = |url: &str| ParsedItem {
        guid: Some("1".into()),
        media: vec![url.into()],
        ..ParsedItem::default()
    };
    let same_image = only_item(image("https://cdn.example/p.jpg"), "https://a.example/feed");
    let also = only_item(image("https://cdn.example/p.jpg"), "https://b.example/feed");
    let other_image = only_item(image("https://cdn.example/q.jpg"), "https://b.example/feed");
    assert_eq!(same_image.hash, also.hash);
    assert_ne!(same_image.hash, other_image.hash);
}

#[test]
fn titles_that_differ_only_after_four_kibibytes_are_two_stories() {
    let head = "word ".repeat(1000);
    let a = only_item(
        item(Some("1"), None, &format!("{head} one"), "x"),
        "https://a.example/f",
    );
    let b = only_item(
        item(Some("1"), None, &format!("{head} two"), "x"),
        "https://b.example/f",
    );
    assert_ne!(a.hash, b.hash);
}
