//! Response models. All are `#[non_exhaustive]`; optional fields are `Option`; decoding is
//! tolerant: unknown fields are ignored (or kept in an `extra` map), numbers may arrive as
//! strings and booleans as `"t"`/`"f"`.

mod account;
mod gallery;
mod image;
mod iptc;

pub use account::{Organization, Paging, Session};
pub use gallery::{Child, Collection, Gallery, Mode};
pub use image::{GalleryImage, Image, ImageLink};
pub use iptc::{Iptc, IptcPatch};

/// Fields a record carried that this crate has no typed field for, kept as JSON values.
pub type Extra = std::collections::BTreeMap<String, serde_json::Value>;
