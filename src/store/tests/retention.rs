//! Retention, tombstones, restart spreading and batched writes.

use super::*;
use crate::store::ARCHIVE_PAGE_SIZE;

fn retention(days: u64, max_items_per_feed: u32) -> Retention {
    Retention {
        max_age: std::time::Duration::from_secs(days * 86400),
        max_items_per_feed,
        near_window: std::time::Duration::from_secs(3 * 86400),
    }
}

fn prune_everything(f: &Fixture, now: i64, r: Retention) -> PruneStats {
    let mut total = PruneStats::default();
    loop {
        let stats = f.store.prune_batch(at(now), r, 2).expect("prune");
        if stats == PruneStats::default() {
            return total;
        }
        total.items += stats.items;
        total.sources += stats.sources;
    }
}

#[test]
fn pruned_items_leave_tombstones_and_never_come_back() {
    let f = fixture();
    let old = items(
        "old",
        "Old story",
        "From long ago, a story told in enough words",
        &["x"],
    );
    poll(&f, "a", &old, 0);
    let day = 86400;
    poll(&f, "a", &items("new", "New story", "Today", &[]), 95 * day);
    let stats = prune_everything(&f, 95 * day, retention(90, 2000));
    assert_eq!(stats.items, 1);
    assert_eq!(f.store.item_count().expect("count"), 1);
    assert!(
        matching(&f, "\"long ago\"").is_empty(),
        "its text is gone from the index"
    );

    let again = poll(&f, "a", &old, 96 * day);
    assert_eq!((again.new, again.pruned), (0, 1));
    let copied = poll(
        &f,
        "b",
        &items(
            "copy",
            "Old story",
            "From long ago, a story told in enough words",
            &[],
        ),
        97 * day,
    );
    assert_eq!((copied.new, copied.deduplicated, copied.pruned), (0, 0, 1));
    assert_eq!(f.store.item_count().expect("count"), 1);
}

#[test]
fn each_feed_keeps_at_most_its_newest_items() {
    let f = fixture();
    for n in 0..5 {
        let mut it = items(
            &format!("{n}"),
            &format!("Story {n}"),
            &format!("Body {n}"),
            &[],
        );
        it[0].published = Some(at(n * 60));
        poll(&f, "a", &it, 1000);
        if n == 0 {
            poll(
                &f,
                "b",
                &items("shared", &format!("Story {n}"), &format!("Body {n}"), &[]),
                1000,
            );
        }
    }
    let stats = prune_everything(&f, 1000, retention(3650, 2));
    assert_eq!(stats.sources, 3);
    let titles = all_titles(&f);
    assert_eq!(
        titles,
        ["Story 4", "Story 3", "Story 0"],
        "the shared story stays for feed b"
    );
    assert_eq!(matching(&f, "feed:a"), ["Story 4", "Story 3"]);
    let back = poll(&f, "a", &items("1", "Story 1", "Body 1", &[]), 2000);
    assert_eq!((back.new, back.pruned), (0, 1));
}

#[test]
fn overdue_feeds_are_spread_over_the_window_at_start() {
    let f = fixture();
    poll(&f, "a", &[], -1000);
    let window = std::time::Duration::from_secs(60);
    let moved = f.store.spread_overdue(at(0), window).expect("spread");
    assert_eq!(moved, 1, "only the feed polled before is spread");
    assert_eq!(
        f.store.due_feeds(at(-1)).expect("due"),
        ["b"],
        "a new feed is due at once"
    );
    assert_eq!(f.store.due_feeds(at(60)).expect("due").len(), 2);
}

#[test]
fn a_failing_poll_in_a_batch_is_rolled_back_alone() {
    let f = fixture();
    let write = |name: &str, guid: &str| crate::model::PollWrite {
        name: name.into(),
        outcome: fetched(),
        items: items(guid, &format!("Story {guid}"), &format!("Body {guid}"), &[]),
        now: at(0),
        next_poll: at(60),
        near_window: None,
        full_text: false,
    };
    let results = f
        .store
        .record_polls(&[write("a", "1"), write("missing", "2"), write("b", "3")])
        .expect("batch");
    assert_eq!(
        results.iter().map(Result::is_ok).collect::<Vec<_>>(),
        [true, false, true]
    );
    assert_eq!(all_titles(&f), ["Story 3", "Story 1"]);
}

#[test]
fn archive_pages_go_whole_once_all_their_items_are_pruned() {
    let f = fixture();
    let page: Vec<Item> = (0..ARCHIVE_PAGE_SIZE)
        .flat_map(|i| {
            items(
                &format!("old-{i}"),
                &format!("Old story {i}"),
                &format!("Old story number {i}, told in enough words to be one"),
                &[],
            )
        })
        .collect();
    poll(&f, "a", &page, 0);
    let full = f.store.assign_archive_places("all", None).expect("places");
    assert_eq!(full, [1]);
    f.store
        .keep_archive_page("all", 1, &[("atom", "<feed/>".into())], at(0))
        .expect("keep");
    assert_eq!(
        f.store.prune_archives().expect("prune"),
        0,
        "its items are still stored"
    );
    prune_everything(&f, 100 * 86400, retention(90, 2000));
    assert_eq!(f.store.prune_archives().expect("prune"), 1);
    assert_eq!(f.store.archive_page("all", 1, "atom").expect("read"), None);
    assert_eq!(f.store.archive_span("all").expect("span"), None);
}

#[test]
fn finding_the_archive_span_reads_as_much_however_many_pages_are_kept() {
    let f = fixture();
    let body = "<entry/>".repeat(2000);
    let steps = |pages: i64| {
        for page in 1..=pages {
            f.store
                .keep_archive_page("all", page, &[("atom", body.clone())], at(0))
                .expect("keep");
        }
        assert_eq!(f.store.archive_span("all").expect("span"), Some((1, pages)));
        let conn = f.store.reader();
        let mut span = conn
            .prepare(super::super::archive::ARCHIVE_SPAN)
            .expect("prepare");
        span.query_row(["all"], |_| Ok(())).expect("span");
        span.get_status(rusqlite::StatementStatus::VmStep)
    };
    let few = steps(10);
    assert_eq!(steps(300), few, "no step per kept page");
}
