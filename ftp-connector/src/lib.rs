//! One async remote-filesystem trait, [`RemoteFs`], over FTP, FTPS, SFTP, a local folder
//! and memory.
//!
//! Paths are checked [`RemotePath`]s relative to the backend's root; bytes move as streams
//! ([`ByteStream`]), never as whole files; listings carry size and modification time;
//! errors say whether to retry ([`Error::is_retryable`]).
//!
//! ```
//! use bytes::Bytes;
//! use ftp_connector::{MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions};
//!
//! # tokio_test_block(async {
//! let fs = MemoryFs::new();
//! let dir = RemotePath::parse("incoming/2026")?;
//! fs.create_dir_all(&dir).await?;
//! let file = dir.join("photo 1.jpg")?;
//! fs.write(&file, ftp_connector::stream::once(Bytes::from_static(b"\xFF\xD8jpeg")), &WriteOptions::new()).await?;
//!
//! assert_eq!(fs.stat(&file).await?.size, Some(6));
//! assert_eq!(&fs.read_to_bytes(&file).await?[..], b"\xFF\xD8jpeg");
//! # Ok::<(), ftp_connector::Error>(())
//! # });
//! # fn tokio_test_block<F: std::future::Future<Output = Result<(), ftp_connector::Error>>>(f: F) {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f).unwrap();
//! # }
//! ```
//!
//! Backends are chosen by URL with [`open`]: `ftp://user@host:21/root`, `ftps://…`
//! (explicit TLS), `ftps+implicit://…` (port 990), `sftp://user@host:22/root`,
//! `file:///path` and `memory://`, plus [`RemoteOptions`] (a serde struct, so the same
//! settings load from TOML or JSON).
//!
//! # Features
//!
//! - `ftp` (default): [`FtpFs`] over FTP.
//! - `ftps` (default): FTPS (explicit and implicit) with rustls.
//! - `sftp` (default): [`SftpFs`] over SSH.
//! - `testing`: the [`conformance`] suite every backend passes.
//!
//! [`MemoryFs`], [`LocalFs`] and the [`fault`] decorators are always compiled.
//!
//! # Moving files
//!
//! [`RemoteFsExt`] adds, to every backend: [`walk`](RemoteFsExt::walk) (a tree, listing
//! several folders at once, with include/exclude globs), [`copy_to`](RemoteFsExt::copy_to)
//! (a streaming copy between any two backends that resumes cut reads and never leaves a
//! short file), [`copy_entry_to`](RemoteFsExt::copy_entry_to) (the same for a file just
//! listed, without asking the server about it again), [`exists`](RemoteFsExt::exists) and
//! [`read_to_bytes`](RemoteFsExt::read_to_bytes). [`stream`] builds byte streams from
//! readers and files, and counts or hashes them on the way through.
//!
//! # Testing
//!
//! [`MemoryFs`] behaves like a careful server and clones share it; the [`fault`]
//! decorators cut streams, fail calls and add latency around any backend. With the
//! `testing` feature, [`conformance`] is the suite every backend of this crate passes, and
//! that a backend of your own can run with one macro call.
// Feature-gated items the text above links to, when their feature is off (a link
// definition cannot interrupt a paragraph, hence the empty line).
#![doc = ""]
#![cfg_attr(not(feature = "ftp"), doc = "[`FtpFs`]: #features")]
#![cfg_attr(not(feature = "sftp"), doc = "[`SftpFs`]: #features")]
#![cfg_attr(not(feature = "testing"), doc = "[`conformance`]: #features")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod capabilities;
mod config;
mod entry;
mod error;
mod ext;
pub mod fault;
mod fs;
mod local;
mod memory;
mod path;
pub mod stream;

#[cfg(feature = "ftp")]
mod ftp;
#[cfg(feature = "sftp")]
mod sftp;

#[cfg(any(feature = "testing", test))]
pub mod conformance;

use std::sync::Arc;

pub use capabilities::{Capabilities, ChecksumAlgorithm, ChecksumSet};
pub use config::{
    DataMode, FtpOptions, PoolOptions, RemoteOptions, RemoteUrl, Scheme, SshOptions, Timeouts,
    TlsOptions, TlsVersion,
};
pub use entry::{Entry, EntryKind, Modified, TimePrecision};
pub use error::{Error, ErrorKind, Operation, Result};
pub use ext::{CopyOptions, CopyOutcome, RemoteFsExt, WalkOptions};
pub use fs::{
    ByteStream, Checksum, EntryStream, ReadOptions, RemoteFs, WriteMode, WriteOptions, WriteOutcome,
};
#[cfg(feature = "ftp")]
pub use ftp::FtpFs;
pub use local::LocalFs;
pub use memory::MemoryFs;
pub use path::RemotePath;
#[cfg(feature = "sftp")]
pub use sftp::SftpFs;

// The README's examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Opens the backend a URL names, with `options`.
///
/// A password in the URL is used unless `options.password` is set. Network backends
/// connect and log in once here, so that wrong credentials, an unknown host key or an
/// untrusted certificate fail now, with a clear error.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ftp_connector::{open, RemoteOptions, RemotePath, RemoteFs};
/// let fs = open("memory://", RemoteOptions::new()).await?;
/// assert_eq!(fs.backend(), "memory");
/// assert!(fs.stat(&RemotePath::ROOT).await?.is_dir());
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
pub async fn open(url: &str, mut options: RemoteOptions) -> Result<Arc<dyn RemoteFs>> {
    let (url, password) = RemoteUrl::parse(url)?;
    if options.password.is_none() {
        options.password = password;
    }
    options.validate()?;
    config::check_root(&url.root)?;
    match url.scheme {
        Scheme::Memory => Ok(Arc::new(MemoryFs::new())),
        Scheme::File => Ok(Arc::new(LocalFs::new(&url.root).await?)),
        #[cfg(feature = "ftp")]
        Scheme::Ftp | Scheme::Ftps | Scheme::FtpsImplicit => {
            Ok(Arc::new(FtpFs::connect(url, options).await?))
        }
        #[cfg(feature = "sftp")]
        Scheme::Sftp => Ok(Arc::new(SftpFs::connect(url, options).await?)),
        #[allow(unreachable_patterns)]
        other => Err(Error::config(
            "url",
            format!("the `{other}` backend is not compiled in (enable its cargo feature)"),
        )),
    }
}
