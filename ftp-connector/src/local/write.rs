//! Writing files: atomic (temporary name, then rename) or in place.
//!
//! The file side runs on the blocking pool, one hop per batch of up to [`BATCH`] bytes
//! written with one vectored `write`: a small file is checked, created, written, dated and
//! renamed into place in a single hop; a large one moves in 1 MiB batches, the next batch
//! gathered from the stream while the previous one is written. Memory stays at about two
//! batches whatever the file size.
//!
//! A small file whose data has all arrived skips the hop and is written on the calling
//! thread ([`Inline`]): the hop's two thread wake-ups cost more than the few system calls of
//! the write. Per file, an atomic write then makes one `lstat` per folder of its path (the
//! confinement check, whose answer also says that the parent is a folder), `open`,
//! `writev`, `futimens`, `rename` and `close`.

use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use tokio::task::JoinHandle;

use super::confine::{resolve_blocking, resolve_dir_blocking};
use super::{LocalFs, io_err};
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, WriteMode, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

const OP: Operation = Operation::Write;

/// Bytes gathered from the stream before a hop writes them.
const BATCH: usize = 1024 * 1024;

/// Chunks gathered at most per hop (a stream of tiny chunks still moves in bounded steps).
const BATCH_CHUNKS: usize = 256;

/// `.<name>.<random>.part`, kept within the usual 255-byte limit of a file name.
fn temp_name(name: &str) -> String {
    let mut cut = name.len().min(255 - ".".len() - ".12345678.part".len());
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(".{}.{:08x}.part", &name[..cut], rand::random::<u32>())
}

/// Files up to this size whose data has all arrived are written on the calling thread.
const INLINE_MAX: usize = 256 * 1024;

/// An inline write that takes longer than this counts as slow.
const INLINE_SLOW: Duration = Duration::from_millis(2);

/// Slow inline writes in a row after which small files go through the blocking pool.
const INLINE_SLOW_LIMIT: u32 = 3;

/// Writes sent through the blocking pool after a run of slow inline writes, before
/// inline writes are tried again.
const INLINE_BACKOFF: u32 = 256;

/// Whether a small file, once all its data has arrived, is written on the calling thread
/// rather than on tokio's blocking pool.
///
/// A hop to the blocking pool costs two thread wake-ups, more than creating, writing,
/// dating and renaming a small file on a local disk. Writing inline blocks the async
/// thread for that long, so after [`INLINE_SLOW_LIMIT`] inline writes in a row took more
/// than [`INLINE_SLOW`] (a slow or network file system, where every call may wait; or a
/// busy machine) the next [`INLINE_BACKOFF`] small files go through the pool, and then
/// inline writes are tried again. The state is shared by a backend and its clones.
#[derive(Debug)]
pub(super) struct Inline {
    enabled: bool,
    slow_in_a_row: AtomicU32,
    /// Small files still to send through the pool before inline writes are tried again.
    backoff: AtomicU32,
}

impl Inline {
    pub(super) fn new(enabled: bool) -> Self {
        Inline {
            enabled,
            slow_in_a_row: AtomicU32::new(0),
            backoff: AtomicU32::new(0),
        }
    }

    /// Whether inline writes are enabled at all ([`LocalFs::inline_small_writes`]).
    pub(super) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Whether this write, `len` bytes all in hand, runs inline. Never with `fsync`,
    /// which waits for the disk. While backing off, counts the write down instead.
    fn allows(&self, job: &Job, len: usize) -> bool {
        if len > INLINE_MAX || job.fsync || !self.enabled {
            return false;
        }
        let backing_off = self
            .backoff
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        !backing_off
    }

    /// Records how long an inline write took.
    fn took(&self, elapsed: Duration) {
        if elapsed <= INLINE_SLOW {
            self.slow_in_a_row.store(0, Ordering::Relaxed);
            return;
        }
        let in_a_row = self.slow_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        if in_a_row >= INLINE_SLOW_LIMIT {
            self.slow_in_a_row.store(0, Ordering::Relaxed);
            self.backoff.store(INLINE_BACKOFF, Ordering::Relaxed);
            tracing::debug!(
                ?elapsed,
                "local writes are slow; the next small files go through the blocking pool"
            );
        }
    }
}

