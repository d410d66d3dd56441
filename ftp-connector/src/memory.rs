//! [`MemoryFs`]: an in-memory tree with the semantics of a real file server.

use std::io;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::capabilities::{Capabilities, ChecksumAlgorithm, ChecksumSet};
use crate::entry::{Entry, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::{
    ByteStream, Checksum, EntryStream, RemoteFs, WriteMode, WriteOptions, WriteOutcome,
};
use crate::path::RemotePath;

#[cfg(test)]
mod tests;
mod tree;
mod write;

use tree::{Dir, File, Node, dir_entry, file_entry, io_err, not_found, poisoned};

/// Largest chunk a read stream yields.
const READ_CHUNK: usize = 256 * 1024;

/// An in-memory tree of files and directories, for tests, examples and dry runs.
///
/// It behaves like a careful real server, so that code tested against it behaves the same
/// against FTP, SFTP or a local folder:
///
/// - a write needs its parent directory; `remove_dir` needs an empty directory;
/// - `rename` over an existing file replaces it; over an existing directory it fails;
/// - missing paths fail with [`ErrorKind::NotFound`](crate::ErrorKind::NotFound), and
///   directory/file mix-ups with [`ErrorKind::Conflict`](crate::ErrorKind::Conflict);
/// - modification times have nanosecond precision and can be set;
/// - atomic writes become visible only once complete; in-place writes grow visibly and
///   are removed if the upload fails;
/// - read streams see the file as it was when the read began (like an open file handle).
///
/// Clones share the same tree (`Arc<RwLock<…>>`); [`MemoryFs::fork`] makes an independent
/// deep copy. File contents are kept as the chunks they were written in, so a fork or a
/// read snapshot copies no file data.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use ftp_connector::{MemoryFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions, stream};
/// let fs = MemoryFs::new();
/// let a = RemotePath::parse("a.txt")?;
/// fs.write(&a, stream::once(&b"one"[..]), &WriteOptions::new()).await?;
/// let snapshot = fs.fork();
/// fs.write(&a, stream::once(&b"two"[..]), &WriteOptions::new()).await?;
/// assert_eq!(&fs.read_to_bytes(&a).await?[..], b"two");
/// assert_eq!(&snapshot.read_to_bytes(&a).await?[..], b"one");
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct MemoryFs {
    // One lock over the whole tree: operations are short and never hold it across an
    // await (streams take a snapshot, writes buffer or append chunk by chunk).
    tree: Arc<RwLock<Dir>>,
}

impl std::fmt::Debug for MemoryFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (files, bytes) = self.read_tree().map(|t| t.totals()).unwrap_or((0, 0));
        f.debug_struct("MemoryFs")
            .field("files", &files)
            .field("bytes", &bytes)
            .finish()
    }
}

impl MemoryFs {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// An independent deep copy of the tree as it is now (a snapshot: later changes to
    /// either side are not seen by the other).
    pub fn fork(&self) -> Self {
        let tree = self.read_tree().map(|t| t.clone()).unwrap_or_default();
        MemoryFs {
            tree: Arc::new(RwLock::new(tree)),
        }
    }

    /// The number of files and their total size in bytes.
    pub fn totals(&self) -> (u64, u64) {
        self.read_tree().map(|t| t.totals()).unwrap_or((0, 0))
    }

