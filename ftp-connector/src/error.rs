//! The crate's one error type, its [`ErrorKind`] and the [`Operation`] it happened in.

use std::fmt;
use std::time::Duration;

/// A `Result` whose error defaults to this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a caller can branch on, whatever the backend.
///
/// Obtained from [`Error::kind`]. New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file or directory does not exist.
    NotFound,
    /// The server refused the operation for lack of rights.
    PermissionDenied,
    /// Credentials were refused, or the server could not be trusted (host key, certificate).
    Auth,
    /// The server asked the client to slow down.
    RateLimited,
    /// A passing fault (connection reset, timeout, `421`/`425`/`426`): try again.
    Transient,
    /// The caller's input is unusable (a bad path, URL or option).
    InvalidInput,
    /// The target already exists, or the operation clashes with the state of the server.
    Conflict,
    /// The backend cannot do this at all.
    Unsupported,
    /// Anything else: a protocol violation, an unexpected reply.
    Unexpected,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Auth => "authentication failed",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::Transient => "transient failure",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unexpected => "unexpected",
        };
        f.write_str(s)
    }
}

/// The [`RemoteFs`](crate::RemoteFs) operation an error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Opening a connection or session, logging in.
    Connect,
    /// [`RemoteFs::stat`](crate::RemoteFs::stat).
    Stat,
    /// [`RemoteFs::list`](crate::RemoteFs::list).
    List,
    /// [`RemoteFs::read`](crate::RemoteFs::read).
    Read,
    /// [`RemoteFs::write`](crate::RemoteFs::write).
    Write,
    /// [`RemoteFs::rename`](crate::RemoteFs::rename).
    Rename,
    /// [`RemoteFs::create_dir_all`](crate::RemoteFs::create_dir_all).
    CreateDir,
    /// [`RemoteFs::remove_file`](crate::RemoteFs::remove_file).
    RemoveFile,
    /// [`RemoteFs::remove_dir`](crate::RemoteFs::remove_dir).
    RemoveDir,
    /// [`RemoteFs::set_modified`](crate::RemoteFs::set_modified).
    SetModified,
    /// [`RemoteFs::checksum`](crate::RemoteFs::checksum).
    Checksum,
    /// [`RemoteFsExt::walk`](crate::RemoteFsExt::walk).
    Walk,
    /// [`RemoteFsExt::copy_to`](crate::RemoteFsExt::copy_to).
    Copy,
    /// Parsing a URL or options.
    Configure,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Operation::Connect => "connect",
            Operation::Stat => "stat",
            Operation::List => "list",
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Rename => "rename",
            Operation::CreateDir => "create_dir",
            Operation::RemoveFile => "remove_file",
            Operation::RemoveDir => "remove_dir",
            Operation::SetModified => "set_modified",
            Operation::Checksum => "checksum",
            Operation::Walk => "walk",
            Operation::Copy => "copy",
            Operation::Configure => "configure",
        };
        f.write_str(s)
    }
}

