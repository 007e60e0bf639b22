//! Store benchmark: insert 1,000,000 items (10,000 distinct tags) into an empty database,
//! merge the text index as its idle thread does, look up content hashes, and serve outputs
//! with three-term filters (newest 50).
//!
//! Run: `cargo bench --bench store` (or `-- 200000` for fewer items; `-- --db PATH` keeps the
//! database at PATH and reuses it on the next run, to time queries without inserting again).

mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use feedsift::filter::parse;
use feedsift::model::{ContentHash, Item, PollWrite, Tag, TagOrigin, UpstreamKey};
use feedsift::store::Store;
use feedsift::text::tag_key;
use support::{Rng, word};

const FEEDS: usize = 100;
const TAGS: usize = 10_000;
const BATCH: usize = 1_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let total: usize = args
        .iter()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(1_000_000);
    let kept = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = kept.unwrap_or_else(|| dir.path().join("bench.db"));
    let store = Store::open(&path).expect("open");
    let specs = support::register_feeds(&store, FEEDS, |f| format!("https://feed{f}.example/rss"));

    let mut rng = Rng::new(42);
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    // Items are made a batch at a time, so the bench holds one batch (and every hash) rather
    // than a million items: it runs in a few hundred MiB, on a Raspberry Pi too.
    let fresh = store.item_count().expect("count") < total as i64;
    let mut hashes = Vec::with_capacity(total);
    let mut insert = Duration::ZERO;
    for (batch, first) in (0..total).step_by(BATCH).enumerate() {
        let chunk: Vec<Item> = (first..(first + BATCH).min(total))
            .map(|n| item(n, &mut rng, now))
            .collect();
        hashes.extend(chunk.iter().map(|i| i.hash));
        if fresh {
            let write = PollWrite {
                name: specs[batch % FEEDS].name.clone(),
                outcome: support::fetched(),
                items: chunk,
                now,
                next_poll: now,
                near_window: None,
                full_text: false,
            };
            let start = Instant::now();
            let written = store.record_polls(&[write]).expect("poll");
            insert += start.elapsed();
            written.into_iter().for_each(|r| {
                r.expect("poll written");
            });
        }
    }
    if fresh {
        // The text index follows on its own thread: an insert is done once it is indexed.
        let start = Instant::now();
        store.wait_for_text_index(None);
        insert += start.elapsed();
        println!(
            "insert: {total} items in {:.1} s = {:.0} items/s",
            insert.as_secs_f64(),
            total as f64 / insert.as_secs_f64()
        );
        // What the text index's thread does once no batch comes, here without waiting for
        // the quiet second: queries below see the index as a daemon serves it.
        let start = Instant::now();
        let index = rusqlite::Connection::open(format!("{}-text", path.display())).expect("index");
        let merge = || {
            let before = index.total_changes();
            index
                .execute(
                    "INSERT INTO item_text (item_text, rank) VALUES ('merge', 256)",
                    [],
                )
                .expect("merge");
            index.total_changes() - before >= 2
        };
        let steps = std::iter::from_fn(|| merge().then_some(())).count();
        println!(
            "text index tidied as its idle thread does: {steps} steps, {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    let size =
        |ext: &str| std::fs::metadata(format!("{}{ext}", path.display())).map_or(0, |m| m.len());
    println!(
        "database: {:.0} MiB",
        (size("") + size("-wal") + size("-text") + size("-text-wal")) as f64 / 1048576.0
    );

    let mut lookups = Vec::new();
    for _ in 0..10_000 {
        let hash = hashes[rng.below(hashes.len())];
        let t = Instant::now();
        let found = store.item_for_hash(&hash).expect("lookup");
        lookups.push(t.elapsed());
        assert!(found.is_some());
    }
    let (median, p95) = percentiles(lookups);
    println!(
        "hash lookup at {total} items: median {:.1} µs, p95 {:.1} µs",
        micros(median),
        micros(p95)
    );

    for expr in [
        format!("#{} and not #{} or #{}", word(0), word(1), word(2)),
        format!("#{} #{} -#{}", word(3), word(10), word(50)),
        format!("(#{} or #{}) and not #{}", word(500), word(2000), word(0)),
        format!("#{} or #{} or #{}", word(9000), word(9500), word(9999)),
        format!("#{} and \"{}\" -feed:feed7", word(5), word(7)),
    ] {
        let parsed = parse(&expr).expect("valid expression");
        store.items_matching(Some(&parsed), 50).expect("warm-up");
        let mut samples = Vec::new();
        let mut found = 0;
        for _ in 0..20 {
            let t = Instant::now();
            found = store
                .items_matching(Some(&parsed), 50)
                .expect("query")
                .len();
            samples.push(t.elapsed());
        }
        let (median, p95) = percentiles(samples);
        println!(
            "output `{expr}` → {found} items: median {:.2} ms, p95 {:.2} ms",
            millis(median),
            millis(p95)
        );
    }
    println!("peak RSS: {:.0} MiB", support::peak_rss_mib());
}

fn item(n: usize, rng: &mut Rng, now: DateTime<Utc>) -> Item {
    let title = format!("Story {n} about {}", word(rng.below(2000)));
    let text: Vec<String> = (0..40).map(|_| word(rng.skewed(5000))).collect();
    let text = text.join(" ");
    let tags = (0..3)
        .map(|_| {
            let label = word(rng.skewed(TAGS));
            Tag {
                key: tag_key(&label),
                label,
                origin: if n.is_multiple_of(2) {
                    TagOrigin::Hashtag
                } else {
                    TagOrigin::Category
                },
            }
        })
        .collect();
    let hash = ContentHash::of_story(&title, &text, &[], None).expect("generated text");
    let published = now - chrono::Duration::seconds(rng.below(90 * 86400) as i64);
    Item {
        key: UpstreamKey(format!("g:{n}")),
        hash,
        title,
        link: Some(format!("https://news.example/{n}")),
        content: Some(format!("<p>{text}</p>")),
        base: None,
        author: None,
        published: Some(published),
        updated: None,
        tags,
        text: text.into(),
        dropped_links: Vec::new(),
        shape: None,
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The median and 95th percentile of some durations.
pub fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}
