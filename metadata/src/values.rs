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
        let t = trim(s);
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
        let t = trim(s);
        // The common case first: one digit.
        if let &[d @ b'0'..=b'5'] = t.as_bytes() {
            return Ok(Self((d - b'0') as i8));
        }
        let whole = t
            .strip_suffix(".0")
            .or_else(|| t.strip_suffix(".00"))
            .unwrap_or(t);
        let value = match whole.as_bytes() {
            &[d @ b'0'..=b'9'] => Some((d - b'0') as i8),
            _ => whole.parse::<i8>().ok(),
        };
        value
            .and_then(Rating::new)
            .ok_or_else(|| Error::invalid_value(s, "expected a rating of -1 (rejected) or 0 to 5"))
    }
}

/// [`str::trim`], with a fast path for text with visible ASCII ends (most values in a
/// manifest).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match s.as_bytes() {
        [first, .., last] if visible(*first) && visible(*last) => s,
        [only] if visible(*only) => s,
        _ => trim_ends(s),
    }
}

/// Whether `b` is a visible ASCII character (neither whitespace nor a control).
#[inline]
pub(crate) fn visible(b: u8) -> bool {
    b.wrapping_sub(b'!') < 0x7F - b'!'
}

/// [`trim`] past its fast path: ASCII whitespace is stripped byte by byte, and only text
/// that then starts or ends with a non-ASCII character goes through the Unicode-aware
/// `str::trim`.
#[inline(never)]
fn trim_ends(s: &str) -> &str {
    // The ASCII characters with the Unicode White_Space property.
    let space = |b: &u8| *b == b' ' || b.wrapping_sub(b'\t') < 5;
    let b = s.as_bytes();
    let start = b.iter().position(|c| !space(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !space(c)).map_or(start, |i| i + 1);
    // ok: ASCII bytes are character boundaries, and start <= end.
    let t = s.get(start..end).unwrap_or_default();
    match t.as_bytes() {
        [first, .., last] if first.is_ascii() && last.is_ascii() => t,
        [only] if only.is_ascii() => t,
        [] => t,
        _ => t.trim(),
    }
}

/// Where `needle` first occurs in `hay`, eight bytes at a time: on the short cells of a
/// manifest this beats both a byte loop and a `memchr` call.
#[inline]
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(chunk) {
            // Bytes equal to the needle become zero; the lowest flagged byte is the first
            // zero (borrows only flag bytes above it).
            let x = u64::from_le_bytes(bytes) ^ pattern;
            let zero = x.wrapping_sub(LO) & !x & HI;
            if zero != 0 {
                return Some(at + (zero.trailing_zeros() / 8) as usize);
            }
        }
        at += 8;
    }
    let tail = chunks.remainder();
    tail.iter().position(|&b| b == needle).map(|i| at + i)
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
    fn find_byte_finds_the_first() {
        let hay = b"sea; boat; dawn;\x80\xff;;tag with a long tail;";
        for needle in [b';', b'\x80', b'\xff', b't', b'q', 0, b'\x7f'] {
            for len in 0..hay.len() {
                let want = hay[..len].iter().position(|&b| b == needle);
                assert_eq!(find_byte(&hay[..len], needle), want, "{needle} in {len}");
            }
        }
        let mut zeros = [1u8; 40];
        zeros[17] = 0;
        zeros[30] = 0;
        assert_eq!(find_byte(&zeros, 0), Some(17));
    }

    #[test]
    fn trim_matches_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta b\n",
            "\u{a0}x\u{a0}",
            "x\u{2003}",
            "é",
            "\u{1c}a",
            "a\u{7f}",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

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
