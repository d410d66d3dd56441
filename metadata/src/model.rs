//! The record: [`AssetMetadata`] and [`ManifestRecord`].

use crate::custom::{CustomFields, FieldValue};
use crate::date::DateCreated;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::keywords::{KeywordSeparator, Keywords};
use crate::values::{CopyrightStatus, Rating, ReleaseStatus};
use crate::values::{find_byte, trim};

/// The IPTC Core / Extension metadata of one asset, plus custom fields.
///
/// Every field is optional; an unset field is `None` (or empty keywords). Fields are public,
/// so build a record from [`Default`] and assign:
///
/// ```
/// use asset_metadata::{AssetMetadata, Field, FieldValue};
///
/// let mut m = AssetMetadata::default();
/// m.title = Some("Harbour at dawn".into());
/// m.keywords.extend(["harbour", "dawn", "harbour"]);
/// m.set(Field::DateCreated, "2023:05:01 06:12:00")?;
/// m.custom.insert("Client Code", "ACME-7");
///
/// assert_eq!(m.keywords.len(), 2); // deduplicated, in order
/// assert_eq!(m.get(Field::DateCreated), Some(FieldValue::Text("2023-05-01T06:12:00".into())));
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AssetMetadata {
    /// Title (IPTC Object Name).
    pub title: Option<String>,
    /// Headline.
    pub headline: Option<String>,
    /// Description / caption.
    pub description: Option<String>,
    /// Caption writer.
    pub caption_writer: Option<String>,
    /// Keywords, ordered and deduplicated.
    pub keywords: Keywords,
    /// Creator / by-line. Several creators read from XMP are joined with `"; "`.
    pub creator: Option<String>,
    /// Creator's job title.
    pub creator_job_title: Option<String>,
    /// Credit line.
    pub credit_line: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Copyright notice.
    pub copyright_notice: Option<String>,
    /// Copyright status; `None` is "unknown".
    pub copyright_status: Option<CopyrightStatus>,
    /// Rights usage terms.
    pub rights_usage_terms: Option<String>,
    /// Special instructions.
    pub special_instructions: Option<String>,
    /// Job id (IPTC transmission reference).
    pub job_id: Option<String>,
    /// Date created.
    pub date_created: Option<DateCreated>,
    /// Sublocation.
    pub sublocation: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State / province.
    pub state: Option<String>,
    /// Country.
    pub country: Option<String>,
    /// Country ISO code.
    pub country_code: Option<String>,
    /// Star rating.
    pub rating: Option<Rating>,
    /// Model release status.
    pub model_release: Option<ReleaseStatus>,
    /// Property release status.
    pub property_release: Option<ReleaseStatus>,
    /// Everything else that was read, in the order it was read.
    pub custom: CustomFields,
}

/// The plain text fields and their slots, listed once: `AssetMetadata::text` and
/// `AssetMetadata::text_mut` are generated from this list.
macro_rules! text_fields {
    ($($variant:ident => $slot:ident),* $(,)?) => {
        impl AssetMetadata {
            /// The slot of a plain text field; `None` for keywords, dates, ratings and
            /// statuses.
            pub(crate) fn text(&self, field: Field) -> Option<&Option<String>> {
                match field {
                    $(Field::$variant => Some(&self.$slot),)*
                    _ => None,
                }
            }

            /// The slot of a plain text field, for readers and merges that fill it.
            pub(crate) fn text_mut(&mut self, field: Field) -> Option<&mut Option<String>> {
                match field {
                    $(Field::$variant => Some(&mut self.$slot),)*
                    _ => None,
                }
            }
        }
    };
}

text_fields!(
    Title => title,
    Headline => headline,
    Description => description,
    CaptionWriter => caption_writer,
    Creator => creator,
    CreatorJobTitle => creator_job_title,
    CreditLine => credit_line,
    Source => source,
    CopyrightNotice => copyright_notice,
    RightsUsageTerms => rights_usage_terms,
    SpecialInstructions => special_instructions,
    JobId => job_id,
    Sublocation => sublocation,
    City => city,
    State => state,
    Country => country,
    CountryCode => country_code,
);

impl AssetMetadata {
    /// A record with nothing set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing at all is set (no field, no custom field).
    pub fn is_empty(&self) -> bool {
        Field::ALL.into_iter().all(|f| !self.is_set(f)) && self.custom.is_empty()
    }

    /// Whether `field` has a value.
    pub fn is_set(&self, field: Field) -> bool {
        match field {
            Field::Keywords => !self.keywords.is_empty(),
            Field::CopyrightStatus => self.copyright_status.is_some(),
            Field::DateCreated => self.date_created.is_some(),
            Field::Rating => self.rating.is_some(),
            Field::ModelReleaseStatus => self.model_release.is_some(),
            Field::PropertyReleaseStatus => self.property_release.is_some(),
            f => self.text(f).is_some_and(Option::is_some),
        }
    }

