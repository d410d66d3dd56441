//! Small value types: [`CopyrightStatus`], [`ReleaseStatus`] and [`Rating`].

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// IPTC "Copyright Status" (XMP `xmpRights:Marked`). "Unknown" is the absence of a value.
///
/// Parsing accepts `Copyrighted`, `Public Domain`, `True`/`False` (XMP), `yes`/`no`,
/// case-insensitively.
///
/// ```
/// use asset_metadata::CopyrightStatus;
/// assert_eq!("True".parse::<CopyrightStatus>()?, CopyrightStatus::Copyrighted);
/// assert_eq!(CopyrightStatus::PublicDomain.to_string(), "Public Domain");
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CopyrightStatus {
    /// The asset is protected by copyright.
    Copyrighted,
    /// The asset is in the public domain.
    PublicDomain,
}

impl CopyrightStatus {
    /// The XMP `xmpRights:Marked` value.
    pub fn as_xmp(self) -> &'static str {
        match self {
            CopyrightStatus::Copyrighted => "True",
            CopyrightStatus::PublicDomain => "False",
        }
    }
}

impl fmt::Display for CopyrightStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CopyrightStatus::Copyrighted => "Copyrighted",
            CopyrightStatus::PublicDomain => "Public Domain",
        })
    }
}

impl FromStr for CopyrightStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match squash(s).as_str() {
            "copyrighted" | "true" | "yes" | "1" | "protected" => Ok(CopyrightStatus::Copyrighted),
            "publicdomain" | "false" | "no" | "0" => Ok(CopyrightStatus::PublicDomain),
            _ => Err(Error::invalid_value(
                s,
                "expected Copyrighted, Public Domain, True or False",
            )),
        }
    }
}

/// IPTC model or property release status (PLUS `ModelReleaseStatus` /
/// `PropertyReleaseStatus`).
///
/// Parsing accepts the names printed by [`Display`](fmt::Display), the PLUS codes
/// (`MR-UMR`, `PR-NON`…) and URIs (`http://ns.useplus.org/ldf/vocab/MR-UMR`), and
/// `yes`/`no`/`true`/`false` (meaning [`Unlimited`](Self::Unlimited)/[`None`](Self::None)).
///
/// ```
/// use asset_metadata::ReleaseStatus;
/// assert_eq!("MR-LMR".parse::<ReleaseStatus>()?, ReleaseStatus::Limited);
/// assert_eq!(ReleaseStatus::Unlimited.plus_code(true), "MR-UMR");
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReleaseStatus {
    /// No release.
    None,
    /// No release is needed.
    NotApplicable,
    /// Releases cover every person or property shown.
    Unlimited,
    /// Releases are limited or incomplete.
    Limited,
}

/// The PLUS vocabulary URI prefix.
pub(crate) const PLUS_VOCAB: &str = "http://ns.useplus.org/ldf/vocab/";

impl ReleaseStatus {
    /// The PLUS code: `MR-…` for a model release, `PR-…` for a property release.
    pub fn plus_code(self, model: bool) -> &'static str {
        match (self, model) {
            (ReleaseStatus::None, true) => "MR-NON",
            (ReleaseStatus::NotApplicable, true) => "MR-NAP",
            (ReleaseStatus::Unlimited, true) => "MR-UMR",
            (ReleaseStatus::Limited, true) => "MR-LMR",
            (ReleaseStatus::None, false) => "PR-NON",
            (ReleaseStatus::NotApplicable, false) => "PR-NAP",
            (ReleaseStatus::Unlimited, false) => "PR-UPR",
            (ReleaseStatus::Limited, false) => "PR-LPR",
        }
    }

    /// The PLUS vocabulary URI that XMP stores.
    pub fn plus_uri(self, model: bool) -> String {
        format!("{PLUS_VOCAB}{}", self.plus_code(model))
    }
}

impl fmt::Display for ReleaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReleaseStatus::None => "None",
            ReleaseStatus::NotApplicable => "Not Applicable",
            ReleaseStatus::Unlimited => "Unlimited",
            ReleaseStatus::Limited => "Limited",
        })
    }
}

