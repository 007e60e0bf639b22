//! Near-duplicate benchmark: how well and at what cost stories told in other words are merged.
//!
//! The story generator of the tests (`tests/it/stories.rs`: 7 kinds of copies, 5 kinds of
//! look-alikes, templated digests, each with its truth) spread over 1,000 feeds in RSS, Atom and
//! JSON Feed, ingested as the daemon does (parse, process, shapes, store, 16 documents a
//! transaction), once without near merging (the pipeline as it was) and once with it. Prints
//! the recall of every kind of copy, the wrong merges per 1,000 items, and the ingest time of
//! both runs with their ratio. Then the store grows: the corpus again and again, a day later
//! each time, with the near index pruned as the daemon prunes it, printing the ingest time per
//! 1,000 items at each size.
//!
//! Two corpora: the pairs alone (every story has a copy or a look-alike), and the pairs among
//! feeds of realistic size, each also carrying `SINGLES` stories no other feed tells.
//!
//! Run: `cargo bench --bench near` (or `-- PAIRS_PER_KIND SINGLES GROW_TO`; defaults 100, 10
//! and 100000; `-- 100 10 1000000` grows the store to a million items).

#[path = "../tests/it/stories.rs"]
mod stories;
mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use feedsift::model::PollWrite;
use feedsift::parse::{Source, parse_feed};
use feedsift::process::process_feed;
use feedsift::store::{FeedSpec, Retention, Store};
use stories::{Corpus, Entry, Kind};

const FEEDS: usize = 1000;
const GROUP: usize = 16;
const WINDOW: Duration = Duration::from_secs(3 * 86400);

fn main() {
    let mut args = std::env::args().filter_map(|a| a.parse::<usize>().ok());
    let per_kind = args.next().unwrap_or(100);
    let singles = args.next().unwrap_or(10);
    let grow_to = args.next().unwrap_or(100_000);
    let corpus = stories::corpus(5, per_kind);
    let feeds = spread(&corpus, 0, 0);
    let truth: HashMap<String, usize> = feeds
        .iter()
        .flatten()
        .map(|e| (e.link.clone(), e.story))
        .collect();
    let entries: usize = feeds.iter().map(Vec::len).sum();
    println!(
        "near: {} pairs ({per_kind} of each of {} kinds) and {} digests, {entries} items in {FEEDS} feeds",
        corpus.pairs.len(),
        Kind::POSITIVE.len() + Kind::NEGATIVE.len(),
        entries - 2 * corpus.pairs.len(),
    );
    let now = Utc::now();
    let (_, store) = compare("pairs alone", &feeds, now);
    quality(&corpus, &store.0, &truth);
    let mixed = spread(&corpus, singles, 0);
    compare(&format!("with {singles} singles a feed"), &mixed, now);
    grow(&store.0, &store.1, (per_kind, singles), now, grow_to);
}

/// Ingests `feeds` without and with near merging (best of three each); returns the second.
fn compare(
    label: &str,
    feeds: &[Vec<Entry>],
    now: DateTime<Utc>,
) -> (Duration, (Store, Vec<FeedSpec>, tempfile::TempDir)) {
    let items: usize = feeds.iter().map(Vec::len).sum();
    let best = |near| {
        (0..3)
            .map(|_| ingest_corpus(feeds, near, now))
            .min_by_key(|(took, _)| *took)
            .expect("three runs")
    };
    let (without, _) = best(false);
    let (with, store) = best(true);
    println!(
        "ingest, {label} ({items} items): without near merging {:.2} s ({:.0} items/s), with {:.2} s: {:.0} % of the time without",
        without.as_secs_f64(),
        items as f64 / without.as_secs_f64(),
        with.as_secs_f64(),
        100.0 * with.as_secs_f64() / without.as_secs_f64()
    );
    (with, store)
}

/// The corpus over `FEEDS` feeds: each pair's original and copy in different feeds (a copy of
/// the same-feed kind beside its original), each digest series in a feed of its own; every
/// feed also carries `singles` stories of its own, different ones in every `round`.
fn spread(corpus: &Corpus, singles: usize, round: u64) -> Vec<Vec<Entry>> {
    let first_single = corpus
        .feeds
        .iter()
        .flat_map(|(_, e)| e)
        .map(|e| e.story)
        .max()
        .unwrap_or(0)
        + 1;
    let mut feeds: Vec<Vec<Entry>> = (0..FEEDS)
        .map(|n| {
            let name = format!("feed{n}");
            stories::singles(
                round * 100_000 + n as u64,
                &name,
                singles,
                first_single + n * singles,
            )
        })
        .collect();
    let story_of: HashMap<String, usize> = corpus
        .feeds
        .iter()
        .flat_map(|(_, entries)| entries)
        .map(|e| (e.link.clone(), e.story))
        .collect();
    for (name, entries) in &corpus.feeds {
        for entry in entries {
            let feed = match name.as_str() {
                "digest-d" => FEEDS - 1,
                "digest-e" => FEEDS - 2,
                "wire" => match entry.link.strip_suffix("-again") {
                    Some(original) => (story_of[original] * 2) % (FEEDS - 2),
                    None => (entry.story * 2) % (FEEDS - 2),
                },
                _ => (entry.story * 2 + 1) % (FEEDS - 2),
            };
            feeds[feed].push(entry.clone());
        }
    }
    feeds
}

