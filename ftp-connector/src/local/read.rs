//! Reading local files off the async threads: one blocking-pool hop per chunk of up to
//! [`CHUNK`] bytes, read straight into the buffer that is handed on, with the next chunk
//! read while the consumer handles the current one.
//!
//! `tokio::fs::File` costs a blocking-pool round trip per read call plus a copy through
//! its own buffer; here a small file is opened and read whole in one hop, and a large one
//! moves in 1 MiB pieces without a second copy.

use std::fs::File;
use std::io::{self, Read, Seek};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{FutureExt, Stream, StreamExt};
use tokio::task::JoinHandle;

use crate::error::{Error, Operation, Result};
use crate::fs::ByteStream;

/// The most bytes read per hop (and per chunk of the stream): 1 MiB.
pub(crate) const CHUNK: usize = 1024 * 1024;

/// One chunk read from `file`: up to `want` bytes, fewer only at the end of the file.
/// Returns the bytes and whether the end of the file was seen.
fn read_chunk(file: &mut File, want: usize) -> io::Result<(Bytes, bool)> {
    let mut buf = Vec::with_capacity(want);
    // `read_to_end` fills the spare capacity without zeroing it first; `take` stops it at
    // `want`, and a shorter result means a read returned 0: the end of the file.
    let n = Read::by_ref(file).take(want as u64).read_to_end(&mut buf)?;
    Ok((Bytes::from(buf), n < want))
}

/// How much to ask for: the rest of the file as `stat` saw it (plus one byte, so that the
/// end is seen in the same hop), at most [`CHUNK`]; [`CHUNK`] once the file has outgrown
/// that size (`None`).
fn want(left: Option<u64>) -> usize {
    match left {
        Some(left) => usize::try_from(left.saturating_add(1)).map_or(CHUNK, |l| l.clamp(1, CHUNK)),
        None => CHUNK,
    }
}

/// Opens `real`, checks that it is a regular file, seeks to `offset` and reads the first
/// chunk: all in one blocking call. `shown` names the file in errors.
pub(crate) fn open_blocking(
    real: &Path,
    offset: u64,
    shown: &str,
) -> Result<(File, Bytes, bool, Option<u64>)> {
    let op = Operation::Read;
    let io_err = |e: io::Error| Error::io(op, shown, e);
    let mut file = File::open(real).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory => Error::NotFound {
            op,
            path: shown.to_owned(),
        },
        _ => io_err(e),
    })?;
    let meta = file.metadata().map_err(io_err)?;
    if meta.is_dir() {
        return Err(io_err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        )));
    }
    if !meta.is_file() {
        return Err(io_err(io::Error::new(
            io::ErrorKind::Unsupported,
            "not a regular file",
        )));
    }
    if offset > 0 {
        file.seek(io::SeekFrom::Start(offset)).map_err(io_err)?;
    }
    let left = meta.len().checked_sub(offset);
    let (first, eof) = read_chunk(&mut file, want(left)).map_err(io_err)?;
    Ok((file, first, eof, left))
}

/// The stream over a file opened by [`open_blocking`].
pub(crate) fn stream(opened: (File, Bytes, bool, Option<u64>), shown: String) -> ByteStream {
    let (file, first, eof, left) = opened;
    FileStream {
        state: State::Ready {
            chunk: first,
            next: (!eof).then_some(file),
        },
        left,
        shown,
    }
    .boxed()
}

/// Opens `real` on the blocking pool and streams it from `offset`.
pub(crate) async fn open(
    real: std::path::PathBuf,
    offset: u64,
    shown: String,
) -> Result<ByteStream> {
    let name = shown.clone();
    let opened = tokio::task::spawn_blocking(move || open_blocking(&real, offset, &name))
        .await
        .map_err(|e| Error::io(Operation::Read, shown.clone(), io::Error::other(e)))??;
    Ok(stream(opened, shown))
}

