//! The text index: polls written one transaction each leave many segments, which the writer
//! merges once it is idle, losing nothing.

use super::*;

const POLLS: usize = 40;

/// Segments of the text index now.
fn segments(f: &Fixture) -> i64 {
    f.store
        .reader()
        .query_row("SELECT count(DISTINCT segid) FROM item_text_idx", [], |r| {
            r.get(0)
        })
        .expect("segments")
}

/// `POLLS` polls of one story each, every one its own transaction, as a busy writer's are.
fn story(n: usize) -> Vec<Item> {
    items(
        &format!("s{n}"),
        &format!("Story {n}"),
        &format!("<p>Unique word{n} beside a shared phrase of every story.</p>"),
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
    let found = f.store.items_matching(Some(&expr), 100).expect("query");
    assert_eq!(found.len(), polls);
    f.store
        .writer()
        .execute(
            "INSERT INTO item_text (item_text, rank) VALUES ('integrity-check', 1)",
            [],
        )
        .expect("the text index is sound");
}

#[test]
fn tidying_merges_segments_step_by_step_until_none_is_left_to_merge() {
    let f = fixture();
    for n in 0..POLLS {
        poll(&f, "a", &story(n), n as i64);
    }
    let before = segments(&f);
    assert!(
        before >= 16,
        "{before} segments: one per poll, merged 16 at a time"
    );
    let steps = (0..1000)
        .take_while(|_| f.store.tidy_text_index().expect("merge"))
        .count();
    assert!(steps >= 1);
    let after = segments(&f);
    assert!(after <= 4 && after < before, "{before} → {after} segments");
    assert!(!f.store.tidy_text_index().expect("merge"), "nothing left");
    assert_all_found(&f, POLLS);
}

/// Fewer transactions than the writer merges after while busy (8): only idling merges them.
const FEW: usize = 7;

#[tokio::test]
async fn the_writer_merges_the_index_once_no_poll_comes() {
    let (f, _writer) = written_by_the_writer(FEW).await;
    let written = segments(&f);
    assert_eq!(
        written, FEW as i64,
        "one segment per transaction, none merged yet"
    );
    // Merging waits for a second without polls, then takes a few milliseconds.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while segments(&f) > 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tidy = segments(&f);
    assert!(
        tidy <= 4,
        "{written} segments after the polls, {tidy} after idling"
    );
    assert_all_found(&f, FEW);
}

/// `count` polls of an unchanged feed handed to `writer` one after another.
async fn unchanged(writer: &GroupCommit, count: i64) {
    for n in 0..count {
        let poll = PollWrite {
            name: "a".into(),
            outcome: PollOutcome::NotModified,
            items: Vec::new(),
            now: at(100 + n),
            next_poll: at(160 + n),
            near_window: None,
            full_text: false,
        };
        writer.write(poll).await.expect("written");
    }
}

#[tokio::test]
async fn polls_that_store_nothing_merge_far_less_often() {
    let (f, writer) = written_by_the_writer(FEW).await;
    // Five times the interval of polls that store stories, as a warm poll brings.
    unchanged(&writer, 5 * 8).await;
    assert_eq!(segments(&f), FEW as i64, "no merge step among them");
    // A daemon of unchanged feeds that never idles still tidies, slowly.
    unchanged(&writer, 64).await;
    let segments = segments(&f);
    assert!(segments < FEW as i64, "{segments} segments");
    assert_all_found(&f, FEW);
}

/// `polls` one-story polls handed to a writer thread one after another, as a daemon's are;
/// the writer is returned so that it goes on (idling) while the test looks.
async fn written_by_the_writer(polls: usize) -> (Fixture, GroupCommit) {
    let f = fixture();
    let writer = GroupCommit::spawn(f.store.clone());
    for n in 0..polls {
        let poll = PollWrite {
            name: "a".into(),
            outcome: fetched(),
            items: story(n),
            now: at(n as i64),
            next_poll: at(n as i64 + 60),
            near_window: None,
            full_text: false,
        };
        writer.write(poll).await.expect("written");
    }
    (f, writer)
}

#[tokio::test]
async fn the_writer_runs_at_background_priority() {
    let (_f, _writer) = written_by_the_writer(1).await;
    // Each writer thread lowers itself before its first transaction.
    let nice = crate::priority::nice_of_threads_named("feedsift-writer");
    let expected = crate::priority::background_nice_from_here().expect("/proc");
    assert!(nice.contains(&expected), "{nice:?}");
}

#[tokio::test]
async fn a_writer_that_never_idles_still_merges() {
    let (f, _writer) = written_by_the_writer(POLLS).await;
    // No quiet second has passed: only the merge steps taken between transactions count.
    let segments = segments(&f);
    assert!(
        segments < POLLS as i64 / 2,
        "{segments} segments after {POLLS} polls"
    );
    assert_all_found(&f, POLLS);
}

/// Stories edited by their feed between new ones, in a transaction of two polls: FTS5 writes
/// its buffer out whenever a row below the last one is written, so unless the texts wait for
/// the commit, each edit costs a segment.
#[test]
fn a_transaction_adds_one_segment_however_many_stored_texts_it_replaces() {
    let f = fixture();
    let first: Vec<Item> = (0..10).flat_map(story).collect();
    poll(&f, "a", &first, 0);
    assert_eq!(segments(&f), 1);
    let edited = |n: usize| {
        items(
            &format!("s{n}"),
            &format!("Story {n}"),
            &format!("<p>Edited word{n}x beside a shared phrase of every story.</p>"),
            &[],
        )
    };
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