/// What one write needs on the blocking side.
struct Job {
    root: PathBuf,
    path: RemotePath,
    options: WriteOptions,
    fsync: bool,
}

/// Chunks waiting to be written.
#[derive(Default)]
struct Batch {
    chunks: Vec<Bytes>,
    len: usize,
}

impl Batch {
    fn is_full(&self) -> bool {
        self.len >= BATCH || self.chunks.len() >= BATCH_CHUNKS
    }

    fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.chunks.push(chunk);
        }
    }
}

/// An open file being written, and what becomes of it at the end.
struct Sink {
    file: File,
    /// Atomic writes: the temporary file, renamed (or linked) over `target` at the end.
    temp: Option<PathBuf>,
    /// The target: the file written in place, or what the temporary file becomes.
    target: PathBuf,
    /// A fresh in-place write removes its partial target on failure; a resumed one keeps
    /// its prefix for the next attempt.
    remove_target_on_failure: bool,
}

impl Sink {
    /// The checks made before any byte is written, then the file opened: the temporary
    /// file of an atomic write, or the target (truncated, or cut to the resume offset).
    /// `whole`: the batch about to be written is all the data.
    fn open(job: &Job, whole: bool) -> Result<Sink> {
        let (path, options) = (&job.path, &job.options);
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(io_err(
                OP,
                path,
                io::ErrorKind::IsADirectory,
                "the root is a folder",
            ));
        };
        let (dir, dir_meta) = resolve_dir_blocking(&job.root, OP, &parent)?;
        match dir_meta {
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
        let in_place = options.mode == WriteMode::InPlace || options.resume_from.is_some();
        if whole && options.overwrite && !in_place {
            // An atomic write whose data is all in hand: the rename reports a folder in
            // the way (`EISDIR`) as the check below would, and the check would save no
            // transfer, so the target is not looked up.
            return Sink::create_temp(&dir, name, target, path);
        }
        let existing = std::fs::symlink_metadata(&target).ok();
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
        let io = |e: io::Error| Error::io(OP, path.as_str(), e);
        if in_place {
            // Through a link inside the root, never out of it.
            let real = if existing.is_some_and(|m| m.file_type().is_symlink()) {
                resolve_blocking(&job.root, OP, path, true)?
            } else {
                target
            };
            let file = match options.resume_from {
                Some(offset) => {
                    let mut f = OpenOptions::new().write(true).open(&real).map_err(io)?;
                    let len = f.metadata().map_err(io)?.len();
                    if len < offset {
                        return Err(io_err(
                            OP,
                            path,
                            io::ErrorKind::InvalidInput,
                            "resume offset is past the end of the partial file",
                        ));
                    }
                    f.set_len(offset).map_err(io)?;
                    f.seek(io::SeekFrom::Start(offset)).map_err(io)?;
                    f
                }
                None => OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .open(&real)
                    .map_err(io)?,
            };
            return Ok(Sink {
                file,
                temp: None,
                target: real,
                remove_target_on_failure: options.resume_from.is_none(),
            });
        }
        Sink::create_temp(&dir, name, target, path)
    }

    /// The temporary file of an atomic write to `target`, created new in `dir`.
    fn create_temp(dir: &Path, name: &str, target: PathBuf, path: &RemotePath) -> Result<Sink> {
        let temp = dir.join(temp_name(name));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| Error::io(OP, path.as_str(), e))?;
        Ok(Sink {
            file,
            temp: Some(temp),
            target,
            remove_target_on_failure: false,
        })
    }

    /// Writes every chunk, in order, with as few system calls as the kernel allows.
    fn write(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
        let mut rest = &mut slices[..];
        while !rest.is_empty() {
            match self.file.write_vectored(rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut rest, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sets the modification time, syncs if asked, and puts the file in place: renamed over
    /// the target, or hard-linked when it must not replace one.
    fn finish(&mut self, job: &Job) -> Result<()> {
        let path = job.path.as_str();
        let io = |e: io::Error| Error::io(OP, path, e);
        if let Some(t) = job.options.modified {
            self.file.set_modified(t.into()).map_err(io)?;
        }
        if job.fsync {
            self.file.sync_all().map_err(io)?;
        }
        let Some(temp) = &self.temp else {
            return Ok(());
        };
        if job.options.overwrite {
            std::fs::rename(temp, &self.target).map_err(io)?;
        } else {
            // A hard link never replaces an existing file: no race with another writer.
            std::fs::hard_link(temp, &self.target).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    Error::AlreadyExists {
                        op: OP,
                        path: path.to_owned(),
                    }
                } else {
                    io(e)
                }
            })?;
            let _ = std::fs::remove_file(temp);
        }
        self.temp = None;
        Ok(())
    }

    /// After a failure: the temporary file (or a fresh partial target) must not outlive
    /// the write. Best effort.
    fn discard(self) {
        let Sink {
            file,
            temp,
            target,
            remove_target_on_failure,
        } = self;
        drop(file);
        match temp {
            Some(temp) => {
                let _ = std::fs::remove_file(temp);
            }
            None if remove_target_on_failure => {
                let _ = std::fs::remove_file(target);
            }
            None => {}
        }
    }
}

