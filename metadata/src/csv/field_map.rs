//! [`FieldMap`]: which CSV column feeds which field.

use crate::field::Field;
use crate::values::squash;

/// What a CSV column is used for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Column {
    /// The file key (file name or relative path) that identifies the asset.
    Key,
    /// A built-in field.
    Field(Field),
    /// The time of day that completes [`Field::DateCreated`] (exiftool's `IPTC:TimeCreated`).
    TimeCreated,
    /// A custom field of this name.
    Custom(String),
    /// Not read.
    Ignore,
}

/// Maps CSV column headers to fields.
///
/// Headers are matched ignoring case, spaces and punctuation, after removing exiftool group
/// prefixes (`IPTC:`, `XMP-dc:`, `XMP:XMP-photoshop:`…). Explicit mappings win over the
/// built-in aliases, which cover exiftool `-csv` tag names, Adobe Bridge / Lightroom labels,
/// PhotoShelter names (`caption`, `author`, `usage_terms`…) and plain English headers
/// (`Caption`, `Photographer`, `Tags`…). The key column is found among `SourceFile`, `File`,
/// `FileName`, `Filename`, `Path`, `FilePath`, `RelativePath`, `Image`, `ImageName`, `Asset`.
///
/// ```
/// use asset_metadata::csv::{Column, FieldMap};
/// use asset_metadata::Field;
///
/// let map = FieldMap::new()
///     .field("Shot Title", Field::Title)
///     .custom("PO", "Purchase Order")
///     .ignore("Notes");
/// assert_eq!(map.resolve("shot title"), Column::Field(Field::Title));
/// assert_eq!(map.resolve("XMP-dc:Subject"), Column::Field(Field::Keywords));
/// assert_eq!(map.resolve("By-line"), Column::Field(Field::Creator));
/// assert_eq!(map.resolve("SourceFile"), Column::Key);
/// assert_eq!(map.resolve("Client Code"), Column::Custom("Client Code".into()));
/// ```
#[derive(Debug, Clone)]
pub struct FieldMap {
    explicit: Vec<(String, Column)>,
    builtin: bool,
    explicit_key: bool,
}

impl Default for FieldMap {
    fn default() -> Self {
        Self::new()
    }
}

impl FieldMap {
    /// The built-in aliases, with no explicit mapping.
    pub fn new() -> Self {
        Self {
            explicit: Vec::new(),
            builtin: true,
            explicit_key: false,
        }
    }

    /// No aliases at all: only explicit mappings are known (every other column is unknown).
    ///
    /// ```
    /// # use asset_metadata::csv::{Column, FieldMap};
    /// # use asset_metadata::Field;
    /// let map = FieldMap::empty().key("Asset").field("T", Field::Title);
    /// assert_eq!(map.resolve("Title"), Column::Custom("Title".into()));
    /// assert_eq!(map.resolve("asset"), Column::Key);
    /// ```
    pub fn empty() -> Self {
        Self {
            builtin: false,
            ..Self::new()
        }
    }

    /// Maps a column to a built-in field.
    pub fn field(self, header: &str, field: Field) -> Self {
        self.with(header, Column::Field(field))
    }

    /// Maps a column to a custom field of another name.
    pub fn custom(self, header: &str, name: &str) -> Self {
        self.with(header, Column::Custom(name.to_owned()))
    }

    /// Ignores a column.
    pub fn ignore(self, header: &str) -> Self {
        self.with(header, Column::Ignore)
    }

    /// Names the key column. The built-in key aliases then no longer make a column the key.
    ///
    /// ```
    /// # use asset_metadata::csv::{Column, FieldMap};
    /// let map = FieldMap::new().key("Asset Name");
    /// assert_eq!(map.resolve("Asset Name"), Column::Key);
    /// assert_eq!(map.resolve("FileName"), Column::Custom("FileName".into()));
    /// ```
    pub fn key(mut self, header: &str) -> Self {
        self.explicit_key = true;
        self.with(header, Column::Key)
    }

    /// Maps a column to anything a [`Column`] can say.
    ///
    /// ```
    /// # use asset_metadata::csv::{Column, FieldMap};
    /// let map = FieldMap::new().with("Shot Time", Column::TimeCreated);
    /// assert_eq!(map.resolve("shot time"), Column::TimeCreated);
    /// ```
    pub fn with(mut self, header: &str, column: Column) -> Self {
        let norm = normalize(header);
        self.explicit.retain(|(h, _)| *h != norm);
        self.explicit.push((norm, column));
        self
    }

    /// What `header` is used for. A header nothing knows becomes a custom field of the
    /// same (trimmed) name.
    pub fn resolve(&self, header: &str) -> Column {
        self.known(header)
            .unwrap_or_else(|| Column::Custom(header.trim().to_owned()))
    }

    /// What `header` is used for, or `None` if neither an explicit mapping nor an alias
    /// knows it.
    ///
    /// ```
    /// # use asset_metadata::csv::{Column, FieldMap};
    /// # use asset_metadata::Field;
    /// assert_eq!(FieldMap::new().known("XMP-dc:Rights"), Some(Column::Field(Field::CopyrightNotice)));
    /// assert_eq!(FieldMap::new().known("Shoe Size"), None);
    /// ```
    pub fn known(&self, header: &str) -> Option<Column> {
        let norm = normalize(header);
        if let Some((_, c)) = self.explicit.iter().find(|(h, _)| *h == norm) {
            return Some(c.clone());
        }
        if !self.builtin {
            return None;
        }
        match builtin(&norm)? {
            Column::Key if self.explicit_key => None,
            c => Some(c),
        }
    }

