//! Ingest benchmark: parse + process + store of feed documents read from files, one core.
//! Reports MB/s of feed XML and items/s end to end, and the share of each stage. Documents are
//! stored 16 to a transaction, as the daemon's writer does when polls finish together.
//!
//! Run: `cargo bench --bench ingest` (or `-- N` for N documents of 50 items; default 400).

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use feedsift::parse::parse_feed;
use feedsift::process::process_feed;
use feedsift::store::{FeedSpec, PollOutcome, PollWrite, Store};
use support::{Rng, word};

const ITEMS_PER_DOC: usize = 50;
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
    let specs: Vec<FeedSpec> = (0..docs)
        .map(|d| FeedSpec {
            name: format!("feed{d}"),
            url: format!("file:///feed{d}.xml"),
            tags: Vec::new(),
        })
        .collect();
    store.sync_feeds(&specs).expect("sync");

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
        let parsed = parse_feed(&body, Some(&spec.url), None).expect("parse");
        t_parse += t.elapsed();
        let t = Instant::now();
        let processed = process_feed(&parsed, None);
        t_process += t.elapsed();
        items += processed.items.len();
        pending.push(PollWrite {
            name: spec.name.clone(),
            outcome: fetched(),
            items: processed.items,
            now,
            next_poll: now,
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
}

fn fetched() -> PollOutcome {
    PollOutcome::Fetched {
        etag: None,
        last_modified: None,
        title: None,
        site_link: None,
        guid_fallback: false,
        repairs: None,
    }
}

/// An RSS 2.0 document of 50 items with HTML descriptions, like a news site's feed.
fn rss_document(d: usize, rng: &mut Rng) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Feed {d}</title>\
         <link>https://site{d}.example/</link><description>Bench feed</description>\n"
    );
    let base: DateTime<Utc> = DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    for i in 0..ITEMS_PER_DOC {
        let words: Vec<String> = (0..120).map(|_| word(rng.skewed(5000))).collect();
        let paragraphs: Vec<String> = words
            .chunks(30)
            .map(|c| format!("<p>{}</p>", c.join(" ")))
            .collect();
        let tags: Vec<String> = (0..3)
            .map(|_| format!("#{}", word(rng.skewed(10_000))))
            .collect();
        let date = base + chrono::Duration::seconds(rng.below(30 * 86400) as i64);
        xml.push_str(&format!(
            "<item><title>Story {d}-{i} on {}</title><link>https://site{d}.example/{i}?utm_source=rss</link>\
             <guid isPermaLink=\"false\">site{d}-{i}</guid><pubDate>{}</pubDate><category>{}</category>\
             <description><![CDATA[{}<p>{}</p>]]></description></item>\n",
            word(rng.below(2000)),
            date.to_rfc2822(),
            word(rng.skewed(300)),
            paragraphs.join(""),
            tags.join(" ")
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}