/// Every failure of this crate.
///
/// Each variant names the operation and, where there is one, the path (relative to the
/// backend root) or the endpoint (`host:port`, never with credentials). No variant ever
/// holds a password, passphrase or key. Branch on [`Error::kind`] and
/// [`Error::is_retryable`] rather than on variants: new variants may be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file or directory does not exist.
    #[error("{op} {path:?}: not found")]
    NotFound {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root.
        path: String,
    },
    /// The target exists and the operation would not replace it.
    #[error("{op} {path:?}: already exists")]
    AlreadyExists {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root.
        path: String,
    },
    /// The server refused the operation for lack of rights.
    #[error("{op} {path:?}: permission denied: {message}")]
    PermissionDenied {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root.
        path: String,
        /// What the server said.
        message: String,
    },
    /// The server refused the credentials.
    #[error("login to {endpoint} as {user:?} refused: {message}")]
    Auth {
        /// `host:port`.
        endpoint: String,
        /// The user name (never the password).
        user: String,
        /// What the server said.
        message: String,
    },
    /// The server could not be trusted: unknown or changed SSH host key, a TLS certificate
    /// that does not verify or does not match the pin.
    #[error("refusing to talk to {endpoint}: {message}")]
    Untrusted {
        /// `host:port`.
        endpoint: String,
        /// Why, including the fingerprint that was seen where there is one.
        message: String,
    },
    /// A path given by the caller breaks the rules of [`RemotePath`](crate::RemotePath).
    #[error("invalid remote path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given (escaped when printed).
        path: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A server listed a name that cannot be used safely (`..`, a `/`, a control
    /// character…). The entry is reported, never followed.
    #[error("{dir:?} lists an unusable name {name:?}: {reason}")]
    InvalidName {
        /// The directory being listed.
        dir: String,
        /// The name as the server sent it (lossily decoded, escaped when printed).
        name: String,
        /// The rule it breaks.
        reason: &'static str,
    },
    /// A URL or an option is unusable.
    #[error("invalid setting `{key}`: {message}")]
    InvalidConfig {
        /// The offending URL part or option key.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The backend cannot do this at all (see [`Capabilities`](crate::Capabilities)).
    #[error("{op} is not supported by the {backend} backend")]
    Unsupported {
        /// The operation.
        op: Operation,
        /// The backend's name, e.g. `"ftp"`.
        backend: &'static str,
    },
    /// A transfer ended before all its bytes arrived (a cut connection, a short upload).
    #[error("{op} {path:?}: transfer cut short after {received} of {expected} bytes")]
    Truncated {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root.
        path: String,
        /// Bytes received or sent.
        received: u64,
        /// Bytes expected.
        expected: u64,
    },
    /// The server answered with an error reply.
    #[error("{op} {path:?}: server replied {}: {message}", code.map_or_else(|| "an error".to_owned(), |c| c.to_string()))]
    Protocol {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root (empty when none applies).
        path: String,
        /// The protocol's reply or status code (FTP reply code, SFTP status code).
        code: Option<u32>,
        /// What the server said.
        message: String,
        /// The kind decided by the backend's error mapping.
        kind: ErrorKind,
    },
    /// An I/O error on a connection or a local file.
    #[error("{op} {path:?}: {source}")]
    Io {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root (empty when none applies).
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The server did not answer in time.
    #[error("{op} {path:?}: no answer within {after:?}")]
    Timeout {
        /// The operation.
        op: Operation,
        /// The path, relative to the backend root (empty when none applies).
        path: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// No connection or session could be opened or kept.
    #[error("{op}: connection to {endpoint} failed: {message}")]
    Connection {
        /// The operation.
        op: Operation,
        /// `host:port`.
        endpoint: String,
        /// What went wrong.
        message: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Error {
    /// What kind of failure this is.
    ///
    /// ```
    /// use ftp_connector::{Error, ErrorKind, Operation};
    /// let e = Error::NotFound { op: Operation::Stat, path: "a.jpg".into() };
    /// assert_eq!(e.kind(), ErrorKind::NotFound);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::Conflict,
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Error::Auth { .. } | Error::Untrusted { .. } => ErrorKind::Auth,
            Error::InvalidPath { .. } | Error::InvalidName { .. } | Error::InvalidConfig { .. } => {
                ErrorKind::InvalidInput
            }
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::Truncated { .. } | Error::Timeout { .. } | Error::Connection { .. } => {
                ErrorKind::Transient
            }
            Error::Protocol { kind, .. } => *kind,
            Error::Io { source, .. } => io_kind(source),
        }
    }

    /// Whether trying the same operation again may succeed.
    ///
    /// ```
    /// use ftp_connector::{Error, ErrorKind, Operation};
    /// let e = Error::Protocol {
    ///     op: Operation::Read,
    ///     path: "a.jpg".into(),
    ///     code: Some(426),
    ///     message: "Connection closed; transfer aborted".into(),
    ///     kind: ErrorKind::Transient,
    /// };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Transient | ErrorKind::RateLimited)
    }

    /// The operation that failed.
    pub fn operation(&self) -> Operation {
        match self {
            Error::NotFound { op, .. }
            | Error::AlreadyExists { op, .. }
            | Error::PermissionDenied { op, .. }
            | Error::Unsupported { op, .. }
            | Error::Truncated { op, .. }
            | Error::Protocol { op, .. }
            | Error::Io { op, .. }
            | Error::Timeout { op, .. }
            | Error::Connection { op, .. } => *op,
            Error::Auth { .. } | Error::Untrusted { .. } => Operation::Connect,
            Error::InvalidPath { .. } | Error::InvalidConfig { .. } => Operation::Configure,
            Error::InvalidName { .. } => Operation::List,
        }
    }

    /// The path the error is about, where there is one.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::NotFound { path, .. }
            | Error::AlreadyExists { path, .. }
            | Error::PermissionDenied { path, .. }
            | Error::InvalidPath { path, .. }
            | Error::Truncated { path, .. }
            | Error::Protocol { path, .. }
            | Error::Io { path, .. }
            | Error::Timeout { path, .. } => Some(path),
            Error::InvalidName { dir, .. } => Some(dir),
            _ => None,
        }
        .map(String::as_str)
        .filter(|p| !p.is_empty())
    }

    /// An I/O error during `op` on `path`.
    pub fn io(op: Operation, path: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// The operation is not supported by `backend`.
    pub fn unsupported(op: Operation, backend: &'static str) -> Self {
        Error::Unsupported { op, backend }
    }

    /// An unusable setting.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidConfig {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Classifies an I/O error: resets, timeouts and early ends are transient.
fn io_kind(e: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => ErrorKind::NotFound,
        K::PermissionDenied => ErrorKind::PermissionDenied,
        K::AlreadyExists | K::IsADirectory | K::NotADirectory | K::DirectoryNotEmpty => {
            ErrorKind::Conflict
        }
        K::InvalidInput | K::InvalidData | K::InvalidFilename => ErrorKind::InvalidInput,
        K::Unsupported => ErrorKind::Unsupported,
        K::ConnectionReset
        | K::ConnectionAborted
        | K::ConnectionRefused
        | K::NotConnected
        | K::BrokenPipe
        | K::TimedOut
        | K::UnexpectedEof
        | K::Interrupted
        | K::WouldBlock => ErrorKind::Transient,
        _ => ErrorKind::Unexpected,
    }
}

impl From<std::io::Error> for Error {
    /// An I/O error with no operation context (treated as a [`Operation::Read`] of no path).
    /// Prefer [`Error::io`], which names the operation and path.
    fn from(source: std::io::Error) -> Self {
        Error::Io {
            op: Operation::Read,
            path: String::new(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_resets_are_retryable_but_not_found_is_not() {
        let reset = Error::io(
            Operation::Read,
            "a",
            std::io::Error::from(std::io::ErrorKind::ConnectionReset),
        );
        assert!(reset.is_retryable());
        let missing = Error::io(
            Operation::Read,
            "a",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert!(!missing.is_retryable());
    }

    #[test]
    fn hostile_names_are_escaped_when_printed() {
        let e = Error::InvalidName {
            dir: "in".into(),
            name: "../\n\u{0}x".into(),
            reason: "contains `..`",
        };
        let s = e.to_string();
        assert!(!s.contains('\n') && !s.contains('\u{0}'), "{s}");
    }

    #[test]
    fn result_stays_small() {
        assert!(std::mem::size_of::<Result<()>>() <= 96);
    }
}
