//! `write`: atomic by default — `STOR` to a temporary name in the same folder, `MFMT`
//! it, then `RNFR`/`RNTO` over the target — or in place (`STOR` on the target), or
//! resumed (`REST` + `STOR`, or `APPE` after checking `SIZE`).
//!
//! Bytes go from the caller's stream to the data connection through one write buffer:
//! memory does not depend on the file size. On any failure the data connection is
//! dropped, the server's reply to that is awaited, and the temporary file (or, in place,
//! the partial target) is removed.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::core::{Conn, DataCmd, Fail, Transfer};
use super::pool::Server;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::fs::{ByteStream, WriteMode, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

/// The data connection's write buffer: large writes skip it, small chunks are gathered.
const WRITE_BUFFER: usize = 256 * 1024;

/// The longest part of the target's name kept in the temporary name.
const TEMP_NAME_KEEP: usize = 100;

/// Writes `path` from `data`; see the module docs.
pub(super) async fn write(
    server: &Server,
    path: &RemotePath,
    data: ByteStream,
    options: &WriteOptions,
) -> Result<WriteOutcome> {
    let op = Operation::Write;
    let at = |f: Fail| f.at(op, path.as_str());
    let name = path
        .file_name()
        .ok_or_else(|| Error::InvalidPath {
            path: String::new(),
            reason: "cannot write to the root",
        })?
        .to_owned();
    let target = server.path(path);
    let in_place = options.resume_from.is_some()
        || options.mode == WriteMode::InPlace
        || server.cfg.write_mode == WriteMode::InPlace;

    let mut pooled = server.get().await?;
    let conn = &mut pooled.conn;
    let prepared = prepare(server, conn, path, &target, options).await;
    let cmd = match prepared {
        Ok(cmd) => cmd,
        Err(e) => {
            server.release(pooled);
            return Err(e);
        }
    };
    let upload_to = if in_place {
        target.clone()
    } else {
        let parent = path.parent().unwrap_or(RemotePath::ROOT);
        server.path(&parent.join(&temp_name(&name))?)
    };

    // Open the data connection; nothing of `data` has been taken yet, so a retryable
    // failure is tried once more on a fresh connection.
    let mut epsv_refused = false;
    let mut opened = pooled
        .conn
        .open_transfer(cmd, &upload_to, &mut epsv_refused)
        .await;
    if let Err(f) = &opened
        && f.code().is_none_or(|c| matches!(c, 421 | 425 | 426))
        && server.reconnect(&mut pooled).await.is_ok()
    {
        opened = pooled
            .conn
            .open_transfer(cmd, &upload_to, &mut epsv_refused)
            .await;
    }
    if epsv_refused {
        server.epsv_refused();
    }
    let transfer = match opened {
        Ok(t) => t,
        Err(f) => {
            server.release(pooled);
            return Err(at(f));
        }
    };

    let idle = server.cfg.timeouts.data_idle;
    let sent = send(transfer, data, options.expected_len, idle, path).await;
    let outcome = match sent {
        Ok((transfer, bytes)) => {
            let conn = &mut pooled.conn;
            match conn.finish(transfer).await.map_err(at) {
                Ok(()) => finish(server, conn, path, &upload_to, &target, in_place, options)
                    .await
                    .map(|modified_set| WriteOutcome::new(bytes, modified_set)),
                Err(e) => Err(e),
            }
        }
        Err(e) => {
            // The data connection was dropped half-way. Reading the server's reply to it
            // (the next command drains it) means the server has closed the file, so the
            // clean-up below cannot race the end of the upload.
            pooled.conn.resync().await;
            Err(e)
        }
    };
    if outcome.is_err() && (!in_place || options.resume_from.is_none()) {
        // Leave nothing behind: the temporary file, or the partial target in place.
        if !pooled.conn.healthy {
            let _ = server.reconnect(&mut pooled).await;
        }
        if let Err(f) = pooled.conn.dele(&upload_to).await
            && f.code() != Some(550)
        {
            tracing::warn!(path = %path, "could not remove a failed upload");
        }
    }
    server.release(pooled);
    outcome
}

/// Checks done before any byte is sent: `overwrite: false`, and the offset of a resume.
/// Returns the command that will carry the data.
async fn prepare(
    server: &Server,
    conn: &mut Conn,
    path: &RemotePath,
    target: &str,
    options: &WriteOptions,
) -> Result<DataCmd> {
    let op = Operation::Write;
    if let Some(offset) = options.resume_from {
        let f = &server.features;
        if !f.rest_stream && !f.size {
            return Err(Error::unsupported(op, "ftp"));
        }
        let have = match conn.size(target).await {
            Ok(n) => n,
            Err(f) if f.code() == Some(550) && offset == 0 => 0,
            Err(f) => return Err(f.at(op, path.as_str())),
        };
        if have != offset {
            return Err(Error::Protocol {
                op,
                path: path.as_str().to_owned(),
                code: None,
                message: format!("cannot resume at {offset}: the file holds {have} bytes"),
                kind: ErrorKind::Conflict,
            });
        }
        return Ok(if offset == 0 {
            DataCmd::Stor(0)
        } else if f.rest_stream {
            DataCmd::Stor(offset)
        } else {
            DataCmd::Appe
        });
    }
    if !options.overwrite {
        match conn.size(target).await {
            Ok(_) => {
                return Err(Error::AlreadyExists {
                    op,
                    path: path.as_str().to_owned(),
                });
            }
            Err(f) if f.code() == Some(550) => {
                // Not a file; a directory of that name is a conflict too.
                if conn.cwd(target).await.is_ok() {
                    return Err(Error::AlreadyExists {
                        op,
                        path: path.as_str().to_owned(),
                    });
                }
            }
            Err(f) => return Err(f.at(op, path.as_str())),
        }
    }
    Ok(DataCmd::Stor(0))
}

/// Copies the stream to the data connection and flushes it; returns the transfer (to be
/// finished) and the bytes sent. On failure the transfer is dropped.
async fn send(
    transfer: Transfer,
    mut data: ByteStream,
    expected: Option<u64>,
    idle: Duration,
    path: &RemotePath,
) -> Result<(Transfer, u64)> {
    let op = Operation::Write;
    let truncated = |sent: u64, expected: u64| Error::Truncated {
        op,
        path: path.as_str().to_owned(),
        received: sent,
        expected,
    };
    let timeout = || Error::Timeout {
        op,
        path: path.as_str().to_owned(),
        after: idle,
    };
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, transfer);
    let mut sent = 0u64;
    while let Some(chunk) = data.next().await {
        let chunk: Bytes = chunk?;
        sent += chunk.len() as u64;
        if let Some(exp) = expected
            && sent > exp
        {
            return Err(truncated(sent, exp));
        }
        match tokio::time::timeout(idle, out.write_all(&chunk)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(Error::io(op, path.as_str(), e)),
            Err(_) => return Err(timeout()),
        }
    }
    if let Some(exp) = expected
        && sent != exp
    {
        return Err(truncated(sent, exp));
    }
    match tokio::time::timeout(idle, out.flush()).await {
        Ok(Ok(())) => Ok((out.into_inner(), sent)),
        Ok(Err(e)) => Err(Error::io(op, path.as_str(), e)),
        Err(_) => Err(timeout()),
    }
}

