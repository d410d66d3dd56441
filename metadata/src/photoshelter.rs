//! Mapping to and from PhotoShelter's IPTC field names, as plain `(name, value)` pairs.
//!
//! The names are the contract shared with the SDK and the emulator (the workspace's
//! `docs/wire-format.md` § 8), and most are provisional. PhotoShelter's public material
//! confirms `title`, `headline`, `caption`, `keyword`, `credit` and `copyright`; `author`
//! is a documented name whose meaning (creator / by-line) is inferred; every other name in
//! the table (`caption_writer`, `author_title`, `source`, `usage_terms`,
//! `special_instructions`, `transmission_reference`, `date_created`, `sublocation`, `city`,
//! `state`, `country`, `country_code`) was chosen by this workspace and should be checked
//! against a real account (`fields=*` on the `Iptc` extension). Fields the table does not
//! name use PhotoShelter's per-image flags: `rating`, `model_released` and
//! `property_released` (`"true"`/`"false"`), plus `copyright_status` (also chosen).
//!
//! Keywords travel as one comma-separated string, so a keyword that holds a comma comes
//! back as two. Custom fields travel under their own names (lists joined with `", "`),
//! except one named like a built-in field above, which is left out rather than sent in its
//! place; unknown names read back become custom fields, so nothing read is dropped.
//!
//! Two conversions lose detail, because PhotoShelter has a flag where IPTC has a status:
//! a release status of [`Limited`](crate::ReleaseStatus::Limited) is sent as `true` and
//! reads back as [`Unlimited`](crate::ReleaseStatus::Unlimited), and
//! [`NotApplicable`](crate::ReleaseStatus::NotApplicable) is not sent. A date created is
//! sent as its date part (`YYYY-MM-DD`), as the table says.
//!
//! ```
//! use asset_metadata::{photoshelter, AssetMetadata};
//!
//! let mut m = AssetMetadata::default();
//! m.title = Some("Harbour".into());
//! m.keywords.extend(["sea", "boat"]);
//! m.creator = Some("Ana Lima".into());
//!
//! let fields = photoshelter::to_photoshelter_fields(&m);
//! assert_eq!(fields, [
//!     ("title".to_string(), "Harbour".to_string()),
//!     ("keyword".to_string(), "sea, boat".to_string()),
//!     ("author".to_string(), "Ana Lima".to_string()),
//! ]);
//! let back = photoshelter::from_photoshelter_fields(fields)?;
//! assert_eq!(back, m);
//! # Ok::<(), asset_metadata::Error>(())
//! ```

use crate::custom::FieldValue;
use crate::error::{Position, Result};
use crate::field::Field;
use crate::keywords::KeywordSeparator;
use crate::model::AssetMetadata;
use crate::values::ReleaseStatus;

/// PhotoShelter's name for a built-in field.
///
/// ```
/// use asset_metadata::{photoshelter, Field};
/// assert_eq!(photoshelter::name(Field::Creator), "author");
/// assert_eq!(photoshelter::name(Field::Keywords), "keyword");
/// ```
pub fn name(field: Field) -> &'static str {
    match field {
        Field::Title => "title",
        Field::Headline => "headline",
        Field::Description => "caption",
        Field::CaptionWriter => "caption_writer",
        Field::Keywords => "keyword",
        Field::Creator => "author",
        Field::CreatorJobTitle => "author_title",
        Field::CreditLine => "credit",
        Field::Source => "source",
        Field::CopyrightNotice => "copyright",
        Field::CopyrightStatus => "copyright_status",
        Field::RightsUsageTerms => "usage_terms",
        Field::SpecialInstructions => "special_instructions",
        Field::JobId => "transmission_reference",
        Field::DateCreated => "date_created",
        Field::Sublocation => "sublocation",
        Field::City => "city",
        Field::State => "state",
        Field::Country => "country",
        Field::CountryCode => "country_code",
        Field::Rating => "rating",
        Field::ModelReleaseStatus => "model_released",
        Field::PropertyReleaseStatus => "property_released",
    }
}

/// The field PhotoShelter's `name` stands for, if it is one of the built-in fields.
pub fn field(name: &str) -> Option<Field> {
    Field::ALL.into_iter().find(|f| self::name(*f) == name)
}

