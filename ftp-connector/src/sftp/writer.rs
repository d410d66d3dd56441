//! Pipelined writes: a [`ByteStream`] into a remote file, many WRITE requests in flight;
//! atomic by default (a temporary name in the same folder, then a rename over the target).

use std::io;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, OpenFlags, Packet, StatusCode};

use super::backend::SftpFs;
use super::pool::Lease;
use super::reader::OpenHandle;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::fs::{ByteStream, WriteMode, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

const OP: Operation = Operation::Write;

impl SftpFs {
    /// [`RemoteFs::write`](crate::RemoteFs::write) for SFTP.
    pub(super) async fn write_file(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        let rel = path.as_str();
        let Some(name) = path.file_name() else {
            return Err(io_error(
                rel,
                io::ErrorKind::IsADirectory,
                "the root is a directory",
            ));
        };
        let lease = self.pool().get().await?;
        let target = self.server_path(path);
        // Looking first costs a round trip, so only when the options depend on it.
        if !options.overwrite || options.resume_from.is_some() {
            self.check_target(&lease, &target, rel, options).await?;
        }
        let in_place = options.resume_from.is_some()
            || options.mode == WriteMode::InPlace
            || self.settings().write_mode == WriteMode::InPlace;
        if in_place {
            return self.write_in_place(lease, target, rel, data, options).await;
        }

        let temp = temp_path(&target, name);
        let flags = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::TRUNCATE;
        let handle = self.open_handle(&lease, &temp, flags, rel).await?;
        let sent = match self.upload(&lease, handle, 0, data, options, rel).await {
            Ok(sent) => sent,
            Err(e) => return Err(self.discard(&lease, temp, e).await),
        };
        let modified_set = match self
            .apply_modified(&lease, &temp, rel, options.modified)
            .await
        {
            Ok(set) => set,
            Err(e) => return Err(self.discard(&lease, temp, e).await),
        };
        if let Err(e) = self
            .replace(&lease, (&temp, &target), OP, rel, options.overwrite)
            .await
        {
            return Err(self.discard(&lease, temp, e).await);
        }
        Ok(WriteOutcome::new(sent, modified_set))
    }

    async fn write_in_place(
        &self,
        lease: Lease,
        target: String,
        rel: &str,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        let start = options.resume_from.unwrap_or(0);
        let flags = match options.resume_from {
            Some(_) => OpenFlags::WRITE | OpenFlags::CREATE,
            None => OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::TRUNCATE,
        };
        let handle = self.open_handle(&lease, &target, flags, rel).await?;
        if options.resume_from.is_some() {
            // Drop anything past the resume point, so the file ends up exactly as sent.
            let mut attrs = FileAttributes::empty();
            attrs.size = Some(start);
            if let Err(e) = lease.sftp.fsetstat(handle.name(), attrs).await {
                return Err(lease.error(OP, rel, e));
            }
        }
        let result = async {
            let sent = self
                .upload(&lease, handle, start, data, options, rel)
                .await?;
            let set = self
                .apply_modified(&lease, &target, rel, options.modified)
                .await?;
            Ok(WriteOutcome::new(sent, set))
        }
        .await;
        match result {
            Ok(outcome) => Ok(outcome),
            Err(e) => Err(self.discard(&lease, target, e).await),
        }
    }

    /// Refuses an existing target when not overwriting, and checks a resume offset.
    async fn check_target(
        &self,
        lease: &Lease,
        target: &str,
        rel: &str,
        options: &WriteOptions,
    ) -> Result<()> {
        match lease.sftp.lstat(target).await {
            Ok(attrs) if is_dir(&attrs.attrs) => {
                Err(io_error(rel, io::ErrorKind::IsADirectory, "is a directory"))
            }
            Ok(attrs) => match options.resume_from {
                Some(offset) if attrs.attrs.size.unwrap_or(0) < offset => Err(io_error(
                    rel,
                    io::ErrorKind::InvalidInput,
                    "resume offset is past the end of the partial file",
                )),
                Some(_) => Ok(()),
                None => Err(Error::AlreadyExists {
                    op: OP,
                    path: rel.to_owned(),
                }),
            },
            Err(SftpError::Status(s)) if s.status_code == StatusCode::NoSuchFile => {
                match options.resume_from {
                    Some(offset) if offset > 0 => Err(Error::NotFound {
                        op: OP,
                        path: rel.to_owned(),
                    }),
                    _ => Ok(()),
                }
            }
            Err(e) => Err(lease.error(OP, rel, e)),
        }
    }

    async fn open_handle(
        &self,
        lease: &Lease,
        server_path: &str,
        flags: OpenFlags,
        rel: &str,
    ) -> Result<OpenHandle> {
        let handle = lease
            .sftp
            .open(server_path, flags, FileAttributes::empty())
            .await
            .map_err(|e| lease.error(OP, rel, e))?
            .handle;
        Ok(OpenHandle {
            sftp: lease.sftp.clone(),
            handle: Some(handle),
        })
    }

    /// Sends the stream from `offset`, then fsyncs (if asked and offered) and closes the
    /// handle, waiting for every reply. Returns the bytes sent.
    async fn upload(
        &self,
        lease: &Lease,
        mut handle: OpenHandle,
        offset: u64,
        data: ByteStream,
        options: &WriteOptions,
        rel: &str,
    ) -> Result<u64> {
        let sent = pump(
            lease,
            &handle,
            offset,
            data,
            options.expected_len,
            self.settings().max_in_flight,
            rel,
        )
        .await?;
        if self.settings().fsync && lease.features.fsync {
            lease
                .sftp
                .fsync(handle.name())
                .await
                .map_err(|e| lease.error(OP, rel, e))?;
        }
        // CLOSE is where some servers report a failed write (a full disk): wait for it.
        if let Some(h) = handle.handle.take() {
            lease
                .sftp
                .close(h)
                .await
                .map_err(|e| lease.error(OP, rel, e))?;
        }
        Ok(sent)
    }

    /// Sets the modification time; `Ok(false)` when the server will not.
    async fn apply_modified(
        &self,
        lease: &Lease,
        server_path: &str,
        rel: &str,
        t: Option<DateTime<Utc>>,
    ) -> Result<bool> {
        let Some(t) = t else { return Ok(false) };
        match lease.sftp.setstat(server_path, times(t, rel)?).await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = lease.error(OP, rel, e);
                match e.kind() {
                    ErrorKind::Unsupported | ErrorKind::PermissionDenied => Ok(false),
                    _ => Err(e),
                }
            }
        }
    }

    /// Renames `from` over `to`: atomically with `posix-rename@openssh.com` where the
    /// server offers it; otherwise with a plain SFTPv3 rename, which never replaces, so an
    /// existing target file is removed first (not atomic).
    pub(super) async fn replace(
        &self,
        lease: &Lease,
        (from, to): (&str, &str),
        op: Operation,
        rel: &str,
        overwrite: bool,
    ) -> Result<()> {
        let first = if overwrite && lease.features.posix_rename {
            posix_rename(lease, from, to).await
        } else {
            lease.sftp.rename(from, to).await.map(|_| ())
        };
        let failure = match first {
            Ok(()) => return Ok(()),
            Err(SftpError::Status(s)) if s.status_code == StatusCode::Failure => {
                SftpError::Status(s)
            }
            Err(e) => return Err(lease.error(op, rel, e)),
        };
        // SSH_FX_FAILURE says nothing; look at the target to tell what clashed.
        match lease.sftp.lstat(to).await {
            Ok(attrs) if is_dir(&attrs.attrs) => Err(Error::io(
                op,
                rel,
                io::Error::new(io::ErrorKind::IsADirectory, "target is a directory"),
            )),
            Ok(_) if !overwrite => Err(Error::AlreadyExists {
                op,
                path: rel.to_owned(),
            }),
            Ok(_) if !lease.features.posix_rename => {
                lease
                    .sftp
                    .remove(to)
                    .await
                    .map_err(|e| lease.error(op, rel, e))?;
                lease
                    .sftp
                    .rename(from, to)
                    .await
                    .map(|_| ())
                    .map_err(|e| lease.error(op, rel, e))
            }
            _ => Err(lease.error(op, rel, failure)),
        }
    }

    /// Removes a temporary or partial file after `error`, and returns `error`. On a dead
    /// session the removal is tried on a fresh one, in the background.
    async fn discard(&self, lease: &Lease, server_path: String, error: Error) -> Error {
        if lease.is_alive() {
            let _ = lease.sftp.remove(server_path).await;
        } else {
            let pool = self.pool().clone();
            tokio::spawn(async move {
                if let Ok(lease) = pool.get().await {
                    let _ = lease.sftp.remove(server_path).await;
                }
            });
        }
        error
    }
}

