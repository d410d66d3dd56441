//! [`RemoteFsExt`]: conveniences over any [`RemoteFs`] — `walk`, `exists`,
//! `read_to_bytes`, `copy_to`.

mod copy;
mod walk;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use tracing::Instrument;

use crate::entry::Entry;
use crate::error::{ErrorKind, Result};
use crate::fs::{EntryStream, RemoteFs};
use crate::path::RemotePath;

pub use copy::{CopyOptions, CopyOutcome};
pub use walk::WalkOptions;

/// Conveniences over any [`RemoteFs`], by a blanket impl: import the trait and call them
/// on a backend, an `Arc<dyn RemoteFs>` or a fault decorator alike.
#[async_trait]
pub trait RemoteFsExt: RemoteFs {
    /// Every entry below `root` (not `root` itself), listing up to
    /// [`WalkOptions::concurrency`] directories at once.
    ///
    /// Entries come in no particular order. Directories are descended into unless an
    /// exclude pattern prunes them or [`WalkOptions::max_depth`] is reached; symbolic links
    /// are reported, never followed. Errors are items too: an unusable listed name
    /// ([`Error::InvalidName`](crate::Error::InvalidName)) or a directory that cannot be
    /// listed is yielded and the walk goes on with the rest, so the caller decides whether
    /// to stop (by dropping the stream).
    ///
    /// The stream borrows `self`; [`RemoteFsExt::walk_owned`] returns one that owns an
    /// `Arc` instead, to move into a task.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use futures::TryStreamExt;
    /// use ftp_connector::{MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WalkOptions, WriteOptions, stream};
    /// let fs = MemoryFs::new();
    /// for p in ["in/a.jpg", "in/2026/b.jpg", "in/2026/b.xmp", "in/.cache/c.jpg"] {
    ///     let p = RemotePath::parse(p)?;
    ///     fs.create_dir_all(&p.parent().unwrap()).await?;
    ///     fs.write(&p, stream::once(&b"x"[..]), &WriteOptions::new()).await?;
    /// }
    /// let opts = WalkOptions::new().include("*.jpg").exclude(".cache");
    /// let mut found: Vec<String> = fs
    ///     .walk(&RemotePath::parse("in")?, opts)
    ///     .map_ok(|e| e.path.to_string())
    ///     .try_collect()
    ///     .await?;
    /// found.sort();
    /// assert_eq!(found, ["/in/2026/b.jpg", "/in/a.jpg"]);
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    fn walk(&self, root: &RemotePath, options: WalkOptions) -> BoxStream<'_, Result<Entry>> {
        walk::walk(
            move |dir: &RemotePath| self.list(dir),
            root,
            options,
            self.capabilities(),
        )
    }

    /// Like [`RemoteFsExt::walk`], with a stream that owns the backend (`'static`).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use futures::TryStreamExt;
    /// use ftp_connector::{MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WalkOptions};
    /// let fs: Arc<dyn RemoteFs> = Arc::new(MemoryFs::new());
    /// fs.create_dir_all(&RemotePath::parse("a/b")?).await?;
    /// let walk = fs.clone().walk_owned(&RemotePath::ROOT, WalkOptions::new());
    /// let n = tokio::spawn(async move { walk.try_collect::<Vec<_>>().await.map(|v| v.len()) })
    ///     .await
    ///     .unwrap()?;
    /// assert_eq!(n, 2);
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    fn walk_owned(self: Arc<Self>, root: &RemotePath, options: WalkOptions) -> EntryStream {
        let caps = self.capabilities();
        walk::walk(move |dir: &RemotePath| self.list(dir), root, options, caps)
    }

    /// Whether something exists at `path`. Only "not found" means `false`; any other
    /// failure is an error.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use ftp_connector::{MemoryFs, RemoteFsExt, RemotePath};
    /// let fs = MemoryFs::new();
    /// assert!(fs.exists(&RemotePath::ROOT).await?);
    /// assert!(!fs.exists(&RemotePath::parse("nope.jpg")?).await?);
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    async fn exists(&self, path: &RemotePath) -> Result<bool> {
        match self.stat(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The whole file in memory. **For small files only** (sidecars, manifests, CSV): use
    /// [`RemoteFs::read`] or [`RemoteFsExt::copy_to`] to move images.
    async fn read_to_bytes(&self, path: &RemotePath) -> Result<Bytes> {
        let mut stream = self.read(path, 0).await?;
        let mut buf = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }

    /// Copies one file from this backend to `dst` (which may be the same backend),
    /// streaming: memory use is a few chunks, whatever the file size.
    ///
    /// - The write gets `expected_len` from a `stat` of the source, so a short transfer
    ///   fails instead of leaving a short file, and it is atomic unless
    ///   [`CopyOptions::write_mode`] says otherwise.
    /// - The source's modification time is set on the copy where `dst` can
    ///   (`Capabilities::write_can_set_mtime`) and [`CopyOptions::preserve_mtime`] is on.
    /// - When the source stream is cut by a retryable error and the source can resume
    ///   reads (`Capabilities::read_can_resume`), the read reopens at the offset reached,
    ///   inside the same upload, up to [`CopyOptions::max_resumes`] times.
    /// - Otherwise a retryable failure of either side restarts the whole copy, up to
    ///   [`CopyOptions::max_attempts`] attempts in all. The last error is returned.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use ftp_connector::fault::CutStream;
    /// use ftp_connector::{CopyOptions, MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions, stream};
    /// let src = MemoryFs::new();
    /// let dst = MemoryFs::new();
    /// let p = RemotePath::parse("a.bin")?;
    /// src.write(&p, stream::generated(9, 1_000_000), &WriteOptions::new()).await?;
    /// // The source connection drops twice; the copy resumes and completes.
    /// let flaky = CutStream::new(src.clone(), 300_000).reads_only().times(2);
    /// let out = flaky.copy_to(&p, &dst, &p, &CopyOptions::new()).await?;
    /// assert_eq!((out.bytes, out.resumed_reads), (1_000_000, 2));
    /// assert_eq!(dst.read_to_bytes(&p).await?, src.read_to_bytes(&p).await?);
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    async fn copy_to(
        &self,
        from: &RemotePath,
        dst: &dyn RemoteFs,
        to: &RemotePath,
        options: &CopyOptions,
    ) -> Result<CopyOutcome> {
        let span = tracing::debug_span!(
            "copy_to",
            %from,
            %to,
            src = self.backend(),
            dst = dst.backend()
        );
        copy::copy(self, from, dst, to, options)
            .instrument(span)
            .await
    }

    /// [`copy_to`](RemoteFsExt::copy_to) for a file this backend has just listed (from
    /// [`walk`](RemoteFsExt::walk) or [`list`](RemoteFs::list)): the entry's size and time
    /// stand in for the `stat` that `copy_to` starts with, and the read is told the size
    /// ([`ReadOptions::size`](crate::ReadOptions::size)), so that a server is asked
    /// nothing but the file itself. Over FTP that is two commands per file instead of four.
    ///
    /// The checks stay the same: the copy must have the entry's size (a shorter stream
    /// is an error, a longer one too) and is atomic by default. An entry that does not
    /// say enough — not a regular file, no size, or a time coarser than a second (some
    /// `LIST` formats) when the time is to be carried over — is looked up with `stat`
    /// first, as `copy_to` does.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use futures::TryStreamExt;
    /// use ftp_connector::{CopyOptions, MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WalkOptions, WriteOptions, stream};
    /// let src = MemoryFs::new();
    /// let dst = MemoryFs::new();
    /// src.create_dir_all(&RemotePath::parse("in/2026")?).await?;
    /// src.write(&RemotePath::parse("in/2026/a.jpg")?, stream::once(&b"jpeg"[..]), &WriteOptions::new()).await?;
    /// let files: Vec<_> = src.walk(&RemotePath::parse("in")?, WalkOptions::new()).try_collect().await?;
    /// for entry in files.iter().filter(|e| e.is_file()) {
    ///     dst.create_dir_all(&entry.path.parent().unwrap()).await?;
    ///     src.copy_entry_to(entry, &dst, &entry.path, &CopyOptions::new()).await?;
    /// }
    /// assert_eq!(&dst.read_to_bytes(&RemotePath::parse("in/2026/a.jpg")?).await?[..], b"jpeg");
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    async fn copy_entry_to(
        &self,
        entry: &Entry,
        dst: &dyn RemoteFs,
        to: &RemotePath,
        options: &CopyOptions,
    ) -> Result<CopyOutcome> {
        let span = tracing::debug_span!(
            "copy_to",
            from = %entry.path,
            %to,
            src = self.backend(),
            dst = dst.backend()
        );
        copy::copy_entry(self, entry, dst, to, options)
            .instrument(span)
            .await
    }
}

impl<T: RemoteFs + ?Sized> RemoteFsExt for T {}
