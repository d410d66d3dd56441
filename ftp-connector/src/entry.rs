//! [`Entry`]: what a listing or a stat says of one file or directory.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::path::RemotePath;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link, not followed.
    Symlink,
}

/// How fine a modification time is.
///
/// Ordered from finest to coarsest, so `a <= b` means "`a` is at least as fine as `b`".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TimePrecision {
    /// Nanoseconds (local file systems).
    Nanosecond,
    /// Milliseconds (some MLSD servers).
    Millisecond,
    /// Whole seconds (MDTM, MLSD, SFTP v3).
    Second,
    /// Whole minutes (`LIST` lines for recent files: `Nov 27 15:05`).
    Minute,
    /// Whole days (`LIST` lines for older files: `Nov 27  2024`).
    Day,
}

impl TimePrecision {
    /// The step of this precision.
    pub fn step(self) -> TimeDelta {
        match self {
            TimePrecision::Nanosecond => TimeDelta::nanoseconds(1),
            TimePrecision::Millisecond => TimeDelta::milliseconds(1),
            TimePrecision::Second => TimeDelta::seconds(1),
            TimePrecision::Minute => TimeDelta::minutes(1),
            TimePrecision::Day => TimeDelta::days(1),
        }
    }
}

/// A modification time and how precise it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modified {
    /// The time, in UTC.
    pub time: DateTime<Utc>,
    /// How fine it is.
    pub precision: TimePrecision,
}

impl Modified {
    /// A time with its precision.
    pub fn new(time: DateTime<Utc>, precision: TimePrecision) -> Self {
        Modified { time, precision }
    }

    /// Whether `other` is the same time once both are cut to the coarser of the two
    /// precisions: what a sync engine must use to decide "unchanged".
    ///
    /// ```
    /// use chrono::{TimeZone, Utc};
    /// use ftp_connector::{Modified, TimePrecision};
    /// let local = Modified::new(Utc.with_ymd_and_hms(2026, 11, 27, 15, 5, 42).unwrap(), TimePrecision::Nanosecond);
    /// let listed = Modified::new(Utc.with_ymd_and_hms(2026, 11, 27, 15, 5, 0).unwrap(), TimePrecision::Minute);
    /// assert!(local.same_as(&listed));
    /// ```
    pub fn same_as(&self, other: &Modified) -> bool {
        let step = self.precision.max(other.precision).step();
        match (
            self.time.duration_trunc(step),
            other.time.duration_trunc(step),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.time == other.time,
        }
    }
}

/// One file, directory or link, as a listing or a stat reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// Where it is, relative to the backend root.
    pub path: RemotePath,
    /// What it is.
    pub kind: EntryKind,
    /// Its size in bytes, where known (always known for files on every built-in backend).
    pub size: Option<u64>,
    /// Its modification time, where known.
    pub modified: Option<Modified>,
    /// Unix permission bits (`0o644`), where the server reports them.
    pub permissions: Option<u32>,
}

impl Entry {
    /// A file of `size` bytes.
    pub fn file(path: RemotePath, size: u64) -> Self {
        Entry {
            path,
            kind: EntryKind::File,
            size: Some(size),
            modified: None,
            permissions: None,
        }
    }

    /// A directory.
    pub fn dir(path: RemotePath) -> Self {
        Entry {
            path,
            kind: EntryKind::Dir,
            size: None,
            modified: None,
            permissions: None,
        }
    }

    /// A symbolic link (not followed).
    pub fn symlink(path: RemotePath) -> Self {
        Entry {
            path,
            kind: EntryKind::Symlink,
            size: None,
            modified: None,
            permissions: None,
        }
    }

    /// With a modification time.
    pub fn with_modified(mut self, modified: Modified) -> Self {
        self.modified = Some(modified);
        self
    }

    /// With Unix permission bits.
    pub fn with_permissions(mut self, mode: u32) -> Self {
        self.permissions = Some(mode);
        self
    }

    /// The last segment of the path (empty for the root).
    pub fn name(&self) -> &str {
        self.path.file_name().unwrap_or("")
    }

    /// Whether it is a regular file.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == EntryKind::Dir
    }
}