/// Moves the stream into WRITE requests of `write_len` bytes, keeping up to `max_in_flight`
/// unanswered. Memory stays at about `max_in_flight × write_len` whatever the file size.
async fn pump(
    lease: &Lease,
    handle: &OpenHandle,
    start: u64,
    mut data: ByteStream,
    expected: Option<u64>,
    max_in_flight: usize,
    rel: &str,
) -> Result<u64> {
    let chunk = lease.features.write_len.max(1) as usize;
    let max_in_flight = max_in_flight.max(1);
    let mut in_flight: FuturesUnordered<BoxFuture<'static, std::result::Result<(), SftpError>>> =
        FuturesUnordered::new();
    let mut buf: Vec<u8> = Vec::with_capacity(chunk);
    // The part of the last input chunk not yet copied into `buf`.
    let mut pending = bytes::Bytes::new();
    let mut offset = start;
    let mut received = 0u64;
    let mut input_done = false;
    loop {
        while in_flight.len() < max_in_flight {
            if !pending.is_empty() && buf.len() < chunk {
                let take = (chunk - buf.len()).min(pending.len());
                buf.extend_from_slice(&pending.split_to(take));
            } else if buf.len() == chunk || (input_done && !buf.is_empty()) {
                let body = std::mem::replace(&mut buf, Vec::with_capacity(chunk));
                let len = body.len() as u64;
                let sftp = handle.sftp.clone();
                let h = handle.name().to_owned();
                in_flight
                    .push(async move { sftp.write(h, offset, body).await.map(|_| ()) }.boxed());
                offset += len;
            } else {
                break;
            }
        }
        if input_done && pending.is_empty() && buf.is_empty() {
            break;
        }
        let want_input = !input_done && pending.is_empty() && buf.len() < chunk;
        tokio::select! {
            // Replies first: a failed WRITE stops the upload as soon as it is known.
            biased;
            Some(reply) = in_flight.next(), if !in_flight.is_empty() => {
                reply.map_err(|e| lease.error(OP, rel, e))?;
            }
            item = data.next(), if want_input => match item {
                Some(Ok(bytes)) => {
                    received += bytes.len() as u64;
                    if let Some(expected) = expected.filter(|&e| received > e) {
                        return Err(Error::Truncated { op: OP, path: rel.to_owned(), received, expected });
                    }
                    pending = bytes;
                }
                Some(Err(e)) => return Err(e),
                None => input_done = true,
            },
            else => break,
        }
    }
    while let Some(reply) = in_flight.next().await {
        reply.map_err(|e| lease.error(OP, rel, e))?;
    }
    if let Some(expected) = expected.filter(|&e| e != received) {
        return Err(Error::Truncated {
            op: OP,
            path: rel.to_owned(),
            received,
            expected,
        });
    }
    Ok(received)
}