/// One blocking hop: opens the file if it is not yet open, writes `batch`, and with
/// `last` puts the file in place. A failure discards the file and returns no sink.
fn hop(job: &Job, sink: Option<Sink>, batch: Batch, last: bool) -> (Option<Sink>, Result<()>) {
    let mut sink = match sink {
        Some(s) => s,
        None => match Sink::open(job, last) {
            Ok(s) => s,
            Err(e) => return (None, Err(e)),
        },
    };
    let mut result = sink
        .write(&batch.chunks)
        .map_err(|e| Error::io(OP, job.path.as_str(), e));
    drop(batch);
    if result.is_ok() && last {
        result = sink.finish(job);
    }
    match result {
        Ok(()) if last => (None, Ok(())),
        Ok(()) => (Some(sink), Ok(())),
        Err(e) => {
            sink.discard();
            (None, Err(e))
        }
    }
}

type Hop = JoinHandle<(Option<Sink>, Result<()>)>;

/// The end of a hop: the sink back, or the hop's error.
fn landed(
    joined: std::result::Result<(Option<Sink>, Result<()>), tokio::task::JoinError>,
    path: &RemotePath,
) -> Result<Option<Sink>> {
    match joined {
        Ok((sink, Ok(()))) => Ok(sink),
        Ok((_, Err(e))) => Err(e),
        Err(e) => Err(Error::io(OP, path.as_str(), io::Error::other(e))),
    }
}

/// Bytes taken from the stream so far, checked against `expected_len` as they come.
struct Input<'a> {
    received: u64,
    expected: Option<u64>,
    path: &'a RemotePath,
}

impl Input<'_> {
    fn truncated(&self) -> Error {
        Error::Truncated {
            op: OP,
            path: self.path.as_str().to_owned(),
            received: self.received,
            expected: self.expected.unwrap_or_default(),
        }
    }

    /// Takes one item of the stream into `batch`; `Ok(true)` at its end. A stream that runs
    /// past `expected_len` fails before the excess is written.
    fn take(&mut self, item: Option<Result<Bytes>>, batch: &mut Batch) -> Result<bool> {
        match item {
            Some(Ok(chunk)) => {
                self.received += chunk.len() as u64;
                if self.expected.is_some_and(|e| self.received > e) {
                    return Err(self.truncated());
                }
                batch.push(chunk);
                Ok(false)
            }
            Some(Err(e)) => Err(e),
            None if self.expected.is_some_and(|e| self.received != e) => Err(self.truncated()),
            None => Ok(true),
        }
    }
}

