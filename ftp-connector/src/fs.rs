//! The [`RemoteFs`] trait and the types of its methods.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

use crate::capabilities::{Capabilities, ChecksumAlgorithm};
use crate::entry::Entry;
use crate::error::{Error, Operation, Result};
use crate::path::RemotePath;

/// A stream of bytes, in order, that owns everything it needs (connection included).
///
/// Dropping it early releases the connection; reading it to the end and seeing no error
/// means every byte arrived: a transfer that ends short yields an error, never a silent
/// early end.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A stream of directory entries.
pub type EntryStream = BoxStream<'static, Result<Entry>>;

/// How [`RemoteFs::write`] puts bytes on the server.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WriteMode {
    /// Upload to a temporary name in the same folder, then rename over the target; the
    /// temporary file is removed on failure. Readers never see a partial target.
    #[default]
    Atomic,
    /// Write the target directly (for servers that refuse rename). A failed upload can
    /// leave a partial file, which the backend removes where it can.
    InPlace,
}

/// Options of one [`RemoteFs::write`].
///
/// ```
/// use ftp_connector::{WriteMode, WriteOptions};
/// let opts = WriteOptions::new().mode(WriteMode::InPlace).expected_len(1024);
/// assert_eq!(opts.mode, WriteMode::InPlace);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOptions {
    /// Atomic (default) or in place.
    pub mode: WriteMode,
    /// Replace an existing target (default). When `false`, an existing target makes the
    /// write fail with [`Error::AlreadyExists`] before any byte is sent.
    pub overwrite: bool,
    /// The number of bytes the stream will yield, when known. A stream that ends early or
    /// runs over fails the write with [`Error::Truncated`], and nothing is left at the target.
    pub expected_len: Option<u64>,
    /// A modification time to set on the target once written, where the backend can
    /// (`Capabilities::write_can_set_mtime`); see [`WriteOutcome::modified_set`].
    pub modified: Option<DateTime<Utc>>,
    /// Continue a partial upload: the target already holds this many bytes, and the stream
    /// yields the rest. Only where `Capabilities::write_can_resume`; implies in-place writing.
    pub resume_from: Option<u64>,
}

impl WriteOptions {
    /// Atomic, overwriting, no expectations.
    pub fn new() -> Self {
        WriteOptions {
            overwrite: true,
            ..Default::default()
        }
    }

    /// Sets the write mode.
    pub fn mode(mut self, mode: WriteMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets whether an existing target may be replaced.
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Sets the number of bytes the stream will yield.
    pub fn expected_len(mut self, len: u64) -> Self {
        self.expected_len = Some(len);
        self
    }

    /// Sets the modification time to apply after the write.
    pub fn modified(mut self, time: DateTime<Utc>) -> Self {
        self.modified = Some(time);
        self
    }

    /// Continues a partial upload from `offset`.
    pub fn resume_from(mut self, offset: u64) -> Self {
        self.resume_from = Some(offset);
        self
    }
}

/// Options of one [`RemoteFs::read_with`].
///
/// ```
/// use ftp_connector::ReadOptions;
/// // Known from a listing: a backend that checks lengths need not ask the server.
/// let opts = ReadOptions::new().offset(1024).size(4096);
/// assert_eq!((opts.offset, opts.size), (1024, Some(4096)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Where to start (0 for the whole file). Other than 0 needs
    /// `Capabilities::read_can_resume`.
    pub offset: u64,
    /// The file's size, when the caller already knows it (from a listing or a `stat`).
    ///
    /// Backends that check a transfer's length against the file's size use this one
    /// instead of asking the server (`FtpFs` sends no `SIZE`, `SftpFs` no `FSTAT`), which
    /// saves a round trip per file. It is trusted: a stream that ends before it is an
    /// error ([`Error::Truncated`]), as when the backend asks. A file larger than this is
    /// read to its end; [`RemoteFsExt::copy_to`](crate::RemoteFsExt::copy_to) reports one
    /// that grew.
    pub size: Option<u64>,
}

impl ReadOptions {
    /// The whole file, size unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the offset to start from.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }

