//! IPTC asset metadata for photo workflows: one record type, [`AssetMetadata`], read from and
//! written to CSV manifests, XMP sidecars and XML batch files, merged with a policy per field,
//! compared, and mapped to PhotoShelter's field names.
//!
//! ```
//! use asset_metadata::csv::MappingBuilder;
//! use asset_metadata::{photoshelter, xmp, Field, Merge, MergePolicy};
//!
//! // A manifest as exported by a spreadsheet: semicolons, a BOM, aliases for the columns.
//! let manifest = "\u{feff}Filename;Headline;Keywords;Date Created;By-line;Client Code\n\
//!                 shoot/a.jpg;Harbour at dawn;sea, boat;2023:05:01 06:12:00;Ana Lima;ACME-7\n";
//! let mut rows = MappingBuilder::new().file_name("upload.csv").from_reader(manifest.as_bytes())?;
//! let row = rows.next().unwrap()?;
//! assert_eq!(row.key, "shoot/a.jpg");
//! assert_eq!(row.metadata.creator.as_deref(), Some("Ana Lima"));
//! assert_eq!(row.metadata.custom.get("Client Code").and_then(|v| v.as_text()), Some("ACME-7"));
//!
//! // Through an XMP sidecar and back: "Client Code" is not an XMP property, so it stays behind.
//! let mut existing = xmp::read_xmp(xmp::write_xmp(&row.metadata)?.as_bytes())?;
//! existing.keywords.push("archive");
//!
//! // Merge the row into it: keywords are appended, the rest overwritten.
//! let diff = Merge::new(MergePolicy::Overwrite)
//!     .policy(Field::Keywords, MergePolicy::Append)
//!     .apply(&mut existing, &row.metadata);
//! assert_eq!(diff.to_string(), "Client Code");
//! assert_eq!(existing.keywords.join(", "), "sea, boat, archive");
//!
//! // PhotoShelter's IPTC names, as plain data.
//! let fields = photoshelter::to_photoshelter_fields(&existing);
//! assert!(fields.contains(&("author".to_string(), "Ana Lima".to_string())));
//!
//! // Bad input is an error that says where.
//! let bad = "file,Date Created\na.jpg,2023-02-30\n";
//! let err = MappingBuilder::new().file_name("bad.csv").from_reader(bad.as_bytes())?.next().unwrap().unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     r#"bad.csv, line 2, record 1, column "Date Created": invalid value "2023-02-30": no such date 2023-02-30"#
//! );
//! # Ok::<(), asset_metadata::Error>(())
//! ```
//!
//! Modules:
//! - [`csv`]: manifests keyed by a file column, with a [`csv::FieldMap`] of column aliases;
//!   a writer for reconciliation exports.
//! - [`xmp`]: XMP sidecars (RDF/XML) as exiftool, Lightroom and Bridge write them.
//! - [`xml`]: XML batch manifests mapped by paths, and a writer.
//! - [`photoshelter`]: PhotoShelter's IPTC field names.
//!
//! Every reader streams (one record at a time), refuses DTDs and entities, enforces size
//! limits, and reports bad input as an [`Error`] with a [`Position`]: file, line, record,
//! column or element, field. Nothing panics on input.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod csv;
mod custom;
mod date;
mod error;
mod field;
mod keywords;
mod merge;
mod model;
pub mod photoshelter;
mod values;
pub mod xml;
mod xmlsafe;
pub mod xmp;

pub use custom::{CustomFields, FieldValue};
pub use date::DateCreated;
pub use error::{Error, ErrorKind, Position, Result};
pub use field::Field;
pub use keywords::{KeywordSeparator, Keywords, KeywordsIter};
pub use merge::{Diff, Merge, MergePolicy};
pub use model::{AssetMetadata, ManifestRecord};
pub use values::{CopyrightStatus, Rating, ReleaseStatus};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
