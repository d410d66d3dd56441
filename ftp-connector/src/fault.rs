//! Fault decorators for tests: wrap any [`RemoteFs`] to cut streams ([`CutStream`]), fail
//! calls ([`FailNth`]) or slow calls down ([`Latency`]).
//!
//! They are ordinary public types, not `cfg(test)`, so that code built on this crate can
//! prove its retry and resume logic against the same faults. Each wraps a concrete backend
//! or an `Arc<dyn RemoteFs>`, and is itself a [`RemoteFs`] (so it can be wrapped again and
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

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use crate::capabilities::{Capabilities, ChecksumAlgorithm};
use crate::entry::Entry;
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, Checksum, EntryStream, RemoteFs, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

/// The error a cut stream ends with: an `Io` error of kind `ConnectionReset`, which is
/// [`Error::is_retryable`].
pub fn connection_reset(op: Operation, path: &RemotePath, message: impl Into<String>) -> Error {
    Error::io(
        op,
        path.as_str(),
        io::Error::new(io::ErrorKind::ConnectionReset, message.into()),
    )
}

/// Which transfers a [`CutStream`] cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Direction {
    /// Read streams only (downloads).
    Reads,
    /// Write streams only (uploads).
    Writes,
    /// Both.
    Both,
}

#[derive(Debug)]
struct CutState {
    after: u64,
    direction: Direction,
    /// How many more streams may be cut; `u64::MAX` means every stream.
    budget: AtomicU64,
    cuts: AtomicU64,
}

impl CutState {
    /// Takes one cut from the budget, if any is left.
    fn take(&self) -> bool {
        self.budget
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |b| match b {
                0 => None,
                u64::MAX => Some(u64::MAX),
                b => Some(b - 1),
            })
            .is_ok()
    }
}

/// Cuts read and/or write streams after a number of bytes, as a dropped connection would:
/// the stream yields the first `after` bytes, then an error of kind `ConnectionReset`
/// (retryable), and nothing more.
///
/// By default every stream in both directions is cut; [`CutStream::times`] limits how
/// many are, so that a retry or a resumed read can then succeed.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ftp_connector::fault::CutStream;
/// use ftp_connector::{MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions, stream};
/// let mem = MemoryFs::new();
/// let cut = CutStream::new(mem.clone(), 1000).writes_only().times(1);
/// let f = RemotePath::parse("a.bin")?;
/// // The first upload breaks after 1000 bytes and leaves nothing behind…
/// assert!(cut.write(&f, stream::generated(1, 5000), &WriteOptions::new()).await.is_err());
/// assert!(!mem.exists(&f).await?);
/// // …the second goes through.
/// cut.write(&f, stream::generated(1, 5000), &WriteOptions::new()).await?;
/// assert_eq!(cut.cuts(), 1);
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct CutStream<F> {
    inner: F,
    state: Arc<CutState>,
}

impl<F: RemoteFs> CutStream<F> {
    /// Cuts every read and write stream of `inner` after `after` bytes.
    pub fn new(inner: F, after: u64) -> Self {
        CutStream {
            inner,
            state: Arc::new(CutState {
                after,
                direction: Direction::Both,
                budget: AtomicU64::new(u64::MAX),
                cuts: AtomicU64::new(0),
            }),
        }
    }

    fn with(self, f: impl FnOnce(&mut CutState)) -> Self {
        let mut state = CutState {
            after: self.state.after,
            direction: self.state.direction,
            budget: AtomicU64::new(self.state.budget.load(Ordering::Acquire)),
            cuts: AtomicU64::new(self.state.cuts.load(Ordering::Acquire)),
        };
        f(&mut state);
        CutStream {
            inner: self.inner,
            state: Arc::new(state),
        }
    }

    /// Cuts only read streams.
    pub fn reads_only(self) -> Self {
        self.direction(Direction::Reads)
    }

    /// Cuts only write streams.
    pub fn writes_only(self) -> Self {
        self.direction(Direction::Writes)
    }

    /// Chooses which streams are cut.
    pub fn direction(self, direction: Direction) -> Self {
        self.with(|s| s.direction = direction)
    }

    /// Cuts only the first `n` streams that reach `after` bytes; later ones pass whole.
    pub fn times(self, n: u64) -> Self {
        self.with(|s| s.budget = AtomicU64::new(n))
    }

