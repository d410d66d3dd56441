//! [`CustomFields`] and their [`FieldValue`]s.

use std::fmt;
use std::hash::BuildHasher;
use std::sync::Arc;

use foldhash::fast::RandomState;
use hashbrown::HashTable;

/// The value of a custom field: text or a list of texts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldValue {
    /// One text.
    Text(String),
    /// An ordered list (an XMP `rdf:Bag`/`rdf:Seq`, keywords).
    List(Vec<String>),
}

impl FieldValue {
    /// The value as one text; list items are joined with `"; "`.
    pub fn to_text(&self) -> String {
        match self {
            FieldValue::Text(t) => t.clone(),
            FieldValue::List(items) => items.join("; "),
        }
    }

    /// The text, if this is a single text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            FieldValue::Text(t) => Some(t),
            FieldValue::List(_) => None,
        }
    }

    /// The items (a text is a list of one).
    pub fn items(&self) -> &[String] {
        match self {
            FieldValue::Text(t) => std::slice::from_ref(t),
            FieldValue::List(items) => items,
        }
    }
}

impl From<&str> for FieldValue {
    fn from(s: &str) -> Self {
        FieldValue::Text(s.to_owned())
    }
}

impl From<String> for FieldValue {
    fn from(s: String) -> Self {
        FieldValue::Text(s)
    }
}

impl From<Vec<String>> for FieldValue {
    fn from(items: Vec<String>) -> Self {
        FieldValue::List(items)
    }
}

/// Custom fields: an ordered map from name to [`FieldValue`], keeping insertion order.
///
/// Names are kept as read: a CSV header (`"Client Code"`), an XMP property
/// (`"Iptc4xmpExt:PersonInImage"`), a PhotoShelter name (`"display_caption"`). Two maps are
/// equal when they hold the same names with the same values, in any order.
///
/// ```
/// use asset_metadata::{CustomFields, FieldValue};
/// let mut c = CustomFields::new();
/// c.insert("Client Code", "ACME-7");
/// c.insert("People", vec!["Ana".to_string(), "Bo".to_string()]);
/// assert_eq!(c.get("Client Code"), Some(&FieldValue::Text("ACME-7".into())));
/// assert_eq!(c.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["Client Code", "People"]);
/// ```
#[derive(Clone, Default)]
pub struct CustomFields {
    /// The fields in order. Records carry a handful, found by a scan: a copy of the map is
    /// then one allocation plus its texts (names are shared: a manifest's rows all name
    /// their custom columns alike).
    entries: Vec<(Arc<str>, FieldValue)>,
    /// Built once there are more fields than a scan should cover (a hostile XMP with
    /// thousands of properties stays linear in time).
    index: Option<Index>,
}

/// The positions of the fields, hashed by name.
#[derive(Clone)]
struct Index {
    table: HashTable<usize>,
    state: RandomState,
}

/// Up to this many fields, names are found by a scan.
const SCAN_LIMIT: usize = 16;

impl Index {
    fn build(entries: &[(Arc<str>, FieldValue)]) -> Self {
        let state = RandomState::default();
        let mut table = HashTable::with_capacity(entries.len());
        for (i, (name, _)) in entries.iter().enumerate() {
            table.insert_unique(state.hash_one(&**name), i, |&j| {
                state.hash_one(&*entries[j].0)
            });
        }
        Self { table, state }
    }
}

