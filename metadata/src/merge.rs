//! Merging records with a policy per field ([`Merge`]) and comparing them ([`Diff`]).

use std::collections::BTreeMap;
use std::fmt;

use crate::custom::FieldValue;
use crate::field::Field;
use crate::model::AssetMetadata;

/// What a merge does with one field, as PhotoShelter's batch edit offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum MergePolicy {
    /// The incoming value replaces the existing one when the incoming record has one; an
    /// unset incoming field leaves the existing value alone.
    #[default]
    Overwrite,
    /// The incoming record wins even when its field is unset (which clears the field).
    Replace,
    /// Lists (keywords, custom lists) get the incoming items not yet present, at the end.
    /// Text gets the incoming text appended after a space, unless it is already there as
    /// whole words (so merging twice appends once).
    /// Dates, ratings and statuses behave as [`Overwrite`](Self::Overwrite).
    Append,
    /// The existing value is kept; the incoming one only fills an unset field.
    KeepExisting,
}

/// A merge: a default [`MergePolicy`] plus overrides per field.
///
/// ```
/// use asset_metadata::{AssetMetadata, Field, Merge, MergePolicy};
///
/// let mut existing = AssetMetadata::default();
/// existing.title = Some("Old title".into());
/// existing.keywords.extend(["sea"]);
/// existing.credit_line = Some("Agency".into());
///
/// let mut incoming = AssetMetadata::default();
/// incoming.title = Some("New title".into());
/// incoming.keywords.extend(["boat", "sea"]);
/// incoming.credit_line = Some("Someone else".into());
///
/// let diff = Merge::new(MergePolicy::Overwrite)
///     .policy(Field::Keywords, MergePolicy::Append)
///     .policy(Field::CreditLine, MergePolicy::KeepExisting)
///     .apply(&mut existing, &incoming);
///
/// assert_eq!(existing.title.as_deref(), Some("New title"));
/// assert_eq!(existing.keywords.join(","), "sea,boat");
/// assert_eq!(existing.credit_line.as_deref(), Some("Agency"));
/// assert_eq!(diff.to_string(), "Title, Keywords");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Merge {
    default: MergePolicy,
    fields: BTreeMap<Field, MergePolicy>,
    custom: Option<MergePolicy>,
}

impl Merge {
    /// A merge that applies `default` to every field and custom field.
    pub fn new(default: MergePolicy) -> Self {
        Self {
            default,
            fields: BTreeMap::new(),
            custom: None,
        }
    }

    /// Sets the policy of one field.
    ///
    /// ```
    /// # use asset_metadata::{Field, Merge, MergePolicy};
    /// let m = Merge::new(MergePolicy::KeepExisting).policy(Field::Keywords, MergePolicy::Append);
    /// assert_eq!(m.policy_of(Field::Keywords), MergePolicy::Append);
    /// assert_eq!(m.policy_of(Field::Title), MergePolicy::KeepExisting);
    /// ```
    pub fn policy(mut self, field: Field, policy: MergePolicy) -> Self {
        self.fields.insert(field, policy);
        self
    }

    /// Sets the policy of every custom field (the default policy otherwise).
    ///
    /// ```
    /// # use asset_metadata::{AssetMetadata, Merge, MergePolicy};
    /// let mut a = AssetMetadata::default();
    /// a.custom.insert("Client", "ACME");
    /// let mut b = AssetMetadata::default();
    /// b.custom.insert("Client", "Other");
    /// Merge::new(MergePolicy::Overwrite).custom_policy(MergePolicy::KeepExisting).apply(&mut a, &b);
    /// assert_eq!(a.custom.get("Client").and_then(|v| v.as_text()), Some("ACME"));
    /// ```
    pub fn custom_policy(mut self, policy: MergePolicy) -> Self {
        self.custom = Some(policy);
        self
    }

    /// The policy that applies to `field`.
    pub fn policy_of(&self, field: Field) -> MergePolicy {
        self.fields.get(&field).copied().unwrap_or(self.default)
    }

