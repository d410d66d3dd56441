//! [`SeenKeys`]: the file keys a manifest reader has seen, for duplicate detection.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::{HashTable, hash_table};

/// Keys per block of the front-coded key list: the first key of a block is stored whole,
/// the others as the length they share with the key before them and the rest.
const BLOCK: usize = 16;

/// The keys seen so far, for duplicate detection.
///
/// Keys are kept front-coded in one byte buffer, in the order seen: each as the number of
/// leading bytes it shares with the key before it, its remaining bytes, and the line it was
/// first seen on (as the step from the previous key's line). Manifests tend to list files in
/// path order, so neighbours share most of their bytes: a key of
/// `shoot/012/IMG_012345.jpg` takes about 8 bytes. Every [`BLOCK`]th key starts afresh, so a
/// key is rebuilt from at most [`BLOCK`] entries. A row costs no allocation beyond the
/// buffers' growth and memory stays proportional to the keys' total length.
///
/// Manifests listed in path order also need no hash table: while each key sorts after the
/// one before it, being after the last key proves a key new. The first key out of order
/// puts every key so far into the table, which then serves from there on.
///
/// The hash table holds 8 bytes per key (its index and 32 bits of the hash, enough to grow
/// the table without hashing again). A key is rebuilt and compared only when both the table's
/// tag and those 32 bits match, so a new key almost never touches the list, and a match is
/// always checked against the stored key: a key is never reported as seen unless it was.
/// foldhash is seeded per process, which keeps crafted collisions out of reach of a hostile
/// manifest.
#[derive(Default)]
pub(super) struct SeenKeys {
    /// The front-coded entries, back to back.
    coded: Vec<u8>,
    /// Where each block of [`BLOCK`] keys starts in `coded`.
    blocks: Vec<usize>,
    /// Keys stored.
    len: usize,
    /// The last key stored and its line, which the next entry is coded against.
    last: Vec<u8>,
    last_line: u64,
    /// Scratch for rebuilding a key.
    rebuilt: Vec<u8>,
    /// Whether a key came that did not sort after the one before it (bytewise). Until then
    /// the keys are in ascending order and the table stays empty: a key that sorts after the
    /// last one is new, and one that does not sends every key into the table.
    unordered: bool,
    /// `(index of the key, hash)`, once the keys are unordered.
    table: HashTable<(u32, u32)>,
    state: RandomState,
}

impl std::fmt::Debug for SeenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenKeys")
            .field("keys", &self.len)
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

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // ok: the low seven bits, with the continuation bit.
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    // ok: below 0x80.
    out.push(v as u8);
}

/// Reads a varint at `*at`; `None` past the end (which the buffer's own entries never reach).
fn get_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

fn get_len(buf: &[u8], at: &mut usize) -> Option<usize> {
    usize::try_from(get_varint(buf, at)?).ok()
}

/// The number of leading bytes `a` and `b` share, eight at a time.
fn shared_prefix(a: &[u8], b: &[u8]) -> usize {
    let mut i = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        if let (Ok(x), Ok(y)) = (<[u8; 8]>::try_from(x), <[u8; 8]>::try_from(y)) {
            let d = u64::from_le_bytes(x) ^ u64::from_le_bytes(y);
            if d != 0 {
                return i + (d.trailing_zeros() / 8) as usize;
            }
        }
        i += 8;
    }
    i + a[i..]
        .iter()
        .zip(&b[i..])
        .take_while(|(x, y)| x == y)
        .count()
}

impl SeenKeys {
    /// Decodes the entry at `*at` into `key` (which holds the key before it) and `line`
    /// (likewise); `None` past the end of the buffer, which its own entries never reach.
    fn decode_next(coded: &[u8], at: &mut usize, key: &mut Vec<u8>, line: &mut u64) -> Option<()> {
        let shared = get_len(coded, at)?;
        let rest = get_len(coded, at)?;
        key.truncate(shared);
        key.extend_from_slice(coded.get(*at..at.checked_add(rest)?)?);
        *at += rest;
        *line = line.wrapping_add(get_varint(coded, at)?);
        Some(())
    }

