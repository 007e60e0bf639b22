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

mod bands;
mod counts;
mod figures;
mod judge;

use std::collections::{HashMap, HashSet};

pub use bands::BandIndex;
pub use judge::{Rule, Verdict, judge};

use crate::model::{Item, NearShape};
use counts::ShingleCounts;

/// Words in a shingle.
const SHINGLE_WORDS: usize = 3;
/// Texts with fewer distinct shingles than this (about 25 words) are never near-merged:
/// titles only, a line of text, "Links for today".
pub const MIN_SHINGLES: usize = 24;
/// Shingle hashes kept per item: enough to estimate overlap within a few per cent.
const SKETCH: usize = 256;
/// MinHash bands over the whole text, of `ROWS` minima each: two texts sharing half their
/// shingles share a band with a probability of 0.88, 70 % of them 0.996, a tenth 0.016.
const TEXT_BANDS: usize = 16;
const ROWS: usize = 3;
/// Bands over the text's first shingles only, so a summary finds its full article.
const LEAD_BANDS: usize = 6;
const LEAD_SHINGLES: usize = 40;
/// A shingle in at least this share of a document's items (and in 3 or more) is the feed's
/// boilerplate.
const BOILERPLATE_SHARE: f64 = 0.2;
const BOILERPLATE_MIN_ITEMS: usize = 3;

/// Gives the items of one feed document that `wanted` picks their shape, discounting what the
/// whole document repeats. Nothing is computed when it picks none (on a first poll, most
/// documents have no item recent enough to be compared).
pub fn shape_items(items: &mut [Item], wanted: impl Fn(&Item) -> bool) {
    if !items.iter().any(&wanted) {
        return;
    }
    let shingles: Vec<Vec<u64>> = items.iter().map(|i| shingles(&i.text)).collect();
    let threshold = boilerplate_threshold(items.len());
    let (counts, distinct) = count_shingles(&shingles, threshold, |n| wanted(&items[n]));
    let boilerplate: HashSet<u64, AsIs> = counts.frequent().iter().copied().collect();
    let figures: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let mut figures = figures::figures(&i.title);
            figures.extend(figures::figures(&i.text));
            figures
        })
        .collect();
    let frequent_figures: HashSet<String> = frequent(figures.iter().map(|f| f.iter().cloned()));
    for ((item, distinct), (shingles, figures)) in items
        .iter_mut()
        .zip(distinct)
        .zip(shingles.iter().zip(figures))
    {
        let Some(mut kept) = distinct else {
            continue;
        };
        if !boilerplate.is_empty() {
            kept.retain(|s| !boilerplate.contains(s));
        }
        let lead = lead(shingles, |s| boilerplate.contains(s));
        let figures = figures
            .into_iter()
            .filter(|f| !frequent_figures.contains(f))
            .collect();
        item.shape = shape(kept, &lead, figures, &item.title);
    }
}

/// In how many of the documents' items each shingle is (noting those in `threshold` items),
/// and the distinct shingles of each item that `keep` picks (in no order); one table for both,
/// as sorting each item's shingles cost more than all the rest of shaping.
fn count_shingles(
    shingles: &[Vec<u64>],
    threshold: Option<usize>,
    keep: impl Fn(usize) -> bool,
) -> (ShingleCounts, Vec<Option<Vec<u64>>>) {
    let threshold = threshold.map_or(u32::MAX, |t| u32::try_from(t).unwrap_or(u32::MAX));
    let mut counts = ShingleCounts::new(shingles.iter().map(Vec::len).sum(), threshold);
    let mut distinct = Vec::with_capacity(shingles.len());
    for (index, shingles) in shingles.iter().enumerate() {
        // A document holds far fewer than 4 billion items: its body is bounded.
        let n = u32::try_from(index).unwrap_or(u32::MAX);
        let mut own = keep(index).then(|| Vec::with_capacity(shingles.len()));
        for shingle in shingles {
            if counts.count(*shingle, n)
                && let Some(own) = &mut own
            {
                own.push(*shingle);
            }
        }
        distinct.push(own);
    }
    (counts, distinct)
}

/// The shape of one text on its own (nothing of its feed discounted): an article's.
pub fn shape_text(title: &str, text: &str) -> Option<NearShape> {
    let shingles = shingles(text);
    let lead = lead(&shingles, |_| false);
    let mut figures = figures::figures(title);
    figures.extend(figures::figures(text));
    shape(sorted_distinct(&shingles), &lead, figures, title)
}

