//! [`MemoryFs`]: an in-memory tree with the semantics of a real file server.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::capabilities::{Capabilities, ChecksumAlgorithm, ChecksumSet};
use crate::entry::{Entry, Modified, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::{
    ByteStream, Checksum, EntryStream, RemoteFs, WriteMode, WriteOptions, WriteOutcome,
};
use crate::path::RemotePath;

/// Largest chunk a read stream yields.
const READ_CHUNK: usize = 256 * 1024;

/// Permission bits reported for files.
const FILE_MODE: u32 = 0o644;
/// Permission bits reported for directories.
const DIR_MODE: u32 = 0o755;

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

#[derive(Clone, Debug)]
struct Dir {
    children: BTreeMap<String, Node>,
    /// Names a server could list but a `RemotePath` cannot hold (test hook).
    raw: Vec<(Vec<u8>, Bytes)>,
    modified: DateTime<Utc>,
}

impl Default for Dir {
    fn default() -> Self {
        Dir {
            children: BTreeMap::new(),
            raw: Vec::new(),
            modified: Utc::now(),
        }
    }
}

#[derive(Clone, Debug)]
struct File {
    /// The contents, in the chunks they were written in. Shared with read snapshots and
    /// forks; an in-place append copies the (small) vector of handles, not the bytes.
    chunks: Arc<Vec<Bytes>>,
    len: u64,
    modified: DateTime<Utc>,
}

impl File {
    fn new(chunks: Vec<Bytes>) -> Self {
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        File {
            chunks: Arc::new(chunks),
            len,
            modified: Utc::now(),
        }
    }

    /// Keeps only the first `len` bytes.
    fn truncate(&mut self, len: u64) {
        let mut kept = Vec::new();
        let mut total = 0u64;
        for c in self.chunks.iter() {
            if total >= len {
                break;
            }
            let take = usize::try_from((len - total).min(c.len() as u64)).unwrap_or(c.len());
            kept.push(c.slice(..take));
            total += take as u64;
        }
        self.chunks = Arc::new(kept);
        self.len = total;
        self.modified = Utc::now();
    }
}

#[derive(Clone, Debug)]
enum Node {
    Dir(Dir),
    File(File),
}

impl Dir {
    fn totals(&self) -> (u64, u64) {
        self.children
            .values()
            .fold((0, 0), |(files, bytes), node| match node {
                Node::File(f) => (files + 1, bytes + f.len),
                Node::Dir(d) => {
                    let (f, b) = d.totals();
                    (files + f, bytes + b)
                }
            })
    }

    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.raw.is_empty()
    }

    fn touch(&mut self) {
        self.modified = Utc::now();
    }
}

fn not_found(op: Operation, path: &RemotePath) -> Error {
    Error::NotFound {
        op,
        path: path.as_str().to_owned(),
    }
}

fn io_err(op: Operation, path: &RemotePath, kind: io::ErrorKind, msg: &'static str) -> Error {
    Error::io(op, path.as_str(), io::Error::new(kind, msg))
}

fn poisoned(op: Operation) -> Error {
    Error::io(
        op,
        "",
        io::Error::other("memory tree lock poisoned by a panicking thread"),
    )
}

impl Dir {
    /// The node at `path` (the root is not a node; callers handle it).
    fn node(&self, path: &RemotePath) -> Option<&Node> {
        let mut segs = path.segments().peekable();
        let mut dir = self;
        while let Some(seg) = segs.next() {
            let node = dir.children.get(seg)?;
            if segs.peek().is_none() {
                return Some(node);
            }
            match node {
                Node::Dir(d) => dir = d,
                Node::File(_) => return None,
            }
        }
        None
    }

    /// The directory at `path`; `NotFound` when missing, a conflict when it is a file.
    fn dir(&self, op: Operation, path: &RemotePath) -> Result<&Dir> {
        let mut dir = self;
        for seg in path.segments() {
            dir = match dir.children.get(seg) {
                Some(Node::Dir(d)) => d,
                Some(Node::File(_)) => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::NotADirectory,
                        "not a directory",
                    ));
                }
                None => return Err(not_found(op, path)),
            };
        }
        Ok(dir)
    }

    fn dir_mut(&mut self, op: Operation, path: &RemotePath) -> Result<&mut Dir> {
        let mut dir = self;
        for seg in path.segments() {
            dir = match dir.children.get_mut(seg) {
                Some(Node::Dir(d)) => d,
                Some(Node::File(_)) => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::NotADirectory,
                        "not a directory",
                    ));
                }
                None => return Err(not_found(op, path)),
            };
        }
        Ok(dir)
    }

    /// The parent directory of `path` and the last segment.
    fn parent_mut<'a>(
        &mut self,
        op: Operation,
        path: &'a RemotePath,
    ) -> Result<(&mut Dir, &'a str)> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io_err(
                op,
                path,
                io::ErrorKind::InvalidInput,
                "not allowed on the root",
            ));
        };
        let dir = self.dir_mut(op, &parent).map_err(|e| match e.kind() {
            crate::ErrorKind::NotFound => not_found(op, path),
            _ => e,
        })?;
        Ok((dir, name))
    }
}