    /// Rebuilds key `index` into `into` and returns the line it was first seen on.
    fn rebuild(coded: &[u8], blocks: &[usize], index: usize, into: &mut Vec<u8>) -> Option<u64> {
        let mut at = *blocks.get(index / BLOCK)?;
        into.clear();
        let mut line = 0u64;
        for _ in 0..=index % BLOCK {
            Self::decode_next(coded, &mut at, into, &mut line)?;
        }
        Some(line)
    }

    /// The 32 bits of a key's hash that the table keeps.
    fn hash(&self, key: &[u8]) -> u32 {
        let full = self.state.hash_one(key);
        // ok: folding to 32 bits is the point.
        (full ^ full >> 32) as u32
    }

    /// Appends `key`, which shares `shared` leading bytes with the last key.
    fn push(&mut self, key: &[u8], line: u64, shared: usize) {
        let fresh = self.len.is_multiple_of(BLOCK);
        let (shared, base) = if fresh {
            self.blocks.push(self.coded.len());
            (0, 0)
        } else {
            (shared, self.last_line)
        };
        put_varint(&mut self.coded, shared as u64);
        put_varint(&mut self.coded, (key.len() - shared) as u64);
        self.coded.extend_from_slice(&key[shared..]);
        put_varint(&mut self.coded, line.wrapping_sub(base));
        self.last.truncate(shared);
        self.last.extend_from_slice(&key[shared..]);
        self.last_line = line;
        self.len += 1;
    }

    /// Puts every key stored so far into the table (they are distinct: they were in
    /// ascending order), for when the keys stop coming in order.
    fn index_all(&mut self) {
        self.unordered = true;
        self.table.reserve(self.len, |&(_, eh)| widen(eh));
        let (mut at, mut key, mut line) = (0, Vec::new(), 0u64);
        for i in 0..self.len {
            if i.is_multiple_of(BLOCK) {
                line = 0;
            }
            // Cannot fail: the buffer holds exactly `len` entries written by `push`.
            if Self::decode_next(&self.coded, &mut at, &mut key, &mut line).is_none() {
                break;
            }
            let h = self.hash(&key);
            // ok: `len` stays within u32 (`insert` refuses more keys).
            self.table
                .insert_unique(widen(h), (i as u32, h), |&(_, eh)| widen(eh));
        }
    }