    /// The value of `field` as text (or the keyword list), `None` when unset.
    ///
    /// Dates print as ISO 8601, statuses by their display names, ratings as numbers.
    pub fn get(&self, field: Field) -> Option<FieldValue> {
        let text = match field {
            Field::Keywords => {
                return (!self.keywords.is_empty())
                    .then(|| FieldValue::List(self.keywords.iter().map(str::to_owned).collect()));
            }
            Field::CopyrightStatus => self.copyright_status.map(|v| v.to_string()),
            Field::DateCreated => self.date_created.map(|v| v.to_string()),
            Field::Rating => self.rating.map(|v| v.to_string()),
            Field::ModelReleaseStatus => self.model_release.map(|v| v.to_string()),
            Field::PropertyReleaseStatus => self.property_release.map(|v| v.to_string()),
            f => self.text(f).cloned().flatten(),
        };
        text.map(FieldValue::Text)
    }

    /// Sets `field` from text, parsing dates, ratings and statuses. Surrounding whitespace
    /// is trimmed; an empty value clears the field. Keywords are split on `;`, `|` or `,`
    /// (the first of these found), replacing the current keywords.
    pub fn set(&mut self, field: Field, text: &str) -> Result<()> {
        let t = text.trim();
        let res = self.set_trimmed(field, t, KeywordSeparator::Auto);
        res.map_err(|e| e.at(&crate::error::Position::new().with_field(field.name())))
    }

    pub(crate) fn set_trimmed(
        &mut self,
        field: Field,
        t: &str,
        sep: KeywordSeparator,
    ) -> Result<()> {
        fn opt<T: std::str::FromStr<Err = Error>>(t: &str) -> Result<Option<T>> {
            if t.is_empty() {
                Ok(None)
            } else {
                t.parse().map(Some)
            }
        }
        match field {
            Field::Keywords => {
                self.keywords.clear();
                self.keywords.push_split(t, sep);
            }
            Field::CopyrightStatus => {
                // "Unknown" is how exports spell an unset status.
                self.copyright_status = if t.eq_ignore_ascii_case("unknown") {
                    None
                } else {
                    opt(t)?
                };
            }
            Field::DateCreated => self.date_created = opt(t)?,
            Field::Rating => self.rating = opt(t)?,
            Field::ModelReleaseStatus => self.model_release = opt(t)?,
            Field::PropertyReleaseStatus => self.property_release = opt(t)?,
            f => {
                if let Some(slot) = self.text_mut(f) {
                    assign(slot, t);
                }
            }
        }
        Ok(())
    }

    /// Clears `field`.
    pub fn clear(&mut self, field: Field) {
        match field {
            Field::Keywords => self.keywords.clear(),
            Field::CopyrightStatus => self.copyright_status = None,
            Field::DateCreated => self.date_created = None,
            Field::Rating => self.rating = None,
            Field::ModelReleaseStatus => self.model_release = None,
            Field::PropertyReleaseStatus => self.property_release = None,
            f => {
                if let Some(slot) = self.text_mut(f) {
                    *slot = None;
                }
            }
        }
    }

    /// Clears every field but keywords whose bit (`1 << field as u32`) is not in `set`: what
    /// a reader does after filling a reused record. Straight-line, as it runs for every row.
    pub(crate) fn clear_unset(&mut self, set: u32) {
        macro_rules! clear {
            ($($field:ident => $slot:ident),* $(,)?) => {
                $(if set & (1u32 << (Field::$field as u32)) == 0 {
                    self.$slot = None;
                })*
            };
        }
        clear!(
            Title => title,
            Headline => headline,
            Description => description,
            CaptionWriter => caption_writer,
            Creator => creator,
            CreatorJobTitle => creator_job_title,
            CreditLine => credit_line,
            Source => source,
            CopyrightNotice => copyright_notice,
            CopyrightStatus => copyright_status,
            RightsUsageTerms => rights_usage_terms,
            SpecialInstructions => special_instructions,
            JobId => job_id,
            DateCreated => date_created,
            Sublocation => sublocation,
            City => city,
            State => state,
            Country => country,
            CountryCode => country_code,
            Rating => rating,
            ModelReleaseStatus => model_release,
            PropertyReleaseStatus => property_release,
        );
    }

