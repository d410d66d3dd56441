//! The tree behind [`MemoryFs`](super::MemoryFs): folders, files and navigation.

use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::entry::{Entry, Modified, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::path::RemotePath;

/// Permission bits reported for files.
pub(super) const FILE_MODE: u32 = 0o644;
/// Permission bits reported for directories.
pub(super) const DIR_MODE: u32 = 0o755;

#[derive(Clone, Debug)]
pub(super) struct Dir {
    pub(super) children: BTreeMap<String, Node>,
    /// Names a server could list but a `RemotePath` cannot hold (test hook).
    pub(super) raw: Vec<(Vec<u8>, Bytes)>,
    pub(super) modified: DateTime<Utc>,
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
pub(super) struct File {
    /// The contents, in the chunks they were written in. Shared with read snapshots and
    /// forks; an in-place append copies the (small) vector of handles, not the bytes.
    pub(super) chunks: Arc<Vec<Bytes>>,
    pub(super) len: u64,
    pub(super) modified: DateTime<Utc>,
}

impl File {
    pub(super) fn new(chunks: Vec<Bytes>) -> Self {
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        File {
            chunks: Arc::new(chunks),
            len,
            modified: Utc::now(),
        }
    }

    /// Keeps only the first `len` bytes.
    pub(super) fn truncate(&mut self, len: u64) {
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
pub(super) enum Node {
    Dir(Dir),
    File(File),
}

impl Dir {
    pub(super) fn totals(&self) -> (u64, u64) {
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

    pub(super) fn is_empty(&self) -> bool {
        self.children.is_empty() && self.raw.is_empty()
    }

    pub(super) fn touch(&mut self) {
        self.modified = Utc::now();
    }
}

pub(super) fn not_found(op: Operation, path: &RemotePath) -> Error {
    Error::NotFound {
        op,
        path: path.as_str().to_owned(),
    }
}

pub(super) fn io_err(
    op: Operation,
    path: &RemotePath,
    kind: io::ErrorKind,
    msg: &'static str,
) -> Error {
    Error::io(op, path.as_str(), io::Error::new(kind, msg))
}

pub(super) fn poisoned(op: Operation) -> Error {
    Error::io(
        op,
        "",
        io::Error::other("memory tree lock poisoned by a panicking thread"),
    )
}

impl Dir {
    /// The node at `path` (the root is not a node; callers handle it).
    pub(super) fn node(&self, path: &RemotePath) -> Option<&Node> {
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
    pub(super) fn dir(&self, op: Operation, path: &RemotePath) -> Result<&Dir> {
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

    pub(super) fn dir_mut(&mut self, op: Operation, path: &RemotePath) -> Result<&mut Dir> {
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
    pub(super) fn parent_mut<'a>(
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

    /// Like `parent_mut`, for an existing entry: a file on the way means "not found".
    pub(super) fn lookup_parent_mut<'a>(
        &mut self,
        op: Operation,
        path: &'a RemotePath,
    ) -> Result<(&mut Dir, &'a str)> {
        self.parent_mut(op, path).map_err(|e| match e.kind() {
            crate::ErrorKind::Conflict => not_found(op, path),
            _ => e,
        })
    }
}

pub(super) fn file_entry(path: RemotePath, f: &File) -> Entry {
    Entry::file(path, f.len)
        .with_modified(Modified::new(f.modified, TimePrecision::Nanosecond))
        .with_permissions(FILE_MODE)
}

pub(super) fn dir_entry(path: RemotePath, d: &Dir) -> Entry {
    Entry::dir(path)
        .with_modified(Modified::new(d.modified, TimePrecision::Nanosecond))
        .with_permissions(DIR_MODE)
}
