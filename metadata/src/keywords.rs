//! [`Keywords`]: ordered, deduplicated; and how keyword cells are split.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

use crate::values::{find_byte, trim};

/// How keyword cells are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeywordSeparator {
    /// The first of `;`, `|`, `,` that occurs in the cell (so `Paris, France; travel`
    /// gives two keywords).
    #[default]
    Auto,
    /// Always this character.
    Char(char),
}

/// The first of `;`, `|`, `,` that occurs in `text` (`;` if none does), in one pass.
fn auto_separator(text: &str) -> char {
    let (mut bar, mut comma) = (false, false);
    for &b in text.as_bytes() {
        match b {
            b';' => return ';',
            b'|' => bar = true,
            b',' => comma = true,
            _ => {}
        }
    }
    if bar {
        '|'
    } else if comma {
        ','
    } else {
        ';'
    }
}

/// Keywords: ordered, without duplicates (compared exactly), without empty entries.
///
/// The keywords are stored back to back in one buffer, so a list costs two allocations
/// however long it is, and [`clear`](Self::clear) keeps both for the next record.
///
/// ```
/// use asset_metadata::Keywords;
/// let mut k: Keywords = ["sea", "boat"].into_iter().collect();
/// assert!(!k.push("sea"));
/// assert!(k.push(" dawn "));
/// assert_eq!(k.join(", "), "sea, boat, dawn");
/// ```
#[derive(Clone, Default)]
pub struct Keywords {
    /// Every keyword, back to back.
    text: String,
    /// Where each keyword ends in `text` (the next one starts there).
    ends: Vec<usize>,
    /// Built once the list is long enough that a linear scan would cost more than hashing
    /// (a hostile cell of 500,000 keywords stays linear in time).
    index: Option<Index>,
    /// Until then, one bit per keyword ([`filter_bit`]): a keyword whose bit is clear is
    /// certainly absent, so most pushes skip the scan. Removals leave bits set, which only
    /// costs a scan.
    filter: u64,
}

/// A bit chosen by a keyword's length and its first and last bytes.
#[inline]
fn filter_bit(k: &str) -> u64 {
    let b = k.as_bytes();
    let (first, last) = (b.first().copied(), b.last().copied());
    let h =
        (b.len() as u32) ^ u32::from(first.unwrap_or(0)) << 8 ^ u32::from(last.unwrap_or(0)) << 16;
    1 << (h.wrapping_mul(0x9E37_79B1) >> 26)
}

/// The positions of the keywords, hashed by keyword.
#[derive(Clone)]
struct Index {
    table: HashTable<usize>,
    state: RandomState,
}

/// Up to this many keywords, duplicates are found by a scan (photos carry a handful).
const SCAN_LIMIT: usize = 32;

impl PartialEq for Keywords {
    /// Order matters.
    fn eq(&self, other: &Self) -> bool {
        // The same text cut at the same places is the same list.
        self.ends == other.ends && self.text == other.text
    }
}

impl Eq for Keywords {}

impl std::fmt::Debug for Keywords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Keyword `i` of a list stored as `text` cut at `ends`.
fn nth<'a>(text: &'a str, ends: &[usize], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] };
    &text[start..ends[i]]
}

impl Keywords {
    /// No keywords.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a keyword at the end (trimmed); `false` if it was empty or already present.
    pub fn push(&mut self, keyword: impl AsRef<str>) -> bool {
        self.push_trimmed(trim(keyword.as_ref()))
    }

    /// [`push`](Self::push) for a keyword that is already trimmed.
    #[inline(always)]
    pub(crate) fn push_trimmed(&mut self, k: &str) -> bool {
        if k.is_empty() {
            return false;
        }
        match &mut self.index {
            None => {
                let bit = filter_bit(k);
                if self.filter & bit != 0 && self.iter().any(|x| x == k) {
                    return false;
                }
                self.text.push_str(k);
                self.ends.push(self.text.len());
                self.filter |= bit;
                if self.ends.len() > SCAN_LIMIT {
                    self.build_index();
                }
            }
            Some(index) => {
                let (text, ends) = (&self.text, &self.ends);
                let hash = index.state.hash_one(k);
                if index
                    .table
                    .find(hash, |&i| nth(text, ends, i) == k)
                    .is_some()
                {
                    return false;
                }
                self.text.push_str(k);
                self.ends.push(self.text.len());
                let (text, ends) = (&self.text, &self.ends);
                index.table.insert_unique(hash, ends.len() - 1, |&i| {
                    index.state.hash_one(nth(text, ends, i))
                });
            }
        }
        true
    }

    fn build_index(&mut self) {
        let state = RandomState::default();
        let mut table = HashTable::with_capacity(self.ends.len());
        let (text, ends) = (&self.text, &self.ends);
        for i in 0..ends.len() {
            let hash = state.hash_one(nth(text, ends, i));
            table.insert_unique(hash, i, |&j| state.hash_one(nth(text, ends, j)));
        }
        self.index = Some(Index { table, state });
    }

