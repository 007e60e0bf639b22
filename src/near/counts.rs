//! In how many of a document's items each shingle is, and which are in enough of them to be its
//! boilerplate. Shingle hashes are mixed already and a document's shingles are all known before
//! counting, so a table that never grows, probed linearly from the hash itself, is enough; a
//! general hash map's probing cost more than the rest of counting.

/// Counts of distinct shingles, for at most as many as it was made for.
pub(super) struct ShingleCounts {
    slots: Vec<Slot>,
    mask: usize,
    /// In how many items a shingle is frequent.
    threshold: u32,
    /// The shingles that reached the threshold; collected as they reach it, as finding them in
    /// a table mostly empty cost as much as counting.
    frequent: Vec<u64>,
}

/// One shingle's count: the items it is in, and the last of them. No items: a free slot.
#[derive(Clone, Copy, Default)]
struct Slot {
    shingle: u64,
    items: u32,
    last: u32,
}

impl ShingleCounts {
    /// A table for at most `shingles` distinct shingles, noting those in `threshold` items.
    pub fn new(shingles: usize, threshold: u32) -> Self {
        // Never more than two thirds full, so that a probe passes few slots; and always one
        // free, so that it ends.
        let len = (shingles + shingles / 2 + 1).next_power_of_two();
        ShingleCounts {
            slots: vec![Slot::default(); len],
            mask: len - 1,
            threshold,
            frequent: Vec::new(),
        }
    }

    /// Counts `shingle` as found in item `item` (items are counted one after another); whether
    /// it is the first time in that item.
    #[inline]
    pub fn count(&mut self, shingle: u64, item: u32) -> bool {
        let mut at = shingle as usize & self.mask;
        loop {
            let slot = &mut self.slots[at];
            if slot.items == 0 {
                *slot = Slot {
                    shingle,
                    items: 1,
                    last: item,
                };
                if self.threshold == 1 {
                    self.frequent.push(shingle);
                }
                return true;
            }
            if slot.shingle == shingle {
                if slot.last == item {
                    return false;
                }
                slot.last = item;
                slot.items += 1;
                if slot.items == self.threshold {
                    self.frequent.push(shingle);
                }
                return true;
            }
            at = (at + 1) & self.mask;
        }
    }

    /// The shingles found in at least `threshold` items.
    pub fn frequent(&self) -> &[u64] {
        &self.frequent
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::ShingleCounts;

    #[test]
    fn counts_are_those_of_a_hash_map_however_the_hashes_collide() {
        // Hashes sharing their low bits all probe from one slot; a full table of them too.
        for step in [1u64, 1 << 40, 0x9e37_79b9_7f4a_7c15] {
            let items: Vec<Vec<u64>> = (0..7u64)
                .map(|item| {
                    (0..40)
                        .map(|n| (n * item % 13 + n % 5).wrapping_mul(step))
                        .collect()
                })
                .collect();
            let total = items.iter().map(Vec::len).sum();
            let mut counts = ShingleCounts::new(total, 3);
            let mut expected: HashMap<u64, (u32, u32)> = HashMap::new();
            for (item, shingles) in (0u32..).zip(&items) {
                for &shingle in shingles {
                    let entry = expected.entry(shingle).or_insert((0, u32::MAX));
                    let first = entry.1 != item;
                    if first {
                        *entry = (entry.0 + 1, item);
                    }
                    assert_eq!(counts.count(shingle, item), first, "{shingle:#x} in {item}");
                }
            }
            let mut got = counts.frequent().to_vec();
            got.sort_unstable();
            let mut expected: Vec<u64> = (expected.into_iter())
                .filter(|(_, (n, _))| *n >= 3)
                .map(|(s, _)| s)
                .collect();
            expected.sort_unstable();
            assert!(expected.len() > 5, "some shingles are frequent");
            assert_eq!(got, expected);
        }
        let mut full = ShingleCounts::new(3, 1);
        for shingle in [0, 8, 16] {
            assert!(full.count(shingle, 0));
        }
        assert!(!full.count(16, 0));
        assert_eq!(full.frequent(), [0, 8, 16]);
    }
}
