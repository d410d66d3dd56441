//! The crate's one error type, where it happened ([`Position`]) and what kind it is.

use std::fmt;

/// A `Result` whose error defaults to this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a caller can branch on.
///
/// Obtained from [`Error::kind`]. New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file to read does not exist.
    NotFound,
    /// A file could not be read or written for lack of rights.
    PermissionDenied,
    /// A passing I/O fault: try again.
    Transient,
    /// The input is malformed, breaks a limit or holds a value that cannot be used.
    InvalidInput,
    /// The input uses a feature this crate refuses (a DTD, an entity).
    Unsupported,
    /// Anything else (an I/O failure of another kind).
    Unexpected,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Transient => "transient failure",
            ErrorKind::InvalidInput => "invalid input",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unexpected => "unexpected",
        })
    }
}

/// Where in the input an error was found.
///
/// Every part is optional: a value parsed on its own has no file and no line. Lines and
/// records count from 1; the CSV header is line 1 and record 0, the first data row is
/// record 1. Printed as `manifest.csv, line 4, record 3, column "Taken" (Date Created)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Position {
    /// The file name (or the name given with the reader's `file_name` option).
    pub file: Option<String>,
    /// The 1-based line where the record or element starts.
    pub line: Option<u64>,
    /// The 1-based record (CSV row after the header, XML manifest record element).
    pub record: Option<u64>,
    /// The metadata field, by its display name (see [`Field::name`](crate::Field::name)), or
    /// the custom field name.
    pub field: Option<String>,
    /// The CSV column, as written in the header.
    pub column: Option<String>,
    /// The XML element path, such as `/x:xmpmeta/rdf:RDF/rdf:Description/dc:title`.
    pub element: Option<String>,
}

impl Position {
    /// An empty position (nothing known).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the file name.
    pub fn with_file(mut self, file: Option<&str>) -> Self {
        self.file = file.map(str::to_owned);
        self
    }

    /// Sets the line.
    pub fn with_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    /// Sets the record number.
    pub fn with_record(mut self, record: u64) -> Self {
        self.record = Some(record);
        self
    }

    /// Sets the field name.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// Sets the CSV column name.
    pub fn with_column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }

    /// Sets the XML element path.
    pub fn with_element(mut self, element: impl Into<String>) -> Self {
        self.element = Some(element.into());
        self
    }

    fn is_empty(&self) -> bool {
        self.file.is_none()
            && self.line.is_none()
            && self.record.is_none()
            && self.field.is_none()
            && self.column.is_none()
            && self.element.is_none()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("<input>");
        }
        let mut sep = "";
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            sep = ", ";
        }
        if let Some(line) = self.line {
            write!(f, "{sep}line {line}")?;
            sep = ", ";
        }
        if let Some(record) = self.record {
            write!(f, "{sep}record {record}")?;
            sep = ", ";
        }
        if let Some(element) = &self.element {
            write!(f, "{sep}element {element}")?;
            sep = ", ";
        }
        match (&self.column, &self.field) {
            (Some(column), Some(field)) if column != field => {
                write!(f, "{sep}column {column:?} ({field})")?;
            }
            (Some(column), _) => write!(f, "{sep}column {column:?}")?,
            (None, Some(field)) => write!(f, "{sep}field {field}")?,
            (None, None) => {}
        }
        Ok(())
    }
}

