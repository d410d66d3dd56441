//! Building [`ByteStream`]s from bytes, readers and files, and
//! adapters that count or hash the bytes passing through.
//!
//! Every helper here streams: memory use depends on the chunk size, never on the length
//! of the data.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use futures::TryStreamExt;
//! use ftp_connector::stream;
//!
//! let (counted, counter) = stream::counting(stream::from_reader(&b"hello world"[..]));
//! let chunks: Vec<bytes::Bytes> = counted.try_collect().await?;
//! assert_eq!(chunks.concat(), b"hello world");
//! assert_eq!(counter.bytes(), 11);
//! # Ok::<(), ftp_connector::Error>(())
//! # }).unwrap();
//! ```

use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncRead;

use crate::error::{Error, Operation, Result};
use crate::fs::ByteStream;

/// The chunk size of [`from_reader`]: 256 KiB.
pub const DEFAULT_CHUNK: usize = 256 * 1024;

/// The smallest chunk size [`from_reader_with_chunk`] accepts: 64 KiB.
pub const MIN_CHUNK: usize = 64 * 1024;

/// The largest chunk size [`from_reader_with_chunk`] accepts: 1 MiB.
pub const MAX_CHUNK: usize = 1024 * 1024;

/// A stream of one chunk.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use futures::StreamExt;
/// let mut s = ftp_connector::stream::once(bytes::Bytes::from_static(b"abc"));
/// assert_eq!(&s.next().await.unwrap().unwrap()[..], b"abc");
/// assert!(s.next().await.is_none());
/// # });
/// ```
pub fn once(bytes: impl Into<Bytes>) -> ByteStream {
    let bytes = bytes.into();
    futures::stream::once(async move { Ok(bytes) }).boxed()
}

/// An empty stream (an empty file).
pub fn empty() -> ByteStream {
    futures::stream::empty().boxed()
}

/// A stream that yields `error` as its only item: for tests of failed uploads.
pub fn failing(error: Error) -> ByteStream {
    futures::stream::once(async move { Err(error) }).boxed()
}

/// Reads `reader` to its end in chunks of [`DEFAULT_CHUNK`] bytes.
///
/// I/O errors are yielded as [`Error::Io`] with [`Operation::Read`] and no path; use
/// [`from_file`] to have the path named.
pub fn from_reader<R>(reader: R) -> ByteStream
where
    R: AsyncRead + Send + 'static,
{
    reader_stream(reader, DEFAULT_CHUNK, String::new())
}

/// Reads `reader` to its end in chunks of about `chunk` bytes, clamped to
/// [`MIN_CHUNK`]..=[`MAX_CHUNK`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use futures::TryStreamExt;
/// let data = vec![7u8; 200 * 1024];
/// let s = ftp_connector::stream::from_reader_with_chunk(std::io::Cursor::new(data), 64 * 1024);
/// let chunks: Vec<bytes::Bytes> = s.try_collect().await?;
/// assert!(chunks.iter().all(|c| c.len() <= 64 * 1024));
/// assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 200 * 1024);
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
pub fn from_reader_with_chunk<R>(reader: R, chunk: usize) -> ByteStream
where
    R: AsyncRead + Send + 'static,
{
    reader_stream(reader, chunk.clamp(MIN_CHUNK, MAX_CHUNK), String::new())
}

/// Opens a local file and streams it in chunks of up to [`MAX_CHUNK`] bytes, read on
/// tokio's blocking pool one chunk ahead of the consumer.
///
/// Errors name the file.
pub async fn from_file(path: impl AsRef<Path>) -> Result<ByteStream> {
    let path = path.as_ref();
    crate::local::read::open(path.to_owned(), 0, path.display().to_string()).await
}

pub(crate) fn reader_stream<R>(reader: R, chunk: usize, path: String) -> ByteStream
where
    R: AsyncRead + Send + 'static,
{
    tokio_util::io::ReaderStream::with_capacity(reader, chunk)
        .map(move |r| r.map_err(|e| Error::io(Operation::Read, path.clone(), e)))
        .boxed()
}

