//! [`CustomFields`] and their [`FieldValue`]s.

use indexmap::IndexMap;

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
/// (`"Iptc4xmpExt:PersonInImage"`), a PhotoShelter name (`"display_caption"`).
///
/// ```
/// use asset_metadata::{CustomFields, FieldValue};
/// let mut c = CustomFields::new();
/// c.insert("Client Code", "ACME-7");
/// c.insert("People", vec!["Ana".to_string(), "Bo".to_string()]);
/// assert_eq!(c.get("Client Code"), Some(&FieldValue::Text("ACME-7".into())));
/// assert_eq!(c.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["Client Code", "People"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomFields(IndexMap<String, FieldValue>);

impl CustomFields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field, keeping its place if it existed; returns the old value.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        value: impl Into<FieldValue>,
    ) -> Option<FieldValue> {
        self.0.insert(name.into(), value.into())
    }

    /// Puts `name = value` at position `at` as a reader filling a reused record does: when
    /// the field there already has that name (the same column in the previous row), its
    /// value's buffer is reused; otherwise every field from `at` on is dropped and the field
    /// is added unless it is already present (then the earlier value wins). Returns whether
    /// the field now sits at `at`.
    pub(crate) fn fill_at(&mut self, at: usize, name: &str, value: &str) -> bool {
        if let Some((k, v)) = self.0.get_index_mut(at)
            && k == name
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
        self.0.truncate(at);
        match self.0.entry(name.to_owned()) {
            indexmap::map::Entry::Occupied(_) => false,
            indexmap::map::Entry::Vacant(slot) => {
                slot.insert(FieldValue::Text(value.to_owned()));
                true
            }
        }
    }

    /// Keeps the first `len` fields.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.0.get(name)
    }

    /// Mutable access to a field's value.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut FieldValue> {
        self.0.get_mut(name)
    }

    /// Removes a field, keeping the order of the rest.
    pub fn remove(&mut self, name: &str) -> Option<FieldValue> {
        self.0.shift_remove(name)
    }

    /// Whether a field is present.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The fields in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &FieldValue)> + '_ {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Into<String>, V: Into<FieldValue>> FromIterator<(K, V)> for CustomFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}