type Hop = JoinHandle<(File, io::Result<(Bytes, bool)>)>;

enum State {
    /// A chunk to yield, and the file when there is more to read.
    Ready {
        chunk: Bytes,
        next: Option<File>,
    },
    /// The next chunk is being read.
    Reading(Hop),
    Done,
}

struct FileStream {
    state: State,
    /// Bytes left as of the open, less those yielded: a hint for the read size (the file
    /// may change meanwhile).
    left: Option<u64>,
    shown: String,
}

impl FileStream {
    fn spawn(&self, mut file: File) -> Hop {
        let want = want(self.left);
        tokio::task::spawn_blocking(move || {
            let r = read_chunk(&mut file, want);
            (file, r)
        })
    }
}

impl Stream for FileStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Ready { chunk, next } => {
                    // A file that grew past the size seen at the open: read full chunks.
                    this.left = this.left.and_then(|l| l.checked_sub(chunk.len() as u64));
                    // Read ahead: the next chunk is on its way while this one is used.
                    if let Some(file) = next {
                        this.state = State::Reading(this.spawn(file));
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    return Poll::Ready(Some(Ok(chunk)));
                }
                State::Reading(mut hop) => match hop.poll_unpin(cx) {
                    Poll::Pending => {
                        this.state = State::Reading(hop);
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok((file, Ok((chunk, eof))))) => {
                        this.state = State::Ready {
                            chunk,
                            next: (!eof).then_some(file),
                        };
                    }
                    Poll::Ready(Ok((_, Err(e)))) => {
                        return Poll::Ready(Some(Err(Error::io(
                            Operation::Read,
                            this.shown.clone(),
                            e,
                        ))));
                    }
                    Poll::Ready(Err(e)) => {
                        return Poll::Ready(Some(Err(Error::io(
                            Operation::Read,
                            this.shown.clone(),
                            io::Error::other(e),
                        ))));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    async fn read_all(path: &Path, offset: u64) -> Result<Vec<Bytes>> {
        open(path.to_owned(), offset, "f".into())
            .await?
            .try_collect()
            .await
    }

    #[tokio::test]
    async fn files_of_every_size_around_the_chunk_come_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        for len in [0, 1, 4095, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&p, &data).unwrap();
            let chunks = read_all(&p, 0).await.unwrap();
            assert!(
                chunks.iter().all(|c| !c.is_empty() && c.len() <= CHUNK),
                "{len}"
            );
            assert!(chunks.concat() == data, "{len}");
            let from = len / 3;
            assert!(read_all(&p, from as u64).await.unwrap().concat() == data[from..]);
        }
    }

    #[tokio::test]
    async fn a_file_that_grows_after_the_open_is_read_to_its_new_end() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![1u8; 10]).unwrap();
        let mut s = open(p.clone(), 0, "f".into()).await.unwrap();
        // The first hop read the 10 bytes and saw the end: the stream ends there.
        std::fs::write(&p, vec![2u8; 3 * CHUNK]).unwrap();
        let first = s.next().await.unwrap().unwrap();
        assert_eq!(first.len(), 10);
        assert!(s.next().await.is_none());

        // Grown between hops: the stream keeps reading to the end it finds.
        std::fs::write(&p, vec![3u8; CHUNK]).unwrap();
        let mut s = open(p.clone(), 0, "f".into()).await.unwrap();
        let f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        use std::io::Write;
        (&f).write_all(&vec![4u8; CHUNK]).unwrap();
        let mut total = 0;
        while let Some(c) = s.next().await {
            total += c.unwrap().len();
        }
        assert_eq!(total, 2 * CHUNK);
    }

    #[tokio::test]
    async fn folders_and_missing_files_are_refused_at_the_open() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_all(dir.path(), 0).await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Conflict, "{e}");
        assert!(e.to_string().contains("directory"), "{e}");
        let e = read_all(&dir.path().join("nope"), 0).await.unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::NotFound);
    }
}
