//! [`WriteColumn`]: the columns of an export.

use crate::field::Field;

/// One column of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteColumn {
    pub(super) header: String,
    pub(super) source: Source,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Source {
    Key,
    Field(Field),
    Custom(String),
    Extra,
}

impl WriteColumn {
    /// The file key, under `header` (`"File"` in the default layout).
    pub fn key(header: &str) -> Self {
        Self {
            header: header.to_owned(),
            source: Source::Key,
        }
    }

    /// A built-in field under its display name.
    pub fn field(field: Field) -> Self {
        Self::field_as(field.name(), field)
    }

    /// A built-in field under another header (which must still map back to the field).
    pub fn field_as(header: &str, field: Field) -> Self {
        Self {
            header: header.to_owned(),
            source: Source::Field(field),
        }
    }

    /// A custom field, under its own name. A list value is written as its items joined
    /// with `"; "` and reads back as one text (a CSV cell has no lists).
    pub fn custom(name: &str) -> Self {
        Self {
            header: name.to_owned(),
            source: Source::Custom(name.to_owned()),
        }
    }

    /// A column filled per row by
    /// [`ManifestWriter::write_with`](super::ManifestWriter::write_with) (asset id, gallery,
    /// status, URL…). The reader reads it back as a custom field of the same name.
    pub fn extra(header: &str) -> Self {
        Self {
            header: header.to_owned(),
            source: Source::Extra,
        }
    }

    /// The key column `File` followed by every built-in field.
    pub fn default_columns() -> Vec<WriteColumn> {
        std::iter::once(WriteColumn::key("File"))
            .chain(Field::ALL.into_iter().map(WriteColumn::field))
            .collect()
    }

    /// The header text.
    pub fn header(&self) -> &str {
        &self.header
    }
}
