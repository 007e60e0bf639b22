//! The band index: which indexed shapes share a MinHash band with a new text.
//!
//! Held in memory, 8 bytes an entry (band key and shape id packed in one `u64`, sorted), and
//! rebuilt from the stored shapes when needed. A table in SQLite took 22 random-key inserts an
//! item, each dirtying a page that the write-ahead log then wrote and checkpointed: half of
//! what near merging cost at ingest. The index only ever holds shapes of the last
//! `near_window` (the store forgets older ones), ~180 bytes a shape.

use std::collections::BTreeSet;

/// Shape ids per band at most that a lookup considers, the newest first: a band that many
/// texts share (a template's wording) costs no more than any other.
const PER_BAND: usize = 8;
/// Candidates a lookup returns at most, those sharing the most bands first.
const MAX_CANDIDATES: usize = 8;
/// New entries wait in an ordered set until there are this many, or an eighth of the sorted
/// ones, and are then merged in one pass: inserts stay cheap and memory stays 8 bytes an entry.
const MIN_FRESH: usize = 1024;

/// Band keys of indexed shapes, by shape id.
#[derive(Debug, Default)]
pub struct BandIndex {
    sorted: Vec<u64>,
    fresh: BTreeSet<u64>,
}

/// One entry: the band key in the high half, the shape id in the low one, so entries of one
/// band are adjacent and ordered by shape id.
fn entry(band: u32, shape: u32) -> u64 {
    (u64::from(band) << 32) | u64::from(shape)
}

impl BandIndex {
    /// Indexes a shape under its band keys.
    pub fn insert(&mut self, shape: u32, bands: &[u32]) {
        self.fresh
            .extend(bands.iter().map(|band| entry(*band, shape)));
        if self.fresh.len() >= MIN_FRESH.max(self.sorted.len() / 8) {
            self.merge();
        }
    }

    fn merge(&mut self) {
        let fresh = std::mem::take(&mut self.fresh);
        let mut merged = Vec::with_capacity(self.sorted.len() + fresh.len());
        let mut old = std::mem::take(&mut self.sorted).into_iter().peekable();
        for new in fresh {
            while let Some(o) = old.next_if(|o| *o < new) {
                merged.push(o);
            }
            if old.peek() != Some(&new) {
                merged.push(new);
            }
        }
        merged.extend(old);
        self.sorted = merged;
    }

    /// The shapes sharing bands with `bands`: those sharing the most first, newest first
    /// among equals; each band gives its newest [`PER_BAND`] shapes at most.
    pub fn candidates(&self, bands: &[u32]) -> Vec<u32> {
        let mut found: Vec<u32> = Vec::new();
        for band in bands {
            let (low, high) = (entry(*band, 0), entry(*band, u32::MAX));
            let start = self.sorted.partition_point(|e| *e < low);
            let end = self.sorted.partition_point(|e| *e <= high);
            let mut ids: Vec<u32> = self.sorted[start..end]
                .iter()
                .chain(self.fresh.range(low..=high))
                .map(|e| *e as u32)
                .collect();
            ids.sort_unstable_by(|a, b| b.cmp(a));
            found.extend(ids.into_iter().take(PER_BAND));
        }
        found.sort_unstable();
        let mut counted: Vec<(usize, u32)> = found
            .chunk_by(|a, b| a == b)
            .map(|run| (run.len(), run[0]))
            .collect();
        counted.sort_unstable_by(|a, b| b.cmp(a));
        counted
            .into_iter()
            .take(MAX_CANDIDATES)
            .map(|(_, id)| id)
            .collect()
    }

    /// Forgets the shapes with ids up to `last`.
    pub fn forget_through(&mut self, last: u32) {
        let keep = |e: &u64| *e as u32 > last;
        self.sorted.retain(keep);
        self.fresh.retain(keep);
        self.sorted.shrink_to_fit();
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.sorted.len() + self.fresh.len()
    }

    /// Whether no shape is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_sharing_more_bands_come_first_and_each_band_gives_its_newest() {
        let mut index = BandIndex::default();
        index.insert(1, &[10, 11, 12]);
        index.insert(2, &[10, 20, 21]);
        index.insert(3, &[30]);
        assert_eq!(index.candidates(&[10, 11, 12, 99]), [1, 2]);
        assert_eq!(index.candidates(&[10, 20]), [2, 1]);
        assert!(index.candidates(&[99]).is_empty());
        // A band every shape shares yields only its newest few.
        for shape in 100..200 {
            index.insert(shape, &[7]);
        }
        let template = index.candidates(&[7]);
        assert_eq!(template, (192..200).rev().collect::<Vec<u32>>());
    }

    #[test]
    fn entries_are_found_before_and_after_merging_and_forgotten_by_id() {
        let mut index = BandIndex::default();
        let bands = |shape: u32| -> Vec<u32> { (0..22).map(|b| shape * 31 + b).collect() };
        for shape in 1..=500 {
            index.insert(shape, &bands(shape));
        }
        assert!(!index.sorted.is_empty(), "merged at least once");
        assert!(!index.fresh.is_empty(), "and some still fresh");
        assert_eq!(index.len(), 500 * 22);
        for shape in 1..=500 {
            assert_eq!(index.candidates(&bands(shape))[0], shape);
        }
        index.forget_through(250);
        assert_eq!(index.len(), 250 * 22);
        assert!(index.candidates(&bands(100)).is_empty());
        assert_eq!(index.candidates(&bands(300))[0], 300);
    }
}
