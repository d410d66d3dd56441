//! The sync engine between file servers and PhotoShelter.
//!
//! It combines three crates that do not know each other, only through their public APIs:
//! [`remote`] (any FTP, FTPS, SFTP, local or in-memory tree), [`photoshelter`] (the
//! PhotoShelter API) and [`metadata`] (IPTC metadata, CSV and XMP/XML).
//!
//! The planner, the journal and the executor of the eight workflows are built on these
//! re-exports; today this crate offers the re-exports only.
//!
//! ```
//! use asset_sync::remote::{MemoryFs, RemoteFs, RemotePath};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let drop_folder = MemoryFs::new();
//! assert!(drop_folder.stat(&RemotePath::ROOT).await?.is_dir());
//! # Ok::<(), asset_sync::remote::Error>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

pub use asset_metadata as metadata;
pub use ftp_connector as remote;
pub use photoshelter_client as photoshelter;
