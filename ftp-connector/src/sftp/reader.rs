//! Pipelined reads: one file as a [`ByteStream`], with many READ requests in flight.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, Stream, StreamExt};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{Attrs, FileAttributes, OpenFlags, StatusCode};

use super::core::Session;
use super::pool::Lease;
use crate::error::{Error, Operation, Result};
use crate::fs::ByteStream;

/// Requests sent before the file's size is known: enough for a small file to arrive in
/// one round trip, few enough that a tiny file wastes little.
const SPECULATIVE: usize = 4;

/// The smallest READ we shrink to when a server answers short.
const MIN_READ: u32 = 4096;

type ReadReply = (u64, u32, std::result::Result<Vec<u8>, SftpError>);

/// An open remote handle, closed in the background when dropped.
pub(crate) struct OpenHandle {
    pub(crate) sftp: std::sync::Arc<russh_sftp::client::RawSftpSession>,
    pub(crate) handle: Option<String>,
}

impl OpenHandle {
    pub(crate) fn name(&self) -> &str {
        self.handle.as_deref().unwrap_or("")
    }
}

impl Drop for OpenHandle {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        let sftp = self.sftp.clone();
        // Nothing waits for this reply: a failed CLOSE after a read changes nothing.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = sftp.close(handle).await;
            });
        }
    }
}

/// Opens `server_path` and streams it from `offset`. With the file's size known (the
/// caller's), no `FSTAT` is sent and the pipeline fills at once.
pub(crate) async fn open(
    lease: Lease,
    server_path: String,
    rel: &str,
    (offset, known_size): (u64, Option<u64>),
    max_in_flight: usize,
) -> Result<ByteStream> {
    let handle = lease
        .sftp
        .open(server_path, OpenFlags::READ, FileAttributes::empty())
        .await
        .map_err(|e| lease.error(Operation::Read, rel, e))?
        .handle;
    let handle = OpenHandle {
        sftp: lease.sftp.clone(),
        handle: Some(handle),
    };
    let sftp = lease.sftp.clone();
    let h = handle.name().to_owned();
    // FSTAT goes out with the first READs; the size it reports lets a stream that ends
    // early be told apart from the end of the file.
    let fstat = match known_size {
        Some(_) => None,
        None => Some(async move { sftp.fstat(h).await }.boxed()),
    };
    Ok(Reader {
        chunk: lease.features.read_len,
        lease: Some(lease),
        handle: Some(handle),
        path: rel.to_owned(),
        start: offset,
        next: offset,
        size: known_size,
        fstat,
        queue: FuturesOrdered::new(),
        max_in_flight: max_in_flight.max(1),
        eof_at: None,
    }
    .boxed())
}

/// The state of one read stream.
struct Reader {
    /// The session (and the pool permit) this stream uses; released when the stream ends.
    lease: Option<Lease>,
    handle: Option<OpenHandle>,
    /// The path relative to the backend root, for errors.
    path: String,
    start: u64,
    /// The offset of the next READ to send.
    next: u64,
    /// The file's size when it was opened.
    size: Option<u64>,
    fstat: Option<BoxFuture<'static, std::result::Result<Attrs, SftpError>>>,
    /// READs in flight, answered in order.
    queue: FuturesOrdered<BoxFuture<'static, ReadReply>>,
    chunk: u32,
    max_in_flight: usize,
    /// Where the server said the file ends, while the size is still unknown.
    eof_at: Option<u64>,
}

impl Reader {
    fn session(&self) -> Option<&Session> {
        self.lease.as_deref()
    }

