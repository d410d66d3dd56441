//! Writes into [`MemoryFs`](super::MemoryFs): atomic (buffered, then swapped in) or in place.

use std::io;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use super::MemoryFs;
use super::tree::{File, Node, io_err, not_found};
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

impl MemoryFs {
    /// Checks the target of a write before any byte is read.
    pub(super) fn check_write_target(
        &self,
        path: &RemotePath,
        options: &WriteOptions,
    ) -> Result<()> {
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
    pub(super) fn check_len(path: &RemotePath, sent: u64, options: &WriteOptions) -> Result<()> {
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

    pub(super) async fn write_atomic(
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

    pub(super) async fn write_in_place(
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

    pub(super) fn set_mtime(
        &self,
        op: Operation,
        path: &RemotePath,
        t: DateTime<Utc>,
    ) -> Result<()> {
        let mut tree = self.write_tree(op)?;
        if path.is_root() {
            tree.modified = t;
            return Ok(());
        }
        let (dir, name) = tree.lookup_parent_mut(op, path)?;
        match dir.children.get_mut(name) {
            Some(Node::File(f)) => f.modified = t,
            Some(Node::Dir(d)) => d.modified = t,
            None => return Err(not_found(op, path)),
        }
        Ok(())
    }
}
