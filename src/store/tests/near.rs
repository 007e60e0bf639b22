//! The near band index in memory against the shapes stored: loaded when the store opens,
//! brought up to date with what another process stored, forgotten with a rolled-back write,
//! pruned with the shapes.

use super::*;
use rusqlite::{Connection, params};

use crate::model::NearShape;
use crate::near::shape_text;

/// A story of `n`'s own words, long enough to be compared, as feed copy `copy` tells it: the
/// copies share all but their last sentence.
fn told(n: usize, copy: &str, now: i64) -> Item {
    let words: Vec<String> = (0..60).map(|w| format!("w{n}x{w}")).collect();
    let html = format!(
        "<p>{}.</p><p>As {copy} put it, in closing.</p>",
        words.join(" ")
    );
    let mut item = item_at(
        &format!("{copy}-{n}"),
        &format!("https://{copy}.example/{n}"),
        &format!("Story {n} as {copy} tells it"),
        &html,
        &[],
    );
    item.published = Some(at(now));
    item.shape = shape_text(&item.title, &item.text);
    item
}

/// Entries of the band index as loaded, or none when it is not.
fn indexed(f: &Fixture) -> Option<usize> {
    f.store
        .inner
        .bands
        .lock()
        .expect("band index")
        .as_ref()
        .map(|b| b.len())
}

/// Entries the stored shapes give.
fn stored_entries(f: &Fixture) -> usize {
    let conn = f.store.reader();
    let bytes: i64 = conn
        .query_row(
            "SELECT coalesce(sum(length(bands)), 0) FROM near_shapes",
            [],
            |r| r.get(0),
        )
        .expect("bands");
    usize::try_from(bytes / 4).expect("count")
}

fn one_item_with_sources(f: &Fixture, title: &str) -> usize {
    let all = f.store.items_matching(None, 100).expect("query");
    all.iter()
        .find(|i| i.title == title)
        .map_or(0, |i| i.sources.len())
}

#[test]
fn a_copy_joins_a_story_indexed_before_the_store_was_reopened() {
    let f = fixture();
    poll(&f, "a", &[told(1, "a", 0)], 10);
    assert!(indexed(&f).is_some_and(|n| n > 0));
    let reopened = Fixture {
        store: Store::open(&f.path).expect("reopen"),
        ..f
    };
    assert_eq!(indexed(&reopened), None, "loaded on first use");
    let stats = poll(&reopened, "b", &[told(1, "b", 5)], 20);
    assert_eq!(stats.deduplicated, 1);
    assert_eq!(one_item_with_sources(&reopened, "Story 1 as a tells it"), 2);
    assert_eq!(indexed(&reopened), Some(stored_entries(&reopened)));
}

#[test]
fn a_copy_joins_a_story_another_process_stored_meanwhile() {
    let f = fixture();
    poll(&f, "a", &[told(1, "a", 0)], 10);
    assert!(indexed(&f).is_some(), "the daemon's index is loaded");
    // `feedsift poll` from the command line: a store of its own on the same file.
    let command_line = Store::open(&f.path).expect("second store");
    let write = PollWrite {
        name: "b".into(),
        outcome: fetched(),
        items: vec![told(2, "b", 20)],
        now: at(30),
        next_poll: at(90),
        near_window: Some(std::time::Duration::from_secs(3 * 86400)),
        full_text: false,
    };
    command_line
        .record_polls(&[write])
        .expect("written elsewhere");
    let stats = poll(&f, "a", &[told(2, "a", 25)], 40);
    assert_eq!(
        stats.deduplicated, 1,
        "merged into the story stored elsewhere"
    );
    assert_eq!(one_item_with_sources(&f, "Story 2 as b tells it"), 2);
    assert_eq!(indexed(&f), Some(stored_entries(&f)));
}

