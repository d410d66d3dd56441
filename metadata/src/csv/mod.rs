//! CSV manifests: rows keyed by a file column, mapped to [`AssetMetadata`](crate::AssetMetadata).
//!
//! [`MappingBuilder`] reads a manifest as a stream of [`ManifestRecord`]s; a [`FieldMap`] says
//! which column feeds which field (with built-in aliases for exiftool, Bridge/Lightroom,
//! PhotoShelter and plain English headers). [`WriterBuilder`] writes reconciliation exports
//! with any columns, which the reader reads back to the same records.
//!
//! ```
//! use asset_metadata::csv::MappingBuilder;
//!
//! let manifest = "\
//! SourceFile,IPTC:ObjectName,XMP-dc:Subject,Date Created,Client Code
//! ./shoot/a.jpg,Harbour,\"sea, boat\",2023:05:01 06:12:00,ACME-7
//! ";
//! let rows: Vec<_> = MappingBuilder::new().from_reader(manifest.as_bytes())?.collect::<Result<_, _>>()?;
//! assert_eq!(rows[0].key, "shoot/a.jpg");
//! assert_eq!(rows[0].metadata.title.as_deref(), Some("Harbour"));
//! assert_eq!(rows[0].metadata.keywords.len(), 2);
//! assert!(rows[0].metadata.custom.contains("Client Code"));
//! # Ok::<(), asset_metadata::Error>(())
//! ```

mod builder;
mod column;
mod field_map;
mod formula;
mod raw;
mod reader;
mod seen;
mod text;
mod utf16;
mod writer;

pub use builder::{MappingBuilder, UnknownColumns};
pub use column::WriteColumn;
pub use field_map::{Column, FieldMap};
pub use reader::ManifestReader;
pub use text::Encoding;
pub use writer::{ManifestWriter, WriterBuilder};

pub use crate::keywords::KeywordSeparator;
pub use crate::model::ManifestRecord;
