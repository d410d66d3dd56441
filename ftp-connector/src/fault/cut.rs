//! [`CutStream`]: streams that break after N bytes.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use crate::capabilities::{Capabilities, ChecksumAlgorithm};
use crate::entry::Entry;
use crate::error::{Operation, Result};
use crate::fs::{
    ByteStream, Checksum, EntryStream, ReadOptions, RemoteFs, WriteOptions, WriteOutcome,
};
use crate::path::RemotePath;

use super::connection_reset;

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
        self.read_with(path, &ReadOptions::new().offset(offset))
            .await
    }
    async fn read_with(&self, path: &RemotePath, options: &ReadOptions) -> Result<ByteStream> {
        let s = self.inner.read_with(path, options).await?;
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
