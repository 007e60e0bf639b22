//! Ingest benchmark: parse + process + store of feed documents read from files, one core.
//! Reports MB/s of feed XML and items/s end to end, and the share of each stage. Documents are
//! stored 16 to a transaction, as the daemon's writer does when polls finish together.
//! Then the floor: feed-rs reading the same documents and FTS5 indexing the same text, alone,
//! which no work in feedsift's own code can go below.
//!
//! Run: `cargo bench --bench ingest` (or `-- N` for N documents of 50 items; default 400).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::DateTime;
use feedsift::model::PollWrite;
use feedsift::parse::{Source, parse_feed};
use feedsift::process::process_feed;
use feedsift::store::Store;
use support::{Rng, rss_document};

/// Documents per transaction, as the daemon's writer groups polls that finish together.
const GROUP: usize = 16;

fn main() {
    let docs: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(400);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng::new(7);
    let paths: Vec<_> = (0..docs)
        .map(|d| {
            let path = dir.path().join(format!("feed{d}.xml"));
            std::fs::write(&path, rss_document(d, &mut rng)).expect("write fixture");
            path
        })
        .collect();
    let store = Store::open(&dir.path().join("bench.db")).expect("open");
    let specs = support::register_feeds(&store, docs, |d| format!("file:///feed{d}.xml"));

    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let (mut bytes, mut items) = (0usize, 0usize);
    let (mut t_parse, mut t_process, mut t_store) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let start = Instant::now();
    let mut pending = Vec::new();
    for (n, (path, spec)) in paths.iter().zip(&specs).enumerate() {
        let body = std::fs::read(path).expect("read");
        bytes += body.len();
        let t = Instant::now();
        let parsed = parse_feed(&body, &Source::at(Some(&spec.url))).expect("parse");
        t_parse += t.elapsed();
        let t = Instant::now();
        let processed = process_feed(&parsed, None);
        t_process += t.elapsed();
        items += processed.items.len();
        pending.push(PollWrite {
            name: spec.name.clone(),
            outcome: support::fetched(),
            items: processed.items,
            now,
            next_poll: now,
            near_window: None,
            full_text: false,
        });
        if pending.len() == GROUP || n + 1 == paths.len() {
            let t = Instant::now();
            for result in store.record_polls(&pending).expect("store") {
                result.expect("poll stored");
            }
            pending.clear();
            t_store += t.elapsed();
        }
    }
    let total = start.elapsed();
    let mb = bytes as f64 / 1e6;
    println!(
        "ingest: {docs} documents, {mb:.1} MB, {items} items in {:.2} s: {:.1} MB/s, {:.0} items/s",
        total.as_secs_f64(),
        mb / total.as_secs_f64(),
        items as f64 / total.as_secs_f64()
    );
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
    println!(
        "stages: parse {:.0} %, process {:.0} %, store {:.0} %",
        share(t_parse),
        share(t_process),
        share(t_store)
    );
    println!("peak RSS: {:.0} MiB", support::peak_rss_mib());

    let (t_feed_rs, t_fts) = floor(dir.path(), &paths);
    println!(
        "floor: feed-rs alone {:.0} MB/s, FTS5 indexing alone {:.0} MB/s, both {:.1} MB/s",
        mb / t_feed_rs.as_secs_f64(),
        mb / t_fts.as_secs_f64(),
        mb / (t_feed_rs + t_fts).as_secs_f64()
    );
}

/// Times feed-rs reading every document, and FTS5 indexing every item's title and text into
/// an empty table declared as the store declares `item_text`, in transactions as large as
/// the ingest's.
fn floor(dir: &Path, paths: &[PathBuf]) -> (Duration, Duration) {
    let bodies: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("read"))
        .collect();
    let texts: Vec<(String, std::sync::Arc<str>)> = bodies
        .iter()
        .flat_map(|body| {
            let parsed = parse_feed(body, &Source::at(None)).expect("parse");
            process_feed(&parsed, None).items
        })
        .map(|item| (item.title, item.text))
        .collect();
    let t = Instant::now();
    for body in &bodies {
        feed_rs::parser::parse(body.as_slice()).expect("feed-rs parses");
    }
    let t_feed_rs = t.elapsed();

    let mut conn = rusqlite::Connection::open(dir.join("fts-only.db")).expect("open");
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
         CREATE VIRTUAL TABLE item_text USING fts5 (
             title, body, content = '', contentless_delete = 1,
             tokenize = 'unicode61 remove_diacritics 2');
         -- merged and buffered as the store's index is (migration 14)
         INSERT INTO item_text (item_text, rank) VALUES ('automerge', 16);
         INSERT INTO item_text (item_text, rank) VALUES ('crisismerge', 64);
         INSERT INTO item_text (item_text, rank) VALUES ('hashsize', 8388608);",
    )
    .expect("fts table");
    let t = Instant::now();
    for group in texts.chunks(GROUP * support::ITEMS_PER_DOC) {
        let tx = conn.transaction().expect("begin");
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO item_text (title, body) VALUES (?1, ?2)")
                .expect("prepare");
            for (title, text) in group {
                insert.execute([title.as_str(), &**text]).expect("index");
            }
        }
        tx.commit().expect("commit");
    }
    (t_feed_rs, t.elapsed())
}
