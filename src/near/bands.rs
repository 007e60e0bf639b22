//! The band index: which indexed shapes share a MinHash band with a new text.
//!
//! Held in memory and rebuilt from the stored shapes when needed. A table in SQLite took 22
//! random-key inserts an item, each dirtying a page that the write-ahead log then wrote and
//! checkpointed: half of what near merging cost at ingest. It is one open-addressing hash
//! table of 8-byte entries (band key and shape id packed in a `u64`), at most 80 % full, so
//! a band's entries lie together and a lookup reads a cache line or two per band (a binary
//! search of a sorted array missed the cache at every step). The index only ever holds shapes
//! of the last `near_window` (the store forgets older ones): 22 entries, 220–440 bytes, a shape.

/// Shape ids per band at most that a lookup considers, the newest first: a band that many
/// texts share (a template's wording) costs no more than any other.
const PER_BAND: usize = 8;
/// Candidates a lookup returns at most, those sharing the most bands first.
const MAX_CANDIDATES: usize = 8;
/// Slots of an empty index (a power of two, as every size is).
const MIN_SLOTS: usize = 1024;
/// No entry is 0: shape ids start at 1.
const EMPTY: u64 = 0;

/// Band keys of indexed shapes, by shape id.
#[derive(Debug)]
pub struct BandIndex {
    slots: Vec<u64>,
    len: usize,
}

impl Default for BandIndex {
    fn default() -> BandIndex {
        BandIndex::with_slots(MIN_SLOTS)
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
    fn with_slots(slots: usize) -> BandIndex {
        BandIndex {
            slots: vec![EMPTY; slots],
            len: 0,
        }
    }

    /// Where a band's entries start: band keys are uniform hashes already, so their high
    /// bits pick the slot.
    fn home(&self, band: u32) -> usize {
        ((u64::from(band) * self.slots.len() as u64) >> 32) as usize
    }

    /// Indexes a shape under its band keys.
    pub fn insert(&mut self, shape: u32, bands: &[u32]) {
        if shape == 0 {
            return;
        }
        for band in bands {
            if (self.len + 1) * 5 > self.slots.len() * 4 {
                self.resize(self.slots.len() * 2);
            }
            self.place(entry(*band, shape));
        }
    }

    fn place(&mut self, entry: u64) {
        let mask = self.slots.len() - 1;
        let mut slot = self.home(band_of(entry));
        while self.slots[slot] != EMPTY {
            if self.slots[slot] == entry {
                return;
            }
            slot = (slot + 1) & mask;
        }
        self.slots[slot] = entry;
        self.len += 1;
    }

    fn resize(&mut self, slots: usize) {
        let old = std::mem::replace(self, BandIndex::with_slots(slots));
        for entry in old.slots.into_iter().filter(|e| *e != EMPTY) {
            self.place(entry);
        }
    }

    /// The shapes sharing bands with `bands`: those sharing the most first, newest first
    /// among equals; each band gives its newest [`PER_BAND`] shapes at most.
    pub fn candidates(&self, bands: &[u32]) -> Vec<u32> {
        let mask = self.slots.len() - 1;
        let mut found: Vec<u32> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        for band in bands {
            ids.clear();
            let mut slot = self.home(*band);
            while self.slots[slot] != EMPTY {
                if band_of(self.slots[slot]) == *band {
                    ids.push(shape_of(self.slots[slot]));
                }
                slot = (slot + 1) & mask;
            }
            if ids.len() > PER_BAND {
                ids.sort_unstable_by(|a, b| b.cmp(a));
                ids.truncate(PER_BAND);
            }
            found.extend(&ids);
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

    /// Forgets the shapes with ids up to `last`, and gives back the memory they held.
    pub fn forget_through(&mut self, last: u32) {
        let kept: Vec<u64> = self
            .slots
            .iter()
            .copied()
            .filter(|e| *e != EMPTY && shape_of(*e) > last)
            .collect();
        // Half full at most after rebuilding, so the next entries do not resize at once.
        let slots = (kept.len() * 2).next_power_of_two().max(MIN_SLOTS);
        *self = BandIndex::with_slots(slots);
        for entry in kept {
            self.place(entry);
        }
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
    fn entries_are_found_before_and_after_growing_and_forgotten_by_id() {
        let mut index = BandIndex::default();
        // Band keys as uniform as real ones, or all would start at the same slot.
        let bands = |shape: u32| -> Vec<u32> {
            (0..22)
                .map(|b| {
                    (u64::from(shape * 31 + b).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as u32
                })
                .collect()
        };
        for shape in 1..=500 {
            index.insert(shape, &bands(shape));
        }
        assert!(index.slots.len() > MIN_SLOTS, "grown");
        assert_eq!(index.len(), 500 * 22);
        for shape in 1..=500 {
            assert_eq!(index.candidates(&bands(shape))[0], shape);
        }
        let grown = index.slots.len();
        index.forget_through(250);
        assert_eq!(index.len(), 250 * 22);
        assert!(index.candidates(&bands(100)).is_empty());
        assert_eq!(index.candidates(&bands(300))[0], 300);
        index.forget_through(490);
        assert_eq!(index.len(), 10 * 22);
        assert!(index.slots.len() * 4 <= grown, "memory given back");
        assert_eq!(index.candidates(&bands(495))[0], 495);
    }
}