/// Parses, processes and stores every feed as the daemon does; returns the time taken and
/// the store (with its feeds).
fn ingest_corpus(
    feeds: &[Vec<Entry>],
    near: bool,
    now: DateTime<Utc>,
) -> (Duration, (Store, Vec<FeedSpec>, tempfile::TempDir)) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("near.db")).expect("open");
    let specs = support::register_feeds(&store, FEEDS, |n| format!("https://feed{n}.example/"));
    let documents: Vec<String> = feeds
        .iter()
        .enumerate()
        .map(|(n, entries)| stories::document(&format!("feed{n}"), entries, n))
        .collect();
    let started = Instant::now();
    ingest(&store, &specs, &documents, near, now);
    (started.elapsed(), (store, specs, dir))
}

fn ingest(store: &Store, specs: &[FeedSpec], documents: &[String], near: bool, now: DateTime<Utc>) {
    for group in documents
        .iter()
        .zip(specs)
        .collect::<Vec<_>>()
        .chunks(GROUP)
    {
        let polls: Vec<PollWrite> = group
            .iter()
            .map(|(document, spec)| {
                let parsed =
                    parse_feed(document.as_bytes(), &Source::at(Some(&spec.url))).expect("parse");
                let mut items = process_feed(&parsed, None).items;
                if near {
                    feedsift::near::shape_items(&mut items, |_| true);
                }
                PollWrite {
                    name: spec.name.clone(),
                    outcome: support::fetched(),
                    items,
                    now,
                    next_poll: now,
                    near_window: near.then_some(WINDOW),
                    full_text: false,
                }
            })
            .collect();
        for result in store.record_polls(&polls).expect("store") {
            result.expect("poll stored");
        }
    }
}

/// Recall of each kind of copy and wrong merges, item by item against the truth.
fn quality(corpus: &Corpus, store: &Store, truth: &HashMap<String, usize>) {
    let items = store.items_matching(None, 1_000_000).expect("items");
    let stories: Vec<BTreeSet<usize>> = items
        .iter()
        .map(|item| {
            item.sources
                .iter()
                .filter_map(|s| s.link.as_deref().and_then(|l| truth.get(l)))
                .copied()
                .collect()
        })
        .collect();
    let mut items_of: HashMap<usize, usize> = HashMap::new();
    for set in &stories {
        for story in set {
            *items_of.entry(*story).or_default() += 1;
        }
    }
    let wrong_items = stories.iter().filter(|s| s.len() > 1).count();
    let mut line = Vec::new();
    let (mut merged, mut positives) = (0, 0);
    for kind in Kind::POSITIVE {
        let pairs: Vec<_> = corpus.pairs.iter().filter(|(k, ..)| *k == kind).collect();
        let together = pairs
            .iter()
            .filter(|(_, story, _)| items_of.get(story) == Some(&1))
            .count();
        merged += together;
        positives += pairs.len();
        line.push(format!("{kind:?} {together}/{}", pairs.len()));
    }
    let mut wrong_pairs = Vec::new();
    for kind in Kind::NEGATIVE {
        let merged_wrongly = corpus
            .pairs
            .iter()
            .filter(|(k, a, b)| {
                *k == kind && stories.iter().any(|s| s.contains(a) && s.contains(b))
            })
            .count();
        wrong_pairs.push(format!("{kind:?} {merged_wrongly}"));
    }
    println!(
        "recall: {:.1} % of copies merged ({})",
        100.0 * merged as f64 / positives as f64,
        line.join(", ")
    );
    println!(
        "precision: {wrong_items} wrong merges in {} items = {:.2} per 1,000 (look-alikes merged: {})",
        items.len(),
        1000.0 * wrong_items as f64 / items.len() as f64,
        wrong_pairs.join(", ")
    );
}

/// Ingests new corpora of the same shape, ten days later each round, until the store holds
/// `grow_to` items, pruning the near index as the daemon's pruner does; prints the ingest time
/// per 1,000 items as the store grows.
fn grow(
    store: &Store,
    specs: &[FeedSpec],
    (per_kind, singles): (usize, usize),
    start: DateTime<Utc>,
    grow_to: usize,
) {
    let retention = Retention {
        max_age: Duration::from_secs(10 * 365 * 86400),
        max_items_per_feed: 10_000_000,
        near_window: WINDOW,
    };
    let mut round = 1i64;
    let mut first: Option<f64> = None;
    let mut stored = store.item_count().expect("count") as usize;
    while stored < grow_to {
        let shift = round * 10 * 86400;
        let feeds = spread(
            &stories::corpus(100 + round as u64, per_kind),
            singles,
            round as u64,
        );
        let documents: Vec<String> = feeds
            .iter()
            .enumerate()
            .map(|(n, entries)| {
                let moved: Vec<Entry> = entries
                    .iter()
                    .map(|e| Entry {
                        guid: format!("{}-r{round}", e.guid),
                        link: format!("{}-r{round}", e.link),
                        published: e.published + shift,
                        ..e.clone()
                    })
                    .collect();
                stories::document(&format!("feed{n}"), &moved, n)
            })
            .collect();
        let now = start + chrono::Duration::seconds(shift);
        let started = Instant::now();
        ingest(store, specs, &documents, true, now);
        let took = started.elapsed().as_secs_f64();
        while store.prune_batch(now, retention, 10_000).expect("prune") != Default::default() {}
        let after = store.item_count().expect("count") as usize;
        let per_thousand = 1000.0 * took / (after - stored).max(1) as f64;
        let base = *first.get_or_insert(per_thousand);
        if round == 1 || round % 10 == 0 || after >= grow_to {
            println!(
                "grow: {after} items stored: {:.0} ms per 1,000 items ingested ({:.2}× the first round)",
                per_thousand * 1000.0,
                per_thousand / base
            );
        }
        stored = after;
        round += 1;
    }
}
