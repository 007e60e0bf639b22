//! The band index: which indexed shapes share a MinHash band with a new text.
//!
//! Held in memory and rebuilt from the stored shapes when needed. A table in SQLite took 22
//! random-key inserts an item, each dirtying a page that the write-ahead log then wrote and
//! checkpointed: half of what near merging cost at ingest. It is a hash table of 8-byte
//! entries (band key and shape id packed in a `u64`) in buckets of one cache line, each band
//! in the emptier of two buckets, so a lookup reads two cache lines per band.
//!
//! Memory is bounded: the table grows to [`MAX_BUCKETS`] (4 MiB, about 24,000 items' bands)
//! and no further. A full bucket then gives up its oldest entry, so a daemon taking in more
//! than that within `near_window` compares new items with the most recent ones only. A band
//! that many texts share (a template's wording) keeps only its newest entries the same way.

/// Entries in a bucket: 64 bytes.
const BUCKET: usize = 8;
/// Buckets of an empty index, and at most (powers of two).
const MIN_BUCKETS: usize = 64;
const MAX_BUCKETS: usize = 1 << 16;
/// Shape ids per band at most that a lookup considers, the newest first.
const PER_BAND: usize = 8;
/// Candidates a lookup returns at most, those sharing the most bands first.
const MAX_CANDIDATES: usize = 8;
/// No entry is 0: shape ids start at 1.
const EMPTY: u64 = 0;

/// Band keys of indexed shapes, by shape id.
#[derive(Debug)]
pub struct BandIndex {
    slots: Vec<u64>,
    len: usize,
    /// The highest shape id inserted: shapes stored after it (by another process) are new.
    newest: u32,
}

impl Default for BandIndex {
    fn default() -> BandIndex {
        BandIndex::with_buckets(MIN_BUCKETS)
    }
}

/// One entry: the band key in the high half, the shape id in the low one.
fn entry(band: u32, shape: u32) -> u64 {
    (u64::from(band) << 32) | u64::from(shape)
}

fn band_of(entry: u64) -> u32 {
    (entry >> 32) as u32
}

fn shape_of(entry: u64) -> u32 {
    entry as u32
}

impl BandIndex {
    fn with_buckets(buckets: usize) -> BandIndex {
        BandIndex {
            slots: vec![EMPTY; buckets * BUCKET],
            len: 0,
            newest: 0,
        }
    }

    /// The two buckets a band may be in: band keys are uniform hashes already, so their bits
    /// pick them (the second from the key multiplied by an odd constant).
    fn buckets_of(&self, band: u32) -> [std::ops::Range<usize>; 2] {
        let buckets = (self.slots.len() / BUCKET) as u64;
        let pick = |key: u32| ((u64::from(key) * buckets) >> 32) as usize * BUCKET;
        let [a, b] = [pick(band), pick(band.wrapping_mul(0x9e37_79b1))];
        [a..a + BUCKET, b..b + BUCKET]
    }

    /// Reads a slot of every bucket of `bands` before they are scanned: each is most likely
    /// a cache miss, and independent loads wait for memory together rather than in turn
    /// (lookups took 4 µs an item, nearly all of it waiting).
    fn touch(&self, bands: &[u32]) {
        let touched = bands
            .iter()
            .flat_map(|band| self.buckets_of(*band))
            .fold(0, |acc, bucket| acc ^ self.slots[bucket.start]);
        std::hint::black_box(touched);
    }

    /// Indexes a shape under its band keys.
    pub fn insert(&mut self, shape: u32, bands: &[u32]) {
        if shape == 0 {
            return;
        }
        self.newest = self.newest.max(shape);
        self.touch(bands);
        for band in bands {
            let buckets = self.slots.len() / BUCKET;
            if buckets < MAX_BUCKETS && (self.len + 1) * 4 > self.slots.len() * 3 {
                self.rebuild(buckets * 2, |_| true);
            }
            self.place(entry(*band, shape));
        }
    }

    /// Puts an entry in the emptier of its buckets; when both are full, in place of their
    /// oldest entry if that is older. Buckets fill from their start (entries only ever leave
    /// by a rebuild), so a bucket's first empty slot says how many it holds.
    fn place(&mut self, new: u64) {
        let [a, b] = self.buckets_of(band_of(new));
        let held = |bucket: &std::ops::Range<usize>| {
            self.slots[bucket.clone()]
                .iter()
                .position(|e| *e == EMPTY)
                .unwrap_or(BUCKET)
        };
        let (in_a, in_b) = (held(&a), held(&b));
        if in_a.min(in_b) < BUCKET {
            let slot = if in_a <= in_b {
                a.start + in_a
            } else {
                b.start + in_b
            };
            self.slots[slot] = new;
            self.len += 1;
            return;
        }
        let oldest = a
            .chain(b)
            .min_by_key(|s| shape_of(self.slots[*s]))
            .filter(|s| shape_of(self.slots[*s]) < shape_of(new));
        if let Some(slot) = oldest {
            self.slots[slot] = new;
        }
    }

    /// The table again with `buckets` buckets, holding the entries `keep` keeps.
    fn rebuild(&mut self, buckets: usize, keep: impl Fn(u64) -> bool) {
        let old = std::mem::replace(self, BandIndex::with_buckets(buckets));
        self.newest = old.newest;
        for entry in old.slots.into_iter().filter(|e| *e != EMPTY && keep(*e)) {
            self.place(entry);
        }
    }