    /// How many streams have been cut so far.
    pub fn cuts(&self) -> u64 {
        self.state.cuts.load(Ordering::Acquire)
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    fn cuts_reads(&self) -> bool {
        matches!(self.state.direction, Direction::Reads | Direction::Both)
    }

    fn cuts_writes(&self) -> bool {
        matches!(self.state.direction, Direction::Writes | Direction::Both)
    }
}

/// A stream that passes `after` bytes, then ends with a reset (if the budget allows).
struct Cutter {
    inner: ByteStream,
    state: Arc<CutState>,
    op: Operation,
    path: RemotePath,
    passed: u64,
    done: bool,
}

impl Stream for Cutter {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let item = match self.inner.poll_next_unpin(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        let after = self.state.after;
        let end = self.passed + item.len() as u64;
        if end <= after || self.passed > after {
            self.passed = end;
            return Poll::Ready(Some(Ok(item)));
        }
        // This chunk crosses the cut point.
        if !self.state.take() {
            self.passed = u64::MAX / 2; // past the cut point for good: never cut this stream
            return Poll::Ready(Some(Ok(item)));
        }
        self.state.cuts.fetch_add(1, Ordering::AcqRel);
        let keep = usize::try_from(after - self.passed).unwrap_or(item.len());
        self.passed = after;
        if keep > 0 {
            // Yield the bytes before the cut now; the error comes on the next poll.
            let err = connection_reset(
                self.op,
                &self.path,
                format!("connection cut by fault injection after {after} bytes"),
            );
            self.inner = futures::stream::once(async move { Err(err) }).boxed();
            return Poll::Ready(Some(Ok(item.slice(..keep))));
        }
        self.done = true;
        Poll::Ready(Some(Err(connection_reset(
            self.op,
            &self.path,
            format!("connection cut by fault injection after {after} bytes"),
        ))))
    }
}

fn cutter(inner: ByteStream, state: Arc<CutState>, op: Operation, path: &RemotePath) -> ByteStream {
    Cutter {
        inner,
        state,
        op,
        path: path.clone(),
        passed: 0,
        done: false,
    }
    .boxed()
}

#[async_trait]
impl<F: RemoteFs> RemoteFs for CutStream<F> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        self.inner.stat(path).await
    }
    fn list(&self, dir: &RemotePath) -> EntryStream {
        self.inner.list(dir)
    }
    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        let s = self.inner.read(path, offset).await?;
        if self.cuts_reads() {
            Ok(cutter(s, self.state.clone(), Operation::Read, path))
        } else {
            Ok(s)
        }
    }
    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        let data = if self.cuts_writes() {
            cutter(data, self.state.clone(), Operation::Write, path)
        } else {
            data
        };
        self.inner.write(path, data, options).await
    }
    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        self.inner.rename(from, to).await
    }
    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        self.inner.create_dir_all(path).await
    }
    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        self.inner.remove_file(path).await
    }
    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        self.inner.remove_dir(path).await
    }
    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        self.inner.set_modified(path, modified).await
    }
    async fn checksum(&self, path: &RemotePath, algorithm: ChecksumAlgorithm) -> Result<Checksum> {
        self.inner.checksum(path, algorithm).await
    }
}

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

/// Adds a delay before every call (and, optionally, before every chunk of a transfer), as
/// a distant or slow server would.
///
/// Built on `tokio::time::sleep`, so tests under `tokio::time::pause()` run instantly.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap().block_on(async {
/// use std::time::Duration;
/// use ftp_connector::fault::Latency;
/// use ftp_connector::{MemoryFs, RemoteFs, RemotePath};
/// let fs = Latency::new(MemoryFs::new(), Duration::from_millis(80));
/// let t = tokio::time::Instant::now();
/// fs.stat(&RemotePath::ROOT).await?;
/// assert!(t.elapsed() >= Duration::from_millis(80));
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct Latency<F> {
    inner: F,
    per_call: Duration,
    per_chunk: Duration,
}

impl<F: RemoteFs> Latency<F> {
    /// Waits `per_call` before each call.
    pub fn new(inner: F, per_call: Duration) -> Self {
        Latency {
            inner,
            per_call,
            per_chunk: Duration::ZERO,
        }
    }