fn file_entry(path: RemotePath, f: &File) -> Entry {
    Entry::file(path, f.len)
        .with_modified(Modified::new(f.modified, TimePrecision::Nanosecond))
        .with_permissions(FILE_MODE)
}

fn dir_entry(path: RemotePath, d: &Dir) -> Entry {
    Entry::dir(path)
        .with_modified(Modified::new(d.modified, TimePrecision::Nanosecond))
        .with_permissions(DIR_MODE)
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

    /// Checks the target of a write before any byte is read.
    fn check_write_target(&self, path: &RemotePath, options: &WriteOptions) -> Result<()> {
        let op = Operation::Write;
        let tree = self.tree(op)?;
        let parent = path.parent().ok_or_else(|| {
            io_err(
                op,
                path,
                io::ErrorKind::IsADirectory,
                "the root is a directory",
            )
        })?;
        tree.dir(op, &parent).map_err(|e| match e.kind() {
            crate::ErrorKind::NotFound => not_found(op, path),
            _ => e,
        })?;
        match tree.node(path) {
            Some(Node::Dir(_)) => Err(io_err(
                op,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            )),
            Some(Node::File(f)) => {
                if let Some(offset) = options.resume_from {
                    if f.len < offset {
                        return Err(io_err(
                            op,
                            path,
                            io::ErrorKind::InvalidInput,
                            "resume offset is past the end of the partial file",
                        ));
                    }
                    return Ok(());
                }
                if options.overwrite {
                    Ok(())
                } else {
                    Err(Error::AlreadyExists {
                        op,
                        path: path.as_str().to_owned(),
                    })
                }
            }
            None if options.resume_from.is_some_and(|o| o > 0) => Err(not_found(op, path)),
            None => Ok(()),
        }
    }

    /// Checks the length against `expected_len`.
    fn check_len(path: &RemotePath, sent: u64, options: &WriteOptions) -> Result<()> {
        match options.expected_len {
            Some(expected) if expected != sent => Err(Error::Truncated {
                op: Operation::Write,
                path: path.as_str().to_owned(),
                received: sent,
                expected,
            }),
            _ => Ok(()),
        }
    }

    async fn write_atomic(
        &self,
        path: &RemotePath,
        mut data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        let op = Operation::Write;
        // Buffer privately; the tree changes only once every byte has arrived.
        let mut chunks = Vec::new();
        let mut sent = 0u64;
        while let Some(chunk) = data.next().await {
            let chunk = chunk?;
            sent += chunk.len() as u64;
            if !chunk.is_empty() {
                chunks.push(chunk);
            }
        }
        Self::check_len(path, sent, options)?;
        let mut tree = self.write_tree(op)?;
        let (dir, name) = tree.parent_mut(op, path)?;
        let mut file = File::new(chunks);
        match dir.children.get(name) {
            Some(Node::Dir(_)) => {
                return Err(io_err(
                    op,
                    path,
                    io::ErrorKind::IsADirectory,
                    "is a directory",
                ));
            }
            Some(Node::File(_)) if !options.overwrite => {
                return Err(Error::AlreadyExists {
                    op,
                    path: path.as_str().to_owned(),
                });
            }
            _ => {}
        }
        if let Some(t) = options.modified {
            file.modified = t;
        }
        dir.children.insert(name.to_owned(), Node::File(file));
        dir.touch();
        Ok(WriteOutcome::new(sent, options.modified.is_some()))
    }

    async fn write_in_place(
        &self,
        path: &RemotePath,
        mut data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        let op = Operation::Write;
        let start = options.resume_from.unwrap_or(0);
        {
            let mut tree = self.write_tree(op)?;
            let (dir, name) = tree.parent_mut(op, path)?;
            match dir.children.get_mut(name) {
                Some(Node::File(f)) if options.resume_from.is_some() => f.truncate(start),
                Some(Node::Dir(_)) => {
                    return Err(io_err(
                        op,
                        path,
                        io::ErrorKind::IsADirectory,
                        "is a directory",
                    ));
                }
                _ => {
                    dir.children
                        .insert(name.to_owned(), Node::File(File::new(Vec::new())));
                }
            }
            dir.touch();
        }
        let mut sent = 0u64;
        let result: Result<()> = async {
            while let Some(chunk) = data.next().await {
                let chunk = chunk?;
                sent += chunk.len() as u64;
                let mut tree = self.write_tree(op)?;
                let (dir, name) = tree.parent_mut(op, path)?;
                match dir.children.get_mut(name) {
                    Some(Node::File(f)) => {
                        f.len += chunk.len() as u64;
                        Arc::make_mut(&mut f.chunks).push(chunk);
                        f.modified = Utc::now();
                    }
                    _ => return Err(not_found(op, path)),
                }
            }
            Self::check_len(path, sent, options)
        }
        .await;
        if let Err(e) = result {
            // Leave no partial file behind, as a careful server client would.
            if let Ok(mut tree) = self.write_tree(op)
                && let Ok((dir, name)) = tree.parent_mut(op, path)
            {
                dir.children.remove(name);
            }
            return Err(e);
        }
        if let Some(t) = options.modified {
            self.set_mtime(Operation::Write, path, t)?;
        }
        Ok(WriteOutcome::new(sent, options.modified.is_some()))
    }

    fn set_mtime(&self, op: Operation, path: &RemotePath, t: DateTime<Utc>) -> Result<()> {
        let mut tree = self.write_tree(op)?;
        if path.is_root() {
            tree.modified = t;
            return Ok(());
        }
        let (dir, name) = tree.parent_mut(op, path)?;
        match dir.children.get_mut(name) {
            Some(Node::File(f)) => f.modified = t,
            Some(Node::Dir(d)) => d.modified = t,
            None => return Err(not_found(op, path)),
        }
        Ok(())
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
        if to.starts_with(from) && to != from {
            return Err(io_err(
                op,
                to,
                io::ErrorKind::InvalidInput,
                "cannot move a directory into itself",
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
        let (dir, name) = tree.parent_mut(op, path)?;
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
        let (dir, name) = tree.parent_mut(op, path)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::ext::RemoteFsExt;
    use crate::stream;
    use futures::TryStreamExt;

    fn p(s: &str) -> RemotePath {
        RemotePath::parse(s).unwrap()
    }

    #[tokio::test]
    async fn clones_share_and_forks_do_not() {
        let fs = MemoryFs::new();
        let clone = fs.clone();
        let fork = fs.fork();
        fs.create_dir_all(&p("a/b")).await.unwrap();
        assert!(clone.stat(&p("a/b")).await.unwrap().is_dir());
        assert_eq!(
            fork.stat(&p("a")).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn read_snapshot_survives_an_overwrite() {
        let fs = MemoryFs::new();
        fs.write(&p("f"), stream::once(&b"old"[..]), &WriteOptions::new())
            .await
            .unwrap();
        let s = fs.read(&p("f"), 1).await.unwrap();
        fs.write(&p("f"), stream::once(&b"new!"[..]), &WriteOptions::new())
            .await
            .unwrap();
        let got: Vec<Bytes> = s.try_collect().await.unwrap();
        assert_eq!(got.concat(), b"ld");
    }

    #[tokio::test]
    async fn resume_truncates_then_appends() {
        let fs = MemoryFs::new();
        fs.write(&p("f"), stream::once(&b"abcXXX"[..]), &WriteOptions::new())
            .await
            .unwrap();
        fs.write(
            &p("f"),
            stream::once(&b"def"[..]),
            &WriteOptions::new().resume_from(3),
        )
        .await
        .unwrap();
        assert_eq!(&fs.read_to_bytes(&p("f")).await.unwrap()[..], b"abcdef");
        let past_end = fs
            .write(
                &p("f"),
                stream::empty(),
                &WriteOptions::new().resume_from(99),
            )
            .await;
        assert!(past_end.is_err());
    }

    #[tokio::test]
    async fn in_place_failure_removes_the_partial_file() {
        let fs = MemoryFs::new();
        let data = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"part")),
            Err(Error::io(
                Operation::Write,
                "f",
                io::Error::from(io::ErrorKind::ConnectionReset),
            )),
        ])
        .boxed();
        let r = fs
            .write(&p("f"), data, &WriteOptions::new().mode(WriteMode::InPlace))
            .await;
        assert!(r.unwrap_err().is_retryable());
        assert!(!fs.exists(&p("f")).await.unwrap());
    }

    #[tokio::test]
    async fn rename_refuses_to_move_a_dir_into_itself_or_over_a_dir() {
        let fs = MemoryFs::new();
        fs.create_dir_all(&p("a/b")).await.unwrap();
        fs.create_dir_all(&p("c")).await.unwrap();
        assert!(fs.rename(&p("a"), &p("a/b/a")).await.is_err());
        assert_eq!(
            fs.rename(&p("a"), &p("c")).await.unwrap_err().kind(),
            ErrorKind::Conflict
        );
        fs.rename(&p("a"), &p("c/a")).await.unwrap();
        assert!(fs.stat(&p("c/a/b")).await.unwrap().is_dir());
    }

    #[tokio::test]
    async fn debug_shows_totals_not_contents() {
        let fs = MemoryFs::new();
        fs.write(
            &p("secret.txt"),
            stream::once(&b"hunter2"[..]),
            &WriteOptions::new(),
        )
        .await
        .unwrap();
        let shown = format!("{fs:?}");
        assert!(
            shown.contains("files: 1") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
