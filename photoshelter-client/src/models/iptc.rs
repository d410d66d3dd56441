use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::decode::opt_string;
use crate::models::Extra;

macro_rules! iptc_struct {
    ($($(#[$doc:meta])* $field:ident),* $(,)?) => {
        /// An image's IPTC record (v3 `Iptc`, v4 `iptc` attributes).
        ///
        /// The fields this crate knows are typed; every other field the server sends is kept
        /// in [`Iptc::other`], so a read-modify-write through [`IptcPatch::from_iptc`] loses
        /// nothing. Field names follow `docs/wire-format.md` section 8.
        ///
        /// ```
        /// use photoshelter_client::Iptc;
        ///
        /// let iptc: Iptc = serde_json::from_str(
        ///     r#"{"title":"Dock","keyword":"harbour, boats,dawn","lens":"35mm"}"#,
        /// )?;
        /// assert_eq!(iptc.title.as_deref(), Some("Dock"));
        /// assert_eq!(iptc.keywords(), ["harbour", "boats", "dawn"]);
        /// assert_eq!(iptc.other["lens"], "35mm");
        /// # Ok::<(), serde_json::Error>(())
        /// ```
        #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
        #[non_exhaustive]
        pub struct Iptc {
            $(
                $(#[$doc])*
                #[serde(default, deserialize_with = "opt_string", skip_serializing_if = "Option::is_none")]
                pub $field: Option<String>,
            )*
            /// Every other field, as sent.
            #[serde(flatten)]
            pub other: Extra,
        }

        impl Iptc {
            /// The typed fields as `(wire name, value)` pairs, in wire-format order.
            pub fn named_fields(&self) -> Vec<(&'static str, Option<&str>)> {
                vec![$((stringify!($field), self.$field.as_deref())),*]
            }

            /// The wire names of the typed fields.
            pub const FIELD_NAMES: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        impl IptcPatch {
            $(
                #[doc = concat!("Sets `", stringify!($field), "`.")]
                pub fn $field(self, value: impl Into<String>) -> Self {
                    self.set(stringify!($field), value)
                }
            )*
        }
    };
}

iptc_struct!(
    /// Title (object name).
    title,
    /// Headline.
    headline,
    /// Caption / description.
    caption,
    /// Caption writer.
    caption_writer,
    /// Keywords, one comma-separated string (see [`Iptc::keywords`]).
    keyword,
    /// Creator / by-line.
    author,
    /// The creator's job title.
    author_title,
    /// Credit line.
    credit,
    /// Source.
    source,
    /// Copyright notice.
    copyright,
    /// Rights usage terms.
    usage_terms,
    /// Special instructions.
    special_instructions,
    /// Job id / transmission reference.
    transmission_reference,
    /// Date created, `YYYY-MM-DD`.
    date_created,
    /// Sublocation.
    sublocation,
    /// City.
    city,
    /// State / province.
    state,
    /// Country.
    country,
    /// Country ISO code.
    country_code,
);

impl Iptc {
    /// The keywords, split on commas and semicolons, trimmed, empty ones dropped.
    pub fn keywords(&self) -> Vec<&str> {
        self.keyword
            .as_deref()
            .unwrap_or("")
            .split([',', ';'])
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .collect()
    }

    /// Replaces the keywords (joined with `", "`).
    pub fn set_keywords<I, S>(&mut self, keywords: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let joined = keywords
            .into_iter()
            .map(|k| k.as_ref().trim().to_owned())
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        self.keyword = Some(joined);
    }
}

/// A change to an image's IPTC, for
/// [`Provisional::update_iptc`](crate::provisional::Provisional::update_iptc): a field set
/// here is overwritten, a field [cleared](IptcPatch::clear) is emptied, every other field is
/// left as it is.
///
/// ```
/// use photoshelter_client::IptcPatch;
///
/// let patch = IptcPatch::new().title("Dock at dawn").keywords(["harbour", "boats"]).clear("city");
/// assert_eq!(
///     serde_json::to_string(&patch)?,
///     r#"{"city":null,"keyword":"harbour, boats","title":"Dock at dawn"}"#
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IptcPatch {
    fields: BTreeMap<String, Option<String>>,
}

impl IptcPatch {
    /// Keys of an IPTC record that identify it rather than describe the image.
    const IDENTITY_KEYS: &'static [&'static str] = &["image_id", "media_id", "id", "type"];

    /// An empty patch.
    pub fn new() -> Self {
        Self::default()
    }

    /// A patch that writes every field present in `iptc` (typed fields and
    /// [`Iptc::other`] scalars): the read-modify-write form.
    pub fn from_iptc(iptc: &Iptc) -> Self {
        let mut patch = Self::new();
        for (name, value) in iptc.named_fields() {
            if let Some(v) = value {
                patch = patch.set(name, v);
            }
        }
        for (name, value) in &iptc.other {
            // The record's own identity is not a field to write back.
            if Self::IDENTITY_KEYS.contains(&name.as_str()) {
                continue;
            }
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => continue,
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => value.to_string(),
                // Nested values are not IPTC fields; leave them alone.
                serde_json::Value::Array(_) | serde_json::Value::Object(_) => continue,
            };
            patch = patch.set(name.clone(), text);
        }
        patch
    }

    /// Sets any field by its wire name.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(name.into(), Some(value.into()));
        self
    }

    /// Empties a field.
    pub fn clear(mut self, name: impl Into<String>) -> Self {
        self.fields.insert(name.into(), None);
        self
    }

    /// Sets the keywords (joined with `", "`).
    pub fn keywords<I, S>(self, keywords: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut tmp = Iptc::default();
        tmp.set_keywords(keywords);
        self.set("keyword", tmp.keyword.unwrap_or_default())
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The changes, as `(wire name, new value or None to clear)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }
}

impl Serialize for IptcPatch {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (k, v) in &self.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_modify_write_keeps_unknown_fields() {
        let iptc: Iptc = serde_json::from_str(
            r#"{"image_id":"I0000abcdefghijk","title":"A","city":"Oslo","scene_code":"011","priority":3,"nested":{"x":1}}"#,
        )
        .unwrap();
        let patch = IptcPatch::from_iptc(&iptc).title("B");
        let json = serde_json::to_value(&patch).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"title":"B","city":"Oslo","scene_code":"011","priority":"3"})
        );
    }

    #[test]
    fn numbers_in_text_fields_are_kept_as_text() {
        let iptc: Iptc = serde_json::from_str(r#"{"transmission_reference":12345}"#).unwrap();
        assert_eq!(iptc.transmission_reference.as_deref(), Some("12345"));
    }
}