    /// **Test hook**: plants an entry named `name` (raw bytes, as a server might list it)
    /// in `dir`, bypassing every check — the way a hostile or broken server would present
    /// `..`, `a/b`, names with control characters or invalid UTF-8.
    ///
    /// A name that is a valid [`RemotePath`] segment becomes an ordinary file. Any other
    /// name is listed by [`RemoteFs::list`] as an [`Error::InvalidName`] item, and no
    /// `RemotePath` can reach it. Used by the conformance suite's hostile-name case.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use futures::StreamExt;
    /// use ftp_connector::{MemoryFs, RemoteFs, RemotePath, ErrorKind};
    /// let fs = MemoryFs::new();
    /// fs.insert_raw_name(&RemotePath::ROOT, b"..", b"gotcha")?;
    /// let items: Vec<_> = fs.list(&RemotePath::ROOT).collect().await;
    /// assert_eq!(items.len(), 1);
    /// assert_eq!(items[0].as_ref().unwrap_err().kind(), ErrorKind::InvalidInput);
    /// # Ok::<(), ftp_connector::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn insert_raw_name(&self, dir: &RemotePath, name: &[u8], contents: &[u8]) -> Result<()> {
        let op = Operation::Write;
        let mut tree = self.write_tree(op)?;
        let d = tree.dir_mut(op, dir)?;
        let contents = Bytes::copy_from_slice(contents);
        match std::str::from_utf8(name) {
            Ok(valid) if RemotePath::check_name(valid).is_ok() => {
                d.children
                    .insert(valid.to_owned(), Node::File(File::new(vec![contents])));
            }
            _ => d.raw.push((name.to_vec(), contents)),
        }
        d.touch();
        Ok(())
    }

    fn read_tree(&self) -> Option<RwLockReadGuard<'_, Dir>> {
        self.tree.read().ok()
    }

    fn tree(&self, op: Operation) -> Result<RwLockReadGuard<'_, Dir>> {
        self.tree.read().map_err(|_| poisoned(op))
    }

    fn write_tree(&self, op: Operation) -> Result<RwLockWriteGuard<'_, Dir>> {
        self.tree.write().map_err(|_| poisoned(op))
    }
}