    /// Sets the file's known size.
    pub fn size(mut self, size: u64) -> Self {
        self.size = Some(size);
        self
    }
}

/// What a successful [`RemoteFs::write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteOutcome {
    /// Bytes sent in this call (not counting a resumed prefix).
    pub bytes: u64,
    /// Whether `WriteOptions::modified` was applied.
    pub modified_set: bool,
}

impl WriteOutcome {
    /// An outcome of `bytes` sent.
    pub fn new(bytes: u64, modified_set: bool) -> Self {
        WriteOutcome {
            bytes,
            modified_set,
        }
    }
}

/// A hash computed by the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Checksum {
    /// The algorithm.
    pub algorithm: ChecksumAlgorithm,
    /// The digest, lowercase hex.
    pub hex: String,
}

impl Checksum {
    /// A digest in lowercase hex.
    pub fn new(algorithm: ChecksumAlgorithm, hex: impl Into<String>) -> Self {
        Checksum {
            algorithm,
            hex: hex.into().to_ascii_lowercase(),
        }
    }
}

/// One file server, seen as a tree of files under a root.
///
/// Implemented by [`MemoryFs`](crate::MemoryFs), [`LocalFs`](crate::LocalFs), `FtpFs`
/// (FTP and FTPS) and `SftpFs`, and by the fault decorators in [`fault`](crate::fault).
/// It is dyn-compatible: [`open`](crate::open) returns an `Arc<dyn RemoteFs>` chosen by URL.
/// Convenience methods (`walk`, `exists`, `read_to_bytes`, `copy_to`) are in
/// [`RemoteFsExt`](crate::RemoteFsExt).
///
/// Every method may be called concurrently; backends bound their own concurrency
/// (connection pools) and say so in [`Capabilities::max_concurrency`].
///
/// # Where backends differ
///
/// Branch on [`RemoteFs::capabilities`] rather than on the backend; in short:
///
/// | | `MemoryFs` | `LocalFs` | `FtpFs` | `SftpFs` |
/// |---|---|---|---|---|
/// | mtime precision | nanosecond | nanosecond | second (MLSD/MDTM); down to a day from `LIST` | second |
/// | `set_modified` | yes | yes | where the server offers `MFMT` | yes (`SETSTAT`) |
/// | `read` from an offset | yes | yes | where the server offers `REST STREAM` | yes |
/// | `write` resumed | yes | yes | `REST`/`APPE` where offered | yes |
/// | `rename` over a file | atomic | atomic | `RNFR`/`RNTO` | atomic with `posix-rename@openssh.com` |
/// | `checksum` | SHA-256 | SHA-256 (reads the file locally) | no | no |
/// | symbolic links | none | reported; followed only inside the root | as the server lists them | reported (`LSTAT`), not followed |
///
/// Every backend reports a missing path as
/// [`ErrorKind::NotFound`](crate::ErrorKind::NotFound), yields unusable listed names as
/// [`Error::InvalidName`] items, and never leaves a partial target after a failed atomic
/// write; the [conformance suite](crate#testing) checks this for each of them.
#[async_trait]
pub trait RemoteFs: Debug + Send + Sync + 'static {
    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// A short name of the backend: `"memory"`, `"local"`, `"ftp"`, `"ftps"`, `"sftp"`.
    fn backend(&self) -> &'static str;

    /// Facts about one file or directory. The root is a directory.
    async fn stat(&self, path: &RemotePath) -> Result<Entry>;

    /// The entries of one directory, in no particular order, without `.` and `..`.
    ///
    /// Names the server lists that are not valid [`RemotePath`] segments are yielded as
    /// [`Error::InvalidName`] items; the stream goes on after them. Nothing is sent to the
    /// server until the stream is polled.
    fn list(&self, dir: &RemotePath) -> EntryStream;

    /// The bytes of a file from `offset` (0 for the whole file).
    ///
    /// An offset other than 0 needs `Capabilities::read_can_resume`.
    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream>;

    /// [`RemoteFs::read`] with what the caller already knows of the file
    /// ([`ReadOptions::size`]), so that the backend can skip asking the server.
    ///
    /// The default calls `read`. A backend that checks lengths uses the given size
    /// instead of its own query; decorators pass it on.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use ftp_connector::{MemoryFs, ReadOptions, RemoteFs, RemoteFsExt, RemotePath, WriteOptions, stream};
    /// use futures::TryStreamExt;
    /// let fs = MemoryFs::new();
    /// let p = RemotePath::parse("a.jpg")?;
    /// fs.write(&p, stream::once(&b"jpeg data"[..]), &WriteOptions::new()).await?;
    /// let entry = fs.stat(&p).await?;
    /// let opts = ReadOptions::new().offset(5).size(entry.size.unwrap());
    /// let rest: Vec<bytes::Bytes> = fs.read_with(&p, &opts).await?.try_collect().await?;
    /// assert_eq!(rest.concat(), b"data");
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    async fn read_with(&self, path: &RemotePath, options: &ReadOptions) -> Result<ByteStream> {
        self.read(path, options.offset).await
    }

    /// Writes a file from a stream of bytes, creating or replacing it (see
    /// [`WriteOptions`]). The parent directory must exist. Memory use does not depend on
    /// the file's size. If the stream yields an error, the write fails with it and no
    /// partial target is left (atomic mode).
    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome>;

    /// Renames a file or directory. An existing target file is replaced (atomically where
    /// `Capabilities::rename_is_atomic`).
    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()>;

    /// Creates a directory and any missing parents; succeeds if it already exists.
    async fn create_dir_all(&self, path: &RemotePath) -> Result<()>;

    /// Removes a file (not a directory).
    async fn remove_file(&self, path: &RemotePath) -> Result<()>;

    /// Removes an empty directory.
    async fn remove_dir(&self, path: &RemotePath) -> Result<()>;

    /// Sets a file's modification time, where `Capabilities::write_can_set_mtime`.
    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        let _ = (path, modified);
        Err(Error::unsupported(Operation::SetModified, self.backend()))
    }

    /// A hash computed by the server, where `Capabilities::checksums` has the algorithm.
    async fn checksum(&self, path: &RemotePath, algorithm: ChecksumAlgorithm) -> Result<Checksum> {
        let _ = (path, algorithm);
        Err(Error::unsupported(Operation::Checksum, self.backend()))
    }
}