    fn request(&self, offset: u64, len: u32) -> BoxFuture<'static, ReadReply> {
        let handle = self
            .handle
            .as_ref()
            .map(|h| h.name().to_owned())
            .unwrap_or_default();
        let sftp = self.handle.as_ref().map(|h| h.sftp.clone());
        async move {
            let result = match sftp {
                Some(s) => s.read(handle, offset, len).await.map(|d| d.data),
                None => Err(SftpError::UnexpectedBehavior("session closed".into())),
            };
            (offset, len, result)
        }
        .boxed()
    }

    /// Keeps the pipeline full: up to `max_in_flight` READs (a few while the size is
    /// unknown), ending with one READ at the size to confirm the end of the file.
    fn top_up(&mut self) {
        let limit = match self.size {
            Some(_) => self.max_in_flight,
            None => self.max_in_flight.min(SPECULATIVE),
        };
        while self.queue.len() < limit {
            let len = match self.size {
                Some(size) if self.next > size => break,
                // Requests end exactly at the size, so the file needs no short reply.
                Some(size) if self.next < size => {
                    u32::try_from(size - self.next).map_or(self.chunk, |left| left.min(self.chunk))
                }
                _ => self.chunk,
            };
            let request = self.request(self.next, len);
            self.queue.push_back(request);
            self.next = self.next.saturating_add(u64::from(len.max(1)));
        }
    }

    /// Ends the stream: drops the requests in flight (late replies are ignored), closes
    /// the handle and gives the session back.
    fn finish(&mut self) {
        self.queue = FuturesOrdered::new();
        self.fstat = None;
        self.handle = None;
        self.lease = None;
    }

    fn fail(&mut self, e: SftpError) -> Poll<Option<Result<Bytes>>> {
        let err = match self.session() {
            Some(s) => s.error(Operation::Read, &self.path, e),
            None => super::core::map_sftp_error(
                e,
                Operation::Read,
                &self.path,
                false,
                Default::default(),
            ),
        };
        self.finish();
        Poll::Ready(Some(Err(err)))
    }

    /// The file ended at `offset`: an error if that is before the size seen at open.
    fn end_at(&mut self, offset: u64) -> Poll<Option<Result<Bytes>>> {
        let short = self.size.filter(|&size| offset < size);
        self.finish();
        match short {
            Some(size) => Poll::Ready(Some(Err(Error::Truncated {
                op: Operation::Read,
                path: std::mem::take(&mut self.path),
                received: offset.saturating_sub(self.start),
                expected: size.saturating_sub(self.start),
            }))),
            None => Poll::Ready(None),
        }
    }
}

impl Stream for Reader {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.lease.is_none() {
            return Poll::Ready(None);
        }
        if let Some(fstat) = this.fstat.as_mut() {
            match fstat.as_mut().poll(cx) {
                Poll::Ready(Ok(attrs)) => {
                    this.fstat = None;
                    if attrs
                        .attrs
                        .permissions
                        .is_some_and(|p| p & 0o170000 == 0o040000)
                    {
                        this.finish();
                        return Poll::Ready(Some(Err(Error::io(
                            Operation::Read,
                            std::mem::take(&mut this.path),
                            std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
                        ))));
                    }
                    this.size = attrs.attrs.size;
                }
                Poll::Ready(Err(e)) => return this.fail(e),
                Poll::Pending => {}
            }
        }
        if let Some(offset) = this.eof_at {
            return match this.fstat {
                Some(_) => Poll::Pending,
                None => this.end_at(offset),
            };
        }
        this.top_up();
        let (offset, len, result) = match this.queue.poll_next_unpin(cx) {
            Poll::Pending => return Poll::Pending,
            // Nothing in flight: only while waiting for the size (its waker is set).
            Poll::Ready(None) if this.fstat.is_some() => return Poll::Pending,
            Poll::Ready(None) => return this.end_at(this.next),
            Poll::Ready(Some(reply)) => reply,
        };
        match result {
            Ok(data) if !data.is_empty() => {
                let n = data.len() as u64;
                let reached = offset + n;
                match this.size {
                    // The server stopped at the size seen at open: the end. Later requests
                    // are dropped so that bytes appended meanwhile cannot follow a hole.
                    Some(size) if n < u64::from(len) && reached >= size => this.finish(),
                    // A short answer in mid-file: read the gap before anything queued
                    // behind it, and ask for no more than the server gives from now on.
                    _ if n < u64::from(len) => {
                        let gap = this.request(reached, len - n as u32);
                        this.queue.push_front(gap);
                        this.chunk = this.chunk.min((n as u32).max(MIN_READ));
                    }
                    // The file grew since it was opened: keep reading to its new end.
                    Some(size) if reached > size => this.size = Some(reached),
                    _ => {}
                }
                return Poll::Ready(Some(Ok(Bytes::from(data))));
            }
            Ok(_) => {}
            Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => {}
            Err(e) => return this.fail(e),
        }
        // End of file at `offset`: every byte before it has been yielded.
        if this.fstat.is_some() {
            this.eof_at = Some(offset);
            this.queue = FuturesOrdered::new();
            return Poll::Pending;
        }
        this.end_at(offset)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use futures::TryStreamExt;
    use russh_sftp::protocol::{Attrs, Data, Handle, Status, Version};
    use russh_sftp::server::StatusReply;

    use super::*;
    use crate::sftp::core::{Features, Session};
    use crate::sftp::pool::Lease;

    /// A scripted SFTP server holding one file, whose READs answer at most `max_read`
    /// bytes and whose FSTAT reports `claimed_size`.
    struct Scripted {
        content: Arc<Vec<u8>>,
        max_read: usize,
        claimed_size: u64,
    }