/// Every failure of this crate.
///
/// Each variant carries the [`Position`] of the fault. Values quoted in messages are cut to
/// 80 characters. Branch on [`Error::kind`] rather than on variants: new variants may be
/// added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing failed.
    #[error("{pos}: {op} failed: {source}")]
    Io {
        /// Where.
        pos: Box<Position>,
        /// `"read"` or `"write"`.
        op: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV is malformed (reported by the CSV parser).
    #[error("{pos}: malformed CSV: {message}")]
    Csv {
        /// Where.
        pos: Box<Position>,
        /// What the parser said.
        message: String,
    },
    /// The XML is malformed (unclosed tag, bad name, bad character…).
    #[error("{pos}: malformed XML: {message}")]
    Xml {
        /// Where.
        pos: Box<Position>,
        /// What is wrong.
        message: String,
    },
    /// The document is well-formed but not what was expected (no `rdf:RDF`, no record
    /// element, a value where a structure must be).
    #[error("{pos}: {message}")]
    Structure {
        /// Where.
        pos: Box<Position>,
        /// What is wrong.
        message: String,
    },
    /// The CSV header has no column for the file key.
    #[error("{pos}: no file key column (looked for {looked_for}; header has {found})")]
    MissingKeyColumn {
        /// Where (the header line).
        pos: Box<Position>,
        /// The names that would have been accepted.
        looked_for: String,
        /// The header's columns.
        found: String,
    },
    /// Two records name the same file.
    #[error("{pos}: duplicate file key {key:?} (first seen at {first})")]
    DuplicateKey {
        /// Where (the second record).
        pos: Box<Position>,
        /// The key.
        key: String,
        /// Where the first record was (`line 3` or `record 2`).
        first: String,
    },
    /// A record has no file key.
    #[error("{pos}: missing or empty file key")]
    EmptyKey {
        /// Where.
        pos: Box<Position>,
    },
    /// A column the field map does not know, in strict mode.
    #[error("{pos}: unknown column (strict mode)")]
    UnknownColumn {
        /// Where (the header line, with the column).
        pos: Box<Position>,
    },
    /// A value cannot be used for its field (a bad date, a rating of 9…).
    #[error("{pos}: invalid value {value:?}: {reason}")]
    InvalidValue {
        /// Where.
        pos: Box<Position>,
        /// The value (cut to 80 characters).
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A limit was exceeded (field size, document size, depth, attribute count).
    #[error("{pos}: {what} exceeds the limit of {limit}")]
    Limit {
        /// Where.
        pos: Box<Position>,
        /// What is too large (`"field of 10485760 bytes"`, `"nesting depth"`…).
        what: String,
        /// The limit.
        limit: usize,
    },
    /// The bytes are not text in the expected encoding.
    #[error("{pos}: {message}")]
    Encoding {
        /// Where.
        pos: Box<Position>,
        /// What is wrong and what to do about it.
        message: String,
    },
    /// The document uses something refused for safety (a DTD, an entity reference).
    #[error("{pos}: refused: {what}")]
    Forbidden {
        /// Where.
        pos: Box<Position>,
        /// What was refused and why.
        what: String,
    },
    /// An option given to a builder cannot be used.
    #[error("invalid option `{key}`: {message}")]
    InvalidConfig {
        /// The option.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// The `pos` field of any variant that has one (by reference or by mutable reference,
/// as `$error` is).
macro_rules! pos_of {
    ($error:expr) => {
        match $error {
            Error::Io { pos, .. }
            | Error::Csv { pos, .. }
            | Error::Xml { pos, .. }
            | Error::Structure { pos, .. }
            | Error::MissingKeyColumn { pos, .. }
            | Error::DuplicateKey { pos, .. }
            | Error::EmptyKey { pos }
            | Error::UnknownColumn { pos }
            | Error::InvalidValue { pos, .. }
            | Error::Limit { pos, .. }
            | Error::Encoding { pos, .. }
            | Error::Forbidden { pos, .. } => Some(pos),
            Error::InvalidConfig { .. } => None,
        }
    };
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
                std::io::ErrorKind::Interrupted
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::WouldBlock => ErrorKind::Transient,
                std::io::ErrorKind::InvalidData => ErrorKind::InvalidInput,
                _ => ErrorKind::Unexpected,
            },
            Error::Forbidden { .. } => ErrorKind::Unsupported,
            _ => ErrorKind::InvalidInput,
        }
    }

    /// Whether trying again may succeed (only passing I/O faults).
    pub fn is_retryable(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }

    /// Where the error was found, if it came from input.
    pub fn position(&self) -> Option<&Position> {
        pos_of!(self).map(|p| &**p)
    }

    /// Fills in the parts of the position that are still unknown (used when an error
    /// found in a value travels up to the reader that knows the file and line).
    pub(crate) fn at(mut self, outer: &Position) -> Self {
        if let Some(pos) = self.position_mut() {
            let p = &mut **pos;
            if p.file.is_none() {
                p.file.clone_from(&outer.file);
            }
            if p.line.is_none() {
                p.line = outer.line;
            }
            if p.record.is_none() {
                p.record = outer.record;
            }
            if p.field.is_none() {
                p.field.clone_from(&outer.field);
            }
            if p.column.is_none() {
                p.column.clone_from(&outer.column);
            }
            if p.element.is_none() {
                p.element.clone_from(&outer.element);
            }
        }
        self
    }

    fn position_mut(&mut self) -> Option<&mut Box<Position>> {
        pos_of!(self)
    }

    pub(crate) fn invalid_value(value: &str, reason: impl Into<String>) -> Self {
        Error::InvalidValue {
            pos: Box::default(),
            value: clip(value),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(pos: Position, op: &'static str, source: std::io::Error) -> Self {
        Error::Io {
            pos: Box::new(pos),
            op,
            source,
        }
    }
}

/// Opens `path` for reading. Returns the file and the name errors should give it: `name`
/// when the caller set one, the path otherwise (a failed open already names it).
pub(crate) fn open_file(
    path: &std::path::Path,
    name: Option<&str>,
) -> Result<(std::fs::File, String)> {
    let name = name.map_or_else(|| path.display().to_string(), str::to_owned);
    match std::fs::File::open(path) {
        Ok(file) => Ok((file, name)),
        Err(e) => Err(Error::io(Position::new().with_file(Some(&name)), "open", e)),
    }
}

/// Cuts a value to at most 80 characters for an error message.
pub(crate) fn clip(value: &str) -> String {
    const MAX: usize = 80;
    match value.char_indices().nth(MAX) {
        None => value.to_owned(),
        Some((idx, _)) => format!("{}…", &value[..idx]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_prints_every_known_part() {
        let pos = Position::new()
            .with_file(Some("m.csv"))
            .with_line(4)
            .with_record(3)
            .with_column("Taken")
            .with_field("Date Created");
        assert_eq!(
            pos.to_string(),
            r#"m.csv, line 4, record 3, column "Taken" (Date Created)"#
        );
        assert_eq!(Position::new().to_string(), "<input>");
    }

    #[test]
    fn long_values_are_clipped() {
        let err = Error::invalid_value(&"x".repeat(500), "too long");
        let text = err.to_string();
        assert!(text.len() < 150, "{text}");
        assert!(text.contains('…'));
    }

    #[test]
    fn result_stays_small() {
        assert!(std::mem::size_of::<Result<()>>() <= 64);
    }
}