    /// The headers that would be taken as the key (for error messages).
    pub(crate) fn key_names(&self) -> String {
        let mut names: Vec<&str> = self
            .explicit
            .iter()
            .filter(|(_, c)| *c == Column::Key)
            .map(|(h, _)| h.as_str())
            .collect();
        if self.builtin && !self.explicit_key {
            names.extend(KEY_NAMES.iter().map(|(_, display)| *display));
        }
        if names.is_empty() {
            "nothing: the field map names no key column".into()
        } else {
            names.join(", ")
        }
    }
}

/// exiftool group prefixes (`IPTC:`, `XMP-dc:`, `XMP:XMP-dc:`, `EXIF:`…), removed before
/// matching. Only known family names are removed so `Client: Code` stays intact.
fn strip_groups(mut h: &str) -> &str {
    loop {
        let Some((group, rest)) = h.split_once(':') else {
            return h;
        };
        let g = group.trim().to_ascii_lowercase();
        let known = g == "xmp"
            || g.starts_with("xmp-")
            || matches!(
                g.as_str(),
                "iptc"
                    | "exif"
                    | "ifd0"
                    | "exififd"
                    | "file"
                    | "composite"
                    | "photoshop"
                    | "system"
                    | "main"
                    | "iptc2"
            );
        if !known || rest.is_empty() {
            return h;
        }
        h = rest;
    }
}

pub(crate) fn normalize(header: &str) -> String {
    squash(strip_groups(header.trim()))
}

const KEY_NAMES: [(&str, &str); 10] = [
    ("sourcefile", "SourceFile"),
    ("file", "File"),
    ("filename", "FileName"),
    ("path", "Path"),
    ("filepath", "FilePath"),
    ("relativepath", "RelativePath"),
    ("image", "Image"),
    ("imagename", "ImageName"),
    ("imagefile", "ImageFile"),
    ("asset", "Asset"),
];

/// Built-in aliases, already normalized.
fn builtin(norm: &str) -> Option<Column> {
    if KEY_NAMES.iter().any(|(k, _)| *k == norm) {
        return Some(Column::Key);
    }
    if norm == "timecreated" {
        return Some(Column::TimeCreated);
    }
    let field = match norm {
        "title" | "objectname" | "documenttitle" => Field::Title,
        "headline" => Field::Headline,
        "description" | "caption" | "captionabstract" | "captiondescription"
        | "descriptioncaption" | "imagedescription" => Field::Description,
        "captionwriter" | "writereditor" | "descriptionwriter" | "captionwriters" => {
            Field::CaptionWriter
        }
        "keywords" | "keyword" | "subject" | "tags" | "tag" => Field::Keywords,
        "creator" | "byline" | "author" | "artist" | "photographer" | "creators" => Field::Creator,
        "creatorjobtitle" | "bylinetitle" | "authorsposition" | "authortitle" | "jobtitle"
        | "creatorstitle" => Field::CreatorJobTitle,
        "credit" | "creditline" | "provider" => Field::CreditLine,
        "source" => Field::Source,
        "copyright" | "copyrightnotice" | "rights" => Field::CopyrightNotice,
        "copyrightstatus" | "marked" | "copyrightflag" | "copyrighted" => Field::CopyrightStatus,
        "usageterms" | "rightsusageterms" | "usage" => Field::RightsUsageTerms,
        "instructions" | "specialinstructions" => Field::SpecialInstructions,
        "jobid"
        | "transmissionreference"
        | "jobidentifier"
        | "originaltransmissionreference"
        | "job" => Field::JobId,
        "datecreated" | "date" | "datetimecreated" => Field::DateCreated,
        "sublocation" | "location" => Field::Sublocation,
        "city" => Field::City,
        "state" | "provincestate" | "stateprovince" | "province" | "region" => Field::State,
        "country" | "countryname" | "countryprimarylocationname" => Field::Country,
        "countrycode" | "countryisocode" | "countryprimarylocationcode" | "isocountrycode" => {
            Field::CountryCode
        }
        "rating" | "stars" | "starrating" => Field::Rating,
        "modelreleasestatus" | "modelreleased" | "modelrelease" => Field::ModelReleaseStatus,
        "propertyreleasestatus" | "propertyreleased" | "propertyrelease" => {
            Field::PropertyReleaseStatus
        }
        _ => return None,
    };
    Some(Column::Field(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_display_name_and_photoshelter_name_resolves() {
        let map = FieldMap::new();
        for f in Field::ALL {
            assert_eq!(map.resolve(f.name()), Column::Field(f), "{}", f.name());
            assert_eq!(map.resolve(f.key()), Column::Field(f), "{}", f.key());
            let ps = crate::photoshelter::name(f);
            assert_eq!(map.resolve(ps), Column::Field(f), "{ps}");
        }
    }

    #[test]
    fn exiftool_groups_are_stripped() {
        let map = FieldMap::new();
        for (h, f) in [
            ("IPTC:By-line", Field::Creator),
            ("XMP-dc:Subject", Field::Keywords),
            ("XMP:XMP-photoshop:AuthorsPosition", Field::CreatorJobTitle),
            ("XMP-iptcCore:CountryCode", Field::CountryCode),
            ("IPTC:Country-PrimaryLocationName", Field::Country),
            ("IPTC:Province-State", Field::State),
            ("IPTC:Caption-Abstract", Field::Description),
            ("XMP-plus:ModelReleaseStatus", Field::ModelReleaseStatus),
            ("XMP-xmpRights:Marked", Field::CopyrightStatus),
        ] {
            assert_eq!(map.resolve(h), Column::Field(f), "{h}");
        }
        assert_eq!(map.resolve("IPTC:TimeCreated"), Column::TimeCreated);
        assert_eq!(
            map.resolve("Client: Code"),
            Column::Custom("Client: Code".into())
        );
    }
}
