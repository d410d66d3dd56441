//! `read`: `SIZE` (unless the caller knows the size), then `RETR` (after `REST` for an
//! offset), streamed in large chunks.
//!
//! The stream holds its pooled connection until the last byte and the server's final
//! reply have been read; only then does the connection go back to the pool. Dropped
//! early, the stream closes the connection instead (its state is unknown). A transfer that
//! ends with a `426`/`451` reply, or with fewer bytes than `SIZE` announced, is an error:
//! never a silent short file.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{FutureExt, StreamExt};
use tokio::io::AsyncReadExt;

use super::core::{Conn, DataCmd, Transfer};
use super::pool::{Pooled, Server};
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::fs::ByteStream;
use crate::path::RemotePath;

/// The read buffer: bytes asked of the socket per read, at most.
const CHUNK: usize = 1024 * 1024;
/// The buffer is renewed when less than this is left in it.
const MIN_READ: usize = 32 * 1024;
/// A chunk is handed out once it holds this much, or when the socket has nothing more.
const COALESCE: usize = 512 * 1024;

/// Opens `path` at `offset`; `known_size` (the caller's) saves the `SIZE` command.
/// Opening (not streaming) is retried once on a fresh connection when it fails with a
/// retryable error.
pub(super) async fn read(
    server: Arc<Server>,
    path: RemotePath,
    offset: u64,
    known_size: Option<u64>,
) -> Result<ByteStream> {
    let sp = server.path(&path);
    let mut pooled = server.get().await?;
    let mut opened = open_on(&server, &mut pooled.conn, &sp, &path, offset, known_size).await;
    if let Err(e) = &opened
        && e.is_retryable()
    {
        tracing::debug!(error = %e, "read: retrying once on a fresh connection");
        if server.reconnect(&mut pooled).await.is_ok() {
            opened = open_on(&server, &mut pooled.conn, &sp, &path, offset, known_size).await;
        }
    }
    let (transfer, expected) = match opened {
        Ok(Some(t)) => t,
        Ok(None) => {
            server.release(pooled);
            return Ok(crate::stream::empty());
        }
        Err(e) => {
            server.release(pooled);
            return Err(e);
        }
    };
    let idle = server.cfg.timeouts.data_idle;
    let state = ReadState {
        transfer: Some(transfer),
        pooled: Some(pooled),
        server,
        path,
        buf: BytesMut::new(),
        received: 0,
        expected,
        pending: None,
        idle,
    };
    Ok(futures::stream::try_unfold(state, step).boxed())
}

/// `SIZE` (unless known) then `RETR`. `None` when there is nothing to read past `offset`.
async fn open_on(
    server: &Server,
    conn: &mut Conn,
    sp: &str,
    path: &RemotePath,
    offset: u64,
    known_size: Option<u64>,
) -> Result<Option<(Transfer, Option<u64>)>> {
    let at = |f: super::core::Fail| f.at(Operation::Read, path.as_str());
    let size = match known_size {
        Some(n) => Some(n),
        None => match conn.size(sp).await {
            Ok(n) => Some(n),
            // A server without SIZE: the length is checked by the final reply only.
            Err(f) if matches!(f.code(), Some(500 | 502 | 504)) => None,
            Err(f) => return Err(at(f)),
        },
    };
    if let Some(size) = size {
        if offset > size {
            return Err(Error::Protocol {
                op: Operation::Read,
                path: path.as_str().to_owned(),
                code: None,
                message: format!("offset {offset} is past the end of the file ({size} bytes)"),
                kind: ErrorKind::InvalidInput,
            });
        }
        if offset == size {
            return Ok(None);
        }
    }
    let mut epsv_refused = false;
    let transfer = conn
        .open_transfer(DataCmd::Retr(offset), sp, &mut epsv_refused)
        .await;
    if epsv_refused {
        server.epsv_refused();
    }
    Ok(Some((transfer.map_err(at)?, size.map(|s| s - offset))))
}

/// What the byte stream owns.
struct ReadState {
    /// Declared before `pooled`: dropped first, then the (unreleased) connection closes.
    transfer: Option<Transfer>,
    pooled: Option<Pooled>,
    server: Arc<Server>,
    path: RemotePath,
    buf: BytesMut,
    received: u64,
    /// Bytes `SIZE` announced past the offset.
    expected: Option<u64>,
    /// A read error met while coalescing, reported by the next call.
    pending: Option<std::io::Error>,
    idle: Duration,
}

async fn step(mut st: ReadState) -> Result<Option<(Bytes, ReadState)>> {
    let Some(transfer) = st.transfer.as_mut() else {
        return Ok(None);
    };
    if let Some(e) = st.pending.take() {
        return Err(Error::io(Operation::Read, st.path.as_str(), e));
    }
    let need = match st.expected {
        None => CHUNK,
        // The rest and one byte more, so that the end shows in the same read.
        Some(e) if st.received < e => {
            usize::try_from(e - st.received).map_or(CHUNK, |left| left.saturating_add(1).min(CHUNK))
        }
        // At the announced end: a probe for the end of the data.
        Some(e) if st.received == e => 1,
        // The file grew while it was read: read on in full chunks.
        Some(_) => CHUNK,
    };
    if st.buf.capacity() - st.buf.len() < need.min(MIN_READ) {
        // Once the consumer has dropped every chunk cut from the buffer, this takes the
        // same memory back (still warm in the cache) instead of allocating afresh.
        st.buf.reserve(need);
    }
    let read = tokio::time::timeout(st.idle, transfer.read_buf(&mut st.buf)).await;
    let n = match read {
        Err(_) => {
            return Err(Error::Timeout {
                op: Operation::Read,
                path: st.path.as_str().to_owned(),
                after: st.idle,
            });
        }
        // A TLS peer that closes without `close_notify`: the end of the data, as far as
        // this socket can tell; the final reply and `SIZE` decide whether it was all.
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
        Ok(Err(e)) => return Err(Error::io(Operation::Read, st.path.as_str(), e)),
        Ok(Ok(n)) => n,
    };
    if n == 0 {
        return finish(st).await.map(|()| None);
    }
    // Take what else the socket already holds (TLS hands out one 16 KiB record per read),
    // so that chunks are large and few. An error seen here surfaces on the next call.
    let mut total = n;
    while st.buf.len() < COALESCE && st.buf.capacity() - st.buf.len() >= MIN_READ {
        match transfer.read_buf(&mut st.buf).now_or_never() {
            Some(Ok(m)) if m > 0 => total += m,
            Some(Err(e)) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                st.pending = Some(e);
                break;
            }
            _ => break,
        }
    }
    st.received += total as u64;
    let chunk = st.buf.split().freeze();
    Ok(Some((chunk, st)))
}

/// End of data: the final reply must be a success and the length must match `SIZE`.
async fn finish(mut st: ReadState) -> Result<()> {
    let (Some(transfer), Some(mut pooled)) = (st.transfer.take(), st.pooled.take()) else {
        return Ok(());
    };
    let reply = pooled.conn.finish(transfer).await;
    st.server.release(pooled);
    reply.map_err(|f| f.at(Operation::Read, st.path.as_str()))?;
    match st.expected {
        Some(expected) if st.received < expected => Err(Error::Truncated {
            op: Operation::Read,
            path: st.path.as_str().to_owned(),
            received: st.received,
            expected,
        }),
        _ => Ok(()),
    }
}
