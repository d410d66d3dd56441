//! [`Field`]: names each built-in metadata field.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::values::squash;

/// One built-in field of [`AssetMetadata`](crate::AssetMetadata).
///
/// Used to map CSV columns ([`csv::FieldMap`](crate::csv::FieldMap)), to set a
/// [`Merge`](crate::Merge) policy per field and to report a [`Diff`](crate::Diff). Custom
/// fields are named by strings instead.
///
/// ```
/// use asset_metadata::Field;
/// assert_eq!(Field::JobId.name(), "Job ID");
/// assert_eq!(Field::JobId.key(), "job_id");
/// assert_eq!("job id".parse::<Field>()?, Field::JobId);
/// assert_eq!(Field::ALL.len(), 23);
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Field {
    /// Title (IPTC Object Name, `dc:title`).
    Title,
    /// Headline (`photoshop:Headline`).
    Headline,
    /// Description / caption (`dc:description`).
    Description,
    /// Caption writer (`photoshop:CaptionWriter`).
    CaptionWriter,
    /// Keywords (`dc:subject`).
    Keywords,
    /// Creator / by-line (`dc:creator`).
    Creator,
    /// Creator's job title (`photoshop:AuthorsPosition`).
    CreatorJobTitle,
    /// Credit line (`photoshop:Credit`).
    CreditLine,
    /// Source (`photoshop:Source`).
    Source,
    /// Copyright notice (`dc:rights`).
    CopyrightNotice,
    /// Copyright status (`xmpRights:Marked`).
    CopyrightStatus,
    /// Rights usage terms (`xmpRights:UsageTerms`).
    RightsUsageTerms,
    /// Special instructions (`photoshop:Instructions`).
    SpecialInstructions,
    /// Job id / transmission reference (`photoshop:TransmissionReference`).
    JobId,
    /// Date created (`photoshop:DateCreated`).
    DateCreated,
    /// Sublocation (`Iptc4xmpCore:Location`).
    Sublocation,
    /// City (`photoshop:City`).
    City,
    /// State / province (`photoshop:State`).
    State,
    /// Country (`photoshop:Country`).
    Country,
    /// Country ISO code (`Iptc4xmpCore:CountryCode`).
    CountryCode,
    /// Rating (`xmp:Rating`).
    Rating,
    /// Model release status (`plus:ModelReleaseStatus`).
    ModelReleaseStatus,
    /// Property release status (`plus:PropertyReleaseStatus`).
    PropertyReleaseStatus,
}

impl Field {
    /// Every field, in display order.
    pub const ALL: [Field; 23] = [
        Field::Title,
        Field::Headline,
        Field::Description,
        Field::CaptionWriter,
        Field::Keywords,
        Field::Creator,
        Field::CreatorJobTitle,
        Field::CreditLine,
        Field::Source,
        Field::CopyrightNotice,
        Field::CopyrightStatus,
        Field::RightsUsageTerms,
        Field::SpecialInstructions,
        Field::JobId,
        Field::DateCreated,
        Field::Sublocation,
        Field::City,
        Field::State,
        Field::Country,
        Field::CountryCode,
        Field::Rating,
        Field::ModelReleaseStatus,
        Field::PropertyReleaseStatus,
    ];

    /// The display name, as the CSV writer's default header uses it (`"Creator Job Title"`).
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Headline => "Headline",
            Field::Description => "Description",
            Field::CaptionWriter => "Caption Writer",
            Field::Keywords => "Keywords",
            Field::Creator => "Creator",
            Field::CreatorJobTitle => "Creator Job Title",
            Field::CreditLine => "Credit Line",
            Field::Source => "Source",
            Field::CopyrightNotice => "Copyright Notice",
            Field::CopyrightStatus => "Copyright Status",
            Field::RightsUsageTerms => "Rights Usage Terms",
            Field::SpecialInstructions => "Special Instructions",
            Field::JobId => "Job ID",
            Field::DateCreated => "Date Created",
            Field::Sublocation => "Sublocation",
            Field::City => "City",
            Field::State => "State/Province",
            Field::Country => "Country",
            Field::CountryCode => "Country Code",
            Field::Rating => "Rating",
            Field::ModelReleaseStatus => "Model Release Status",
            Field::PropertyReleaseStatus => "Property Release Status",
        }
    }

    /// A stable snake-case identifier (`"creator_job_title"`), for config files.
    pub fn key(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Headline => "headline",
            Field::Description => "description",
            Field::CaptionWriter => "caption_writer",
            Field::Keywords => "keywords",
            Field::Creator => "creator",
            Field::CreatorJobTitle => "creator_job_title",
            Field::CreditLine => "credit_line",
            Field::Source => "source",
            Field::CopyrightNotice => "copyright_notice",
            Field::CopyrightStatus => "copyright_status",
            Field::RightsUsageTerms => "rights_usage_terms",
            Field::SpecialInstructions => "special_instructions",
            Field::JobId => "job_id",
            Field::DateCreated => "date_created",
            Field::Sublocation => "sublocation",
            Field::City => "city",
            Field::State => "state",
            Field::Country => "country",
            Field::CountryCode => "country_code",
            Field::Rating => "rating",
            Field::ModelReleaseStatus => "model_release_status",
            Field::PropertyReleaseStatus => "property_release_status",
        }
    }

    /// Whether the field holds a list (only [`Field::Keywords`]).
    pub fn is_list(self) -> bool {
        self == Field::Keywords
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = Error;

    /// Accepts the display name or the key, ignoring case, spaces and punctuation.
    fn from_str(s: &str) -> Result<Self, Error> {
        let want = squash(s);
        Field::ALL
            .into_iter()
            .find(|f| squash(f.name()) == want || squash(f.key()) == want)
            .ok_or_else(|| Error::invalid_value(s, "not a metadata field name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys_parse_back() {
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>().unwrap(), f);
            assert_eq!(f.key().parse::<Field>().unwrap(), f);
        }
        assert!("shoe size".parse::<Field>().is_err());
    }
}
