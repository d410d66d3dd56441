//! [`Capabilities`]: what a backend can do, as data.

use crate::entry::TimePrecision;

/// Hash algorithms a server can compute without sending the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ChecksumSet {
    /// SHA-256.
    pub sha256: bool,
    /// SHA-1.
    pub sha1: bool,
    /// MD5.
    pub md5: bool,
    /// CRC-32.
    pub crc32: bool,
}

impl ChecksumSet {
    /// Whether no algorithm is available.
    pub fn is_empty(&self) -> bool {
        !(self.sha256 || self.sha1 || self.md5 || self.crc32)
    }
}

/// A hash algorithm for [`RemoteFs::checksum`](crate::RemoteFs::checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChecksumAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-1.
    Sha1,
    /// MD5.
    Md5,
    /// CRC-32.
    Crc32,
}

/// What a backend can do. Filled by each backend when it is built; the sync engine and
/// the conformance suite branch on it.
///
/// Fields follow the rule `verb`, `verb_can_x`, `verb_has_x`. A backend written outside
/// this crate starts from [`Capabilities::default`] (nothing) and sets fields:
///
/// ```
/// use ftp_connector::{Capabilities, TimePrecision};
/// let mut caps = Capabilities::default();
/// caps.stat_has_mtime = true;
/// caps.mtime_precision = Some(TimePrecision::Second);
/// assert!(!caps.rename_is_atomic);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Capabilities {
    /// `stat` and `list` report modification times.
    pub stat_has_mtime: bool,
    /// The precision of reported modification times (the coarsest the backend may use).
    pub mtime_precision: Option<TimePrecision>,
    /// `list` reports Unix permission bits.
    pub list_has_permissions: bool,
    /// Listings come from `MLSD` (exact, machine-readable) rather than parsed `LIST` lines.
    pub list_has_mlsd: bool,
    /// `set_modified` works (MFMT, SETSTAT, utimes), and `WriteOptions::modified` is applied.
    pub write_can_set_mtime: bool,
    /// `read` can start at an offset other than 0 (FTP `REST`, SFTP offsets).
    pub read_can_resume: bool,
    /// `write` can continue a partial upload from an offset (`WriteOptions::resume_from`).
    pub write_can_resume: bool,
    /// `rename` replaces the target in one step, so readers never see a partial file.
    pub rename_is_atomic: bool,
    /// `rename` onto an existing file replaces it (otherwise the target is removed first,
    /// or the call fails with a conflict).
    pub rename_can_overwrite: bool,
    /// Hashes the server computes itself.
    pub checksums: ChecksumSet,
    /// How many operations the backend runs at once against the server (its pool size),
    /// where it is bounded.
    pub max_concurrency: Option<usize>,
}