    /// Splits a keyword cell and adds each keyword (trimmed, empty ones dropped) at the end,
    /// skipping duplicates. Runs for every row of a manifest, hence the plain loop: an ASCII
    /// separator is found eight bytes at a time, and the text grows at most once per cell.
    pub(crate) fn push_split(&mut self, cell: &str, sep: KeywordSeparator) {
        let sep = match sep {
            KeywordSeparator::Char(c) => c,
            KeywordSeparator::Auto => auto_separator(cell),
        };
        let Some(byte) = u8::try_from(sep).ok().filter(u8::is_ascii) else {
            for piece in cell.split(sep) {
                self.push_trimmed(trim(piece));
            }
            return;
        };
        self.text.reserve(cell.len());
        let bytes = cell.as_bytes();
        let mut start = 0;
        loop {
            let end = bytes
                .get(start..)
                .and_then(|rest| find_byte(rest, byte))
                .map_or(bytes.len(), |at| start + at);
            // Keywords are mostly written `a; b`: spaces are skipped here, and only a piece
            // with other whitespace or non-ASCII ends goes through `trim`.
            let mut first = start;
            while bytes.get(first) == Some(&b' ') && first < end {
                first += 1;
            }
            // ok: an ASCII separator or space is a character boundary, so the piece is a
            // slice.
            let piece = cell.get(first..end).unwrap_or_default();
            self.push_trimmed(trim(piece));
            if end >= bytes.len() {
                return;
            }
            start = end + 1;
        }
    }

    /// Adds keywords at the end, skipping duplicates.
    pub fn extend<I, S>(&mut self, keywords: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for k in keywords {
            self.push(k);
        }
    }

    /// Where `keyword` is in the list.
    fn position(&self, keyword: &str) -> Option<usize> {
        let (text, ends) = (&self.text, &self.ends);
        match &self.index {
            Some(index) => index
                .table
                .find(index.state.hash_one(keyword), |&i| {
                    nth(text, ends, i) == keyword
                })
                .copied(),
            None if self.filter & filter_bit(keyword) == 0 => None,
            None => self.iter().position(|k| k == keyword),
        }
    }

    /// Removes a keyword, keeping the order of the rest; `false` if absent.
    pub fn remove(&mut self, keyword: &str) -> bool {
        let Some(at) = self.position(keyword) else {
            return false;
        };
        let start = if at == 0 { 0 } else { self.ends[at - 1] };
        let len = self.ends[at] - start;
        self.text.replace_range(start..self.ends[at], "");
        self.ends.remove(at);
        for end in &mut self.ends[at..] {
            *end -= len;
        }
        if self.index.is_some() {
            self.build_index();
        }
        true
    }

    /// Whether `keyword` is present.
    pub fn contains(&self, keyword: &str) -> bool {
        self.position(keyword).is_some()
    }

    /// The keywords in order.
    pub fn iter(&self) -> KeywordsIter<'_> {
        KeywordsIter {
            text: &self.text,
            start: 0,
            ends: self.ends.iter(),
        }
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Removes all, keeping the allocated buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.index = None;
        self.filter = 0;
    }

    /// The keywords joined with `sep`.
    pub fn join(&self, sep: &str) -> String {
        let mut out =
            String::with_capacity(self.text.len() + sep.len() * self.len().saturating_sub(1));
        for (i, k) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(sep);
            }
            out.push_str(k);
        }
        out
    }
}

/// The keywords of a [`Keywords`] list, in order; see [`Keywords::iter`].
#[derive(Debug, Clone)]
pub struct KeywordsIter<'a> {
    text: &'a str,
    start: usize,
    ends: std::slice::Iter<'a, usize>,
}

impl<'a> Iterator for KeywordsIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let end = *self.ends.next()?;
        let k = &self.text[self.start..end];
        self.start = end;
        Some(k)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ends.size_hint()
    }
}

impl ExactSizeIterator for KeywordsIter<'_> {}

impl std::iter::FusedIterator for KeywordsIter<'_> {}

impl<S: AsRef<str>> FromIterator<S> for Keywords {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut k = Keywords::new();
        k.extend(iter);
        k
    }
}

impl<'a> IntoIterator for &'a Keywords {
    type Item = &'a str;
    type IntoIter = KeywordsIter<'a>;

    fn into_iter(self) -> KeywordsIter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(cell: &str, sep: KeywordSeparator) -> Vec<String> {
        let mut k = Keywords::new();
        k.push_split(cell, sep);
        k.iter().map(str::to_owned).collect()
    }

    #[test]
    fn keyword_splitting_prefers_semicolons() {
        assert_eq!(
            split("Paris, France; travel;; ", KeywordSeparator::Auto),
            ["Paris, France", "travel"]
        );
        assert_eq!(split("a|b , c", KeywordSeparator::Auto), ["a", "b , c"]);
        assert_eq!(split("a, b", KeywordSeparator::Char(';')), ["a, b"]);
        assert_eq!(split("x;y;x;;", KeywordSeparator::Auto), ["x", "y"]);
        assert_eq!(split(";", KeywordSeparator::Auto), Vec::<String>::new());
        assert_eq!(
            split("a;\tb ;  c\r; \u{a0}d\u{2003};   ", KeywordSeparator::Auto),
            ["a", "b", "c", "d"]
        );
        assert_eq!(split("  ", KeywordSeparator::Auto), Vec::<String>::new());
        assert_eq!(
            split("α · β ·γ", KeywordSeparator::Char('·')),
            ["α", "β", "γ"]
        );
        assert_eq!(
            split(
                " long keyword number one ; and two;three ",
                KeywordSeparator::Auto
            ),
            ["long keyword number one", "and two", "three"]
        );
    }

    #[test]
    fn many_keywords_stay_deduplicated_past_the_scan_limit() {
        let mut k = Keywords::new();
        for i in 0..200 {
            assert!(k.push(format!("k{i}")));
        }
        for i in (0..200).rev() {
            assert!(!k.push(format!("k{i}")));
        }
        assert!(k.remove("k150"));
        assert!(!k.contains("k150"));
        assert!(k.push("k150"));
        assert_eq!(k.len(), 200);
        assert_eq!(k.iter().last(), Some("k150"));
    }

    #[test]
    fn keyword_order_matters_for_equality() {
        let a: Keywords = ["x", "y"].into_iter().collect();
        let b: Keywords = ["y", "x"].into_iter().collect();
        assert_ne!(a, b);
    }
}
