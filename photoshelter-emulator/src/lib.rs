//! A local HTTP server that behaves like the PhotoShelter API, for tests, examples and demos.
//!
//! It serves the operations of the workspace's PhotoShelter reference (v3 auth, browse,
//! search, upload, download, create, visibility, and the provisional v4 writes) in each
//! version's wire format, enforces what the service enforces (API key on every call, login
//! for `mem/` paths, organisation context, id formats, paging limits), stores originals on
//! disk, extracts embedded IPTC/XMP metadata on upload, and can be told to misbehave
//! (429 with `Retry-After`, 5xx bursts, latency, dropped connections, expired sessions).
//!
//! ```
//! use photoshelter_emulator::{Emulator, FaultRule};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let emu = Emulator::start().await?;          // 127.0.0.1, free port, temp data dir
//! println!("{} key={} user={}", emu.base_url(), emu.api_key(), emu.email());
//!
//! // Seed a library the way an upload would fill it.
//! let gallery = emu.seed_gallery("Spring launch", None)?;
//! let image = emu.seed_image(&gallery, "hero.jpg", b"not really a jpeg").await?;
//! assert_eq!(emu.gallery_images(&gallery)?, vec![image.clone()]);
//! assert_eq!(emu.image_bytes(&image).await?, b"not really a jpeg");
//!
//! // Make the next three uploads fail with 503.
//! emu.faults().add(FaultRule::status(503).count(3).path_prefix("/psapi/v3/mem/image/upload"))?;
//!
//! emu.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The wire format is `docs/wire-format.md` of the workspace; the emulator's own choices
//! (defaults, fault rules, admin API) are in this crate's README.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod api;
mod builder;
mod emulator;
mod error;
mod faults;
mod ids;
mod library;
mod log;
mod meta;
mod server;
mod snapshot;
mod state;

pub use builder::{DEFAULT_EMAIL, EmulatorBuilder, SNAPSHOT_FILE};
pub use emulator::{Emulator, ImageInfo};
pub use error::{Error, ErrorKind, Result};
pub use faults::{FaultKind, FaultRule, FaultStatus, Faults};
pub use log::RequestRecord;

// The README's Rust snippets are compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
