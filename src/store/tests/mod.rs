use chrono::{DateTime, Utc};

use super::*;
use crate::filter::parse;
use crate::model::{
    ContentHash, IngestStats, Item, PollOutcome, PollWrite, Tag, TagOrigin, UpstreamKey,
};
use crate::text::{html_to_text, tag_key};

/// The hash of a story with text, no media and no link.
pub(super) fn story_hash(title: &str, text: &str) -> ContentHash {
    ContentHash::of_story(title, text, &[], None).expect("a story with text")
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.db");
    let store = Store::open(&path).expect("open");
    let spec = |name: &str, tags: &[&str]| FeedSpec {
        tags: tags.iter().map(|t| label_tag(t, TagOrigin::Feed)).collect(),
        ..FeedSpec::named(name)
    };
    store
        .sync_feeds(&[spec("a", &["news"]), spec("b", &[])])
        .expect("sync");
    Fixture {
        _dir: dir,
        path,
        store,
    }
}

/// Two versions of one story's text, long enough to be compared across feeds.
const VERSION_ONE: &str = "Version one, a story told in enough words";
const VERSION_TWO: &str = "Version two, a story told in enough words";

fn at(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap_or_default()
}

fn label_tag(label: &str, origin: TagOrigin) -> Tag {
    Tag {
        key: tag_key(label),
        label: label.trim_start_matches('#').to_string(),
        origin,
    }
}

/// One item as a feed with guid `guid` and link `link` delivers it, built here rather than
/// by `process` so the store is tested on its own: the hash over the text as `process`
/// reads it (markup stripped), categories and the `#words` of the text as tags.
fn item_at(guid: &str, link: &str, title: &str, html: &str, categories: &[&str]) -> Item {
    let (title, text) = (html_to_text(title), html_to_text(html));
    let hashtags = text
        .split_whitespace()
        .filter(|w| w.starts_with('#'))
        .map(|w| {
            label_tag(
                w.trim_end_matches(|c: char| !c.is_alphanumeric()),
                TagOrigin::Hashtag,
            )
        });
    Item {
        key: UpstreamKey(format!("g:{guid}")),
        hash: ContentHash::of_story(&title, &text, &[], Some(link)).expect("a story with text"),
        title,
        link: Some(link.into()),
        content: Some(html.into()),
        base: None,
        author: None,
        published: Some(at(0)),
        updated: None,
        tags: categories
            .iter()
            .map(|c| label_tag(c, TagOrigin::Category))
            .chain(hashtags)
            .collect(),
        text: text.into(),
        dropped_links: Vec::new(),
        shape: None,
    }
}

fn items(guid: &str, title: &str, html: &str, categories: &[&str]) -> Vec<Item> {
    vec![item_at(
        guid,
        &format!("https://x.example/{guid}"),
        title,
        html,
        categories,
    )]
}

fn fetched() -> PollOutcome {
    PollOutcome::Fetched {
        etag: Some("\"v1\"".into()),
        last_modified: None,
        title: Some("Feed".into()),
        site_link: None,
        guid_fallback: false,
        repairs: None,
    }
}

/// Records one poll of `feed` alone, as group commit does with a batch of one.
fn record(
    f: &Fixture,
    feed: &str,
    outcome: PollOutcome,
    items: &[Item],
    (now, next): (i64, i64),
) -> IngestStats {
    let write = PollWrite {
        name: feed.into(),
        outcome,
        items: items.to_vec(),
        now: at(now),
        next_poll: at(next),
        near_window: Some(std::time::Duration::from_secs(3 * 86400)),
        full_text: false,
    };
    let mut results = f.store.record_polls(&[write]).expect("record poll");
    results.remove(0).expect("poll written")
}

fn poll(f: &Fixture, feed: &str, items: &[Item], now: i64) -> IngestStats {
    record(f, feed, fetched(), items, (now, now + 60))
}

fn matching(f: &Fixture, expr: &str) -> Vec<String> {
    let expr = parse(expr).expect("valid filter");
    f.store
        .items_matching(Some(&expr), 50)
        .expect("query")
        .into_iter()
        .map(|i| i.title)
        .collect()
}

/// Three stories: one in feed a (tagged `news` by the feed), two in feed b.
fn three_stories() -> Fixture {
    let f = fixture();
    let gpt = items(
        "1",
        "GPT news",
        "About #OpenAI and a language model",
        &["Crypto"],
    );
    poll(&f, "a", &gpt, 0);
    poll(&f, "b", &items("2", "Weather", "Rain. #open_ai", &[]), 10);
    poll(&f, "b", &items("3", "Sports", "Football #news", &[]), 20);
    f
}

/// Every stored item's title, newest first.
fn all_titles(f: &Fixture) -> Vec<String> {
    let items = f.store.items_matching(None, 50).expect("query");
    items.into_iter().map(|i| i.title).collect()
}