/// Shared count of the bytes that went through a [`counting`] stream.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    /// Bytes seen so far.
    pub fn bytes(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Wraps a stream so that the bytes it yields are counted; read the count from the
/// returned [`Counter`], during or after the transfer.
pub fn counting(stream: ByteStream) -> (ByteStream, Counter) {
    let counter = Counter::default();
    let c = counter.clone();
    let s = stream
        .inspect(move |item| {
            if let Ok(chunk) = item {
                c.0.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            }
        })
        .boxed();
    (s, counter)
}

/// The SHA-256 of the bytes that went through a [`hashing`] stream.
#[derive(Debug, Clone)]
pub struct HashHandle(Arc<Mutex<HashState>>);

#[derive(Debug)]
struct HashState {
    hasher: Sha256,
    bytes: u64,
    done: Option<String>,
}

impl HashHandle {
    /// The lowercase hex SHA-256 of everything the stream yielded, once it has ended
    /// without error; `None` before that.
    pub fn sha256_hex(&self) -> Option<String> {
        // The lock is never held across an await: only by the stream's poll and here.
        self.0.lock().ok().and_then(|s| s.done.clone())
    }

    /// Bytes hashed so far.
    pub fn bytes(&self) -> u64 {
        self.0.lock().map(|s| s.bytes).unwrap_or(0)
    }
}

/// Wraps a stream so that the bytes it yields are hashed (SHA-256) on the way through.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use futures::TryStreamExt;
/// let (s, hash) = ftp_connector::stream::hashing(ftp_connector::stream::once(&b"abc"[..]));
/// let _: Vec<bytes::Bytes> = s.try_collect().await?;
/// assert_eq!(
///     hash.sha256_hex().as_deref(),
///     Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
/// );
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
pub fn hashing(stream: ByteStream) -> (ByteStream, HashHandle) {
    let handle = HashHandle(Arc::new(Mutex::new(HashState {
        hasher: Sha256::new(),
        bytes: 0,
        done: None,
    })));
    let s = Hashing {
        inner: stream,
        state: handle.0.clone(),
    }
    .boxed();
    (s, handle)
}

struct Hashing {
    inner: ByteStream,
    state: Arc<Mutex<HashState>>,
}

impl Stream for Hashing {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(ready) = &item
            && let Ok(mut state) = self.state.lock()
        {
            match ready {
                Some(Ok(chunk)) => {
                    state.hasher.update(chunk);
                    state.bytes += chunk.len() as u64;
                }
                None if state.done.is_none() => {
                    let digest = std::mem::take(&mut state.hasher).finalize();
                    state.done = Some(hex::encode(digest));
                }
                _ => {}
            }
        }
        item
    }
}

/// A deterministic pseudo-random stream of `len` bytes (the same `seed` gives the same
/// bytes), generated chunk by chunk: for tests and benchmarks of large transfers that
/// must not hold the data in memory.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use futures::TryStreamExt;
/// use ftp_connector::stream::generated;
/// let a: Vec<bytes::Bytes> = generated(7, 300_000).try_collect().await?;
/// let b: Vec<bytes::Bytes> = generated(7, 300_000).try_collect().await?;
/// assert_eq!(a.concat().len(), 300_000);
/// assert_eq!(a.concat(), b.concat());
/// # Ok::<(), ftp_connector::Error>(())
/// # }).unwrap();
/// ```
pub fn generated(seed: u64, len: u64) -> ByteStream {
    generated_with_chunk(seed, len, DEFAULT_CHUNK)
}

/// Like [`generated`], in chunks of `chunk` bytes (at least 8).
pub fn generated_with_chunk(seed: u64, len: u64, chunk: usize) -> ByteStream {
    let chunk = chunk.max(8);
    // SplitMix64: fast, and good enough that compression or deduplication cannot cheat.
    let state = (seed ^ 0x9E37_79B9_7F4A_7C15, 0u64);
    futures::stream::unfold(state, move |(mut x, done)| async move {
        if done >= len {
            return None;
        }
        let n = usize::try_from((len - done).min(chunk as u64)).unwrap_or(chunk);
        let mut buf = Vec::with_capacity(n + 8);
        while buf.len() < n {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            buf.extend_from_slice(&z.to_le_bytes());
        }
        buf.truncate(n);
        Some((Ok(Bytes::from(buf)), (x, done + n as u64)))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    #[tokio::test]
    async fn hashing_reports_nothing_until_the_end_and_nothing_after_an_error() {
        let s = futures::stream::iter(vec![
            Ok(Bytes::from_static(b"ab")),
            Err(Error::io(
                Operation::Read,
                "x",
                std::io::Error::from(std::io::ErrorKind::ConnectionReset),
            )),
        ])
        .boxed();
        let (s, h) = hashing(s);
        let r: Result<Vec<Bytes>> = s.try_collect().await;
        assert!(r.is_err());
        assert_eq!(h.sha256_hex(), None);
        assert_eq!(h.bytes(), 2);
    }

    #[tokio::test]
    async fn generated_streams_differ_by_seed_and_keep_their_length() {
        let a: Vec<Bytes> = generated_with_chunk(1, 1001, 100)
            .try_collect()
            .await
            .unwrap();
        let b: Vec<Bytes> = generated_with_chunk(2, 1001, 100)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(a.len(), 11);
        assert_eq!(a.concat().len(), 1001);
        assert_ne!(a.concat(), b.concat());
    }

    #[tokio::test]
    async fn file_errors_name_the_file() {
        match from_file("/nonexistent/dir/photo.jpg").await {
            Err(e) => assert!(e.to_string().contains("photo.jpg"), "{e}"),
            Ok(_) => panic!("opened a missing file"),
        }
    }
}