/// `posix-rename@openssh.com`: rename that replaces the target atomically.
async fn posix_rename(lease: &Lease, from: &str, to: &str) -> std::result::Result<(), SftpError> {
    let mut body = Vec::with_capacity(8 + from.len() + to.len());
    for s in [from, to] {
        body.extend_from_slice(&(s.len() as u32).to_be_bytes());
        body.extend_from_slice(s.as_bytes());
    }
    match lease
        .sftp
        .extended("posix-rename@openssh.com", body)
        .await?
    {
        Packet::Status(s) if s.status_code == StatusCode::Ok => Ok(()),
        Packet::Status(s) => Err(SftpError::Status(s)),
        _ => Err(SftpError::UnexpectedPacket),
    }
}

/// SETSTAT attributes for a modification time (SFTPv3 sets access and modification
/// time together; both get `t`).
pub(super) fn times(t: DateTime<Utc>, rel: &str) -> Result<FileAttributes> {
    let secs = u32::try_from(t.timestamp()).map_err(|_| {
        io_error(
            rel,
            io::ErrorKind::InvalidInput,
            "SFTP v3 stores times from 1970 to 2106 only",
        )
    })?;
    let mut attrs = FileAttributes::empty();
    attrs.atime = Some(secs);
    attrs.mtime = Some(secs);
    Ok(attrs)
}

pub(super) fn is_dir(attrs: &FileAttributes) -> bool {
    attrs.permissions.is_some_and(|p| p & 0o170000 == 0o040000)
}

fn io_error(rel: &str, kind: io::ErrorKind, message: &'static str) -> Error {
    Error::io(OP, rel, io::Error::new(kind, message))
}

/// `dir/.name.<random>.part` beside `target`; the name is shortened so that the whole
/// stays within the usual 255-byte limit.
fn temp_path(target: &str, name: &str) -> String {
    let dir = target.rsplit_once('/').map_or("", |(d, _)| d);
    let mut cut = name.len().min(200);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{dir}/.{}.{:016x}.part",
        &name[..cut],
        rand::random::<u64>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_sit_beside_the_target_and_stay_short() {
        let t = temp_path("/srv/in/photo 1.jpg", "photo 1.jpg");
        assert!(
            t.starts_with("/srv/in/.photo 1.jpg.") && t.ends_with(".part"),
            "{t}"
        );
        assert_ne!(t, temp_path("/srv/in/photo 1.jpg", "photo 1.jpg"));
        let long = "é".repeat(127);
        let t = temp_path(&format!("/{long}"), &long);
        assert!(t.rsplit('/').next().unwrap().len() <= 255);
        assert!(temp_path("/a.jpg", "a.jpg").starts_with("/.a.jpg."));
    }

    #[test]
    fn times_outside_sftp_v3_are_refused() {
        use chrono::TimeZone;
        let ok = Utc.with_ymd_and_hms(2026, 11, 27, 15, 5, 42).unwrap();
        assert_eq!(times(ok, "a").unwrap().mtime, Some(ok.timestamp() as u32));
        let old = Utc.with_ymd_and_hms(1969, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(times(old, "a").unwrap_err().kind(), ErrorKind::InvalidInput);
    }
}
