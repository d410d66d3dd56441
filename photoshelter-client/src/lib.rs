//! A typed async client for the [PhotoShelter](https://www.photoshelter.com) API: browse
//! collections and galleries, read images and their IPTC, search, upload and download
//! originals (streamed, any size), and the provisional v4 writes.
//!
//! ```
//! # #![allow(clippy::unwrap_used)]
//! use futures::TryStreamExt;
//! use photoshelter_client::{Client, Mode, UploadSource};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emu = photoshelter_emulator::Emulator::start().await?;
//! # let (base_url, api_key, email, password) = (emu.base_url(), emu.api_key(), emu.email(), emu.password());
//! // `base_url` defaults to https://www.photoshelter.com; here it is a local emulator.
//! let client = Client::builder()
//!     .base_url(base_url)
//!     .api_key(api_key)
//!     .credentials(email, password)
//!     .build()?;
//!
//! let gallery = client.galleries().create("Deliveries").mode(Mode::Private).send().await?;
//! let source = UploadSource::bytes("hello.jpg", &b"\xFF\xD8 not really a JPEG \xFF\xD9"[..])?;
//! let image = client.images().upload(&gallery.id, source).send().await?;
//!
//! let listed: Vec<_> = client.galleries().images(&gallery.id).extend_image().items().try_collect().await?;
//! assert_eq!(listed[0].image_id, image.id);
//! assert_eq!(listed[0].file_name(), Some("hello.jpg"));
//! # Ok(())
//! # }
//! ```
//!
//! # Shape
//!
//! - [`Client`] is a cheap clone (an `Arc` inside). It logs in lazily, once, enters the
//!   organisation when one is set, renews an expired session once, caps requests in flight
//!   and retries within a [`RetryPolicy`].
//! - Resource handlers hand out owned request builders:
//!   `client.galleries().images(&id).per_page(100).extend_iptc().items()`; single-argument
//!   calls are plain `async fn`s (`client.images().get(&id)`).
//! - Lists are lazy [`Stream`](futures::Stream)s of pages (`pages()`) or items (`items()`):
//!   nothing is sent until they are polled and they borrow nothing.
//! - Errors are one [`Error`] with a [`kind()`](Error::kind), the HTTP status, the API's
//!   class and message, and [`is_retryable()`](Error::is_retryable). The API key, password
//!   and tokens never appear in `Debug` output, errors or logs.
//!
//! # Wire format
//!
//! The client speaks v3 (`/psapi/v3`) wherever v3 has the operation and v4 (`/psapi/v4.0`)
//! only for the [`provisional`] writes. Where PhotoShelter's documentation is silent (the
//! upload reply's record key, `Paging` fields, the error envelope, IPTC field names) the
//! choices of the workspace's `docs/wire-format.md` apply: upload replies are read from
//! `data.Image`, `Paging` is `{page, per_page, next}` and present only while more pages
//! follow, errors are `{"status":"error","error":{"class","message"}}` (v4:
//! `{"errors":[{"id","title"}]}`), and an expired session is `401 SessionRequiredErr`.
//! Decoding is tolerant: unknown fields are ignored, numbers may be strings, booleans may be
//! `"t"`/`"f"`, and a failure names the JSON path of the bad value.

#![forbid(unsafe_code)]

pub mod api;
mod auth;
mod builder;
mod client;
mod config;
mod decode;
mod download;
mod error;
mod id;
pub mod models;
mod paging;
pub mod provisional;
mod retry;
mod transport;
mod upload;

pub use api::{
    Collections, CreateCollection, CreateGallery, Galleries, GalleryImages, Images, LinkRequest,
    ListChildren, ListGalleries, SearchImages,
};
pub use builder::ClientBuilder;
pub use client::Client;
pub use config::{ClientConfig, DEFAULT_BASE_URL};
pub use download::{Download, DownloadRequest};
pub use error::{ApiError, Error, ErrorKind, Result};
pub use id::{CollectionId, GalleryId, ImageId, OrganizationId, UserId};
pub use models::{
    Child, Collection, Gallery, GalleryImage, Image, ImageLink, Iptc, IptcPatch, Mode,
    Organization, Paging, Session,
};
pub use paging::Page;
pub use provisional::{Provisional, UpdateGallery};
pub use retry::RetryPolicy;
pub use upload::{UploadRequest, UploadSource};

// The README's Rust snippets are compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
