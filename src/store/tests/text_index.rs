//! The text index in its own file, written by its own thread: it follows every transaction,
//! merges its segments once idle, and is built again from the store when it does not match.

use super::*;

const POLLS: usize = 40;

/// A connection of the test's own to the text index's file.
fn index_of(f: &Fixture) -> Connection {
    Connection::open(crate::store::text_index::path_beside(&f.path)).expect("the text index's file")
}

/// Segments of the text index once it holds what was committed.
fn segments(f: &Fixture) -> i64 {
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(30))));
    index_of(f)
        .query_row("SELECT count(DISTINCT segid) FROM item_text_idx", [], |r| {
            r.get(0)
        })
        .expect("segments")
}

/// One poll's story, with a word of its own and a phrase all share.
fn story(n: usize) -> Vec<Item> {
    items(
        &format!("s{n}"),
        &format!("Story {n}"),
        &format!("<p>Unique word{n} beside a shared phrase of every story.</p>"),
        &[],
    )
}

/// Story `n` as its feed edited it: its own word changed.
fn edited(n: usize) -> Vec<Item> {
    items(
        &format!("s{n}"),
        &format!("Story {n}"),
        &format!("<p>Edited word{n}x beside a shared phrase of every story.</p>"),
        &[],
    )
}

/// Every story is still found, by its own word and by the phrase all share, and FTS5's own
/// check of the index passes.
fn assert_all_found(f: &Fixture, polls: usize) {
    for n in 0..polls {
        assert_eq!(matching(f, &format!("\"word{n}\"")), [format!("Story {n}")]);
    }
    let expr = parse("\"shared phrase of every story\"").expect("filter");
    let found = f.store.items_matching(Some(&expr), 1000).expect("query");
    assert_eq!(found.len(), polls);
    index_of(f)
        .execute(
            "INSERT INTO item_text (item_text, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .expect("the text index is sound");
}

/// Fewer transactions than the text thread merges after while busy (8): only idling merges them.
const FEW: usize = 7;

#[test]
fn the_index_merges_its_segments_once_no_batch_comes() {
    let f = fixture();
    for n in 0..FEW {
        poll(&f, "a", &story(n), n as i64);
        // Each batch its own transaction of the index, as when polls come one by one.
        assert!(f.store.wait_for_text_index(Some(Duration::from_secs(30))));
    }
    let written = segments(&f);
    assert_eq!(written, FEW as i64, "one segment per transaction");
    // Merging waits for a second without batches, then takes a few milliseconds a step.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while segments(&f) > 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let tidy = segments(&f);
    assert!(
        tidy <= 4,
        "{written} segments after the polls, {tidy} after idling"
    );
    assert_all_found(&f, FEW);
}

#[test]
fn an_index_written_without_pause_still_merges() {
    let f = fixture();
    for n in 0..POLLS {
        poll(&f, "a", &story(n), n as i64);
    }
    // No quiet second has passed: only the merge steps taken between transactions count.
    let segments = segments(&f);
    assert!(segments <= 8, "{segments} segments after {POLLS} polls");
    assert_all_found(&f, POLLS);
}

/// Stories edited by their feed between new ones, in a transaction of two polls: FTS5 writes
/// its buffer out whenever a row below the last one is written, so unless the texts are
/// written in rowid order, each edit costs a segment.
#[test]
fn a_transaction_adds_one_segment_however_many_stored_texts_it_replaces() {
    let f = fixture();
    let first: Vec<Item> = (0..10).flat_map(story).collect();
    poll(&f, "a", &first, 0);
    assert_eq!(segments(&f), 1);
    let mixed: Vec<Item> = (0..5)
        .flat_map(|n| [edited(2 * n), story(10 + n)].concat())
        .collect();
    let write = |name: &str, items: Vec<Item>| PollWrite {
        name: name.into(),
        outcome: fetched(),
        items,
        now: at(100),
        next_poll: at(160),
        near_window: None,
        full_text: false,
    };
    let others: Vec<Item> = (15..20).flat_map(story).collect();
    for result in f
        .store
        .record_polls(&[write("a", mixed), write("b", others)])
        .expect("record polls")
    {
        assert_eq!(result.expect("poll written").new, 5);
    }
    assert_eq!(segments(&f), 2, "one segment per transaction");
    for n in 0..20 {
        let (now, gone) = if n < 10 && n % 2 == 0 {
            (format!("word{n}x"), Some(format!("word{n}")))
        } else {
            (format!("word{n}"), None)
        };
        assert_eq!(matching(&f, &format!("\"{now}\"")), [format!("Story {n}")]);
        if let Some(gone) = gone {
            assert!(matching(&f, &format!("\"{gone}\"")).is_empty(), "{gone}");
        }
    }
}

/// The store's count of transactions that changed the index.
fn batches(f: &Fixture) -> i64 {
    f.store
        .writer()
        .query_row("SELECT batch FROM text_state", [], |r| r.get(0))
        .expect("text_state")
}

#[test]
fn polls_that_store_nothing_give_the_index_nothing_to_do() {
    let f = fixture();
    poll(&f, "a", &story(0), 0);
    let before = batches(&f);
    assert_eq!(before, 1);
    for n in 1..5 {
        record(&f, "a", PollOutcome::NotModified, &[], (n, n + 60));
        poll(&f, "a", &story(0), n);
    }
    assert_eq!(batches(&f), before, "unchanged polls numbered no batch");
    poll(&f, "a", &story(1), 10);
    assert_eq!(batches(&f), before + 1);
}

#[tokio::test]
async fn the_text_thread_runs_at_background_priority() {
    let f = fixture();
    poll(&f, "a", &story(0), 0);
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(30))));
    let nice = crate::priority::nice_of_threads_named("feedsift-text");
    let expected = crate::priority::background_nice_from_here().expect("/proc");
    assert!(nice.contains(&expected), "{nice:?}");
}