impl LocalFs {
    pub(super) async fn write_file(
        &self,
        path: &RemotePath,
        mut data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        if path.is_root() {
            return Err(io_err(
                OP,
                path,
                io::ErrorKind::IsADirectory,
                "the root is a folder",
            ));
        }
        let job = Arc::new(Job {
            root: self.inner.root.clone(),
            path: path.clone(),
            options: options.clone(),
            fsync: self.inner.fsync,
        });
        let spawn = |sink: Option<Sink>, batch: Batch, last: bool| -> Hop {
            let job = job.clone();
            tokio::task::spawn_blocking(move || hop(&job, sink, batch, last))
        };
        let mut input = Input {
            received: 0,
            expected: options.expected_len,
            path,
        };
        let mut sink: Option<Sink> = None;
        let mut running: Option<Hop> = None;
        let mut batch = Batch::default();
        let mut ended = false;
        let mut last_sent = false;
        let failed: Error = loop {
            let step = match running.as_mut() {
                // A hop is writing: gather the next batch meanwhile.
                Some(h) if !ended && !batch.is_full() => {
                    tokio::select! {
                        biased;
                        joined = h => {
                            running = None;
                            landed(joined, path).map(|s| sink = s)
                        }
                        item = data.next() => input.take(item, &mut batch).map(|end| ended = end),
                    }
                }
                Some(h) => {
                    let joined = h.await;
                    running = None;
                    landed(joined, path).map(|s| sink = s)
                }
                // Nothing running and not enough to write yet: wait for more.
                None if !ended && !batch.is_full() => {
                    let item = data.next().await;
                    input.take(item, &mut batch).map(|end| ended = end)
                }
                None => Ok(()),
            };
            if let Err(e) = step {
                break e;
            }
            if running.is_some() {
                continue;
            }
            if last_sent {
                // The last hop put the file in place.
                return Ok(WriteOutcome::new(
                    input.received,
                    options.modified.is_some(),
                ));
            }
            if ended && sink.is_none() && self.inner.inline.allows(&job, batch.len) {
                // The whole file is in hand and small: written here, without a hop.
                let started = Instant::now();
                let (_, result) = hop(&job, None, std::mem::take(&mut batch), true);
                self.inner.inline.took(started.elapsed());
                return result
                    .map(|()| WriteOutcome::new(input.received, options.modified.is_some()));
            }
            if ended || batch.is_full() {
                running = Some(spawn(sink.take(), std::mem::take(&mut batch), ended));
                last_sent = ended;
            }
        };
        // The stream failed, or a hop did (and discarded its file). Wait for a running hop
        // to hand the file back, then remove what was written.
        if let Some(h) = running.take() {
            sink = landed(h.await, path).ok().flatten();
        }
        if let Some(s) = sink {
            let _ = tokio::task::spawn_blocking(move || s.discard()).await;
        }
        Err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::ext::RemoteFsExt;
    use crate::fs::RemoteFs;
    use crate::stream;

    /// `len` bytes in chunks of 64 KiB, then `tail` (an error, or nothing).
    fn body(len: usize, tail: Option<Error>) -> ByteStream {
        let chunks = (0..len.div_ceil(65536))
            .map(move |i| Ok(Bytes::from(vec![i as u8; (len - i * 65536).min(65536)])));
        futures::stream::iter(chunks.chain(tail.map(Err))).boxed()
    }

    fn cut() -> Error {
        Error::io(OP, "src", io::Error::from(io::ErrorKind::ConnectionReset))
    }

    fn names(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn a_stream_that_fails_after_several_batches_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let fs = LocalFs::new(dir.path()).await.unwrap();
        let p = RemotePath::parse("big.bin").unwrap();
        let err = fs
            .write(&p, body(5 * BATCH / 2, Some(cut())), &WriteOptions::new())
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));

        // In place: a fresh partial target is removed too.
        let opts = WriteOptions::new().mode(WriteMode::InPlace);
        fs.write(&p, body(5 * BATCH / 2, Some(cut())), &opts)
            .await
            .unwrap_err();
        assert!(names(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn too_many_or_too_few_bytes_fail_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let fs = LocalFs::new(dir.path()).await.unwrap();
        let p = RemotePath::parse("a.bin").unwrap();
        for (len, expected) in [
            (3 * BATCH, 2 * BATCH as u64 + 5),
            (10, 11),
            (2 * BATCH, 2 * BATCH as u64 + 1),
        ] {
            let opts = WriteOptions::new().expected_len(expected);
            let err = fs.write(&p, body(len, None), &opts).await.unwrap_err();
            assert!(
                matches!(err, Error::Truncated { expected: e, .. } if e == expected),
                "{err}"
            );
            assert!(
                names(dir.path()).is_empty(),
                "{len}: {:?}",
                names(dir.path())
            );
        }
    }

    #[tokio::test]
    async fn a_failed_resume_keeps_the_prefix_for_the_next_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let fs = LocalFs::new(dir.path()).await.unwrap();
        let p = RemotePath::parse("a.bin").unwrap();
        fs.write(&p, body(1000, None), &WriteOptions::new())
            .await
            .unwrap();
        let opts = WriteOptions::new().resume_from(1000);
        fs.write(&p, body(3 * BATCH, Some(cut())), &opts)
            .await
            .unwrap_err();
        assert_eq!(names(dir.path()), ["a.bin"]);
        let len = std::fs::metadata(dir.path().join("a.bin")).unwrap().len();
        assert!(len >= 1000, "{len}");
        // The next attempt cuts what the failed one wrote past its offset.
        let opts = WriteOptions::new()
            .resume_from(500)
            .expected_len(2 * BATCH as u64);
        fs.write(&p, body(2 * BATCH, None), &opts).await.unwrap();
        let got = fs.read_to_bytes(&p).await.unwrap();
        assert_eq!(got.len(), 500 + 2 * BATCH);
        assert!(got[500..].starts_with(&[0u8; 65536]) && got[..500] == [0u8; 500]);
    }