    /// Also waits `delay` before each chunk of every read and write stream.
    pub fn per_chunk(mut self, delay: Duration) -> Self {
        self.per_chunk = delay;
        self
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    async fn wait(&self) {
        if !self.per_call.is_zero() {
            tokio::time::sleep(self.per_call).await;
        }
    }

    fn slow(&self, s: ByteStream) -> ByteStream {
        let delay = self.per_chunk;
        if delay.is_zero() {
            return s;
        }
        s.then(move |item| async move {
            tokio::time::sleep(delay).await;
            item
        })
        .boxed()
    }
}

#[async_trait]
impl<F: RemoteFs> RemoteFs for Latency<F> {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        self.wait().await;
        self.inner.stat(path).await
    }
    fn list(&self, dir: &RemotePath) -> EntryStream {
        let inner = self.inner.list(dir);
        let delay = self.per_call;
        // The delay comes when the listing is first polled, like a round trip would.
        futures::stream::once(async move {
            tokio::time::sleep(delay).await;
            inner
        })
        .flatten()
        .boxed()
    }
    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        self.wait().await;
        Ok(self.slow(self.inner.read(path, offset).await?))
    }
    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        self.wait().await;
        self.inner.write(path, self.slow(data), options).await
    }
    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        self.wait().await;
        self.inner.rename(from, to).await
    }
    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        self.wait().await;
        self.inner.create_dir_all(path).await
    }
    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        self.wait().await;
        self.inner.remove_file(path).await
    }
    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        self.wait().await;
        self.inner.remove_dir(path).await
    }
    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        self.wait().await;
        self.inner.set_modified(path, modified).await
    }
    async fn checksum(&self, path: &RemotePath, algorithm: ChecksumAlgorithm) -> Result<Checksum> {
        self.wait().await;
        self.inner.checksum(path, algorithm).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryFs;
    use crate::stream;
    use futures::TryStreamExt;

    #[tokio::test]
    async fn cut_read_yields_exactly_the_prefix_then_a_retryable_error() {
        let mem = MemoryFs::new();
        let f = RemotePath::parse("f").unwrap();
        mem.write(&f, stream::generated(3, 50_000), &WriteOptions::new())
            .await
            .unwrap();
        let cut = CutStream::new(mem.clone(), 12_345).reads_only().times(1);
        let mut s = cut.read(&f, 0).await.unwrap();
        let mut got = 0u64;
        let err = loop {
            match s.next().await {
                Some(Ok(c)) => got += c.len() as u64,
                Some(Err(e)) => break e,
                None => panic!("stream ended without the cut error"),
            }
        };
        assert_eq!(got, 12_345);
        assert!(err.is_retryable(), "{err}");
        assert!(s.next().await.is_none());
        // The budget is spent: the next read is whole.
        let all: Vec<Bytes> = cut.read(&f, 0).await.unwrap().try_collect().await.unwrap();
        assert_eq!(all.concat().len(), 50_000);
        assert_eq!(cut.cuts(), 1);
    }

    #[tokio::test]
    async fn a_stream_shorter_than_the_cut_point_passes_whole() {
        let mem = MemoryFs::new();
        let f = RemotePath::parse("f").unwrap();
        let cut = CutStream::new(mem, 100);
        cut.write(&f, stream::generated(1, 100), &WriteOptions::new())
            .await
            .unwrap();
        assert_eq!(cut.cuts(), 0);
    }

    #[tokio::test]
    async fn fail_nth_counts_only_the_chosen_operations() {
        let fs = FailNth::new(MemoryFs::new(), 1).only(&[Operation::List]);
        assert!(fs.stat(&RemotePath::ROOT).await.is_ok());
        let items: Vec<Result<Entry>> = fs.list(&RemotePath::ROOT).collect().await;
        assert!(items[0].as_ref().is_err_and(|e| e.is_retryable()));
        let items: Vec<Result<Entry>> = fs.list(&RemotePath::ROOT).collect().await;
        assert!(items.is_empty());
        assert_eq!((fs.calls(), fs.failures()), (2, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn latency_applies_per_chunk() {
        let mem = MemoryFs::new();
        let f = RemotePath::parse("f").unwrap();
        mem.write(
            &f,
            stream::generated_with_chunk(1, 40, 10),
            &WriteOptions::new(),
        )
        .await
        .unwrap();
        let fs = Latency::new(mem, Duration::ZERO).per_chunk(Duration::from_secs(1));
        let t = tokio::time::Instant::now();
        let _: Vec<Bytes> = fs.read(&f, 0).await.unwrap().try_collect().await.unwrap();
        // MemoryFs keeps the 4 written chunks; each waits one second.
        assert_eq!(t.elapsed().as_secs(), 4);
    }
}