#[test]
fn a_rolled_back_poll_leaves_nothing_in_the_band_index() {
    let f = fixture();
    let write = |name: &str, items: Vec<Item>| PollWrite {
        name: name.into(),
        outcome: fetched(),
        items,
        now: at(10),
        next_poll: at(70),
        near_window: Some(std::time::Duration::from_secs(3 * 86400)),
        full_text: false,
    };
    // The second poll is of a feed the store does not know: it fails, the first is kept.
    let results = f
        .store
        .record_polls(&[
            write("a", vec![told(1, "a", 0)]),
            write("unknown", vec![told(2, "u", 0)]),
        ])
        .expect("record polls");
    assert!(results[0].is_ok() && results[1].is_err());
    assert_eq!(indexed(&f), None, "forgotten, to be loaded again");
    poll(&f, "b", &[told(3, "b", 5)], 20);
    assert_eq!(indexed(&f), Some(stored_entries(&f)));
    assert_eq!(stored_entries(&f), 2 * 22);
    // The kept poll's story is still found; the failed one's never was stored.
    poll(&f, "b", &[told(1, "b", 5), told(2, "b", 5)], 30);
    assert_eq!(one_item_with_sources(&f, "Story 1 as a tells it"), 2);
    assert_eq!(one_item_with_sources(&f, "Story 2 as b tells it"), 1);
}

#[test]
fn shapes_pruned_from_the_store_leave_the_band_index() {
    let f = fixture();
    let day = 86400;
    poll(&f, "a", &[told(1, "a", 0)], 10);
    poll(&f, "a", &[told(2, "a", 3 * day)], 3 * day);
    let retention = Retention {
        max_age: std::time::Duration::from_secs(365 * day as u64),
        max_items_per_feed: 1000,
        near_window: std::time::Duration::from_secs(2 * day as u64),
    };
    // Story 1 was seen more than the window and a day ago: its shape goes, story 2's stays.
    f.store
        .prune_batch(at(3 * day + 100), retention, 100)
        .expect("prune");
    assert_eq!(stored_entries(&f), 22);
    assert_eq!(indexed(&f), Some(22));
    poll(&f, "b", &[told(2, "b", 3 * day)], 3 * day + 200);
    assert_eq!(one_item_with_sources(&f, "Story 2 as a tells it"), 2);
}

/// Schema 14 kept band keys (64 bits, of which the index now keeps the high half) in a table
/// of their own: a story indexed then is found by a copy after the upgrade.
#[test]
fn a_story_indexed_by_schema_14_is_found_after_the_upgrade() {
    let f = fixture();
    poll(&f, "a", &[told(1, "a", 0)], 10);
    let path = f.path.clone();
    drop(f.store);
    let conn = Connection::open(&path).expect("open");
    let (id, item_id, seen, bytes): (i64, i64, i64, Vec<u8>) = conn
        .query_row(
            "SELECT id, item_id, seen, bands FROM near_shapes",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .expect("one shape");
    conn.execute_batch(
        "CREATE TABLE near_bands (
             band INTEGER NOT NULL, item_id INTEGER NOT NULL, seen INTEGER NOT NULL,
             PRIMARY KEY (band, item_id)
         ) STRICT, WITHOUT ROWID;
         ALTER TABLE near_shapes DROP COLUMN bands;
         DROP TABLE text_state;
         PRAGMA user_version = 14;",
    )
    .expect("back to schema 14");
    for band in NearShape::hashes_from_bytes(&bytes) {
        let key = ((u64::from(band) << 32) | 0x1234_5678) as i64;
        conn.execute(
            "INSERT INTO near_bands (band, item_id, seen) VALUES (?1, ?2, ?3)",
            params![key, item_id, seen],
        )
        .expect("band row");
    }
    drop(conn);
    let upgraded = Fixture {
        store: Store::open(&path).expect("upgrade"),
        ..f
    };
    let kept: Vec<u8> = upgraded
        .store
        .reader()
        .query_row("SELECT bands FROM near_shapes WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("shape");
    let sorted = |bytes: &[u8]| {
        let mut keys = NearShape::hashes_from_bytes(bytes);
        keys.sort_unstable();
        keys
    };
    assert_eq!(
        sorted(&kept),
        sorted(&bytes),
        "the keys as this version computes them"
    );
    poll(&upgraded, "b", &[told(1, "b", 5)], 20);
    assert_eq!(one_item_with_sources(&upgraded, "Story 1 as a tells it"), 2);
}
