//! [`SeenKeys`]: the file keys a manifest reader has seen, for duplicate detection.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::{HashTable, hash_table};

/// The keys seen so far, for duplicate detection.
///
/// Every key is copied once into one buffer, so a row costs no allocation and memory stays
/// proportional to the keys' total length. The hash table holds 8 bytes per key (an index
/// and 32 bits of the hash, enough to grow the table without hashing again), so that a
/// manifest of 100,000 files keeps its table within a core's L2 cache: probing it is the
/// one random memory access per row. foldhash is seeded per process, which keeps crafted
/// collisions out of reach of a hostile manifest.
#[derive(Default)]
pub(super) struct SeenKeys {
    /// Every key, back to back.
    text: String,
    /// Per key, in the order seen: where it ends in `text` (it starts where the previous
    /// one ends) and the line it was first seen on.
    keys: Vec<(usize, u64)>,
    /// `(index in keys, hash)`.
    table: HashTable<(u32, u32)>,
    state: RandomState,
}

impl std::fmt::Debug for SeenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenKeys")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

/// The table's 64-bit hash from the 32 bits kept: the same bits serve both as the bucket
/// (low bits) and the tag (high bits).
fn widen(h: u32) -> u64 {
    u64::from(h) << 32 | u64::from(h)
}

/// What [`SeenKeys::insert`] found.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Seen {
    New,
    /// Seen before, first on this line.
    Before(u64),
    /// More distinct keys than the table can index.
    Full,
}

impl SeenKeys {
    /// Records `key`, first seen on `line`.
    pub(super) fn insert(&mut self, key: &str, line: u64) -> Seen {
        let full = self.state.hash_one(key);
        // ok: folding to 32 bits is the point.
        let h = (full ^ full >> 32) as u32;
        let Ok(index) = u32::try_from(self.keys.len()) else {
            return Seen::Full;
        };
        let (text, keys) = (&self.text, &self.keys);
        let entry = self.table.entry(
            widen(h),
            |&(i, eh)| {
                eh == h && {
                    let i = i as usize;
                    let start = if i == 0 { 0 } else { keys[i - 1].0 };
                    text.get(start..keys[i].0) == Some(key)
                }
            },
            |&(_, eh)| widen(eh),
        );
        match entry {
            hash_table::Entry::Occupied(first) => Seen::Before(keys[first.get().0 as usize].1),
            hash_table::Entry::Vacant(slot) => {
                slot.insert((index, h));
                self.text.push_str(key);
                self.keys.push((self.text.len(), line));
                Seen::New
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_seen_again_names_the_line_it_was_first_seen_on() {
        let mut seen = SeenKeys::default();
        assert_eq!(seen.insert("a.jpg", 2), Seen::New);
        assert_eq!(seen.insert("b.jpg", 3), Seen::New);
        assert_eq!(seen.insert("ab.jpg", 4), Seen::New);
        assert_eq!(seen.insert("a.jpg", 5), Seen::Before(2));
        assert_eq!(seen.insert("ab.jpg", 9), Seen::Before(4));
        assert_eq!(seen.insert("", 10), Seen::New);
        assert_eq!(seen.insert("", 11), Seen::Before(10));
    }
}
