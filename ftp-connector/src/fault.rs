//! Fault decorators for tests: wrap any [`RemoteFs`](crate::RemoteFs) to cut streams ([`CutStream`]), fail
//! calls ([`FailNth`]) or slow calls down ([`Latency`]).
//!
//! They are ordinary public types, not `cfg(test)`, so that code built on this crate can
//! prove its retry and resume logic against the same faults. Each wraps a concrete backend
//! or an `Arc<dyn RemoteFs>`, and is itself a [`RemoteFs`](crate::RemoteFs) (so it can be wrapped again and
//! used as `Arc<dyn RemoteFs>`).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use ftp_connector::fault::{CutStream, FailNth};
//! use ftp_connector::{MemoryFs, Operation, RemoteFs, RemoteFsExt, RemotePath, WriteOptions, stream};
//!
//! let mem = MemoryFs::new();
//! let file = RemotePath::parse("big.bin")?;
//! mem.write(&file, stream::generated(1, 100_000), &WriteOptions::new()).await?;
//!
//! // Every read stream breaks after 10 kB with a retryable error.
//! let cut: Arc<dyn RemoteFs> = Arc::new(CutStream::new(mem.clone(), 10_000).reads_only());
//! let err = cut.read_to_bytes(&file).await.unwrap_err();
//! assert!(err.is_retryable());
//!
//! // The second `stat` fails; the others pass.
//! let flaky = FailNth::new(mem, 2).only(&[Operation::Stat]);
//! assert!(flaky.stat(&file).await.is_ok());
//! assert!(flaky.stat(&file).await.unwrap_err().is_retryable());
//! assert!(flaky.stat(&file).await.is_ok());
//! # Ok::<(), ftp_connector::Error>(())
//! # }).unwrap();
//! ```
mod cut;
mod fail;
mod latency;
#[cfg(test)]
mod tests;

use std::io;

use crate::error::{Error, Operation};
use crate::path::RemotePath;

pub use cut::{CutStream, Direction};
pub use fail::FailNth;
pub use latency::Latency;

/// The error a cut stream ends with: an `Io` error of kind `ConnectionReset`, which is
/// [`Error::is_retryable`].
pub fn connection_reset(op: Operation, path: &RemotePath, message: impl Into<String>) -> Error {
    Error::io(
        op,
        path.as_str(),
        io::Error::new(io::ErrorKind::ConnectionReset, message.into()),
    )
}