    /// Records `key`, first seen on `line`.
    pub(super) fn insert(&mut self, key: &str, line: u64) -> Seen {
        let key = key.as_bytes();
        let Ok(index) = u32::try_from(self.len) else {
            return Seen::Full;
        };
        let shared = shared_prefix(&self.last, key);
        if !self.unordered {
            // While every key sorts after the one before it, a key that sorts after the
            // last one is after all of them: new, without a lookup.
            let after = self.len == 0
                || match (self.last.get(shared), key.get(shared)) {
                    (None, Some(_)) => true,
                    (Some(a), Some(b)) => b > a,
                    _ => false,
                };
            if after {
                self.push(key, line, shared);
                return Seen::New;
            }
            self.index_all();
        }
        let h = self.hash(key);
        let (coded, blocks, rebuilt) = (&self.coded, &self.blocks, &mut self.rebuilt);
        let mut first = 0;
        let entry = self.table.entry(
            widen(h),
            |&(i, eh)| {
                eh == h
                    && match Self::rebuild(coded, blocks, i as usize, rebuilt) {
                        Some(line) if rebuilt[..] == *key => {
                            first = line;
                            true
                        }
                        _ => false,
                    }
            },
            |&(_, eh)| widen(eh),
        );
        match entry {
            hash_table::Entry::Occupied(_) => Seen::Before(first),
            hash_table::Entry::Vacant(slot) => {
                slot.insert((index, h));
                self.push(key, line, shared);
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

    #[test]
    fn keys_in_order_then_out_of_order_are_all_remembered() {
        let mut seen = SeenKeys::default();
        let keys: Vec<String> = (0..100)
            .map(|i| format!("shoot/{:02}/IMG_{i:04}.jpg", i / 8))
            .collect();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(seen.insert(key, i as u64 + 2), Seen::New, "{key}");
        }
        assert!(!seen.unordered);
        // The last key again: not after it, so the table is built and finds it.
        assert_eq!(seen.insert(&keys[99], 500), Seen::Before(101));
        assert!(seen.unordered);
        for (i, key) in keys.iter().enumerate().rev() {
            assert_eq!(seen.insert(key, 600), Seen::Before(i as u64 + 2), "{key}");
        }
        assert_eq!(seen.insert("shoot/00/IMG_0000.jpeg", 700), Seen::New);
        assert_eq!(
            seen.insert("shoot/00/IMG_0000.jpeg", 701),
            Seen::Before(700)
        );
        assert_eq!(seen.insert("a", 702), Seen::New);
    }

    #[test]
    fn a_key_that_extends_or_shortens_the_last_one_is_placed_right() {
        let mut seen = SeenKeys::default();
        assert_eq!(seen.insert("ab", 1), Seen::New);
        assert_eq!(seen.insert("abc", 2), Seen::New);
        assert!(!seen.unordered);
        // A prefix of the last key sorts before it: the table decides.
        assert_eq!(seen.insert("ab", 3), Seen::Before(1));
        assert_eq!(seen.insert("a", 4), Seen::New);
        assert_eq!(seen.insert("abc", 5), Seen::Before(2));
    }

    #[test]
    fn keys_across_blocks_are_rebuilt_exactly() {
        let mut seen = SeenKeys::default();
        // Neighbours that share prefixes, a key that is a prefix of the one before, keys
        // that share nothing, lines out of order and far apart, across several blocks.
        let keys: Vec<(String, u64)> = (0..200u64)
            .map(|i| {
                let key = match i % 7 {
                    0 => format!("shoot/{:03}/IMG_{i:06}.jpg", i / 10),
                    1 => format!("shoot/{:03}/IMG_{i:06}", i / 10),
                    2 => format!("é/{i}"),
                    3 => format!("z{}", "x".repeat(i as usize)),
                    4 => format!("shoot/{:03}", i),
                    5 => format!("{i}"),
                    _ => format!("shoot/{:03}/IMG_{i:06}.jpg.xmp", i / 10),
                };
                let line = if i % 5 == 0 {
                    u64::MAX - i
                } else {
                    1000 - i * 3
                };
                (key, line)
            })
            .collect();
        for (key, line) in &keys {
            assert_eq!(seen.insert(key, *line), Seen::New, "{key}");
        }
        for (key, line) in keys.iter().rev() {
            assert_eq!(seen.insert(key, 1), Seen::Before(*line), "{key}");
            // One byte more or less is a different key.
            assert_eq!(seen.insert(&format!("{key}!"), 7), Seen::New, "{key}!");
        }
        assert_eq!(seen.insert("shoot/000/IMG_000000.jp", 3), Seen::New);
    }

    proptest::proptest! {
        /// Against a plain map: every key is new exactly once, and a repeat names the line
        /// of its first sighting, whatever the order (runs in ascending order, then not).
        #[test]
        fn agrees_with_a_map(
            keys in proptest::collection::vec("[ab/é]{0,6}", 0..300),
            ascending_first in 0usize..300,
        ) {
            let mut keys = keys;
            let split = ascending_first.min(keys.len());
            keys[..split].sort();
            let mut seen = SeenKeys::default();
            let mut model = std::collections::HashMap::new();
            for (line, key) in keys.iter().enumerate() {
                let line = line as u64 + 2;
                let expected = match model.get(key) {
                    Some(&first) => Seen::Before(first),
                    None => {
                        model.insert(key.clone(), line);
                        Seen::New
                    }
                };
                proptest::prop_assert_eq!(seen.insert(key, line), expected, "{:?}", key);
            }
        }
    }
}
