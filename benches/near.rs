//! Near-duplicate benchmark: how well and at what cost stories told in other words are merged.
//!
//! The story generator of the tests (`tests/it/stories.rs`: 7 kinds of copies, 5 kinds of
//! look-alikes, templated digests, each with its truth) spread over 1,000 feeds in RSS, Atom and
//! JSON Feed, ingested through the daemon's own pipeline without the network (documents
//! parsed, processed and shaped on its parsing threads, one per core; written by its writer
//! thread, which takes whatever polls wait as one transaction), without near merging (the
//! pipeline as it was) and with it, five runs of each in turn. Prints the recall of every kind
//! of copy, the wrong merges per 1,000 items, the wall and CPU time of the fastest run of
//! each with their ratios, and the median ratio of runs taken in pairs. Then two stores grow,
//! with and without near merging: the corpus again and again, ten days later each time, with
//! the near index pruned as the daemon prunes it, printing the ingest time per 1,000 items of
//! both at each size.
//!
//! Two corpora: the pairs alone (every story has a copy or a look-alike), and the pairs among
//! feeds of realistic size, each also carrying `SINGLES` stories no other feed tells.
//!
//! Run: `cargo bench --bench near` (or `-- PAIRS_PER_KIND SINGLES GROW_TO`; defaults 100, 10
//! and 100000; `-- 100 10 1000000` grows the stores to a million items).

#[path = "../tests/it/stories.rs"]
mod stories;
mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use feedsift::model::PollWrite;
use feedsift::parse::{Limits, Source, parse_feed};
use feedsift::process::process_feed;
use feedsift::refresh::Parsing;
use feedsift::store::{FeedSpec, GroupCommit, Retention, Store};
use stories::{Corpus, Entry, Kind};

const FEEDS: usize = 1000;
const WINDOW: Duration = Duration::from_secs(3 * 86400);

fn main() {
    let one = std::env::args()
        .skip_while(|a| a != "--one")
        .nth(1)
        .map(|what| One::from(&what));
    let mut args = std::env::args().filter_map(|a| a.parse::<usize>().ok());
    let per_kind = args.next().unwrap_or(100);
    let singles = args.next().unwrap_or(10);
    let grow_to = args.next().unwrap_or(100_000);
    let corpus = stories::corpus(5, per_kind);
    if let Some(one) = one {
        let mixed = spread(&corpus, singles, 0);
        let (dir, store, specs, documents) = prepare(&mixed);
        let near = match one {
            One::Setup => return,
            One::With => true,
            One::Without => false,
        };
        let took = ingest(&store, &specs, &documents, near, Utc::now());
        println!(
            "one ingest, near merging {}: {:.2} s (CPU {:.2} s)",
            if near { "on" } else { "off" },
            took.wall.as_secs_f64(),
            took.cpu
        );
        drop(dir);
        return;
    }
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
    let (store, _) = compare("pairs alone", &feeds, now);
    quality(&corpus, &store.0, &truth);
    let mixed = spread(&corpus, singles, 0);
    let (with, without) = compare(&format!("with {singles} singles a feed"), &mixed, now);
    grow([&with, &without], (per_kind, singles), now, grow_to);
}

/// A store with its feeds, in a directory of its own.
type Stored = (Store, Vec<FeedSpec>, tempfile::TempDir);

/// Runs of each kind in a comparison, taken in turn so that both see the same machine.
const RUNS: usize = 5;

/// Ingests `feeds` without and with near merging (the fastest of [`RUNS`] each, and the
/// median of each pair's ratio: runs taken side by side see the same machine, so their ratios
/// spread less than the fastest runs); returns both stores, with near merging first.
fn compare(label: &str, feeds: &[Vec<Entry>], now: DateTime<Utc>) -> (Stored, Stored) {
    let items: usize = feeds.iter().map(Vec::len).sum();
    let mut best: [Option<(Took, Stored)>; 2] = [None, None];
    let (mut wall_ratios, mut cpu_ratios) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let [without, with] = [false, true].map(|near| {
            let run = ingest_corpus(feeds, near, now);
            let took = run.0;
            let slot = &mut best[usize::from(near)];
            if slot.as_ref().is_none_or(|(best, _)| took.wall < best.wall) {
                *slot = Some(run);
            }
            took
        });
        wall_ratios.push(with.wall.as_secs_f64() / without.wall.as_secs_f64());
        cpu_ratios.push(with.cpu / without.cpu);
    }
    let [without, with] = best.map(|run| run.expect("RUNS > 0"));
    let ((without, plain), (with, store)) = (without, with);
    println!(
        "ingest, {label} ({items} items): without near merging {:.2} s ({:.0} items/s, CPU {:.2} s), with {:.2} s (CPU {:.2} s): {:.0} % of the time without (CPU {:.0} %)",
        without.wall.as_secs_f64(),
        items as f64 / without.wall.as_secs_f64(),
        without.cpu,
        with.wall.as_secs_f64(),
        with.cpu,
        100.0 * with.wall.as_secs_f64() / without.wall.as_secs_f64(),
        100.0 * with.cpu / without.cpu,
    );
    println!(
        "  median of the {RUNS} runs taken in pairs: {:.0} % of the time without (CPU {:.0} %)",
        100.0 * median(&mut wall_ratios),
        100.0 * median(&mut cpu_ratios),
    );
    (store, plain)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
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

