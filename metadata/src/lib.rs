//! metadata
#![cfg_attr(docsrs, feature(doc_cfg))]

mod date;
mod error;
mod field;
mod merge;
mod model;
pub mod csv;
pub mod photoshelter;
mod values;
mod xmlsafe;
pub mod xml;
pub mod xmp;

pub use date::DateCreated;
pub use error::{Error, ErrorKind, Position, Result};
pub use field::Field;
pub use merge::{Diff, Merge, MergePolicy};
pub use model::{AssetMetadata, CustomFields, FieldValue, KeywordSeparator, Keywords, ManifestRecord};
pub use values::{CopyrightStatus, Rating, ReleaseStatus};
