//! Writing files: atomic (temporary name, then rename) or in place.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use super::{LocalFs, io_err};
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, WriteMode, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

const OP: Operation = Operation::Write;

/// `.<name>.<random>.part`, kept within the usual 255-byte limit of a file name.
fn temp_name(name: &str) -> String {
    let mut cut = name.len().min(255 - ".".len() - ".12345678.part".len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(".{}.{:08x}.part", &name[..cut], rand::random::<u32>())
}

/// Sends `data` into `file`; returns the bytes written.
async fn pump(file: &mut tokio::fs::File, mut data: ByteStream, path: &RemotePath) -> Result<u64> {
    let mut sent = 0u64;
    while let Some(chunk) = data.next().await {
        let chunk = chunk?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::io(OP, path.as_str(), e))?;
        sent += chunk.len() as u64;
    }
    // tokio writes in the background: flush so that errors surface here.
    file.flush()
        .await
        .map_err(|e| Error::io(OP, path.as_str(), e))?;
    Ok(sent)
}

fn check_len(path: &RemotePath, sent: u64, options: &WriteOptions) -> Result<()> {
    match options.expected_len {
        Some(expected) if expected != sent => Err(Error::Truncated {
            op: OP,
            path: path.as_str().to_owned(),
            received: sent,
            expected,
        }),
        _ => Ok(()),
    }
}

/// Sets the mtime and, if asked, syncs to disk; closes the file.
async fn finish(
    file: tokio::fs::File,
    path: &RemotePath,
    modified: Option<DateTime<Utc>>,
    fsync: bool,
) -> Result<()> {
    if modified.is_none() && !fsync {
        return Ok(());
    }
    let file = file.into_std().await;
    tokio::task::spawn_blocking(move || -> io::Result<()> {
        if let Some(t) = modified {
            file.set_modified(t.into())?;
        }
        if fsync {
            file.sync_all()?;
        }
        Ok(())
    })
    .await
    .map_err(|e| Error::io(OP, path.as_str(), io::Error::other(e)))?
    .map_err(|e| Error::io(OP, path.as_str(), e))
}

impl LocalFs {
    pub(super) async fn write_file(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io_err(
                OP,
                path,
                io::ErrorKind::IsADirectory,
                "the root is a folder",
            ));
        };
        let dir = self.resolve(OP, &parent, true).await?;
        match tokio::fs::metadata(&dir).await {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(io_err(
                    OP,
                    path,
                    io::ErrorKind::NotADirectory,
                    "parent is a file",
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NotFound {
                    op: OP,
                    path: path.as_str().to_owned(),
                });
            }
            Err(e) => return Err(Error::io(OP, path.as_str(), e)),
        }
        let target = dir.join(name);
        let existing = tokio::fs::symlink_metadata(&target).await.ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            return Err(io_err(
                OP,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        if !options.overwrite && existing.is_some() && options.resume_from.is_none() {
            return Err(Error::AlreadyExists {
                op: OP,
                path: path.as_str().to_owned(),
            });
        }
        let sent = if options.mode == WriteMode::InPlace || options.resume_from.is_some() {
            // Through a link inside the root, never out of it.
            let real = if existing.is_some_and(|m| m.file_type().is_symlink()) {
                self.resolve(OP, path, true).await?
            } else {
                target
            };
            self.in_place(&real, path, data, options).await?
        } else {
            self.atomic(&dir, name, &target, path, data, options)
                .await?
        };
        Ok(WriteOutcome::new(sent, options.modified.is_some()))
    }

    async fn atomic(
        &self,
        dir: &Path,
        name: &str,
        target: &Path,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<u64> {
        let temp: PathBuf = dir.join(temp_name(name));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await
            .map_err(|e| Error::io(OP, path.as_str(), e))?;
        let result = async {
            let sent = pump(&mut file, data, path).await?;
            check_len(path, sent, options)?;
            finish(file, path, options.modified, self.inner.fsync).await?;
            if options.overwrite {
                tokio::fs::rename(&temp, target)
                    .await
                    .map_err(|e| Error::io(OP, path.as_str(), e))?;
            } else {
                // A hard link never replaces an existing file: no race with another writer.
                tokio::fs::hard_link(&temp, target).await.map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        Error::AlreadyExists {
                            op: OP,
                            path: path.as_str().to_owned(),
                        }
                    } else {
                        Error::io(OP, path.as_str(), e)
                    }
                })?;
                let _ = tokio::fs::remove_file(&temp).await;
            }
            Ok(sent)
        }
        .await;
        if result.is_err() {
            // Best effort: the temporary file must not outlive a failed write.
            let _ = tokio::fs::remove_file(&temp).await;
        }
        result
    }

    async fn in_place(
        &self,
        real: &Path,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<u64> {
        let mut open = tokio::fs::OpenOptions::new();
        open.write(true);
        let mut file = match options.resume_from {
            Some(offset) => {
                let mut f = open
                    .open(real)
                    .await
                    .map_err(|e| Error::io(OP, path.as_str(), e))?;
                let len = f
                    .metadata()
                    .await
                    .map_err(|e| Error::io(OP, path.as_str(), e))?
                    .len();
                if len < offset {
                    return Err(io_err(
                        OP,
                        path,
                        io::ErrorKind::InvalidInput,
                        "resume offset is past the end of the partial file",
                    ));
                }
                f.set_len(offset)
                    .await
                    .map_err(|e| Error::io(OP, path.as_str(), e))?;
                f.seek(io::SeekFrom::Start(offset))
                    .await
                    .map_err(|e| Error::io(OP, path.as_str(), e))?;
                f
            }
            None => open
                .create(true)
                .truncate(true)
                .open(real)
                .await
                .map_err(|e| Error::io(OP, path.as_str(), e))?,
        };
        let result = async {
            let sent = pump(&mut file, data, path).await?;
            check_len(path, sent, options)?;
            finish(file, path, options.modified, self.inner.fsync).await?;
            Ok(sent)
        }
        .await;
        if result.is_err() && options.resume_from.is_none() {
            // A fresh in-place write that failed leaves no partial file; a resumed one keeps
            // its prefix for the next attempt.
            let _ = tokio::fs::remove_file(real).await;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::temp_name;

    #[test]
    fn temp_names_stay_short_and_hidden() {
        let long = "é".repeat(200);
        let t = temp_name(&long);
        assert!(t.len() <= 255, "{}", t.len());
        assert!(t.starts_with(".é") && t.ends_with(".part"));
        assert_ne!(temp_name("a"), temp_name("a"));
    }
}
