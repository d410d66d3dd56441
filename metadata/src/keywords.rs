//! [`Keywords`]: ordered, deduplicated; and how keyword cells are split.

use std::collections::HashSet;

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

/// Splits a keyword cell, trimming each keyword and dropping empty ones.
pub(crate) fn split_keywords(text: &str, sep: KeywordSeparator) -> impl Iterator<Item = &str> {
    let sep = match sep {
        KeywordSeparator::Char(c) => c,
        KeywordSeparator::Auto => [';', '|', ',']
            .into_iter()
            .find(|c| text.contains(*c))
            .unwrap_or(';'),
    };
    text.split(sep).map(str::trim).filter(|k| !k.is_empty())
}

/// Keywords: ordered, without duplicates (compared exactly), without empty entries.
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
    list: Vec<String>,
    /// Built once the list is long enough that a linear scan would cost more than hashing
    /// (a hostile cell of 500,000 keywords stays linear in time).
    index: Option<HashSet<String>>,
}

/// Up to this many keywords, duplicates are found by a scan (photos carry a handful).
const SCAN_LIMIT: usize = 32;

impl PartialEq for Keywords {
    /// Order matters.
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl Eq for Keywords {}

impl std::fmt::Debug for Keywords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.list).finish()
    }
}

impl Keywords {
    /// No keywords.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a keyword at the end (trimmed); `false` if it was empty or already present.
    pub fn push(&mut self, keyword: impl AsRef<str>) -> bool {
        let k = keyword.as_ref().trim();
        if k.is_empty() || self.contains(k) {
            return false;
        }
        if let Some(index) = &mut self.index {
            index.insert(k.to_owned());
        } else if self.list.len() >= SCAN_LIMIT {
            self.index = Some(self.list.iter().cloned().chain([k.to_owned()]).collect());
        }
        self.list.push(k.to_owned());
        true
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

    /// Removes a keyword, keeping the order of the rest; `false` if absent.
    pub fn remove(&mut self, keyword: &str) -> bool {
        let Some(at) = self.list.iter().position(|k| k == keyword) else {
            return false;
        };
        self.list.remove(at);
        if let Some(index) = &mut self.index {
            index.remove(keyword);
        }
        true
    }

    /// Whether `keyword` is present.
    pub fn contains(&self, keyword: &str) -> bool {
        match &self.index {
            Some(index) => index.contains(keyword),
            None => self.list.iter().any(|k| k == keyword),
        }
    }

    /// The keywords in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.list.iter().map(String::as_str)
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Removes all.
    pub fn clear(&mut self) {
        self.list.clear();
        self.index = None;
    }

    /// The keywords joined with `sep`.
    pub fn join(&self, sep: &str) -> String {
        self.list.join(sep)
    }
}

impl<S: AsRef<str>> FromIterator<S> for Keywords {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut k = Keywords::new();
        k.extend(iter);
        k
    }
}

impl<'a> IntoIterator for &'a Keywords {
    type Item = &'a str;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, String>, fn(&String) -> &str>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_splitting_prefers_semicolons() {
        let got: Vec<_> =
            split_keywords("Paris, France; travel;; ", KeywordSeparator::Auto).collect();
        assert_eq!(got, ["Paris, France", "travel"]);
        let got: Vec<_> = split_keywords("a|b , c", KeywordSeparator::Auto).collect();
        assert_eq!(got, ["a", "b , c"]);
        let got: Vec<_> = split_keywords("a, b", KeywordSeparator::Char(';')).collect();
        assert_eq!(got, ["a, b"]);
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