/// Marks the index as missing writes, as an unclean stop leaves it, with the store closed.
fn break_index(f: Fixture) -> Fixture {
    let Fixture { _dir, path, store } = f;
    drop(store);
    let index = Connection::open(crate::store::text_index::path_beside(&path)).expect("index");
    index
        .execute("UPDATE text_state SET batch = batch - 1", [])
        .expect("state");
    drop(index);
    let store = Store::open(&path).expect("open again");
    Fixture { _dir, path, store }
}

#[test]
fn an_index_that_misses_writes_is_built_again_from_the_store() {
    let f = fixture();
    for n in 0..POLLS {
        poll(&f, "a", &story(n), n as i64);
    }
    let f = break_index(f);
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(60))));
    assert_all_found(&f, POLLS);
}

#[test]
fn a_rebuild_keeps_every_edit_and_item_that_comes_while_it_runs() {
    const STORED: usize = 3000;
    let f = fixture();
    let first: Vec<Item> = (0..STORED).flat_map(story).collect();
    poll(&f, "a", &first, 0);
    let f = break_index(f);
    // While the rebuild reads the store in chunks, the feed edits stories on both sides of
    // wherever it has got to and brings new ones.
    let edits: Vec<usize> = (0..STORED).step_by(97).collect();
    let mut all = first;
    for (round, &n) in edits.iter().enumerate() {
        let index = all.iter().position(|i| i.key.0 == format!("g:s{n}"));
        all[index.expect("stored")] = edited(n).remove(0);
        all.extend(story(STORED + round));
        poll(&f, "a", &all, 1 + round as i64);
    }
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(120))));
    let total = STORED + edits.len();
    for n in 0..total {
        let word = if edits.contains(&n) {
            assert!(matching(&f, &format!("\"word{n}\"")).is_empty(), "word{n}");
            format!("word{n}x")
        } else {
            format!("word{n}")
        };
        assert_eq!(matching(&f, &format!("\"{word}\"")), [format!("Story {n}")]);
    }
    let expr = parse("\"shared phrase of every story\"").expect("filter");
    assert_eq!(
        f.store
            .matching_ids(Some(&expr), 10_000)
            .expect("query")
            .len(),
        total
    );
}

/// Empties the index in its file and sets its count back, as if it had missed every write.
fn empty_index(path: &Path) {
    let index = Connection::open(crate::store::text_index::path_beside(path)).expect("index");
    index
        .execute_batch(&format!(
            "DROP TABLE item_text; {} UPDATE text_state SET batch = 0;",
            crate::store::text_index::TABLE
        ))
        .expect("emptied");
}

/// How many stored items a phrase query of `store` finds.
fn found(store: &Store, phrase: &str) -> usize {
    let expr = parse(phrase).expect("filter");
    store.matching_ids(Some(&expr), 100).expect("query").len()
}

#[test]
fn a_second_process_leaves_the_index_to_the_first() {
    let f = fixture();
    poll(&f, "a", &story(0), 0);
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(30))));
    empty_index(&f.path);
    // Another process (`feedsift poll` beside the daemon) opening the store meanwhile cannot
    // tell missed writes from writes on their way: it rebuilds nothing.
    let second = Store::open(&f.path).expect("a second store");
    assert_eq!(found(&second, "\"word0\""), 0);
    drop(second);
    let Fixture { _dir, path, store } = f;
    drop(store);
    empty_index(&path);
    // Alone, it does.
    let alone = Store::open(&path).expect("open alone");
    assert!(alone.wait_for_text_index(Some(Duration::from_secs(30))));
    assert_eq!(found(&alone, "\"word0\""), 1);
}

#[test]
fn an_index_whose_writes_fail_is_built_again_while_the_store_stays_open() {
    let f = fixture();
    for n in 0..POLLS / 2 {
        poll(&f, "a", &story(n), n as i64);
    }
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(30))));
    // The index's table is gone (a damaged file, a slip by hand): the next write fails.
    index_of(&f)
        .execute_batch("DROP TABLE item_text")
        .expect("dropped");
    for n in POLLS / 2..POLLS {
        poll(&f, "a", &story(n), n as i64);
    }
    assert!(f.store.wait_for_text_index(Some(Duration::from_secs(60))));
    assert_all_found(&f, POLLS);
    let stale: bool = index_of(&f)
        .query_row("SELECT stale FROM text_state", [], |r| r.get(0))
        .expect("state");
    assert!(!stale);
}
