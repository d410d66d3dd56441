//! The crate's one error type and the single place where HTTP statuses and API error
//! classes are mapped to an [`ErrorKind`].

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in a form callers can branch on.
///
/// ```
/// use photoshelter_client::{Error, ErrorKind};
///
/// fn should_back_off(err: &Error) -> bool {
///     matches!(err.kind(), ErrorKind::RateLimited { .. } | ErrorKind::Server)
/// }
/// # let _ = should_back_off;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The API key, the credentials or the session were refused (HTTP 401).
    Auth,
    /// The object or path does not exist (HTTP 404).
    NotFound,
    /// The account may not do this, or the organisation context is missing (HTTP 403).
    PermissionDenied,
    /// Too many calls (HTTP 429); `retry_after` is the server's `Retry-After`, if it sent one.
    RateLimited {
        /// How long the server asked the caller to wait.
        retry_after: Option<Duration>,
    },
    /// The request was malformed: a bad id, a missing or bad parameter, a bad builder setting.
    InvalidInput,
    /// A name or object already exists where it must be unique (HTTP 409).
    Conflict,
    /// The server failed (HTTP 5xx).
    Server,
    /// The network failed: connect error, reset, timeout, truncated body.
    Transport,
    /// A response could not be decoded.
    Decode,
    /// A local file could not be read or written.
    Io,
    /// Anything else (an unexpected status or reply).
    Unexpected,
}

/// An error reported by the PhotoShelter API: the HTTP status, the API's own error class
/// and message, and the endpoint that answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub(crate) endpoint: String,
    pub(crate) status: u16,
    pub(crate) class: Option<String>,
    pub(crate) message: String,
    pub(crate) retry_after: Option<Duration>,
}

impl ApiError {
    /// The endpoint that answered, as `METHOD /psapi/v3/...` (no query string, no secrets).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The API's error class (`NotFoundErr`, `SessionRequiredErr`, ...), if the body had one.
    pub fn class(&self) -> Option<&str> {
        self.class.as_deref()
    }
    /// The API's own message, or the start of the body when it was not a known envelope.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The `Retry-After` the server sent, as a duration from when the reply arrived.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}", self.endpoint, self.status)?;
        if let Some(class) = &self.class {
            write!(f, " {class}")?;
        }
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(after) = self.retry_after {
            write!(f, " (retry after {}s)", after.as_secs())?;
        }
        Ok(())
    }
}

/// The error of every fallible call in this crate.
///
/// Errors name where they happened (endpoint, JSON path, file path or builder field) and
/// never contain the API key, the password or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The API answered with a non-2xx status or an error envelope.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The HTTP exchange failed before a full reply arrived.
    #[error("{endpoint}: {what}")]
    Transport {
        /// The endpoint, as `METHOD /path`.
        endpoint: String,
        /// What failed, in words (`connection failed`, `body interrupted`, ...).
        what: &'static str,
        /// The underlying HTTP error.
        #[source]
        source: reqwest::Error,
    },
    /// A reply body did not have the expected shape.
    #[error("{endpoint}: cannot decode the reply at `{path}`: {source}")]
    Decode {
        /// The endpoint, as `METHOD /path`.
        endpoint: String,
        /// The JSON path of the offending value (`data.Gallery.f_list`).
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A builder setting, an id or an argument was not acceptable.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// The offending setting or argument.
        field: Cow<'static, str>,
        /// Why it was refused.
        message: String,
    },
    /// A local file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The server replied in a way this crate cannot use (a missing header, a wrong range).
    #[error("{endpoint}: {message}")]
    Unexpected {
        /// The endpoint, as `METHOD /path`.
        endpoint: String,
        /// What was unexpected.
        message: String,
    },
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(api) => map_http_status(api.status, api.class.as_deref(), api.retry_after),
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Io { .. } => ErrorKind::Io,
            Error::Unexpected { .. } => ErrorKind::Unexpected,
        }
    }

    /// Whether trying the same call again later may succeed: rate limits, 5xx replies and
    /// network failures. (The client already retried within its [`RetryPolicy`](crate::RetryPolicy).)
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => matches!(api.status, 429 | 500 | 502 | 503 | 504),
            Error::Transport { source, .. } => !source.is_builder() && !source.is_redirect(),
            _ => false,
        }
    }

    /// The HTTP status, when the API answered.
    pub fn status(&self) -> Option<u16> {
        self.api().map(ApiError::status)
    }

    /// The API error (status, class, message), when the API answered with one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The `Retry-After` delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api().and_then(ApiError::retry_after)
    }

    pub(crate) fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn transport(endpoint: &str, source: reqwest::Error) -> Self {
        let what = if source.is_connect() {
            "connection failed"
        } else if source.is_timeout() {
            "timed out"
        } else if source.is_body() || source.is_decode() {
            "reply body interrupted"
        } else if source.is_builder() {
            "request could not be built"
        } else {
            "request failed"
        };
        Error::Transport {
            endpoint: endpoint.to_owned(),
            what,
            source,
        }
    }

    pub(crate) fn unexpected(endpoint: &str, message: impl Into<String>) -> Self {
        Error::Unexpected {
            endpoint: endpoint.to_owned(),
            message: message.into(),
        }
    }

    /// True for a 401 telling that the session token is unknown or expired.
    pub(crate) fn is_session_expired(&self) -> bool {
        match self {
            Error::Api(api) => {
                api.status == 401
                    && match api.class.as_deref() {
                        Some(class) => class == "SessionRequiredErr",
                        // v4 replies and bare 401s: only an API-key problem is not a session one.
                        None => !api.message.to_ascii_lowercase().contains("api key"),
                    }
            }
            _ => false,
        }
    }
}