impl fmt::Debug for CustomFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for CustomFields {
    /// The same names with the same values, in any order.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Eq for CustomFields {}

impl CustomFields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where the field called `name` is.
    fn position(&self, name: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index
                .table
                .find(index.state.hash_one(name), |&i| *self.entries[i].0 == *name)
                .copied(),
            None => self.entries.iter().position(|(k, _)| **k == *name),
        }
    }

    /// Adds a field that is not present, at the end.
    fn push(&mut self, name: Arc<str>, value: FieldValue) {
        self.entries.push((name, value));
        let at = self.entries.len() - 1;
        match &mut self.index {
            Some(index) => {
                let entries = &self.entries;
                let hash = index.state.hash_one(&*entries[at].0);
                index
                    .table
                    .insert_unique(hash, at, |&j| index.state.hash_one(&*entries[j].0));
            }
            None if self.entries.len() > SCAN_LIMIT => {
                self.index = Some(Index::build(&self.entries));
            }
            None => {}
        }
    }

    /// Sets a field, keeping its place if it existed; returns the old value.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Into<FieldValue>,
    ) -> Option<FieldValue> {
        let name = name.into();
        let value = value.into();
        match self.position(&name) {
            Some(at) => Some(std::mem::replace(&mut self.entries[at].1, value)),
            None => {
                self.push(Arc::from(name), value);
                None
            }
        }
    }

    /// Puts `name = value` at position `at` as a reader filling a reused record does: when
    /// the field there already has that name (the same column in the previous row), its
    /// value's buffer is reused; otherwise every field from `at` on is dropped and the field
    /// is added unless it is already present (then the earlier value wins). Returns whether
    /// the field now sits at `at`.
    pub(crate) fn fill_at(&mut self, at: usize, name: &Arc<str>, value: &str) -> bool {
        if let Some((k, v)) = self.entries.get_mut(at)
            && (Arc::ptr_eq(k, name) || **k == **name)
        {
            match v {
                FieldValue::Text(t) => {
                    t.clear();
                    t.push_str(value);
                }
                FieldValue::List(_) => *v = FieldValue::Text(value.to_owned()),
            }
            return true;
        }
        self.truncate(at);
        if self.position(name).is_some() {
            return false;
        }
        self.push(Arc::clone(name), FieldValue::Text(value.to_owned()));
        true
    }

    /// Keeps the first `len` fields.
    pub(crate) fn truncate(&mut self, len: usize) {
        if len >= self.entries.len() {
            return;
        }
        self.entries.truncate(len);
        if self.index.is_some() {
            self.index = (len > SCAN_LIMIT).then(|| Index::build(&self.entries));
        }
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.position(name).map(|at| &self.entries[at].1)
    }

    /// Mutable access to a field's value.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut FieldValue> {
        self.position(name).map(|at| &mut self.entries[at].1)
    }

    /// Removes a field, keeping the order of the rest.
    pub fn remove(&mut self, name: &str) -> Option<FieldValue> {
        let at = self.position(name)?;
        let (_, value) = self.entries.remove(at);
        if self.index.is_some() {
            self.index = (self.entries.len() > SCAN_LIMIT).then(|| Index::build(&self.entries));
        }
        Some(value)
    }

    /// Whether a field is present.
    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The fields in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &FieldValue)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K: Into<String>, V: Into<FieldValue>> FromIterator<(K, V)> for CustomFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut fields = CustomFields::new();
        for (k, v) in iter {
            fields.insert(k, v);
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_fields_keep_order_and_lookups_past_the_scan_limit() {
        let mut c = CustomFields::new();
        for i in 0..100 {
            assert!(c.insert(format!("f{i}"), format!("{i}")).is_none());
        }
        assert_eq!(c.insert("f7", "seven"), Some(FieldValue::Text("7".into())));
        assert_eq!(c.get("f7").and_then(FieldValue::as_text), Some("seven"));
        assert_eq!(c.remove("f50"), Some(FieldValue::Text("50".into())));
        assert!(!c.contains("f50"));
        assert_eq!(c.get("f99").and_then(FieldValue::as_text), Some("99"));
        assert_eq!(c.len(), 99);
        assert_eq!(c.iter().nth(50).map(|(k, _)| k), Some("f51"));
        c.truncate(20);
        assert!(!c.contains("f30") && c.contains("f19"));
        assert!(!c.fill_at(20, &Arc::from("f19"), "again") && c.len() == 20);
        assert!(c.fill_at(20, &Arc::from("new"), "x"));
        assert_eq!(c.get("new").and_then(FieldValue::as_text), Some("x"));
    }

    #[test]
    fn equality_ignores_order_and_debug_prints_a_map() {
        let a: CustomFields = [("x", "1"), ("y", "2")].into_iter().collect();
        let b: CustomFields = [("y", "2"), ("x", "1")].into_iter().collect();
        let c: CustomFields = [("y", "2"), ("x", "3")].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(format!("{a:?}"), r#"{"x": Text("1"), "y": Text("2")}"#);
    }
}