/// The record as PhotoShelter `(name, value)` pairs: set fields in [`Field::ALL`] order, then
/// custom fields in their order. Unset fields are left out.
pub fn to_photoshelter_fields(meta: &AssetMetadata) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in Field::ALL {
        let value = match f {
            Field::Keywords if !meta.keywords.is_empty() => Some(meta.keywords.join(", ")),
            Field::DateCreated => meta.date_created.map(|d| d.date_string()),
            Field::ModelReleaseStatus => meta.model_release.and_then(release_flag),
            Field::PropertyReleaseStatus => meta.property_release.and_then(release_flag),
            _ => match meta.get(f) {
                Some(FieldValue::Text(t)) => Some(t),
                _ => None,
            },
        };
        if let Some(v) = value {
            out.push((name(f).to_owned(), v));
        }
    }
    for (k, v) in meta.custom.iter() {
        if field(k).is_none() {
            out.push((k.to_owned(), v.items().join(", ")));
        }
    }
    out
}

fn release_flag(status: ReleaseStatus) -> Option<String> {
    match status {
        ReleaseStatus::Unlimited | ReleaseStatus::Limited => Some("true".into()),
        ReleaseStatus::None => Some("false".into()),
        ReleaseStatus::NotApplicable => None,
    }
}

/// A record from PhotoShelter `(name, value)` pairs. Empty values are skipped; names that are
/// not built-in fields become custom fields. A value that cannot be used (a date that is not
/// a date) is an error naming the field.
pub fn from_photoshelter_fields<I, K, V>(fields: I) -> Result<AssetMetadata>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut meta = AssetMetadata::default();
    for (k, v) in fields {
        let (k, v) = (k.as_ref(), v.as_ref().trim());
        if v.is_empty() {
            continue;
        }
        match field(k) {
            Some(f) => meta
                .set_trimmed(f, v, KeywordSeparator::Char(','))
                .map_err(|e| e.at(&Position::new().with_field(k)))?,
            None => {
                meta.custom.insert(k, v);
            }
        }
    }
    Ok(meta)
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_a_distinct_name() {
        let mut names: Vec<_> = Field::ALL.iter().map(|f| name(*f)).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Field::ALL.len());
        for f in Field::ALL {
            assert_eq!(field(name(f)), Some(f));
        }
    }

    #[test]
    fn wire_table_names_are_used() {
        // The table of docs/wire-format.md § 8.
        let table = [
            (Field::Title, "title"),
            (Field::Headline, "headline"),
            (Field::Description, "caption"),
            (Field::CaptionWriter, "caption_writer"),
            (Field::Keywords, "keyword"),
            (Field::Creator, "author"),
            (Field::CreatorJobTitle, "author_title"),
            (Field::CreditLine, "credit"),
            (Field::Source, "source"),
            (Field::CopyrightNotice, "copyright"),
            (Field::RightsUsageTerms, "usage_terms"),
            (Field::SpecialInstructions, "special_instructions"),
            (Field::JobId, "transmission_reference"),
            (Field::DateCreated, "date_created"),
            (Field::Sublocation, "sublocation"),
            (Field::City, "city"),
            (Field::State, "state"),
            (Field::Country, "country"),
            (Field::CountryCode, "country_code"),
        ];
        for (f, n) in table {
            assert_eq!(name(f), n);
        }
    }

    #[test]
    fn unknown_names_stay_and_bad_dates_are_named() {
        let m = from_photoshelter_fields([("display_caption", "Shown"), ("keyword", "a, b ,,c")])
            .unwrap();
        assert_eq!(
            m.custom
                .get("display_caption")
                .and_then(FieldValue::as_text),
            Some("Shown")
        );
        assert_eq!(m.keywords.join("|"), "a|b|c");
        let err = from_photoshelter_fields([("date_created", "last week")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("field date_created: invalid value"),
            "{err}"
        );
    }

    #[test]
    fn release_flags_map_to_booleans() {
        let mut m = AssetMetadata::default();
        m.model_release = Some(ReleaseStatus::Limited);
        m.property_release = Some(ReleaseStatus::None);
        let f = to_photoshelter_fields(&m);
        assert_eq!(
            f,
            [
                ("model_released".into(), "true".into()),
                ("property_released".into(), "false".into())
            ]
        );
        let back = from_photoshelter_fields(f).unwrap();
        assert_eq!(back.model_release, Some(ReleaseStatus::Unlimited));
        assert_eq!(back.property_release, Some(ReleaseStatus::None));
    }
}