/// The text's first [`LEAD_SHINGLES`] distinct shingles, those `skip` says not to count left out.
fn lead(shingles: &[u64], skip: impl Fn(&u64) -> bool) -> Vec<u64> {
    let mut lead: Vec<u64> = Vec::with_capacity(LEAD_SHINGLES);
    for shingle in shingles {
        if lead.len() == LEAD_SHINGLES {
            break;
        }
        if !skip(shingle) && !lead.contains(shingle) {
            lead.push(*shingle);
        }
    }
    lead
}

/// Shingle hashes are mixed already: hash tables of them use them as they are.
type AsIs = std::hash::BuildHasherDefault<Unmixed>;

#[derive(Default)]
struct Unmixed(u64);

impl std::hash::Hasher for Unmixed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv(bytes.iter().copied()) ^ self.0.rotate_left(5);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

fn sorted_distinct(values: &[u64]) -> Vec<u64> {
    let mut distinct = values.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    distinct
}

/// The [`SKETCH`] least distinct `values`, ascending. Only those are sorted when they differ
/// (nearly always: they are hashes).
fn least(mut values: Vec<u32>) -> Vec<u32> {
    if values.len() > SKETCH {
        values.select_nth_unstable(SKETCH - 1);
        let mut least = values[..SKETCH].to_vec();
        sort_spread(&mut least);
        least.dedup();
        if least.len() == SKETCH {
            return least;
        }
        values.sort_unstable();
    } else {
        sort_spread(&mut values);
    }
    values.dedup();
    values.truncate(SKETCH);
    values
}

/// Sorts values, fastest when they are spread evenly below the largest, as the least hashes
/// of a set are: up to [`SKETCH`] of them each go to a bucket by value (as many buckets as
/// values), and insertion sort orders the few that share one; a third fewer instructions than a
/// general sort for a sketch. Bunched values cost at most an insertion sort of [`SKETCH`]; more
/// values than that get a general sort.
fn sort_spread(values: &mut [u32]) {
    if values.len() > SKETCH {
        values.sort_unstable();
        return;
    }
    let Some(&max) = values.iter().max() else {
        return;
    };
    let len = values.len();
    // Below `len` for every value up to `max`.
    let scale = ((len as u64) << 32) / (u64::from(max) + 1);
    let bucket = |value: u32| ((u64::from(value) * scale) >> 32) as usize;
    let mut ends = [0u16; SKETCH + 1];
    for value in values.iter() {
        ends[bucket(*value) + 1] += 1;
    }
    for b in 1..=len {
        ends[b] += ends[b - 1];
    }
    let mut sorted = [0u32; SKETCH];
    for value in values.iter() {
        let end = &mut ends[bucket(*value)];
        sorted[usize::from(*end)] = *value;
        *end += 1;
    }
    for i in 1..len {
        let value = sorted[i];
        let mut j = i;
        while j > 0 && sorted[j - 1] > value {
            sorted[j] = sorted[j - 1];
            j -= 1;
        }
        sorted[j] = value;
    }
    values.copy_from_slice(&sorted[..len]);
}

/// What `items` repeat: values found in many of them (each item's values distinct).
fn frequent<T: std::hash::Hash + Eq>(
    items: impl ExactSizeIterator<Item = impl Iterator<Item = T>>,
) -> HashSet<T> {
    let Some(threshold) = boilerplate_threshold(items.len()) else {
        return HashSet::default();
    };
    let mut counts: HashMap<T, usize> = HashMap::new();
    for values in items {
        for value in values {
            *counts.entry(value).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, items)| *items >= threshold)
        .map(|(value, _)| value)
        .collect()
}

/// In how many of a document's `total` items a value must be to be its boilerplate; `None`
/// when the document has too few items to tell.
fn boilerplate_threshold(total: usize) -> Option<usize> {
    (total >= BOILERPLATE_MIN_ITEMS)
        .then(|| ((total as f64 * BOILERPLATE_SHARE).ceil() as usize).max(BOILERPLATE_MIN_ITEMS))
}

