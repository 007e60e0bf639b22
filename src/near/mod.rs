//! Near duplicates: the same story told in other words. Pure.
//!
//! Each item's text becomes a [`NearShape`]: its word shingles (three words in a row) with the
//! shingles its feed repeats in many items removed (footers, "Subscribe to our newsletter",
//! the template of a daily digest), kept as a bottom-k sketch for verification and as
//! MinHash bands for finding candidates; its figures with the word before each; its title's
//! words. [`judge`] decides whether two shapes are one story, and by which rule.
//!
//! The hashes are this module's own (FNV-1a for words, SplitMix64 to mix): band keys are
//! stored, so they must not change with a compiler or crate version.

mod figures;
mod judge;

use std::collections::{HashMap, HashSet};

pub use judge::{Rule, Verdict, judge};

use crate::model::{Item, NearShape};

/// Words in a shingle.
const SHINGLE_WORDS: usize = 3;
/// Texts with fewer distinct shingles than this (about 25 words) are never near-merged:
/// titles only, a line of text, "Links for today".
pub const MIN_SHINGLES: usize = 24;
/// Shingle hashes kept per item: enough to estimate overlap within a few per cent.
const SKETCH: usize = 256;
/// MinHash bands over the whole text, of `ROWS` hashes each: two texts sharing half their
/// shingles share a band with a probability of 0.93, a tenth of them 0.02.
const TEXT_BANDS: usize = 20;
const ROWS: usize = 3;
/// Bands over the text's first shingles only, so a summary finds its full article.
const LEAD_BANDS: usize = 8;
const LEAD_SHINGLES: usize = 40;
/// A shingle in at least this share of a document's items (and in 3 or more) is the feed's
/// boilerplate.
const BOILERPLATE_SHARE: f64 = 0.2;
const BOILERPLATE_MIN_ITEMS: usize = 3;

/// Gives each item of one feed document its shape, discounting what the document repeats.
pub fn shape_items(items: &mut [Item]) {
    let words: Vec<Vec<String>> = items.iter().map(|i| words(&i.text)).collect();
    let shingles: Vec<Vec<u64>> = words.iter().map(|w| shingles(w)).collect();
    let figures: Vec<Vec<String>> = items
        .iter()
        .map(|i| figures::figures(&format!("{}\n{}", i.title, i.text)))
        .collect();
    let frequent_shingles = frequent(shingles.iter().map(|s| s.iter().copied()));
    let frequent_figures = frequent(figures.iter().map(|f| f.iter().cloned()));
    for (n, item) in items.iter_mut().enumerate() {
        let kept: Vec<u64> = shingles[n]
            .iter()
            .copied()
            .filter(|s| !frequent_shingles.contains(s))
            .collect();
        let figures = figures[n]
            .iter()
            .filter(|f| !frequent_figures.contains(*f))
            .cloned()
            .collect();
        item.shape = shape(&kept, figures, &item.title);
    }
}

/// What `items` repeat: values found in many of them.
fn frequent<T: std::hash::Hash + Eq + Clone>(
    items: impl ExactSizeIterator<Item = impl Iterator<Item = T>>,
) -> HashSet<T> {
    let total = items.len();
    let threshold = ((total as f64 * BOILERPLATE_SHARE).ceil() as usize).max(BOILERPLATE_MIN_ITEMS);
    if total < BOILERPLATE_MIN_ITEMS {
        return HashSet::new();
    }
    let mut counts: HashMap<T, usize> = HashMap::new();
    for values in items {
        let distinct: HashSet<T> = values.collect();
        for value in distinct {
            *counts.entry(value).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n >= threshold)
        .map(|(v, _)| v)
        .collect()
}

/// The shape of a text given its shingles in order; `None` when it is too short to compare.
fn shape(shingles: &[u64], figures: Vec<String>, title: &str) -> Option<NearShape> {
    let mut distinct: Vec<u64> = shingles.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_SHINGLES {
        return None;
    }
    let mut seen = HashSet::new();
    let lead: Vec<u64> = shingles
        .iter()
        .copied()
        .filter(|s| seen.insert(*s))
        .take(LEAD_SHINGLES)
        .collect();
    let mut bands = bands(&distinct, TEXT_BANDS, 0);
    bands.extend(self::bands(&lead, LEAD_BANDS, TEXT_BANDS));
    let mut sketch: Vec<u32> = distinct.iter().map(|s| (*s >> 32) as u32).collect();
    sketch.sort_unstable();
    sketch.dedup();
    sketch.truncate(SKETCH);
    let mut title: Vec<u32> = words(title)
        .iter()
        .map(|w| (fnv(w.as_bytes()) >> 32) as u32)
        .collect();
    title.sort_unstable();
    title.dedup();
    Some(NearShape {
        size: u32::try_from(distinct.len()).unwrap_or(u32::MAX),
        sketch,
        bands,
        figures,
        title,
    })
}

/// The text's words, lower case, letters and digits only.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Hashes of every run of [`SHINGLE_WORDS`] words, in order.
fn shingles(words: &[String]) -> Vec<u64> {
    let hashes: Vec<u64> = words.iter().map(|w| fnv(w.as_bytes())).collect();
    hashes
        .windows(SHINGLE_WORDS)
        .map(|w| w.iter().fold(0u64, |acc, h| mix(acc.rotate_left(21) ^ h)))
        .collect()
}

/// MinHash band keys of a shingle set: `count` bands of [`ROWS`] minima each, numbered from
/// `first` so that bands of the lead never meet bands of the whole text.
fn bands(shingles: &[u64], count: usize, first: usize) -> Vec<i64> {
    (0..count)
        .map(|band| {
            let number = (first + band) as u64;
            let mut key = mix(number.wrapping_add(0x5eed));
            for row in 0..ROWS {
                let seed = mix(number * ROWS as u64 + row as u64 + 1);
                let min = shingles.iter().map(|s| mix(s ^ seed)).min().unwrap_or(0);
                key = mix(key ^ min);
            }
            key as i64
        })
        .collect()
}

/// FNV-1a, 64 bits.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: every input bit moves every output bit.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests;