    #[tokio::test]
    async fn a_small_file_is_written_dated_and_renamed_with_its_checks() {
        let dir = tempfile::tempdir().unwrap();
        let fs = LocalFs::new(dir.path()).await.unwrap();
        let p = RemotePath::parse("a.jpg").unwrap();
        let when = chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap();
        let out = fs
            .write(
                &p,
                stream::once(&b"jpeg"[..]),
                &WriteOptions::new().modified(when),
            )
            .await
            .unwrap();
        assert_eq!((out.bytes, out.modified_set), (4, true));
        let meta = std::fs::metadata(dir.path().join("a.jpg")).unwrap();
        assert_eq!(
            chrono::DateTime::<chrono::Utc>::from(meta.modified().unwrap()),
            when
        );
        let err = fs
            .write(
                &p,
                stream::once(&b"new"[..]),
                &WriteOptions::new().overwrite(false),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        let missing = RemotePath::parse("no/such/dir/a.jpg").unwrap();
        let err = fs
            .write(&missing, stream::once(&b"x"[..]), &WriteOptions::new())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(names(dir.path()), ["a.jpg"]);
    }

    #[tokio::test]
    async fn a_small_file_onto_a_folder_fails_and_leaves_nothing_inline_or_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("taken")).unwrap();
        std::fs::write(dir.path().join("taken/inside.txt"), b"keep").unwrap();
        let p = RemotePath::parse("taken").unwrap();
        for inline in [true, false] {
            let fs = LocalFs::new(dir.path())
                .await
                .unwrap()
                .inline_small_writes(inline);
            for opts in [
                WriteOptions::new(),
                WriteOptions::new().overwrite(false),
                WriteOptions::new().mode(WriteMode::InPlace),
            ] {
                let err = fs
                    .write(&p, stream::once(&b"jpeg"[..]), &opts)
                    .await
                    .unwrap_err();
                assert!(
                    matches!(&err, Error::Io { source, path, .. }
                        if source.kind() == io::ErrorKind::IsADirectory && path == "taken"),
                    "{inline} {opts:?}: {err:?}"
                );
                assert_eq!(names(dir.path()), ["taken"], "{inline} {opts:?}");
                assert_eq!(names(&dir.path().join("taken")), ["inside.txt"]);
            }
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_parent_folder_that_is_a_link_is_checked_then_written_through() {
        let base = tempfile::tempdir().unwrap();
        let root = base.path().join("root");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::create_dir_all(base.path().join("outside")).unwrap();
        std::os::unix::fs::symlink("real", root.join("alias")).unwrap();
        std::os::unix::fs::symlink("../outside", root.join("out")).unwrap();
        std::os::unix::fs::symlink("real/nothing", root.join("dangling")).unwrap();
        std::fs::write(root.join("file"), b"f").unwrap();
        for inline in [true, false] {
            let fs = LocalFs::new(&root)
                .await
                .unwrap()
                .inline_small_writes(inline);
            let opts = WriteOptions::new();
            fs.write(
                &RemotePath::parse("alias/a.jpg").unwrap(),
                stream::once(&b"a"[..]),
                &opts,
            )
            .await
            .unwrap();
            assert_eq!(std::fs::read(root.join("real/a.jpg")).unwrap(), b"a");
            for (to, kind) in [
                ("out/a.jpg", ErrorKind::PermissionDenied),
                ("dangling/a.jpg", ErrorKind::PermissionDenied),
                ("missing/a.jpg", ErrorKind::NotFound),
                ("missing/deeper/a.jpg", ErrorKind::NotFound),
            ] {
                let err = fs
                    .write(
                        &RemotePath::parse(to).unwrap(),
                        stream::once(&b"x"[..]),
                        &opts,
                    )
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), kind, "{inline} {to}: {err}");
            }
            let err = fs
                .write(
                    &RemotePath::parse("file/a.jpg").unwrap(),
                    stream::once(&b"x"[..]),
                    &opts,
                )
                .await
                .unwrap_err();
            assert!(err.to_string().contains("file/a.jpg"), "{err}");
            assert!(names(&base.path().join("outside")).is_empty());
            std::fs::remove_file(root.join("real/a.jpg")).unwrap();
        }
        assert_eq!(names(&root.join("real")), Vec::<String>::new());
    }

    #[test]
    fn inline_writes_back_off_after_a_run_of_slow_ones() {
        let job = Job {
            root: PathBuf::from("/"),
            path: RemotePath::parse("a").unwrap(),
            options: WriteOptions::new(),
            fsync: false,
        };
        let slow = INLINE_SLOW * 2;
        let inline = Inline::new(true);
        // Slow writes that are not in a row do not count.
        for _ in 0..5 {
            for _ in 1..INLINE_SLOW_LIMIT {
                inline.took(slow);
            }
            inline.took(Duration::from_micros(50));
        }
        assert!(inline.allows(&job, 1000));
        assert!(!inline.allows(&job, INLINE_MAX + 1));
        for _ in 0..INLINE_SLOW_LIMIT {
            inline.took(slow);
        }
        for i in 0..INLINE_BACKOFF {
            assert!(!inline.allows(&job, 1000), "{i}");
        }
        assert!(inline.allows(&job, 1000));
        let fsync = Job { fsync: true, ..job };
        assert!(!inline.allows(&fsync, 1000));
        assert!(!Inline::new(false).allows(&fsync, 1000));
    }

    /// Whether `write` used the blocking pool: the pool's only thread is kept busy while
    /// the write is polled once, so a write that needs it cannot be done yet.
    async fn used_the_pool(write: impl std::future::Future<Output = Result<WriteOutcome>>) -> bool {
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let blocker = tokio::task::spawn_blocking(move || wait.recv());
        let mut write = std::pin::pin!(write);
        let first = futures::poll!(&mut write);
        release.send(()).unwrap();
        blocker.await.unwrap().unwrap();
        match first {
            std::task::Poll::Ready(done) => {
                done.unwrap();
                false
            }
            std::task::Poll::Pending => {
                write.await.unwrap();
                true
            }
        }
    }

    #[test]
    fn small_files_are_written_inline_unless_the_backend_backs_off() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let fs = LocalFs::new(dir.path()).await.unwrap();
            let p = RemotePath::parse("a.jpg").unwrap();
            let opts = WriteOptions::new();
            let small = || stream::once(&b"jpeg"[..]);
            assert!(!used_the_pool(fs.write(&p, small(), &opts)).await);
            assert!(used_the_pool(fs.write(&p, body(INLINE_MAX + 1, None), &opts)).await);
            let off = fs.clone().inline_small_writes(false);
            assert!(used_the_pool(off.write(&p, small(), &opts)).await);
            let synced = fs.clone().fsync(true);
            assert!(used_the_pool(synced.write(&p, small(), &opts)).await);
            // A run of slow writes: the next ones go through the pool for a while.
            for _ in 0..INLINE_SLOW_LIMIT {
                fs.inner.inline.took(INLINE_SLOW * 2);
            }
            for _ in 0..INLINE_BACKOFF {
                assert!(used_the_pool(fs.write(&p, small(), &opts)).await);
            }
            assert!(!used_the_pool(fs.write(&p, small(), &opts)).await);
            assert_eq!(std::fs::read(dir.path().join("a.jpg")).unwrap(), b"jpeg");
            assert_eq!(names(dir.path()), ["a.jpg"]);
        });
    }

    #[test]
    fn temp_names_stay_short_and_hidden() {
        let long = "é".repeat(200);
        let t = temp_name(&long);
        assert!(t.len() <= 255, "{}", t.len());
        assert!(t.starts_with(".é") && t.ends_with(".part"));
        assert_ne!(temp_name("a"), temp_name("a"));
    }
}