    /// Merges `incoming` into `target` and returns what changed in `target`.
    pub fn apply(&self, target: &mut AssetMetadata, incoming: &AssetMetadata) -> Diff {
        let before = target.clone();
        for field in Field::ALL {
            merge_field(target, incoming, field, self.policy_of(field));
        }
        let policy = self.custom.unwrap_or(self.default);
        if policy == MergePolicy::Replace {
            target.custom = incoming.custom.clone();
        } else {
            for (name, value) in incoming.custom.iter() {
                merge_custom(target, name, value, policy);
            }
        }
        Diff::between(&before, target)
    }
}

fn merge_field(
    target: &mut AssetMetadata,
    incoming: &AssetMetadata,
    field: Field,
    policy: MergePolicy,
) {
    let has_new = incoming.is_set(field);
    match policy {
        MergePolicy::Replace => target.copy_from(incoming, field),
        MergePolicy::Overwrite if has_new => target.copy_from(incoming, field),
        MergePolicy::KeepExisting if has_new && !target.is_set(field) => {
            target.copy_from(incoming, field);
        }
        MergePolicy::Append if has_new => {
            if field == Field::Keywords {
                target.keywords.extend(incoming.keywords.iter());
            } else if let (Some(slot), Some(FieldValue::Text(new))) =
                (target.text_mut(field), incoming.get(field))
            {
                match slot {
                    Some(old) if contains_words(old, &new) => {}
                    Some(old) => {
                        old.push(' ');
                        old.push_str(&new);
                    }
                    None => *slot = Some(new),
                }
            } else {
                target.copy_from(incoming, field);
            }
        }
        _ => {}
    }
}

/// Whether `needle` occurs in `text` as whole words: not inside a longer word, so that
/// "Paris" is not found in "Parisian".
fn contains_words(text: &str, needle: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    needle.is_empty()
        || text.match_indices(needle).any(|(at, found)| {
            !word(text[..at].chars().next_back()) && !word(text[at + found.len()..].chars().next())
        })
}

fn merge_custom(target: &mut AssetMetadata, name: &str, value: &FieldValue, policy: MergePolicy) {
    let Some(old) = target.custom.get_mut(name) else {
        target.custom.insert(name, value.clone());
        return;
    };
    match policy {
        MergePolicy::KeepExisting => {}
        MergePolicy::Append => {
            let mut items = old.items().to_vec();
            for item in value.items() {
                if !items.contains(item) {
                    items.push(item.clone());
                }
            }
            *old = if items.len() == 1 && matches!(old, FieldValue::Text(_)) {
                FieldValue::Text(items.remove(0))
            } else {
                FieldValue::List(items)
            };
        }
        _ => *old = value.clone(),
    }
}

/// Which fields differ between two records.
///
/// Printed as the changed names joined with `", "`: built-in fields by display name, then
/// custom fields by name.
///
/// ```
/// use asset_metadata::{AssetMetadata, Diff, Field};
/// let a = AssetMetadata::default();
/// let mut b = a.clone();
/// b.city = Some("Lyon".into());
/// b.custom.insert("Client", "ACME");
/// let d = Diff::between(&a, &b);
/// assert!(d.contains(Field::City));
/// assert_eq!(d.custom().collect::<Vec<_>>(), ["Client"]);
/// assert_eq!(d.to_string(), "City, Client");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    fields: Vec<Field>,
    custom: Vec<String>,
}

impl Diff {
    /// The fields whose values differ between `old` and `new`.
    pub fn between(old: &AssetMetadata, new: &AssetMetadata) -> Self {
        let fields = Field::ALL
            .into_iter()
            .filter(|f| !old.same(new, *f))
            .collect();
        let mut custom: Vec<String> = old
            .custom
            .iter()
            .filter(|(k, v)| new.custom.get(k) != Some(v))
            .map(|(k, _)| k.to_owned())
            .collect();
        custom.extend(
            new.custom
                .iter()
                .filter(|(k, _)| !old.custom.contains(k))
                .map(|(k, _)| k.to_owned()),
        );
        Self { fields, custom }
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.custom.is_empty()
    }