/// Maps an HTTP status (and the API's error class, when there is one) to an [`ErrorKind`].
///
/// This is the one place where that decision is made.
pub(crate) fn map_http_status(
    status: u16,
    class: Option<&str>,
    retry_after: Option<Duration>,
) -> ErrorKind {
    match class {
        Some("ApiKeyErr" | "AuthenticationErr" | "SessionRequiredErr") => return ErrorKind::Auth,
        Some("PermissionErr") => return ErrorKind::PermissionDenied,
        Some("NotFoundErr") => return ErrorKind::NotFound,
        Some("InvalidInputErr") => return ErrorKind::InvalidInput,
        Some("ConflictErr") => return ErrorKind::Conflict,
        Some("RateLimitErr") => return ErrorKind::RateLimited { retry_after },
        _ => {}
    }
    match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::PermissionDenied,
        404 | 410 => ErrorKind::NotFound,
        400 | 405 | 411 | 413 | 414 | 415 | 416 | 422 => ErrorKind::InvalidInput,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited { retry_after },
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, class: Option<&str>) -> Error {
        Error::Api(Box::new(ApiError {
            endpoint: "GET /psapi/v3/mem/image/I0000abcdefghij".into(),
            status,
            class: class.map(str::to_owned),
            message: "msg".into(),
            retry_after: Some(Duration::from_secs(3)),
        }))
    }

    #[test]
    fn kinds_follow_class_then_status() {
        assert_eq!(api(404, Some("NotFoundErr")).kind(), ErrorKind::NotFound);
        assert_eq!(api(400, Some("ConflictErr")).kind(), ErrorKind::Conflict);
        assert_eq!(api(403, None).kind(), ErrorKind::PermissionDenied);
        assert_eq!(
            api(429, None).kind(),
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(api(503, Some("ServerErr")).kind(), ErrorKind::Server);
        assert!(api(503, None).is_retryable());
        assert!(!api(404, None).is_retryable());
        assert!(api(401, Some("SessionRequiredErr")).is_session_expired());
        assert!(!api(401, Some("AuthenticationErr")).is_session_expired());
    }

    #[test]
    fn display_names_endpoint_status_class_and_message() {
        let text = api(404, Some("NotFoundErr")).to_string();
        assert_eq!(
            text,
            "GET /psapi/v3/mem/image/I0000abcdefghij: HTTP 404 NotFoundErr: msg (retry after 3s)"
        );
    }

    #[test]
    fn result_stays_small() {
        assert!(
            std::mem::size_of::<Error>() <= 72,
            "{}",
            std::mem::size_of::<Error>()
        );
    }
}