    /// The shapes sharing bands with `bands`: those sharing the most first, newest first
    /// among equals; each band gives its newest [`PER_BAND`] shapes at most.
    pub fn candidates(&self, bands: &[u32]) -> Vec<u32> {
        self.touch(bands);
        let mut found: Vec<u32> = Vec::new();
        let mut ids: Vec<u32> = Vec::with_capacity(2 * BUCKET);
        for band in bands {
            ids.clear();
            let [a, b] = self.buckets_of(*band);
            let second = (b != a).then_some(b);
            for range in std::iter::once(a).chain(second) {
                ids.extend(
                    self.slots[range]
                        .iter()
                        .take_while(|e| **e != EMPTY)
                        .filter(|e| band_of(**e) == *band)
                        .map(|e| shape_of(*e)),
                );
            }
            if ids.len() > PER_BAND {
                ids.sort_unstable_by(|x, y| y.cmp(x));
                ids.truncate(PER_BAND);
            }
            found.extend(&ids);
        }
        found.sort_unstable();
        let mut counted: Vec<(usize, u32)> = found
            .chunk_by(|x, y| x == y)
            .map(|run| (run.len(), run[0]))
            .collect();
        counted.sort_unstable_by(|x, y| y.cmp(x));
        counted
            .into_iter()
            .take(MAX_CANDIDATES)
            .map(|(_, id)| id)
            .collect()
    }

    /// Forgets the shapes with ids up to `last`, and gives back the memory they held.
    pub fn forget_through(&mut self, last: u32) {
        let kept = self
            .slots
            .iter()
            .filter(|e| **e != EMPTY && shape_of(**e) > last)
            .count();
        // Half full at most afterwards, so the next entries do not grow it at once.
        let buckets = (kept * 2 / BUCKET + 1)
            .next_power_of_two()
            .clamp(MIN_BUCKETS, MAX_BUCKETS);
        self.rebuild(buckets, |e| shape_of(e) > last);
    }

    /// The highest shape id ever inserted (0 when none was).
    pub fn newest(&self) -> u32 {
        self.newest
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no shape is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Band keys as uniform as real ones.
    fn bands(shape: u32, count: u32) -> Vec<u32> {
        (0..count)
            .map(|b| (u64::from(shape * 31 + b).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32)
            .collect()
    }

    #[test]
    fn shapes_sharing_more_bands_come_first_and_each_band_gives_its_newest() {
        let mut index = BandIndex::default();
        let [x, y, z, w] = [10, 11, 12, 13].map(|n| bands(n, 1)[0]);
        index.insert(1, &[x, y, z]);
        index.insert(2, &[x, w]);
        index.insert(3, &bands(99, 3));
        assert_eq!(index.candidates(&[x, y, z]), [1, 2]);
        assert_eq!(index.candidates(&[x, w]), [2, 1]);
        assert!(index.candidates(&bands(50, 3)).is_empty());
        // A band every shape shares yields only its newest few.
        let template = bands(7, 1);
        for shape in 100..200 {
            index.insert(shape, &template);
        }
        assert_eq!(
            index.candidates(&template),
            (192..200).rev().collect::<Vec<u32>>()
        );
    }

    #[test]
    fn entries_are_found_before_and_after_growing_and_forgotten_by_id() {
        let mut index = BandIndex::default();
        for shape in 1..=500 {
            index.insert(shape, &bands(shape, 22));
        }
        assert!(index.slots.len() > MIN_BUCKETS * BUCKET, "grown");
        assert_eq!(index.len(), 500 * 22);
        for shape in 1..=500 {
            assert_eq!(index.candidates(&bands(shape, 22))[0], shape);
        }
        let grown = index.slots.len();
        index.forget_through(250);
        assert_eq!(index.len(), 250 * 22);
        assert!(index.candidates(&bands(100, 22)).is_empty());
        assert_eq!(index.candidates(&bands(300, 22))[0], 300);
        index.forget_through(490);
        assert_eq!(index.len(), 10 * 22);
        assert!(index.slots.len() * 4 <= grown, "memory given back");
        assert_eq!(index.candidates(&bands(495, 22))[0], 495);
        assert_eq!(index.newest(), 500, "kept through growing and forgetting");
    }

    #[test]
    fn a_full_index_keeps_the_newest_shapes_in_bounded_memory() {
        let mut index = BandIndex::default();
        let shapes = (MAX_BUCKETS * BUCKET / 22 * 2) as u32;
        for shape in 1..=shapes {
            index.insert(shape, &bands(shape, 22));
        }
        assert_eq!(
            index.slots.len(),
            MAX_BUCKETS * BUCKET,
            "grown to the bound only"
        );
        assert!(index.len() <= MAX_BUCKETS * BUCKET);
        // The newest shapes keep (nearly) all their bands; the oldest have given theirs up.
        let found = |shape: u32| index.candidates(&bands(shape, 22)).first() == Some(&shape);
        let newest = (shapes - 1000..=shapes).filter(|s| found(*s)).count();
        let oldest = (1..=1000).filter(|s| found(*s)).count();
        assert_eq!(newest, 1001);
        assert!(oldest < 100, "{oldest} of the oldest still found");
    }
}
