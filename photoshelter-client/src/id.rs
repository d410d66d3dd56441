//! Typed ids. PhotoShelter ids are 16 characters: a 5-character type prefix (`I0000` for an
//! image, `G0000` for a gallery, ...) and 11 characters of `[A-Za-z0-9._]`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Total length of an id.
const ID_LEN: usize = 16;

fn id_char_ok(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'_'
}

/// Checks `s` against the id rules; `what` names the id type in the error.
fn validate(s: &str, prefix: &str, what: &'static str) -> Result<()> {
    if s.len() != ID_LEN {
        return Err(Error::invalid(
            what,
            format!(
                "`{}` has {} characters, expected {ID_LEN}",
                s.escape_debug(),
                s.chars().count()
            ),
        ));
    }
    if !s.starts_with(prefix) {
        return Err(Error::invalid(
            what,
            format!("`{}` does not start with `{prefix}`", s.escape_debug()),
        ));
    }
    if let Some(bad) = s.bytes().skip(prefix.len()).find(|c| !id_char_ok(*c)) {
        return Err(Error::invalid(
            what,
            format!(
                "`{}` contains `{}`; only A-Z, a-z, 0-9, `.` and `_` are allowed",
                s.escape_debug(),
                char::from(bad).escape_debug()
            ),
        ));
    }
    Ok(())
}

macro_rules! id_type {
    (@pseudo) => { None };
    (@pseudo $pseudo:literal) => { Some($pseudo) };
    ($(#[$meta:meta])* $name:ident, $prefix:literal, $what:literal, $example:literal $(, pseudo = $pseudo:literal)?) => {
        $(#[$meta])*
        ///
        /// ```
        #[doc = concat!("use photoshelter_client::", stringify!($name), ";")]
        ///
        #[doc = concat!("let id: ", stringify!($name), " = \"", $example, "\".parse()?;")]
        #[doc = concat!("assert_eq!(id.as_str(), \"", $example, "\");")]
        #[doc = concat!("assert!(\"", $prefix, "too-short\".parse::<", stringify!($name), ">().is_err());")]
        /// # Ok::<(), photoshelter_client::Error>(())
        /// ```
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The 5-character type prefix of this kind of id.
            pub const PREFIX: &'static str = $prefix;
            /// A pseudo id accepted besides the 16-character form (`root` for collections).
            const PSEUDO: Option<&'static str> = id_type!(@pseudo $($pseudo)?);

            fn check(s: &str) -> Result<()> {
                if Self::PSEUDO == Some(s) {
                    return Ok(());
                }
                validate(s, $prefix, $what)
            }

            /// Parses and validates an id.
            pub fn parse(s: &str) -> Result<Self> {
                Self::check(s)?;
                Ok(Self(s.to_owned()))
            }

            /// The id as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = Error;
            fn try_from(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self> {
                Self::check(&s)?;
                Ok(Self(s))
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::try_from(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// The id of an image (`I0000` + 11 characters).
    ImageId, "I0000", "image id", "I0000Ab.Cd_ef123"
);
id_type!(
    /// The id of a gallery (`G0000` + 11 characters).
    GalleryId, "G0000", "gallery id", "G0000xY.z_012345"
);
id_type!(
    /// The id of an organisation (`O0000` + 11 characters).
    OrganizationId, "O0000", "organization id", "O0000abcdefghijk"
);
id_type!(
    /// The id of a user (`U0000` + 11 characters).
    UserId, "U0000", "user id", "U0000abcdefghijk"
);
id_type!(
    /// The id of a collection (`C0000` + 11 characters), or [`CollectionId::root()`], the
    /// top of the account's (or organisation's) tree.
    ///
    /// ```
    /// use photoshelter_client::CollectionId;
    ///
    /// assert!(CollectionId::root().is_root());
    /// assert_eq!(CollectionId::root().as_str(), "root");
    /// assert!("root".parse::<CollectionId>()?.is_root());
    /// assert!("G0000abcdefghijk".parse::<CollectionId>().is_err());
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    CollectionId, "C0000", "collection id", "C0000abcdefghijk", pseudo = "root"
);

impl CollectionId {
    /// The pseudo id of the top collection.
    pub fn root() -> Self {
        Self("root".to_owned())
    }

    /// Whether this is [`CollectionId::root()`].
    pub fn is_root(&self) -> bool {
        Self::PSEUDO == Some(self.0.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn accepts_dots_and_underscores() {
        assert!(ImageId::parse("I0000.a_B9.....__").is_err()); // 17 chars
        assert!(ImageId::parse("I0000.a_B9....._").is_ok());
    }

    #[test]
    fn rejects_wrong_prefix_length_and_chars() {
        for bad in [
            "G0000abcdefghijk",
            "I0000abcdefghij",
            "I0000abcdefghi/k",
            "I0000abcdefghi k",
            "I0000abcdefghié",
            "",
        ] {
            let err = ImageId::parse(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(err.to_string().starts_with("invalid image id"), "{err}");
        }
    }

    #[test]
    fn serde_round_trip_validates() {
        let id: GalleryId = serde_json::from_str("\"G0000abcdefghijk\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"G0000abcdefghijk\"");
        assert!(serde_json::from_str::<GalleryId>("\"I0000abcdefghijk\"").is_err());
        assert!(
            serde_json::from_str::<CollectionId>("\"root\"")
                .unwrap()
                .is_root()
        );
    }
}