/// The shape of a text given its distinct shingles (in any order) and its first ones; `None`
/// when it is too short to compare.
fn shape(distinct: Vec<u64>, lead: &[u64], figures: Vec<String>, title: &str) -> Option<NearShape> {
    if distinct.len() < MIN_SHINGLES {
        return None;
    }
    let mut bands = bands(&distinct, TEXT_BANDS, 0);
    bands.extend(self::bands(lead, LEAD_BANDS, TEXT_BANDS));
    let sketch = least(distinct.iter().map(|s| (*s >> 32) as u32).collect());
    let mut words = Vec::new();
    each_word(title, |word| words.push((word >> 32) as u32));
    words.sort_unstable();
    words.dedup();
    Some(NearShape {
        size: u32::try_from(distinct.len()).unwrap_or(u32::MAX),
        sketch,
        bands,
        figures,
        title: words,
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Each ASCII letter and digit in lower case, 0 for every other byte: one load a byte where
/// testing and lowering took several steps.
const WORD_BYTES: [u8; 256] = {
    let mut table = [0; 256];
    let mut byte = 0;
    while byte < 256 {
        if (byte as u8).is_ascii_alphanumeric() {
            table[byte] = (byte as u8).to_ascii_lowercase();
        }
        byte += 1;
    }
    table
};

/// Hashes every run of [`SHINGLE_WORDS`] words of the text, in order; as each word ends, so no
/// list of the words is kept.
fn shingles(text: &str) -> Vec<u64> {
    let mut shingles = Vec::with_capacity(text.len() / 6);
    let mut last = [0; SHINGLE_WORDS];
    let mut seen = 0;
    each_word(text, |word| {
        last.rotate_left(1);
        last[SHINGLE_WORDS - 1] = word;
        seen += 1;
        if seen >= SHINGLE_WORDS {
            shingles.push(
                last.iter()
                    .fold(0u64, |acc, h| mix(acc.rotate_left(21) ^ h)),
            );
        }
    });
    shingles
}

/// Calls `each` with the hash of every word of the text (letters and digits) in lower case.
fn each_word(text: &str, mut each: impl FnMut(u64)) {
    if !text.is_ascii() {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .for_each(|w| each(fnv(w.to_lowercase().bytes())));
        return;
    }
    // Most text is ASCII: one pass over the bytes, no word copied.
    let mut hash = FNV_OFFSET;
    let mut in_word = false;
    for byte in text.bytes() {
        let lower = WORD_BYTES[usize::from(byte)];
        if lower != 0 {
            hash = (hash ^ u64::from(lower)).wrapping_mul(FNV_PRIME);
            in_word = true;
        } else if in_word {
            each(hash);
            hash = FNV_OFFSET;
            in_word = false;
        }
    }
    if in_word {
        each(hash);
    }
}

/// MinHash band keys of a shingle set: `count` bands of [`ROWS`] minima each, numbered from
/// `first` so that bands of the lead never meet bands of the whole text.
fn bands(shingles: &[u64], count: usize, first: usize) -> Vec<u32> {
    minima(shingles, count * ROWS)
        .chunks(ROWS)
        .enumerate()
        .map(|(band, rows)| {
            let number = (first + band) as u64;
            (rows
                .iter()
                .fold(mix(number.wrapping_add(0x5eed)), |key, row| {
                    mix(key ^ u64::from(*row))
                })
                >> 32) as u32
        })
        .collect()
}

/// `bins` MinHash values of a set in one pass (one-permutation hashing): each shingle falls
/// in one bin by its hash and each bin keeps its least; an empty bin borrows from the next
/// full one to its right, marked with the distance (densification, Shrivastava and Li 2014),
/// so that short texts still fill every band.
fn minima(shingles: &[u64], bins: usize) -> Vec<u32> {
    let mut minima: Vec<Option<u32>> = vec![None; bins];
    for shingle in shingles {
        let h = mix(*shingle ^ 0x6e65_6172);
        let bin = (((h >> 32) * bins as u64) >> 32) as usize;
        let value = h as u32;
        let slot = &mut minima[bin];
        *slot = Some(slot.map_or(value, |m| m.min(value)));
    }
    (0..bins)
        .map(|bin| {
            (0..bins)
                .find_map(|distance| {
                    minima[(bin + distance) % bins].map(|m| {
                        if distance == 0 {
                            m
                        } else {
                            mix(u64::from(m) ^ (distance as u64) << 32) as u32
                        }
                    })
                })
                .unwrap_or(0)
        })
        .collect()
}

/// FNV-1a, 64 bits.
fn fnv(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
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
