//! [`FailNth`]: the Nth call fails.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::capabilities::{Capabilities, ChecksumAlgorithm};
use crate::entry::Entry;
use crate::error::{Error, Operation, Result};
use crate::fs::{
    ByteStream, Checksum, EntryStream, ReadOptions, RemoteFs, WriteOptions, WriteOutcome,
};
use crate::path::RemotePath;

use super::connection_reset;

type ErrorFactory = dyn Fn(Operation, &RemotePath) -> Error + Send + Sync;

/// Fails the `n`th call (or every `n`th call, with [`FailNth::every`]) of the chosen
/// operations with a chosen error — by default a retryable `ConnectionReset`.
///
/// Calls are counted from 1, across all chosen operations. A failed `list` yields the
/// error as its only item; a failed `read` or `write` fails before any byte moves.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ftp_connector::fault::FailNth;
/// use ftp_connector::{Error, ErrorKind, MemoryFs, Operation, RemoteFs, RemotePath};
/// let fs = FailNth::new(MemoryFs::new(), 2)
///     .every()
///     .only(&[Operation::CreateDir])
///     .with_error(|op, path| Error::PermissionDenied {
///         op,
///         path: path.as_str().to_owned(),
///         message: "injected".into(),
///     });
/// let d = RemotePath::parse("d")?;
/// assert!(fs.create_dir_all(&d).await.is_ok());
/// assert_eq!(fs.create_dir_all(&d).await.unwrap_err().kind(), ErrorKind::PermissionDenied);
/// assert!(fs.create_dir_all(&d).await.is_ok());
/// assert!(fs.create_dir_all(&d).await.is_err());
/// assert_eq!(fs.failures(), 2);
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
pub struct FailNth<F> {
    inner: F,
    n: u64,
    every: bool,
    ops: Option<Vec<Operation>>,
    calls: AtomicU64,
    failures: AtomicU64,
    make_error: Arc<ErrorFactory>,
}

impl<F: fmt::Debug> fmt::Debug for FailNth<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailNth")
            .field("inner", &self.inner)
            .field("n", &self.n)
            .field("every", &self.every)
            .field("ops", &self.ops)
            .field("calls", &self.calls)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

impl<F: RemoteFs> FailNth<F> {
    /// Fails the `n`th call (counting from 1) of any operation. `n = 0` never fails.
    pub fn new(inner: F, n: u64) -> Self {
        FailNth {
            inner,
            n,
            every: false,
            ops: None,
            calls: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            make_error: Arc::new(|op, path| {
                connection_reset(op, path, "call failed by fault injection")
            }),
        }
    }

    /// Fails every `n`th call instead of only the `n`th.
    pub fn every(mut self) -> Self {
        self.every = true;
        self
    }

    /// Counts and fails only these operations (`Stat`, `List`, `Read`, `Write`, `Rename`,
    /// `CreateDir`, `RemoveFile`, `RemoveDir`, `SetModified`, `Checksum`).
    pub fn only(mut self, ops: &[Operation]) -> Self {
        self.ops = Some(ops.to_vec());
        self
    }

    /// The error to fail with.
    pub fn with_error(
        mut self,
        make: impl Fn(Operation, &RemotePath) -> Error + Send + Sync + 'static,
    ) -> Self {
        self.make_error = Arc::new(make);
        self
    }

    /// How many calls have been failed so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// How many chosen calls have been made so far.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Acquire)
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    /// Counts a call; returns the error to fail it with, if this is a failing one.
    fn check(&self, op: Operation, path: &RemotePath) -> Result<()> {
        if self.ops.as_ref().is_some_and(|ops| !ops.contains(&op)) || self.n == 0 {
            return Ok(());
        }
        let call = self.calls.fetch_add(1, Ordering::AcqRel) + 1;
        let fail = if self.every {
            call.is_multiple_of(self.n)
        } else {
            call == self.n
        };
        if fail {
            self.failures.fetch_add(1, Ordering::AcqRel);
            Err((self.make_error)(op, path))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl<F: RemoteFs> RemoteFs for FailNth<F> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        self.check(Operation::Stat, path)?;
        self.inner.stat(path).await
    }
    fn list(&self, dir: &RemotePath) -> EntryStream {
        match self.check(Operation::List, dir) {
            Ok(()) => self.inner.list(dir),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }
    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        self.check(Operation::Read, path)?;
        self.inner.read(path, offset).await
    }
    async fn read_with(&self, path: &RemotePath, options: &ReadOptions) -> Result<ByteStream> {
        self.check(Operation::Read, path)?;
        self.inner.read_with(path, options).await
    }
    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        self.check(Operation::Write, path)?;
        self.inner.write(path, data, options).await
    }
    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        self.check(Operation::Rename, from)?;
        self.inner.rename(from, to).await
    }
    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        self.check(Operation::CreateDir, path)?;
        self.inner.create_dir_all(path).await
    }
    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        self.check(Operation::RemoveFile, path)?;
        self.inner.remove_file(path).await
    }
    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        self.check(Operation::RemoveDir, path)?;
        self.inner.remove_dir(path).await
    }
    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        self.check(Operation::SetModified, path)?;
        self.inner.set_modified(path, modified).await
    }
    async fn checksum(&self, path: &RemotePath, algorithm: ChecksumAlgorithm) -> Result<Checksum> {
        self.check(Operation::Checksum, path)?;
        self.inner.checksum(path, algorithm).await
    }
}
