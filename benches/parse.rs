//! Parse-stage benchmark: feed-rs alone ("before") against feedsift's parse stage with its
//! decoding, quick check and date parsing ("after"), over the test fixtures and generated
//! news feeds. Reports MB/s for both and the normalisation's share on documents that need no
//! repair (target: under 10 % of parse time), and separately on the ones that do.
//!
//! Run: `cargo bench --bench parse` (or `-- N` for the best of N timings of each document; default 15).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use feed_rs::parser::Builder;
use feedsift::parse::{Source, parse_feed};
use support::{Rng, rss_document};

const BASE: &str = "https://bench.example/feed";

fn main() {
    let rounds: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(15);
    std::panic::set_hook(Box::new(|_| {}));
    let mut corpus = Vec::new();
    fixtures(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut corpus,
    );
    let fixture_count = corpus.len();
    let mut rng = Rng::new(11);
    corpus.extend((0..100).map(|d| rss_document(d, &mut rng).into_bytes()));
    println!(
        "corpus: {fixture_count} fixtures + 100 generated feeds, {:.1} MB",
        corpus.iter().map(Vec::len).sum::<usize>() as f64 / 1e6
    );

    let (clean, repaired): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = corpus.iter().partition(|doc| {
        parse_feed(doc, &Source::at(Some(BASE))).is_ok_and(|f| f.repairs.is_empty())
    });
    for (label, docs) in [
        ("no repair needed", clean),
        ("repaired or refused", repaired),
    ] {
        let bytes: usize = docs.iter().map(|d| d.len()).sum();
        let (before, after) = best_times(rounds, &docs);
        let mbps = |t: Duration| bytes as f64 / 1e6 / t.as_secs_f64();
        println!(
            "{label}: {} documents; feed-rs alone {:.1} MB/s, feedsift parse {:.1} MB/s; \
             normalisation costs {:+.1} % of parse time",
            docs.len(),
            mbps(before),
            mbps(after),
            100.0 * (after.as_secs_f64() / before.as_secs_f64() - 1.0)
        );
    }
}

/// For each document, the best of `rounds` timings of feed-rs alone and of feedsift's parse
/// stage, taken in turn so both see the same machine (this one is noisy); summed.
fn best_times(rounds: usize, docs: &[&Vec<u8>]) -> (Duration, Duration) {
    let mut total = (Duration::ZERO, Duration::ZERO);
    for doc in docs {
        let mut best = (Duration::MAX, Duration::MAX);
        for _ in 0..rounds {
            let start = Instant::now();
            // feed-rs panics on some of these (UTF-16 without our decoding).
            let _ = std::panic::catch_unwind(|| feed_rs_alone(doc));
            best.0 = best.0.min(start.elapsed());
            let start = Instant::now();
            let _ = parse_feed(doc, &Source::at(Some(BASE)));
            best.1 = best.1.min(start.elapsed());
        }
        total.0 += best.0;
        total.1 += best.1;
    }
    total
}

/// feed-rs as feedsift called it before doing its own decoding and repairs.
fn feed_rs_alone(doc: &[u8]) -> Result<feed_rs::model::Feed, feed_rs::parser::ParseFeedError> {
    Builder::new()
        .base_uri(Some(BASE))
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build()
        .parse(doc)
}

fn fixtures(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixtures(&path, out);
        } else {
            out.push(std::fs::read(&path).expect("read fixture"));
        }
    }
}