/// After a successful upload: `MFMT`, then the rename into place. Returns whether the
/// modification time was set.
async fn finish(
    server: &Server,
    conn: &mut Conn,
    path: &RemotePath,
    uploaded: &str,
    target: &str,
    in_place: bool,
    options: &WriteOptions,
) -> Result<bool> {
    let mut modified_set = false;
    if let Some(time) = options.modified
        && server.features.mfmt
    {
        // A refused MFMT does not fail the upload: the outcome says it was not applied.
        match conn.mfmt(time, uploaded).await {
            Ok(()) => modified_set = true,
            Err(f) => {
                tracing::debug!(path = %path, error = %f.at(Operation::SetModified, path.as_str()), "MFMT refused")
            }
        }
    }
    if !in_place {
        rename_over(conn, uploaded, target, options.overwrite)
            .await
            .map_err(|f| f.at(Operation::Write, path.as_str()))?;
    }
    Ok(modified_set)
}

/// `RNFR`/`RNTO`. A server that refuses to rename onto an existing file (IIS, some
/// Windows servers) gets the target removed first — only when `from` exists and `to` is a
/// file — so readers may briefly see no file, but never a partial one.
pub(super) async fn rename_over(
    conn: &mut Conn,
    from: &str,
    to: &str,
    overwrite: bool,
) -> std::result::Result<(), Fail> {
    match conn.rename(from, to).await {
        Err(f) if overwrite && matches!(f.code(), Some(550 | 553 | 450)) => {
            if conn.size(from).await.is_ok() && conn.size(to).await.is_ok() {
                conn.dele(to).await?;
                conn.rename(from, to).await
            } else {
                Err(f)
            }
        }
        r => r,
    }
}

/// `.<name>.<random>.part`: hidden on Unix listings, unique, in the target's folder.
fn temp_name(name: &str) -> String {
    let mut keep = name.len().min(TEMP_NAME_KEEP);
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!(".{}.{:08x}.part", &name[..keep], rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_valid_unique_and_bounded() {
        let long = "é".repeat(200);
        let t = temp_name(&long);
        assert!(t.len() < 130, "{}", t.len());
        RemotePath::check_name(&t).unwrap();
        assert_ne!(temp_name("a.jpg"), temp_name("a.jpg"));
        assert!(temp_name("a.jpg").starts_with(".a.jpg."));
    }
}