/// Implements `RemoteFs` for a smart pointer by forwarding every method to the inner value.
macro_rules! forward_remote_fs {
    ($ptr:ident) => {
        #[deny(clippy::missing_trait_methods)]
        #[async_trait]
        impl<T: RemoteFs + ?Sized> RemoteFs for $ptr<T> {
            fn capabilities(&self) -> Capabilities {
                (**self).capabilities()
            }
            fn backend(&self) -> &'static str {
                (**self).backend()
            }
            async fn stat(&self, path: &RemotePath) -> Result<Entry> {
                (**self).stat(path).await
            }
            fn list(&self, dir: &RemotePath) -> EntryStream {
                (**self).list(dir)
            }
            async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
                (**self).read(path, offset).await
            }
            async fn read_with(
                &self,
                path: &RemotePath,
                options: &ReadOptions,
            ) -> Result<ByteStream> {
                (**self).read_with(path, options).await
            }
            async fn write(
                &self,
                path: &RemotePath,
                data: ByteStream,
                options: &WriteOptions,
            ) -> Result<WriteOutcome> {
                (**self).write(path, data, options).await
            }
            async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
                (**self).rename(from, to).await
            }
            async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
                (**self).create_dir_all(path).await
            }
            async fn remove_file(&self, path: &RemotePath) -> Result<()> {
                (**self).remove_file(path).await
            }
            async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
                (**self).remove_dir(path).await
            }
            async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
                (**self).set_modified(path, modified).await
            }
            async fn checksum(
                &self,
                path: &RemotePath,
                algorithm: ChecksumAlgorithm,
            ) -> Result<Checksum> {
                (**self).checksum(path, algorithm).await
            }
        }
    };
}

forward_remote_fs!(Arc);
forward_remote_fs!(Box);