#[test]
fn the_same_story_from_two_feeds_is_one_item_with_two_sources() {
    let f = fixture();
    let first = items("1", "Story", "<p>A body of a dozen words or so.</p>", &[]);
    assert_eq!(poll(&f, "a", &first, 0).new, 1);
    let copy = items(
        "other-id",
        "Story",
        "A body of a dozen words or so.",
        &["Extra"],
    );
    let stats = poll(&f, "b", &copy, 10);
    assert_eq!((stats.new, stats.deduplicated), (0, 1));
    let all = f.store.items_matching(None, 50).expect("query");
    assert_eq!(all.len(), 1);
    let names: Vec<_> = all[0]
        .sources
        .iter()
        .map(|s| s.feed_name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(all[0].tags, ["Extra", "news"]);
    assert_eq!(poll(&f, "b", &copy, 20), IngestStats::default());
}

#[test]
fn changed_content_under_the_same_guid_updates_in_place() {
    let f = fixture();
    poll(&f, "a", &items("1", "Story", VERSION_ONE, &[]), 0);
    let before = f.store.items_matching(None, 50).expect("query");
    let stats = poll(
        &f,
        "a",
        &items("1", "Story (edited)", VERSION_TWO, &[]),
        100,
    );
    assert_eq!(stats.updated, 1);
    let after = f.store.items_matching(None, 50).expect("query");
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].entry_id, before[0].entry_id);
    assert_eq!(after[0].title, "Story (edited)");
    assert!(after[0].updated > before[0].updated);
    assert_eq!(matching(&f, "\"version two\""), ["Story (edited)"]);
    assert!(matching(&f, "\"version one\"").is_empty());
}

#[test]
fn an_older_version_of_an_updated_story_is_still_known() {
    let f = fixture();
    poll(&f, "a", &items("1", "Story", VERSION_ONE, &[]), 0);
    poll(&f, "a", &items("1", "Story", VERSION_TWO, &[]), 100);
    let stats = poll(&f, "b", &items("x", "Story", VERSION_ONE, &[]), 200);
    assert_eq!(stats.deduplicated, 1);
    assert_eq!(f.store.item_count().expect("count"), 1);
}

#[test]
fn content_updates_are_capped() {
    let f = fixture();
    poll(&f, "a", &items("1", "Story", "v0", &[]), 0);
    let updates: usize = (1..40)
        .map(|n| poll(&f, "a", &items("1", "Story", &format!("v{n}"), &[]), n * 10).updated)
        .sum();
    assert_eq!(updates, 24);
}

#[test]
fn filters_select_by_tag_feed_phrase_and_title() {
    let f = three_stories();
    assert_eq!(matching(&f, "#OpenAI"), ["Weather", "GPT news"]);
    assert_eq!(matching(&f, "#openai -#crypto"), ["Weather"]);
    assert_eq!(matching(&f, "#news"), ["Sports", "GPT news"]);
    assert_eq!(matching(&f, "feed:b"), ["Sports", "Weather"]);
    assert_eq!(matching(&f, "\"Language Model\""), ["GPT news"]);
    assert_eq!(matching(&f, "title:\"gpt\""), ["GPT news"]);
    assert!(matching(&f, "title:\"language\"").is_empty());
    assert_eq!(matching(&f, "not #openai"), ["Sports"]);
}

#[test]
fn feed_tags_apply_to_stored_items_when_the_config_changes() {
    let f = fixture();
    poll(&f, "b", &items("1", "Story", "Body", &[]), 0);
    assert!(matching(&f, "#science").is_empty());
    let spec = FeedSpec {
        name: "b".into(),
        url: "https://b.example/feed".into(),
        tags: vec![Tag {
            key: "science".into(),
            label: "Science".into(),
            origin: TagOrigin::Feed,
        }],
    };
    f.store.sync_feeds(&[spec]).expect("sync");
    assert_eq!(matching(&f, "#science"), ["Story"]);
}

#[test]
fn tags_are_published_in_their_most_common_spelling() {
    let f = fixture();
    poll(&f, "a", &items("1", "One", "#OpenAI", &[]), 0);
    poll(&f, "a", &items("2", "Two", "#OpenAI", &[]), 10);
    poll(&f, "b", &items("3", "Three", "#openai", &[]), 20);
    let all = f.store.items_matching(None, 50).expect("query");
    assert!(
        all.iter().all(|i| i.tags.contains(&"OpenAI".to_string())),
        "{:?}",
        all
    );
}