impl FromStr for ReleaseStatus {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        let t = t.strip_prefix(PLUS_VOCAB).unwrap_or(t);
        let code = squash(t);
        let code = code
            .strip_prefix("mr")
            .or_else(|| code.strip_prefix("pr"))
            .filter(|rest| rest.len() == 3)
            .unwrap_or(&code);
        match code {
            "none" | "non" | "no" | "false" | "0" | "notreleased" => Ok(ReleaseStatus::None),
            "notapplicable" | "nap" | "na" => Ok(ReleaseStatus::NotApplicable),
            "unlimited"
            | "umr"
            | "upr"
            | "yes"
            | "true"
            | "1"
            | "released"
            | "unlimitedmodelreleases"
            | "unlimitedpropertyreleases" => Ok(ReleaseStatus::Unlimited),
            "limited"
            | "lmr"
            | "lpr"
            | "limitedorincompletemodelreleases"
            | "limitedorincompletepropertyreleases"
            | "limitedorincomplete" => Ok(ReleaseStatus::Limited),
            _ => Err(Error::invalid_value(
                s,
                "expected None, Not Applicable, Unlimited, Limited or a PLUS code such as MR-UMR",
            )),
        }
    }
}

/// A star rating: `-1` (rejected) or `0`–`5`, as XMP `xmp:Rating`.
///
/// ```
/// use asset_metadata::Rating;
/// assert_eq!("4".parse::<Rating>()?.get(), 4);
/// assert_eq!("3.0".parse::<Rating>()?.get(), 3);
/// assert!("7".parse::<Rating>().is_err());
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rating(i8);

impl Rating {
    /// A rating, or `None` outside `-1..=5`.
    pub fn new(value: i8) -> Option<Self> {
        (-1..=5).contains(&value).then_some(Self(value))
    }

    /// The value, `-1..=5`.
    pub fn get(self) -> i8 {
        self.0
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Rating {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let t = s.trim();
        let whole = t
            .strip_suffix(".0")
            .or_else(|| t.strip_suffix(".00"))
            .unwrap_or(t);
        whole
            .parse::<i8>()
            .ok()
            .and_then(Rating::new)
            .ok_or_else(|| Error::invalid_value(s, "expected a rating of -1 (rejected) or 0 to 5"))
    }
}

/// Lower-case ASCII alphanumerics only, for forgiving comparisons.
pub(crate) fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_status_reads_codes_uris_and_names() {
        for (text, want) in [
            (
                "http://ns.useplus.org/ldf/vocab/MR-UMR",
                ReleaseStatus::Unlimited,
            ),
            ("PR-LPR", ReleaseStatus::Limited),
            ("Not Applicable", ReleaseStatus::NotApplicable),
            ("none", ReleaseStatus::None),
            ("Yes", ReleaseStatus::Unlimited),
        ] {
            assert_eq!(text.parse::<ReleaseStatus>().unwrap(), want, "{text}");
        }
        for s in [
            ReleaseStatus::None,
            ReleaseStatus::NotApplicable,
            ReleaseStatus::Unlimited,
            ReleaseStatus::Limited,
        ] {
            assert_eq!(s.to_string().parse::<ReleaseStatus>().unwrap(), s);
            assert_eq!(s.plus_uri(true).parse::<ReleaseStatus>().unwrap(), s);
            assert_eq!(s.plus_code(false).parse::<ReleaseStatus>().unwrap(), s);
        }
        assert!("maybe".parse::<ReleaseStatus>().is_err());
    }

    #[test]
    fn rating_range_is_enforced() {
        assert_eq!("-1".parse::<Rating>().unwrap().get(), -1);
        assert!("-2".parse::<Rating>().is_err());
        assert!("6".parse::<Rating>().is_err());
        assert!("2.5".parse::<Rating>().is_err());
        assert!("".parse::<Rating>().is_err());
    }

    #[test]
    fn copyright_status_round_trips() {
        for s in [CopyrightStatus::Copyrighted, CopyrightStatus::PublicDomain] {
            assert_eq!(s.to_string().parse::<CopyrightStatus>().unwrap(), s);
            assert_eq!(s.as_xmp().parse::<CopyrightStatus>().unwrap(), s);
        }
        assert!("unknown".parse::<CopyrightStatus>().is_err());
    }
}