/// Parses, processes and stores every feed as the daemon does; returns the time taken, the
/// CPU time taken, and the store (with its feeds).
fn ingest_corpus(feeds: &[Vec<Entry>], near: bool, now: DateTime<Utc>) -> (Took, Stored) {
    let (dir, store, specs, documents) = prepare(feeds);
    let took = ingest(&store, &specs, &documents, near, now);
    (took, (store, specs, dir))
}

/// An empty store with `feeds` registered, and their documents.
fn prepare(feeds: &[Vec<Entry>]) -> (tempfile::TempDir, Store, Vec<FeedSpec>, Vec<Arc<String>>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&dir.path().join("near.db")).expect("open");
    let specs = support::register_feeds(&store, FEEDS, |n| format!("https://feed{n}.example/"));
    let documents: Vec<Arc<String>> = feeds
        .iter()
        .enumerate()
        .map(|(n, entries)| Arc::new(stories::document(&format!("feed{n}"), entries, n)))
        .collect();
    (dir, store, specs, documents)
}

/// `--one with|without|setup`: a single ingest of the corpus with feeds of realistic size,
/// with or without near merging, or only what comes before it; for counting instructions
/// (`benches/near-instructions.sh`), which repeat where wall times on a shared machine do not.
enum One {
    With,
    Without,
    Setup,
}

impl One {
    fn from(what: &str) -> One {
        match what {
            "with" => One::With,
            "without" => One::Without,
            "setup" => One::Setup,
            other => panic!("--one takes with, without or setup, not {other}"),
        }
    }
}

/// Wall and CPU time of an ingest.
#[derive(Clone, Copy)]
struct Took {
    wall: Duration,
    cpu: f64,
}

/// The daemon's pipeline without the network: each document parsed, processed and shaped on
/// the parsing threads (one per core, as the daemon has them), then written by the writer
/// thread, which takes whatever polls are waiting as one transaction, and indexed by the text
/// index's thread.
fn ingest(
    store: &Store,
    specs: &[FeedSpec],
    documents: &[Arc<String>],
    near: bool,
    now: DateTime<Utc>,
) -> Took {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let (started, cpu) = (Instant::now(), support::cpu_seconds());
    runtime.block_on(async {
        let parsing = Parsing::new(Limits::NONE, cores).expect("parsing threads");
        let writer = GroupCommit::spawn(store.clone());
        let polls: Vec<_> = documents
            .iter()
            .zip(specs)
            .map(|(document, spec)| {
                let (document, parsing, writer) =
                    (document.clone(), parsing.clone(), writer.clone());
                let (name, url) = (spec.name.clone(), spec.url.clone());
                tokio::spawn(async move {
                    let items = parsing
                        .run(Duration::from_secs(600), move |limits| {
                            let source = Source {
                                limits,
                                ..Source::at(Some(&url))
                            };
                            let parsed = parse_feed(document.as_bytes(), &source)?;
                            let mut items = process_feed(&parsed, None).items;
                            if near {
                                feedsift::near::shape_items(&mut items, |_| true);
                            }
                            Ok(items)
                        })
                        .await
                        .expect("parse");
                    writer
                        .write(PollWrite {
                            name,
                            outcome: support::fetched(),
                            items,
                            now,
                            next_poll: now,
                            near_window: near.then_some(WINDOW),
                            full_text: false,
                        })
                        .await
                        .expect("poll stored")
                })
            })
            .collect();
        for poll in polls {
            poll.await.expect("poll task");
        }
    });
    // The text index follows on its own thread: an ingest is done once it is indexed.
    store.wait_for_text_index(None);
    Took {
        wall: started.elapsed(),
        cpu: support::cpu_seconds() - cpu,
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

/// Ingests new corpora of the same shape, ten days later each round, into both stores (with
/// and without near merging) until they hold `grow_to` items, pruning the near index as the
/// daemon's pruner does; prints the ingest time per 1,000 items of both as the stores grow:
/// what near merging adds should not grow with them.
fn grow(
    [with, without]: [&Stored; 2],
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
    let mut first: Option<[f64; 2]> = None;
    let count = |stored: &Stored| stored.0.item_count().expect("count") as usize;
    let mut stored = [count(with), count(without)];
    while stored[0] < grow_to {
        let shift = round * 10 * 86400;
        let feeds = spread(
            &stories::corpus(100 + round as u64, per_kind),
            singles,
            round as u64,
        );
        let documents: Vec<Arc<String>> = feeds
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
                Arc::new(stories::document(&format!("feed{n}"), &moved, n))
            })
            .collect();
        let now = start + chrono::Duration::seconds(shift);
        let mut per_thousand = [0.0; 2];
        for (n, (store, specs, _)) in [with, without].into_iter().enumerate() {
            let took = ingest(store, specs, &documents, n == 0, now);
            while store.prune_batch(now, retention, 10_000).expect("prune") != Default::default() {}
            let after = store.item_count().expect("count") as usize;
            per_thousand[n] = 1000.0 * took.wall.as_secs_f64() / (after - stored[n]).max(1) as f64;
            stored[n] = after;
        }
        let base = *first.get_or_insert(per_thousand);
        if round == 1 || round % 10 == 0 || stored[0] >= grow_to {
            println!(
                "grow: {} items stored: {:.0} ms per 1,000 items ingested with near merging, {:.0} without ({:.2}× and {:.2}× the first round; with/without {:.2})",
                stored[0],
                per_thousand[0] * 1000.0,
                per_thousand[1] * 1000.0,
                per_thousand[0] / base[0],
                per_thousand[1] / base[1],
                per_thousand[0] / per_thousand[1],
            );
        }
        round += 1;
    }
}
