//! [`LocalFs`]: a local folder, confined to its root.

mod confine;
pub(crate) mod read;
mod write;

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};

use crate::capabilities::{Capabilities, ChecksumAlgorithm, ChecksumSet};
use crate::entry::{Entry, Modified, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, Checksum, EntryStream, RemoteFs, WriteOptions, WriteOutcome};
use crate::path::RemotePath;
use crate::stream;

/// A local folder as a [`RemoteFs`], on `tokio::fs`.
///
/// **Confined to its root.** The root is made canonical when the backend is built, and
/// every operation resolves its path under it, checking that no existing part of the path
/// is a symbolic link that leads outside (a link to `/etc` or to a sibling folder is
/// refused with [`ErrorKind::PermissionDenied`](crate::ErrorKind::PermissionDenied)). Links
/// inside the root are allowed: `read`, `list`, `write` in place and `set_modified`
/// follow them; `stat` and `list` report a link itself as
/// [`EntryKind::Symlink`](crate::EntryKind::Symlink) and `walk` does not descend into it;
/// `rename`, `remove_file` and atomic writes act on the link, not its target. The check
/// guards against links already in the tree; it does not stop a local user who swaps a
/// folder for a link while an operation is running.
///
/// **Names.** Listed names that are not valid [`RemotePath`] segments (a `\n`, a
/// backslash, invalid UTF-8…) are yielded as [`Error::InvalidName`] items. Special files
/// (FIFOs, sockets, devices) are not listed.
///
/// **Writes** are atomic by default: the data goes to `.<name>.<random>.part` in the same
/// folder, which is renamed over the target once complete (or hard-linked, when
/// `overwrite` is off, so that an existing file is never replaced), and removed on any
/// failure, including a stream that ends short of `expected_len`. The modification time
/// of `WriteOptions::modified` is set before the rename. With [`LocalFs::fsync`] the data
/// reaches the disk before the rename. File system calls run on tokio's blocking pool,
/// except for small files whose data has all arrived (see
/// [`LocalFs::inline_small_writes`]).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use ftp_connector::{LocalFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions, stream};
/// let dir = tempfile::tempdir()?;
/// let fs = LocalFs::new(dir.path()).await?;
/// let p = RemotePath::parse("photo 1.jpg")?;
/// fs.write(&p, stream::once(&b"jpeg"[..]), &WriteOptions::new()).await?;
/// assert_eq!(std::fs::read(dir.path().join("photo 1.jpg"))?, b"jpeg");
/// assert_eq!(&fs.read_to_bytes(&p).await?[..], b"jpeg");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct LocalFs {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The canonical root: every real path used starts with it.
    root: PathBuf,
    fsync: bool,
    /// Small files written on the calling thread (see `write::Inline`).
    inline: write::Inline,
}

impl LocalFs {
    /// A backend over the existing folder `root` (made canonical now).
    pub async fn new(root: impl AsRef<Path>) -> Result<Self> {
        let shown = root.as_ref().display().to_string();
        let root = tokio::fs::canonicalize(root.as_ref())
            .await
            .map_err(|e| Error::io(Operation::Connect, shown.clone(), e))?;
        let meta = tokio::fs::metadata(&root)
            .await
            .map_err(|e| Error::io(Operation::Connect, shown.clone(), e))?;
        if !meta.is_dir() {
            return Err(Error::io(
                Operation::Connect,
                shown,
                io::Error::new(io::ErrorKind::NotADirectory, "the root is not a folder"),
            ));
        }
        Ok(LocalFs {
            inner: Arc::new(Inner {
                root,
                fsync: false,
                inline: write::Inline::new(true),
            }),
        })
    }

    /// Whether to flush each written file to disk (`fsync`) before it is renamed into
    /// place: slower, but a crash right after a write cannot leave an empty target.
    /// Off by default.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let fs = ftp_connector::LocalFs::new(dir.path()).await?.fsync(true);
    /// # let _ = fs;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn fsync(self, yes: bool) -> Self {
        LocalFs {
            inner: Arc::new(Inner {
                root: self.inner.root.clone(),
                fsync: yes,
                inline: write::Inline::new(self.inner.inline.enabled()),
            }),
        }
    }

    /// Whether a small file (up to 256 KiB) whose data has all arrived is created,
    /// written, dated and renamed on the calling thread instead of tokio's blocking pool.
    /// On by default: for a small file the hop to the pool and back costs more than the
    /// write on a local disk, and many small files go faster without it. When a few
    /// inline writes in a row have each taken more than 2 ms (a slow or network file
    /// system, or a busy machine), the backend sends the next 256 small files through the
    /// pool before it tries again; turn inline writes off for a file system known to
    /// stall. Writes with [`fsync`](Self::fsync) always use the pool.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir()?;
    /// let fs = ftp_connector::LocalFs::new(dir.path()).await?.inline_small_writes(false);
    /// # let _ = fs;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn inline_small_writes(self, yes: bool) -> Self {
        LocalFs {
            inner: Arc::new(Inner {
                root: self.inner.root.clone(),
                fsync: self.inner.fsync,
                inline: write::Inline::new(yes),
            }),
        }
    }

    /// The canonical root folder.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn root_dir(&self) -> &Path {
        &self.inner.root
    }
}

