//! [`RemotePath`]: a checked path relative to a backend's root.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A path relative to the root of a [`RemoteFs`](crate::RemoteFs), checked on construction.
///
/// Invariants, each enforced by [`RemotePath::parse`] and [`RemotePath::join`]:
///
/// - segments are separated by `/`; the root is the empty path;
/// - one leading and one trailing `/` are accepted on input and dropped:
///   ```
///   # use ftp_connector::RemotePath;
///   assert_eq!(RemotePath::parse("/in/a.jpg")?.as_str(), "in/a.jpg");
///   assert_eq!(RemotePath::parse("/")?, RemotePath::ROOT);
///   # Ok::<(), ftp_connector::Error>(())
///   ```
/// - no empty segment:
///   ```
///   # use ftp_connector::RemotePath;
///   assert!(RemotePath::parse("in//a.jpg").is_err());
///   ```
/// - no `.` or `..` segment:
///   ```
///   # use ftp_connector::RemotePath;
///   assert!(RemotePath::parse("in/../etc/passwd").is_err());
///   assert!(RemotePath::parse("./a.jpg").is_err());
///   ```
/// - no NUL, CR, LF or other control character, and no backslash:
///   ```
///   # use ftp_connector::RemotePath;
///   assert!(RemotePath::parse("a\nDELE b").is_err());
///   assert!(RemotePath::parse("a\u{0}b").is_err());
///   assert!(RemotePath::parse("..\\evil").is_err());
///   ```
/// - anything else is allowed, spaces and non-ASCII letters included:
///   ```
///   # use ftp_connector::RemotePath;
///   assert_eq!(RemotePath::parse("Événements 2026/photo 1.jpg")?.file_name(), Some("photo 1.jpg"));
///   # Ok::<(), ftp_connector::Error>(())
///   ```
///
/// Only a backend joins a `RemotePath` with its server-side root, so no path built from a
/// `RemotePath` can leave that root.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct RemotePath(String);

impl RemotePath {
    /// The root of the backend (the empty path).
    pub const ROOT: RemotePath = RemotePath(String::new());

    /// Parses and checks a path. See the type's documentation for the rules.
    pub fn parse(path: impl AsRef<str>) -> Result<Self> {
        let raw = path.as_ref();
        let trimmed = raw.strip_prefix('/').unwrap_or(raw);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Ok(Self::ROOT);
        }
        for segment in trimmed.split('/') {
            check_segment(segment).map_err(|reason| Error::InvalidPath {
                path: raw.to_owned(),
                reason,
            })?;
        }
        Ok(RemotePath(trimmed.to_owned()))
    }

    /// Checks one name as a server might list it: a single segment, no `/`.
    ///
    /// Returns the rule it breaks. Backends use this on every listed name and report a
    /// failure as [`Error::InvalidName`].
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// assert!(RemotePath::check_name("photo 1.jpg").is_ok());
    /// assert!(RemotePath::check_name("a/b").is_err());
    /// assert!(RemotePath::check_name("..").is_err());
    /// ```
    pub fn check_name(name: &str) -> std::result::Result<(), &'static str> {
        if name.contains('/') {
            return Err("contains `/`");
        }
        check_segment(name)
    }

    /// The path as a `/`-separated string, without leading or trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The path one name deeper. `name` must be a single valid segment.
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// let dir = RemotePath::parse("in")?;
    /// assert_eq!(dir.join("a.jpg")?.as_str(), "in/a.jpg");
    /// assert_eq!(RemotePath::ROOT.join("a.jpg")?.as_str(), "a.jpg");
    /// assert!(dir.join("../x").is_err());
    /// # Ok::<(), ftp_connector::Error>(())
    /// ```
    pub fn join(&self, name: &str) -> Result<Self> {
        Self::check_name(name).map_err(|reason| Error::InvalidPath {
            path: format!("{}/{}", self.0, name),
            reason,
        })?;
        Ok(self.join_unchecked(name))
    }

    /// This path followed by all the segments of `other`.
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// let a = RemotePath::parse("out")?;
    /// let b = RemotePath::parse("2026/a.jpg")?;
    /// assert_eq!(a.join_path(&b).as_str(), "out/2026/a.jpg");
    /// # Ok::<(), ftp_connector::Error>(())
    /// ```
    pub fn join_path(&self, other: &RemotePath) -> Self {
        if other.is_root() {
            self.clone()
        } else {
            self.join_unchecked(&other.0)
        }
    }

    fn join_unchecked(&self, tail: &str) -> Self {
        if self.0.is_empty() {
            RemotePath(tail.to_owned())
        } else {
            RemotePath(format!("{}/{}", self.0, tail))
        }
    }

    /// The parent directory; `None` for the root.
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// assert_eq!(RemotePath::parse("in/a.jpg")?.parent(), Some(RemotePath::parse("in")?));
    /// assert_eq!(RemotePath::parse("a.jpg")?.parent(), Some(RemotePath::ROOT));
    /// assert_eq!(RemotePath::ROOT.parent(), None);
    /// # Ok::<(), ftp_connector::Error>(())
    /// ```
    pub fn parent(&self) -> Option<Self> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.rfind('/') {
            Some(i) => RemotePath(self.0[..i].to_owned()),
            None => Self::ROOT,
        })
    }

    /// The last segment; `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        if self.is_root() {
            None
        } else {
            self.0.rsplit('/').next()
        }
    }

    /// The extension of the last segment, without the dot (`"jpg"` for `a.b.jpg`).
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// assert_eq!(RemotePath::parse("in/a.b.JPG")?.extension(), Some("JPG"));
    /// assert_eq!(RemotePath::parse("in/.hidden")?.extension(), None);
    /// # Ok::<(), ftp_connector::Error>(())
    /// ```
    pub fn extension(&self) -> Option<&str> {
        let name = self.file_name()?;
        match name.rfind('.') {
            Some(0) | None => None,
            Some(i) => Some(&name[i + 1..]),
        }
    }

    /// The segments, root first. The root has none.
    pub fn segments(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    /// Whether `prefix` is this path or one of its ancestors (segment-wise, so `ab`
    /// does not start with `a`).
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// let p = RemotePath::parse("in/ab/c.jpg")?;
    /// assert!(p.starts_with(&RemotePath::parse("in/ab")?));
    /// assert!(!p.starts_with(&RemotePath::parse("in/a")?));
    /// assert!(p.starts_with(&RemotePath::ROOT));
    /// # Ok::<(), ftp_connector::Error>(())
    /// ```
    pub fn starts_with(&self, prefix: &RemotePath) -> bool {
        self.strip_prefix(prefix).is_some()
    }

    /// This path relative to `prefix`, if `prefix` is an ancestor or itself.
    ///
    /// ```
    /// # use ftp_connector::RemotePath;
    /// let p = RemotePath::parse("in/2026/a.jpg")?;
    /// assert_eq!(p.strip_prefix(&RemotePath::parse("in")?), Some(RemotePath::parse("2026/a.jpg")?));
    /// assert_eq!(p.strip_prefix(&p), Some(RemotePath::ROOT));
    /// # Ok::<(), ftp_connector::Error>(())
    /// ```
    pub fn strip_prefix(&self, prefix: &RemotePath) -> Option<RemotePath> {
        if prefix.is_root() {
            return Some(self.clone());
        }
        let rest = self.0.strip_prefix(&prefix.0)?;
        if rest.is_empty() {
            Some(Self::ROOT)
        } else {
            rest.strip_prefix('/').map(|r| RemotePath(r.to_owned()))
        }
    }

    /// The number of segments (0 for the root).
    pub fn depth(&self) -> usize {
        self.segments().count()
    }
}

