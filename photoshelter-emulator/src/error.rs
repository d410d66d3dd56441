//! The crate's error type: failures of the emulator itself (binding, files, snapshots,
//! seeding helpers). Errors served to HTTP clients are API envelopes, not this type.

use std::path::PathBuf;

/// A specialised `Result` for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A referenced object (gallery, collection, image) does not exist.
    NotFound,
    /// An argument was malformed (an id, a name, a fault rule).
    InvalidInput,
    /// A name is already used where it must be unique.
    Conflict,
    /// A file or socket operation failed.
    Io,
    /// A snapshot file could not be read or written.
    Snapshot,
}

/// An error of the emulator's library API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Binding the listener failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file operation failed.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done (`"create"`, `"read"`, …).
        operation: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A snapshot file is not valid JSON of the expected shape.
    #[error("snapshot {path}: {message}")]
    Snapshot {
        /// The snapshot file.
        path: PathBuf,
        /// What is wrong with it (with line and column for JSON errors).
        message: String,
    },
    /// An object named in a call does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// `"gallery"`, `"collection"` or `"image"`.
        what: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// An argument was malformed.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The argument at fault.
        field: &'static str,
        /// Why it is invalid.
        message: String,
    },
    /// A name is already used by a sibling.
    #[error("{what} named {name:?} already exists in {parent}")]
    Conflict {
        /// `"gallery"` or `"collection"`.
        what: &'static str,
        /// The name that clashes.
        name: String,
        /// The parent collection (`root` for the top level).
        parent: String,
    },
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Bind { .. } | Error::Io { .. } => ErrorKind::Io,
            Error::Snapshot { .. } => ErrorKind::Snapshot,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Conflict { .. } => ErrorKind::Conflict,
        }
    }

    /// True when trying again may succeed (I/O failures only).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Io)
    }

    pub(crate) fn io(
        operation: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            operation,
            path: path.into(),
            source,
        }
    }
}
