//! Move photographs between file servers (FTP, FTPS, SFTP) and PhotoShelter, with their
//! metadata.
//!
//! This crate gathers the workspace's crates under one name:
//!
//! - [`remote`] ([`ftp_connector`]): one async `RemoteFs` trait over FTP, FTPS, SFTP, local
//!   folders and memory;
//! - [`photoshelter`] ([`photoshelter_client`]): the typed PhotoShelter SDK;
//! - [`metadata`] ([`asset_metadata`]): IPTC metadata, CSV manifests, XMP and XML;
//! - [`sync`] ([`asset_sync`]): the sync engine's crate.
//!
//! A file on a (here in-memory) server, uploaded to PhotoShelter (here the local emulator)
//! with the metadata of its manifest row:
//!
//! ```
//! use bytes::Bytes;
//! use photoshelter_ftp::metadata::{csv::MappingBuilder, photoshelter};
//! use photoshelter_ftp::photoshelter::{Client, IptcPatch, UploadSource};
//! use photoshelter_ftp::remote::{stream, MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // The drop folder: one photo and a manifest.
//! let server = MemoryFs::new();
//! let photo = RemotePath::parse("ferry.jpg")?;
//! server.write(&photo, stream::once(Bytes::from_static(b"\xFF\xD8 a photo \xFF\xD9")), &WriteOptions::new()).await?;
//! let manifest = "file,Title,Keywords\nferry.jpg,Ferry at dawn,ferry;Tagus\n";
//!
//! // PhotoShelter (a local emulator here; `Client::builder().from_env()` for a real account).
//! let emu = photoshelter_emulator::Emulator::start().await?;
//! let client = Client::builder()
//!     .base_url(emu.base_url())
//!     .api_key(emu.api_key())
//!     .credentials(emu.email(), emu.password())
//!     .build()?;
//! let gallery = client.galleries().create("Deliveries").send().await?;
//!
//! // Stream the file across, then write the manifest's metadata.
//! let size = server.stat(&photo).await?.size.unwrap_or(0);
//! let source = UploadSource::stream("ferry.jpg", size, server.read(&photo, 0).await?)?;
//! let image = client.images().upload(&gallery.id, source).send().await?;
//!
//! let row = MappingBuilder::new().from_reader(manifest.as_bytes())?.next().ok_or("no row")??;
//! let patch = photoshelter::to_photoshelter_fields(&row.metadata)
//!     .into_iter()
//!     .fold(IptcPatch::new(), |p, (name, value)| p.set(name, value));
//! let iptc = client.provisional().update_iptc(&image.id, &patch).await?;
//! assert_eq!(iptc.title.as_deref(), Some("Ferry at dawn"));
//! assert_eq!(iptc.keywords(), ["ferry", "Tagus"]);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub use asset_metadata as metadata;
pub use asset_sync as sync;
pub use ftp_connector as remote;
pub use photoshelter_client as photoshelter;

// The workspace README's Rust snippets are compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