fn modified_of(meta: &Metadata) -> Option<Modified> {
    meta.modified()
        .ok()
        .map(|t| Modified::new(DateTime::<Utc>::from(t), TimePrecision::Nanosecond))
}

#[cfg(unix)]
fn mode_of(meta: &Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(meta.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_: &Metadata) -> Option<u32> {
    None
}

/// An entry for `path` from its (not followed) metadata; `None` for special files.
fn entry_of(path: RemotePath, meta: &Metadata) -> Option<Entry> {
    let ft = meta.file_type();
    let mut e = if ft.is_symlink() {
        Entry::symlink(path)
    } else if ft.is_dir() {
        Entry::dir(path)
    } else if ft.is_file() {
        Entry::file(path, meta.len())
    } else {
        return None;
    };
    e.modified = modified_of(meta);
    e.permissions = mode_of(meta);
    Some(e)
}

/// An error looking `path` up: a file where a folder should be on the way (`ENOTDIR`)
/// means the path does not exist, as FTP and SFTP servers report it.
fn lookup_err(op: Operation, path: &RemotePath, e: io::Error) -> Error {
    if e.kind() == io::ErrorKind::NotADirectory {
        Error::NotFound {
            op,
            path: path.as_str().to_owned(),
        }
    } else {
        Error::io(op, path.as_str(), e)
    }
}

fn io_err(op: Operation, path: &RemotePath, kind: io::ErrorKind, msg: &'static str) -> Error {
    Error::io(op, path.as_str(), io::Error::new(kind, msg))
}

#[async_trait]
impl RemoteFs for LocalFs {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            stat_has_mtime: true,
            mtime_precision: Some(TimePrecision::Nanosecond),
            list_has_permissions: cfg!(unix),
            write_can_set_mtime: true,
            read_can_resume: true,
            write_can_resume: true,
            rename_is_atomic: true,
            rename_can_overwrite: true,
            checksums: ChecksumSet {
                sha256: true,
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn backend(&self) -> &'static str {
        "local"
    }

    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        let op = Operation::Stat;
        let real = self.resolve(op, path, false).await?;
        let meta = tokio::fs::symlink_metadata(&real)
            .await
            .map_err(|e| lookup_err(op, path, e))?;
        entry_of(path.clone(), &meta).ok_or_else(|| {
            io_err(
                op,
                path,
                io::ErrorKind::Unsupported,
                "not a file, folder or link",
            )
        })
    }

    fn list(&self, dir: &RemotePath) -> EntryStream {
        let fs = self.clone();
        let dir = dir.clone();
        let op = Operation::List;
        enum State {
            Start(LocalFs, RemotePath),
            Reading(tokio::fs::ReadDir, RemotePath),
            Done,
        }
        // Nothing touches the disk until the stream is polled.
        futures::stream::unfold(State::Start(fs, dir), move |state| async move {
            let (mut rd, dir) = match state {
                State::Done => return None,
                State::Reading(rd, dir) => (rd, dir),
                State::Start(fs, dir) => {
                    let opened = async {
                        let real = fs.resolve(op, &dir, true).await?;
                        tokio::fs::read_dir(&real)
                            .await
                            .map_err(|e| Error::io(op, dir.as_str(), e))
                    };
                    match opened.await {
                        Ok(rd) => (rd, dir),
                        Err(e) => return Some((Err(e), State::Done)),
                    }
                }
            };
            loop {
                let de = match rd.next_entry().await {
                    Ok(Some(de)) => de,
                    Ok(None) => return None,
                    Err(e) => return Some((Err(Error::io(op, dir.as_str(), e)), State::Done)),
                };
                let raw = de.file_name();
                let checked = match raw.to_str() {
                    None => Err("not valid UTF-8"),
                    Some(name) => RemotePath::check_name(name).map(|()| name.to_owned()),
                };
                let name = match checked {
                    Ok(name) => name,
                    Err(reason) => {
                        let e = Error::InvalidName {
                            dir: dir.as_str().to_owned(),
                            name: raw.to_string_lossy().into_owned(),
                            reason,
                        };
                        return Some((Err(e), State::Reading(rd, dir)));
                    }
                };
                let path = dir.join(&name);
                let item = match (path, tokio::fs::symlink_metadata(de.path()).await) {
                    (Ok(path), Ok(meta)) => match entry_of(path, &meta) {
                        Some(entry) => Ok(entry),
                        None => continue, // a FIFO, socket or device: not transferable
                    },
                    (Err(e), _) => Err(e),
                    // Removed between readdir and lstat: as if never listed.
                    (_, Err(e)) if e.kind() == io::ErrorKind::NotFound => continue,
                    (Ok(path), Err(e)) => Err(Error::io(op, path.as_str(), e)),
                };
                return Some((item, State::Reading(rd, dir)));
            }
        })
        .boxed()
    }

    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        let op = Operation::Read;
        let root = self.inner.clone();
        let owned = path.clone();
        // Resolving, opening and the first chunk: one blocking-pool hop.
        let opened = tokio::task::spawn_blocking(move || {
            let real = confine::resolve_blocking(&root.root, op, &owned, true)?;
            read::open_blocking(&real, offset, owned.as_str())
        })
        .await
        .map_err(|e| Error::io(op, path.as_str(), io::Error::other(e)))??;
        Ok(read::stream(opened, path.as_str().to_owned()))
    }

    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        self.write_file(path, data, options).await
    }

    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        let op = Operation::Rename;
        if from.is_root() || to.is_root() {
            return Err(io_err(
                op,
                from,
                io::ErrorKind::InvalidInput,
                "cannot rename the root",
            ));
        }
        let src = self.resolve(op, from, false).await?;
        let dst = self.resolve(op, to, false).await?;
        let src_meta = tokio::fs::symlink_metadata(&src)
            .await
            .map_err(|e| lookup_err(op, from, e))?;
        if from == to {
            return Ok(());
        }
        match tokio::fs::symlink_metadata(&dst).await {
            // The system refuses this too, when the target does not exist (EINVAL).
            Ok(_) if src_meta.is_dir() && to.starts_with(from) => {
                return Err(io_err(
                    op,
                    to,
                    io::ErrorKind::InvalidInput,
                    "cannot move a directory into itself",
                ));
            }
            // Like every other backend: a folder never replaces anything.
            Ok(_) if src_meta.is_dir() => {
                return Err(Error::AlreadyExists {
                    op,
                    path: to.as_str().to_owned(),
                });
            }
            Ok(m) if m.is_dir() => {
                return Err(io_err(
                    op,
                    to,
                    io::ErrorKind::IsADirectory,
                    "target is a directory",
                ));
            }
            _ => {}
        }
        tokio::fs::rename(&src, &dst)
            .await
            .map_err(|e| Error::io(op, to.as_str(), e))
    }

    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::CreateDir;
        let real = self.resolve(op, path, true).await?;
        tokio::fs::create_dir_all(&real)
            .await
            .map_err(|e| Error::io(op, path.as_str(), e))
    }

    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::RemoveFile;
        let real = self.resolve(op, path, false).await?;
        let meta = tokio::fs::symlink_metadata(&real)
            .await
            .map_err(|e| lookup_err(op, path, e))?;
        if meta.is_dir() {
            return Err(io_err(
                op,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        tokio::fs::remove_file(&real)
            .await
            .map_err(|e| Error::io(op, path.as_str(), e))
    }

    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::RemoveDir;
        if path.is_root() {
            return Err(io_err(
                op,
                path,
                io::ErrorKind::InvalidInput,
                "cannot remove the root",
            ));
        }
        let real = self.resolve(op, path, false).await?;
        let meta = tokio::fs::symlink_metadata(&real)
            .await
            .map_err(|e| lookup_err(op, path, e))?;
        if !meta.is_dir() {
            return Err(io_err(
                op,
                path,
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        tokio::fs::remove_dir(&real)
            .await
            .map_err(|e| Error::io(op, path.as_str(), e))
    }

    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        let op = Operation::SetModified;
        let real = self.resolve(op, path, true).await?;
        let shown = path.as_str().to_owned();
        tokio::task::spawn_blocking(move || {
            std::fs::File::open(&real).and_then(|f| f.set_modified(modified.into()))
        })
        .await
        .map_err(|e| Error::io(op, shown.clone(), io::Error::other(e)))?
        .map_err(|e| lookup_err(op, path, e))
    }

    async fn checksum(&self, path: &RemotePath, algorithm: ChecksumAlgorithm) -> Result<Checksum> {
        let op = Operation::Checksum;
        if algorithm != ChecksumAlgorithm::Sha256 {
            return Err(Error::unsupported(op, "local"));
        }
        let (s, hash) = stream::hashing(self.read(path, 0).await?);
        s.try_for_each(|_| async { Ok(()) }).await?;
        hash.sha256_hex()
            .map(|hex| Checksum::new(algorithm, hex))
            .ok_or_else(|| io_err(op, path, io::ErrorKind::Interrupted, "read failed"))
    }
}