#[test]
fn failures_and_validators_are_recorded_on_the_feed() {
    let f = fixture();
    poll(&f, "a", &[], 0);
    assert_eq!(
        f.store.feed_record("a").expect("record").etag.as_deref(),
        Some("\"v1\"")
    );
    let failed = PollOutcome::Failed {
        reason: "HTTP 500".into(),
    };
    record(&f, "a", failed.clone(), &[], (10, 20));
    record(&f, "a", failed, &[], (20, 40));
    let health = f.store.feed_health().expect("health");
    let a = health.iter().find(|h| h.name == "a").expect("feed a");
    assert_eq!(a.consecutive_failures, 2);
    assert_eq!(a.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(a.last_status, Some(crate::model::PollStatus::Failed));
    assert_eq!(f.store.due_feeds(at(39)).expect("due"), ["b"]);
}

#[test]
fn items_are_newest_first_and_future_dates_are_clamped() {
    let f = fixture();
    let mut old = items("1", "Old", "x", &[]);
    old[0].published = Some(at(-1000));
    let mut future = items("2", "Future", "y", &[]);
    future[0].published = Some(at(1_000_000));
    poll(&f, "a", &old, 0);
    poll(&f, "a", &future, 0);
    poll(&f, "a", &items("3", "Now", "z", &[]), 5);
    let titles = all_titles(&f);
    assert_eq!(titles, ["Now", "Future", "Old"]);
}

#[test]
fn reissued_items_with_new_guids_are_not_duplicates() {
    let f = fixture();
    poll(
        &f,
        "a",
        &items("guid-1", "Story", "Same text in a story long enough", &[]),
        0,
    );
    let reissued = poll(
        &f,
        "a",
        &items(
            "guid-2",
            "Story",
            "Same  <b>text</b> in a story long enough",
            &[],
        ),
        60,
    );
    assert_eq!((reissued.new, reissued.deduplicated), (0, 1));
    assert_eq!(f.store.item_count().expect("count"), 1);
}

#[test]
fn items_are_found_by_every_name_a_user_has_for_them() {
    let f = fixture();
    let story = items("1", "Story", "Body", &[]);
    poll(&f, "a", &story, 0);
    let find =
        |needle: &str, canonical: Option<&str>| f.store.find_item(needle, canonical).expect("find");
    let entry_id = story[0].hash.entry_id();
    let id = find(&entry_id, None).expect("by entry id");
    let uuid = entry_id.trim_start_matches("urn:uuid:");
    let hex = story[0].hash.to_hex();
    assert_eq!(find(uuid, None), Some(id), "entry id without urn:uuid:");
    assert_eq!(find("https://x.example/1", None), Some(id), "link");
    assert_eq!(
        find(
            "https://x.example/1?utm_source=rss",
            Some("https://x.example/1")
        ),
        Some(id),
        "link as the source feed gives it"
    );
    assert_eq!(find("1", None), Some(id), "the source's guid");
    assert_eq!(find(&hex, None), Some(id), "hash");
    assert_eq!(find(&hex[..12], None), Some(id), "hash prefix");
    assert_eq!(find("urn:uuid:nothing", None), None);
}

#[test]
fn both_query_plans_select_the_same_items() {
    let f = three_stories();
    // The plans are asked directly, not through a search that waits for the text index.
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(30))));
    let conn = f.store.reader();
    for expr in [
        "#openai",
        "#news",
        "#openai -#crypto",
        "feed:b or #crypto",
        "\"language model\" or title:\"sports\"",
        "not (#news or feed:a)",
        "#openai feed:b",
        "#news #openai",
        "#openai #crypto",
    ] {
        let parsed = parse(expr).expect("valid");
        let ids = |mode| {
            let cond = filter_sql::condition(&parsed, mode, &|_| Some(1));
            query::newest_ids(&conn, &cond, None, 50).expect("query")
        };
        let probed = ids(filter_sql::Mode::Probe);
        assert!(!probed.is_empty() || expr.starts_with("not"), "{expr}");
        assert_eq!(probed, ids(filter_sql::Mode::Set), "{expr}");
    }
}

mod near;
mod retention;
mod schema;
mod text_index;

#[test]
fn an_item_reissued_under_a_new_guid_lists_its_source_once() {
    let f = fixture();
    let issue = |guid: &str| {
        let text = "The same text of the story, issued twice by its feed.";
        vec![item_at(guid, "https://x.example/story", "Story", text, &[])]
    };
    poll(&f, "a", &issue("guid-1"), 0);
    poll(&f, "a", &issue("guid-2"), 60);
    let all = f.store.items_matching(None, 50).expect("query");
    assert_eq!(all.len(), 1);
    let links: Vec<_> = all[0].sources.iter().map(|s| s.link.clone()).collect();
    assert_eq!(links, [Some("https://x.example/story".to_string())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_calls_beyond_the_bound_wait_without_a_thread() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let f = fixture();
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let calls: Vec<_> = (0..4 * super::CALLS_AT_ONCE)
        .map(|_| {
            let (store, running, most) = (f.store.clone(), running.clone(), most.clone());
            tokio::spawn(async move {
                store
                    .call(move |s| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                        s.item_count()
                    })
                    .await
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("task").expect("count"), 0);
    }
    assert_eq!(most.load(Ordering::SeqCst), super::CALLS_AT_ONCE);
}