    /// Replaces `field` with the value it has in `other`.
    pub(crate) fn copy_from(&mut self, other: &AssetMetadata, field: Field) {
        match field {
            Field::Keywords => self.keywords.clone_from(&other.keywords),
            Field::CopyrightStatus => self.copyright_status = other.copyright_status,
            Field::DateCreated => self.date_created = other.date_created,
            Field::Rating => self.rating = other.rating,
            Field::ModelReleaseStatus => self.model_release = other.model_release,
            Field::PropertyReleaseStatus => self.property_release = other.property_release,
            f => {
                if let (Some(to), Some(from)) = (self.text_mut(f), other.text(f)) {
                    to.clone_from(from);
                }
            }
        }
    }

    /// Whether `field` holds the same value in `self` and `other`.
    pub(crate) fn same(&self, other: &AssetMetadata, field: Field) -> bool {
        match field {
            Field::Keywords => self.keywords == other.keywords,
            _ => self.get(field) == other.get(field),
        }
    }
}

/// Sets a text slot from a trimmed value, reusing the slot's buffer.
#[inline]
pub(crate) fn assign(slot: &mut Option<String>, t: &str) {
    match slot {
        _ if t.is_empty() => *slot = None,
        Some(s) => {
            s.clear();
            s.push_str(t);
        }
        None => *slot = Some(t.to_owned()),
    }
}

/// One record of a manifest (a CSV row, an XML record element).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ManifestRecord {
    /// The file key, trimmed, with `\` turned into `/` and leading `./` removed.
    pub key: String,
    /// The metadata of the record.
    pub metadata: AssetMetadata,
    /// The line the record starts on (in CSV the header is line 1).
    pub line: u64,
    /// The record's number, counting from 1.
    pub record: u64,
}

/// Trims, turns `\` into `/` and drops leading `./`.
pub(crate) fn normalize_key(key: &str) -> String {
    let mut out = String::new();
    normalize_key_into(key, &mut out);
    out
}

/// [`normalize_key`] into `out`, reusing its buffer.
pub(crate) fn normalize_key_into(key: &str, out: &mut String) {
    out.clear();
    let mut key = trim(key);
    if find_byte(key.as_bytes(), b'\\').is_some() {
        for (i, part) in key.split('\\').enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(part);
        }
        let mut skip = 0;
        while out[skip..].starts_with("./") {
            skip += 2;
        }
        out.drain(..skip);
    } else {
        while let Some(rest) = key.strip_prefix("./") {
            key = rest;
        }
        out.push_str(key);
    }
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    #[test]
    fn set_and_get_every_field() {
        let mut m = AssetMetadata::new();
        for f in Field::ALL {
            let text = match f {
                Field::CopyrightStatus => "Copyrighted",
                Field::DateCreated => "2020-02-29",
                Field::Rating => "3",
                Field::ModelReleaseStatus | Field::PropertyReleaseStatus => "Limited",
                Field::Keywords => "a; b",
                _ => "  some text ",
            };
            m.set(f, text).unwrap();
            assert!(m.is_set(f), "{f}");
            match m.get(f).unwrap() {
                FieldValue::List(items) => assert_eq!(items, ["a", "b"]),
                FieldValue::Text(t) => assert_eq!(t, text.trim(), "{f}"),
            }
        }
        for f in Field::ALL {
            m.set(f, " ").unwrap();
            assert!(!m.is_set(f), "{f}");
        }
        assert!(m.is_empty());
    }

    #[test]
    fn keys_are_normalized() {
        for (raw, want) in [
            (" a.jpg ", "a.jpg"),
            ("./a.jpg", "a.jpg"),
            ("././a.jpg", "a.jpg"),
            (".\\shoot\\a.jpg", "shoot/a.jpg"),
            ("shoot\\.\\a.jpg", "shoot/./a.jpg"),
            ("./", ""),
            ("", ""),
        ] {
            assert_eq!(normalize_key(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn clear_unset_keeps_only_the_set_fields() {
        let mut m = AssetMetadata::new();
        for f in Field::ALL {
            let text = match f {
                Field::CopyrightStatus => "Copyrighted",
                Field::DateCreated => "2020-02-29",
                Field::Rating => "3",
                Field::ModelReleaseStatus | Field::PropertyReleaseStatus => "Limited",
                _ => "x",
            };
            m.set(f, text).unwrap();
        }
        let keep = [Field::Title, Field::Rating, Field::Keywords];
        let set = keep.iter().fold(0u32, |s, f| s | 1 << (*f as u32));
        m.clear_unset(set);
        for f in Field::ALL {
            assert_eq!(m.is_set(f), keep.contains(&f), "{f}");
        }
    }

    #[test]
    fn set_names_the_field_on_bad_values() {
        let err = AssetMetadata::new().set(Field::Rating, "9").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"field Rating: invalid value "9": expected a rating of -1 (rejected) or 0 to 5"#
        );
    }
}