    /// Whether `field` differs.
    pub fn contains(&self, field: Field) -> bool {
        self.fields.contains(&field)
    }

    /// The built-in fields that differ, in [`Field::ALL`] order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = Field> + '_ {
        self.fields.iter().copied()
    }

    /// The custom fields that differ (changed, added or removed).
    pub fn custom(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.custom.iter().map(String::as_str)
    }
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self
            .fields
            .iter()
            .map(|f| f.name())
            .chain(self.custom.iter().map(String::as_str));
        for (i, name) in names.enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;
    use crate::date::DateCreated;

    fn sample() -> AssetMetadata {
        let mut m = AssetMetadata::default();
        m.title = Some("T".into());
        m.description = Some("Boats".into());
        m.keywords.extend(["a", "b"]);
        m.custom.insert("X", vec!["1".to_owned()]);
        m
    }

    #[test]
    fn overwrite_keeps_existing_when_incoming_is_unset() {
        let mut t = sample();
        let d = Merge::new(MergePolicy::Overwrite).apply(&mut t, &AssetMetadata::default());
        assert!(d.is_empty());
        assert_eq!(t, sample());
    }

    #[test]
    fn replace_clears() {
        let mut t = sample();
        let d = Merge::new(MergePolicy::Replace).apply(&mut t, &AssetMetadata::default());
        assert!(t.is_empty());
        assert_eq!(d.to_string(), "Title, Description, Keywords, X");
    }

    #[test]
    fn append_extends_lists_and_text() {
        let mut t = sample();
        let mut inc = AssetMetadata::default();
        inc.description = Some("at dawn".into());
        inc.title = Some("T".into());
        inc.keywords.extend(["b", "c"]);
        inc.custom.insert("X", "2");
        inc.date_created = "2020".parse::<DateCreated>().ok();
        let d = Merge::new(MergePolicy::Append).apply(&mut t, &inc);
        assert_eq!(t.description.as_deref(), Some("Boats at dawn"));
        assert_eq!(t.title.as_deref(), Some("T"));
        assert_eq!(t.keywords.join(","), "a,b,c");
        assert_eq!(
            t.custom.get("X"),
            Some(&FieldValue::List(vec!["1".into(), "2".into()]))
        );
        assert_eq!(t.date_created, inc.date_created);
        assert_eq!(d.to_string(), "Description, Keywords, Date Created, X");
    }

    #[test]
    fn append_skips_text_already_there_as_whole_words_only() {
        let merge = Merge::new(MergePolicy::Append);
        let mut t = AssetMetadata::default();
        t.description = Some("Parisian cafe at dawn".into());
        let mut inc = AssetMetadata::default();
        for (incoming, want) in [
            ("Paris", "Parisian cafe at dawn Paris"),
            ("Paris", "Parisian cafe at dawn Paris"),
            ("at dawn", "Parisian cafe at dawn Paris"),
            ("dawn Paris", "Parisian cafe at dawn Paris"),
            ("caf", "Parisian cafe at dawn Paris caf"),
        ] {
            inc.description = Some(incoming.into());
            merge.apply(&mut t, &inc);
            assert_eq!(t.description.as_deref(), Some(want), "{incoming}");
        }
    }

    #[test]
    fn keep_existing_only_fills_gaps() {
        let mut t = sample();
        let mut inc = AssetMetadata::default();
        inc.title = Some("Other".into());
        inc.city = Some("Oslo".into());
        let d = Merge::new(MergePolicy::KeepExisting).apply(&mut t, &inc);
        assert_eq!(t.title.as_deref(), Some("T"));
        assert_eq!(t.city.as_deref(), Some("Oslo"));
        assert_eq!(d.fields().collect::<Vec<_>>(), [Field::City]);
    }

    #[test]
    fn diff_sees_keyword_order_and_removed_custom_fields() {
        let a = sample();
        let mut b = sample();
        b.keywords = ["b", "a"].into_iter().collect();
        b.custom.remove("X");
        assert_eq!(Diff::between(&a, &b).to_string(), "Keywords, X");
    }
}
