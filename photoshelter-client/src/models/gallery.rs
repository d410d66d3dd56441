use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::decode::{opt_bool, opt_string};
use crate::id::{CollectionId, GalleryId};
use crate::models::Extra;

/// Who may see a gallery or collection.
///
/// ```
/// use photoshelter_client::Mode;
///
/// assert_eq!("permission".parse::<Mode>().unwrap(), Mode::Permission);
/// assert_eq!(Mode::Private.as_str(), "private");
/// assert_eq!("brand-new".parse::<Mode>().unwrap().as_str(), "brand-new");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mode {
    /// Everyone (public).
    Everyone,
    /// Only those with permission.
    Permission,
    /// No one but the owner.
    Private,
    /// A value this crate does not know, kept as sent.
    Other(String),
}

impl Mode {
    /// The wire value (`everyone`, `permission`, `private`).
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Everyone => "everyone",
            Mode::Permission => "permission",
            Mode::Private => "private",
            Mode::Other(s) => s,
        }
    }
}

impl Mode {
    fn from_wire(s: &str) -> Mode {
        match s.trim().to_ascii_lowercase().as_str() {
            "everyone" | "public" => Mode::Everyone,
            "permission" => Mode::Permission,
            "private" => Mode::Private,
            _ => Mode::Other(s.to_owned()),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mode {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Mode::from_wire(s))
    }
}

impl Serialize for Mode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Mode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(Mode::from_wire(&s))
    }
}

/// A gallery or a collection record: the same fields under its own id.
macro_rules! container_record {
    ($(#[$doc:meta])* $name:ident, $id:ty, $id_key:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
        #[non_exhaustive]
        pub struct $name {
            #[doc = concat!("The id (`", $id_key, "`).")]
            #[serde(rename = $id_key)]
            pub id: $id,
            /// Its name.
            #[serde(
                default,
                deserialize_with = "opt_string",
                skip_serializing_if = "Option::is_none"
            )]
            pub name: Option<String>,
            /// Its description.
            #[serde(
                default,
                deserialize_with = "opt_string",
                skip_serializing_if = "Option::is_none"
            )]
            pub description: Option<String>,
            /// Whether it is listed on the public website (`f_list`).
            #[serde(
                rename = "f_list",
                default,
                deserialize_with = "opt_bool",
                skip_serializing_if = "Option::is_none"
            )]
            pub listed: Option<bool>,
            /// Its own visibility.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub mode: Option<Mode>,
            /// Its visibility after inheritance from parents.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub effective_mode: Option<Mode>,
            /// Creation time, `YYYY-MM-DD HH:MM:SS` in the account time zone.
            #[serde(
                default,
                deserialize_with = "opt_string",
                skip_serializing_if = "Option::is_none"
            )]
            pub created_at: Option<String>,
            /// Last change, `YYYY-MM-DD HH:MM:SS` in the account time zone.
            #[serde(
                default,
                deserialize_with = "opt_string",
                skip_serializing_if = "Option::is_none"
            )]
            pub modified_at: Option<String>,
            /// Other fields of the record.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

container_record!(
    /// A gallery: a folder of images.
    Gallery,
    GalleryId,
    "gallery_id"
);

container_record!(
    /// A collection: a folder of galleries and collections.
    Collection,
    CollectionId,
    "collection_id"
);

/// One child of a collection.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Child {
    /// A sub-collection.
    Collection(Collection),
    /// A gallery.
    Gallery(Gallery),
}

impl Child {
    /// The child's name.
    pub fn name(&self) -> Option<&str> {
        match self {
            Child::Collection(c) => c.name.as_deref(),
            Child::Gallery(g) => g.name.as_deref(),
        }
    }
}