    impl russh_sftp::server::Handler for Scripted {
        type Error = StatusReply;

        fn unimplemented(&self) -> StatusReply {
            StatusCode::OpUnsupported.into()
        }

        async fn init(
            &mut self,
            _: u32,
            _: HashMap<String, String>,
        ) -> Result<Version, StatusReply> {
            Ok(Version::new())
        }

        async fn open(
            &mut self,
            id: u32,
            _: String,
            _: OpenFlags,
            _: FileAttributes,
        ) -> Result<Handle, StatusReply> {
            Ok(Handle {
                id,
                handle: "h".into(),
            })
        }

        async fn fstat(&mut self, id: u32, _: String) -> Result<Attrs, StatusReply> {
            let mut attrs = FileAttributes::empty();
            attrs.size = Some(self.claimed_size);
            attrs.permissions = Some(0o100644);
            Ok(Attrs { id, attrs })
        }

        async fn read(
            &mut self,
            id: u32,
            _: String,
            offset: u64,
            len: u32,
        ) -> Result<Data, StatusReply> {
            let start = offset as usize;
            if start >= self.content.len() {
                return Err(StatusCode::Eof.into());
            }
            let end = self
                .content
                .len()
                .min(start + (len as usize).min(self.max_read));
            Ok(Data {
                id,
                data: self.content[start..end].to_vec(),
            })
        }

        async fn close(&mut self, id: u32, _: String) -> Result<Status, StatusReply> {
            Ok(Status {
                id,
                status_code: StatusCode::Ok,
                error_message: String::new(),
                language_tag: "en".into(),
            })
        }
    }

    fn content(n: usize) -> Arc<Vec<u8>> {
        Arc::new((0..n).map(|i| (i * 7 % 251) as u8).collect())
    }

    async fn stream_from(server: Scripted, chunk: u32, offset: u64) -> ByteStream {
        let (client, remote) = tokio::io::duplex(1 << 20);
        russh_sftp::server::run(remote, server).await;
        let features = Features {
            posix_rename: false,
            fsync: false,
            read_len: chunk,
            write_len: chunk,
        };
        let session = Arc::new(Session::over_stream(client, features).await);
        open(
            Lease::detached(session),
            "/f".into(),
            "f",
            (offset, None),
            8,
        )
        .await
        .unwrap()
    }

    async fn collect(s: ByteStream) -> Result<Vec<u8>> {
        let chunks: Vec<Bytes> = s.try_collect().await?;
        Ok(chunks.concat())
    }

    #[tokio::test]
    async fn short_answers_mid_file_are_filled_in_order() {
        let data = content(300_000);
        let server = Scripted {
            content: data.clone(),
            max_read: 1000,
            claimed_size: 300_000,
        };
        let got = collect(stream_from(server, 32 * 1024, 0).await)
            .await
            .unwrap();
        assert!(got == *data, "{} bytes back", got.len());
        let server = Scripted {
            content: data.clone(),
            max_read: 1000,
            claimed_size: 300_000,
        };
        let got = collect(stream_from(server, 32 * 1024, 123_457).await)
            .await
            .unwrap();
        assert!(got[..] == data[123_457..], "{} bytes back", got.len());
    }

    #[tokio::test]
    async fn a_file_that_ends_before_its_size_is_an_error_not_a_short_file() {
        for max_read in [1000, 64 * 1024] {
            let server = Scripted {
                content: content(100_000),
                max_read,
                claimed_size: 150_000,
            };
            match collect(stream_from(server, 32 * 1024, 0).await).await {
                Err(Error::Truncated {
                    received, expected, ..
                }) => {
                    assert_eq!((received, expected), (100_000, 150_000));
                }
                other => panic!("max_read {max_read}: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_file_that_grew_is_read_to_its_new_end() {
        let data = content(200_000);
        let server = Scripted {
            content: data.clone(),
            max_read: 64 * 1024,
            claimed_size: 70_000,
        };
        let got = collect(stream_from(server, 32 * 1024, 0).await)
            .await
            .unwrap();
        assert!(got == *data, "{} bytes back", got.len());
    }

    #[tokio::test]
    async fn empty_files_and_offsets_past_the_end_yield_nothing() {
        let server = Scripted {
            content: content(0),
            max_read: 1000,
            claimed_size: 0,
        };
        assert!(
            collect(stream_from(server, 4096, 0).await)
                .await
                .unwrap()
                .is_empty()
        );
        let server = Scripted {
            content: content(10),
            max_read: 1000,
            claimed_size: 10,
        };
        assert!(
            collect(stream_from(server, 4096, 50).await)
                .await
                .unwrap()
                .is_empty()
        );
    }
}