/// The rule a single segment breaks, if any.
fn check_segment(segment: &str) -> std::result::Result<(), &'static str> {
    if segment.is_empty() {
        return Err("empty segment");
    }
    if segment == "." || segment == ".." {
        return Err("`.` and `..` are not allowed");
    }
    if segment.chars().any(char::is_control) {
        return Err("control character (NUL, CR, LF…)");
    }
    if segment.contains('\\') {
        return Err("backslash");
    }
    Ok(())
}

impl fmt::Display for RemotePath {
    /// The path with a leading `/`, as users write it (`/` for the root).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

impl fmt::Debug for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemotePath({:?})", self.0)
    }
}

impl FromStr for RemotePath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for RemotePath {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl TryFrom<String> for RemotePath {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Self::parse(s)
    }
}

impl AsRef<str> for RemotePath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for RemotePath {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RemotePath {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RemotePath::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsed_paths_never_escape(s in "\\PC{0,40}") {
            if let Ok(p) = RemotePath::parse(&s) {
                for seg in p.segments() {
                    prop_assert!(seg != ".." && seg != "." && !seg.is_empty());
                    prop_assert!(!seg.contains('\\') && !seg.chars().any(char::is_control));
                }
                // Round trip through its string form.
                prop_assert_eq!(RemotePath::parse(p.as_str()).ok(), Some(p.clone()));
                let shown = p.to_string();
                prop_assert_eq!(RemotePath::parse(&shown).ok(), Some(p));
            }
        }

        #[test]
        fn join_then_parent_is_identity(segs in prop::collection::vec("[a-zA-Z0-9 éü._-]{1,12}", 1..6)) {
            let mut p = RemotePath::ROOT;
            for s in &segs {
                match p.join(s) {
                    Ok(next) => {
                        prop_assert_eq!(next.parent(), Some(p.clone()));
                        prop_assert_eq!(next.file_name(), Some(s.as_str()));
                        p = next;
                    }
                    Err(_) => prop_assert!(s == "." || s == ".."),
                }
            }
        }
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let p: RemotePath = serde_json::from_str("\"in/a.jpg\"").unwrap_or_default();
        assert_eq!(p.as_str(), "in/a.jpg");
        assert!(serde_json::from_str::<RemotePath>("\"../etc\"").is_err());
    }
}