#[async_trait]
impl RemoteFs for MemoryFs {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            stat_has_mtime: true,
            mtime_precision: Some(TimePrecision::Nanosecond),
            list_has_permissions: true,
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
        "memory"
    }

    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        let op = Operation::Stat;
        let tree = self.tree(op)?;
        if path.is_root() {
            return Ok(dir_entry(RemotePath::ROOT, &tree));
        }
        match tree.node(path) {
            Some(Node::File(f)) => Ok(file_entry(path.clone(), f)),
            Some(Node::Dir(d)) => Ok(dir_entry(path.clone(), d)),
            None => Err(not_found(op, path)),
        }
    }

    fn list(&self, dir: &RemotePath) -> EntryStream {
        let fs = self.clone();
        let dir = dir.clone();
        // Lazy: the snapshot is taken when the stream is first polled.
        futures::stream::once(async move {
            let op = Operation::List;
            let items: Vec<Result<Entry>> = match fs.tree(op).and_then(|t| {
                let d = t.dir(op, &dir)?;
                let mut items = Vec::with_capacity(d.children.len() + d.raw.len());
                for (name, node) in &d.children {
                    let path = dir.join(name)?;
                    items.push(Ok(match node {
                        Node::File(f) => file_entry(path, f),
                        Node::Dir(sub) => dir_entry(path, sub),
                    }));
                }
                for (name, _) in &d.raw {
                    let shown = String::from_utf8_lossy(name).into_owned();
                    let reason = match std::str::from_utf8(name) {
                        Err(_) => "not valid UTF-8",
                        Ok(s) => RemotePath::check_name(s).err().unwrap_or("unusable name"),
                    };
                    items.push(Err(Error::InvalidName {
                        dir: dir.as_str().to_owned(),
                        name: shown,
                        reason,
                    }));
                }
                Ok(items)
            }) {
                Ok(items) => items,
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(items)
        })
        .flatten()
        .boxed()
    }

    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        let op = Operation::Read;
        let chunks = {
            let tree = self.tree(op)?;
            match tree.node(path) {
                Some(Node::File(f)) => f.chunks.clone(),
                Some(Node::Dir(_)) => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::IsADirectory,
                        "is a directory",
                    ));
                }
                None if path.is_root() => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::IsADirectory,
                        "is a directory",
                    ));
                }
                None => return Err(not_found(op, path)),
            }
        };
        // Slice the snapshot into pieces of at most READ_CHUNK, starting at `offset`.
        let mut skip = offset;
        let mut pieces = Vec::new();
        for c in chunks.iter() {
            let len = c.len() as u64;
            if skip >= len {
                skip -= len;
                continue;
            }
            let mut start = usize::try_from(skip).unwrap_or(c.len());
            skip = 0;
            while start < c.len() {
                let end = (start + READ_CHUNK).min(c.len());
                pieces.push(Ok(c.slice(start..end)));
                start = end;
            }
        }
        Ok(futures::stream::iter(pieces).boxed())
    }

    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        self.check_write_target(path, options)?;
        if options.mode == WriteMode::InPlace || options.resume_from.is_some() {
            self.write_in_place(path, data, options).await
        } else {
            self.write_atomic(path, data, options).await
        }
    }

    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        let op = Operation::Rename;
        if from.is_root() || to.is_root() {
            return Err(io_err(
                op,
                if from.is_root() { from } else { to },
                io::ErrorKind::InvalidInput,
                "cannot rename the root",
            ));
        }
        let mut tree = self.write_tree(op)?;
        let moving_dir = match tree.node(from) {
            None => return Err(not_found(op, from)),
            Some(n) => matches!(n, Node::Dir(_)),
        };
        if from == to {
            return Ok(());
        }
        // The target's parent must exist; what is at the target decides the rest.
        {
            let (dir, name) = tree.parent_mut(op, to)?;
            if to.starts_with(from) {
                return Err(io_err(
                    op,
                    to,
                    io::ErrorKind::InvalidInput,
                    "cannot move a directory into itself",
                ));
            }
            match (moving_dir, dir.children.get(name)) {
                (_, None) | (false, Some(Node::File(_))) => {}
                (false, Some(Node::Dir(_))) => {
                    return Err(io_err(
                        op,
                        to,
                        io::ErrorKind::IsADirectory,
                        "target is a directory",
                    ));
                }
                (true, Some(_)) => {
                    return Err(Error::AlreadyExists {
                        op,
                        path: to.as_str().to_owned(),
                    });
                }
            }
        }
        let (dir, name) = tree.parent_mut(op, from)?;
        let node = dir
            .children
            .remove(name)
            .ok_or_else(|| not_found(op, from))?;
        dir.touch();
        let (dir, name) = tree.parent_mut(op, to)?;
        dir.children.insert(name.to_owned(), node);
        dir.touch();
        Ok(())
    }

    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::CreateDir;
        let mut tree = self.write_tree(op)?;
        let mut dir: &mut Dir = &mut tree;
        for seg in path.segments() {
            let created = !dir.children.contains_key(seg);
            if created {
                dir.touch();
            }
            let node = dir
                .children
                .entry(seg.to_owned())
                .or_insert_with(|| Node::Dir(Dir::default()));
            dir = match node {
                Node::Dir(d) => d,
                Node::File(_) => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::NotADirectory,
                        "a file is in the way",
                    ));
                }
            };
        }
        Ok(())
    }

    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::RemoveFile;
        let mut tree = self.write_tree(op)?;
        if path.is_root() {
            return Err(io_err(
                op,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        let (dir, name) = tree.lookup_parent_mut(op, path)?;
        match dir.children.get(name) {
            Some(Node::File(_)) => {
                dir.children.remove(name);
                dir.touch();
                Ok(())
            }
            Some(Node::Dir(_)) => Err(io_err(
                op,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            )),
            None => Err(not_found(op, path)),
        }
    }

    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::RemoveDir;
        let mut tree = self.write_tree(op)?;
        if path.is_root() {
            return Err(io_err(
                op,
                path,
                io::ErrorKind::InvalidInput,
                "cannot remove the root",
            ));
        }
        let (dir, name) = tree.lookup_parent_mut(op, path)?;
        match dir.children.get(name) {
            Some(Node::Dir(d)) if d.is_empty() => {
                dir.children.remove(name);
                dir.touch();
                Ok(())
            }
            Some(Node::Dir(_)) => Err(io_err(
                op,
                path,
                io::ErrorKind::DirectoryNotEmpty,
                "directory not empty",
            )),
            Some(Node::File(_)) => Err(io_err(
                op,
                path,
                io::ErrorKind::NotADirectory,
                "not a directory",
            )),
            None => Err(not_found(op, path)),
        }
    }

    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        self.set_mtime(Operation::SetModified, path, modified)
    }

    async fn checksum(&self, path: &RemotePath, algorithm: ChecksumAlgorithm) -> Result<Checksum> {
        let op = Operation::Checksum;
        if algorithm != ChecksumAlgorithm::Sha256 {
            return Err(Error::unsupported(op, "memory"));
        }
        let chunks = {
            let tree = self.tree(op)?;
            match tree.node(path) {
                Some(Node::File(f)) => f.chunks.clone(),
                Some(Node::Dir(_)) => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::IsADirectory,
                        "is a directory",
                    ));
                }
                None => return Err(not_found(op, path)),
            }
        };
        let mut h = Sha256::new();
        for c in chunks.iter() {
            h.update(c);
        }
        Ok(Checksum::new(algorithm, hex::encode(h.finalize())))
    }
}
