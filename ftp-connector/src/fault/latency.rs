//! [`Latency`]: slow calls and slow streams.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::capabilities::{Capabilities, ChecksumAlgorithm};
use crate::entry::Entry;
use crate::error::Result;
use crate::fs::{
    ByteStream, Checksum, EntryStream, ReadOptions, RemoteFs, WriteOptions, WriteOutcome,
};
use crate::path::RemotePath;

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
    async fn read_with(&self, path: &RemotePath, options: &ReadOptions) -> Result<ByteStream> {
        self.wait().await;
        Ok(self.slow(self.inner.read_with(path, options).await?))
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
