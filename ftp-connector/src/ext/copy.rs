//! [`RemoteFsExt::copy_to`](crate::RemoteFsExt::copy_to): a streaming copy between two
//! backends that resumes cut reads and never leaves a short file.

use std::io;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::entry::{Entry, EntryKind, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::{ReadOptions, RemoteFs, WriteMode, WriteOptions};
use crate::path::RemotePath;

/// Chunks buffered between the read and the write side: the copy's whole memory use is
/// about this many chunks.
const PIPE_CHUNKS: usize = 4;

/// Options of [`RemoteFsExt::copy_to`](crate::RemoteFsExt::copy_to).
///
/// ```
/// use std::time::Duration;
/// use ftp_connector::{CopyOptions, WriteMode};
/// let opts = CopyOptions::new()
///     .write_mode(WriteMode::InPlace)
///     .overwrite(false)
///     .preserve_mtime(false)
///     .max_resumes(10)
///     .max_attempts(2)
///     .retry_delay(Duration::from_millis(50));
/// assert_eq!(opts.max_resumes, 10);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyOptions {
    /// How the destination is written (default: atomic).
    pub write_mode: WriteMode,
    /// Replace an existing destination file (default `true`).
    pub overwrite: bool,
    /// Set the source's modification time on the copy where the destination can
    /// (default `true`).
    pub preserve_mtime: bool,
    /// Reopen a cut source stream at the offset reached at most this many times per
    /// attempt (default 5). Needs `Capabilities::read_can_resume` on the source.
    pub max_resumes: u32,
    /// Attempts of the whole copy when a retryable error is not resumable (default 3).
    pub max_attempts: u32,
    /// The wait before a resume or a new attempt, doubled each time (default 200 ms).
    pub retry_delay: Duration,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            write_mode: WriteMode::Atomic,
            overwrite: true,
            preserve_mtime: true,
            max_resumes: 5,
            max_attempts: 3,
            retry_delay: Duration::from_millis(200),
        }
    }
}

impl CopyOptions {
    /// Atomic, overwriting, preserving mtimes, 5 resumes, 3 attempts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the destination write mode.
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = mode;
        self
    }

    /// Sets whether an existing destination may be replaced.
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// Sets whether the modification time is carried over.
    pub fn preserve_mtime(mut self, yes: bool) -> Self {
        self.preserve_mtime = yes;
        self
    }

    /// Sets the most resumes of a cut source stream per attempt.
    pub fn max_resumes(mut self, n: u32) -> Self {
        self.max_resumes = n;
        self
    }

    /// Sets the most attempts of the whole copy (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the first wait before a retry.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }
}

/// What a successful [`RemoteFsExt::copy_to`](crate::RemoteFsExt::copy_to) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyOutcome {
    /// The size of the copy.
    pub bytes: u64,
    /// How many times a cut source stream was reopened at an offset.
    pub resumed_reads: u32,
    /// Attempts of the whole copy (1 when nothing had to be restarted).
    pub attempts: u32,
    /// Whether the source's modification time was set on the copy.
    pub modified_set: bool,
}

/// How one attempt's read side ended.
enum ReadEnd {
    /// Every byte was sent (or the write side stopped listening).
    Finished,
    /// The source failed for good; the error was also signalled to the write side.
    Failed(Error),
}

pub(super) async fn copy<S: RemoteFs + ?Sized>(
    src: &S,
    from: &RemotePath,
    dst: &dyn RemoteFs,
    to: &RemotePath,
    options: &CopyOptions,
) -> Result<CopyOutcome> {
    let entry = src.stat(from).await?;
    copy_known(src, entry, dst, to, options).await
}

/// Whether `entry` (from a listing) says enough to copy the file without a `stat`: a
/// regular file of known size, and, when its time is to be carried over, a time to the
/// second or finer (a `LIST` line may give only the day).
fn complete(entry: &Entry, dst: &dyn RemoteFs, options: &CopyOptions) -> bool {
    let time_needed = options.preserve_mtime && dst.capabilities().write_can_set_mtime;
    entry.kind == EntryKind::File
        && entry.size.is_some()
        && (!time_needed
            || entry
                .modified
                .is_some_and(|m| m.precision <= TimePrecision::Second))
}

pub(super) async fn copy_entry<S: RemoteFs + ?Sized>(
    src: &S,
    entry: &Entry,
    dst: &dyn RemoteFs,
    to: &RemotePath,
    options: &CopyOptions,
) -> Result<CopyOutcome> {
    if entry.kind == EntryKind::Dir {
        return Err(is_a_directory(&entry.path));
    }
    let entry = if complete(entry, dst, options) {
        entry.clone()
    } else {
        src.stat(&entry.path).await?
    };
    copy_known(src, entry, dst, to, options).await
}

fn is_a_directory(from: &RemotePath) -> Error {
    Error::io(
        Operation::Copy,
        from.as_str(),
        io::Error::new(io::ErrorKind::IsADirectory, "is a directory"),
    )
}

/// The copy, once the source's size and time are known (`entry`).
async fn copy_known<S: RemoteFs + ?Sized>(
    src: &S,
    entry: Entry,
    dst: &dyn RemoteFs,
    to: &RemotePath,
    options: &CopyOptions,
) -> Result<CopyOutcome> {
    let from = &entry.path;
    if entry.kind == EntryKind::Dir {
        return Err(is_a_directory(from));
    }
    let mut write = WriteOptions::new()
        .mode(options.write_mode)
        .overwrite(options.overwrite);
    if let Some(len) = entry.size {
        write = write.expected_len(len);
    }
    if options.preserve_mtime
        && dst.capabilities().write_can_set_mtime
        && let Some(m) = entry.modified
    {
        write = write.modified(m.time);
    }
    let can_resume = src.capabilities().read_can_resume;
    let mut resumed = 0u32;
    let mut delay = options.retry_delay;
    let mut attempt = 1u32;
    loop {
        // The write side owns a 'static stream fed through a small channel; the read side
        // runs here, borrowing `src`, and reconnects inside that one stream.
        let (tx, rx) = mpsc::channel::<Result<Bytes>>(PIPE_CHUNKS);
        let body = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed();
        let reading = pump(src, from, entry.size, tx, can_resume, options, &mut resumed);
        let (read_end, written) = tokio::join!(reading, dst.write(to, body, &write));
        let err = match (read_end, written) {
            (ReadEnd::Finished, Ok(out)) if entry.size.is_some_and(|n| n != out.bytes) => {
                // A destination that stopped reading early yet reported success: do not
                // leave its short file behind as if it were the copy.
                let _ = dst.remove_file(to).await;
                return Err(Error::Truncated {
                    op: Operation::Copy,
                    path: to.as_str().to_owned(),
                    received: out.bytes,
                    expected: entry.size.unwrap_or_default(),
                });
            }
            (ReadEnd::Finished, Ok(out)) => {
                return Ok(CopyOutcome {
                    bytes: out.bytes,
                    resumed_reads: resumed,
                    attempts: attempt,
                    modified_set: out.modified_set,
                });
            }
            // The source's own error says more than the write's echo of it.
            (ReadEnd::Failed(e), _) => e,
            (ReadEnd::Finished, Err(e)) => e,
        };
        if !err.is_retryable() || attempt >= options.max_attempts {
            return Err(err);
        }
        tracing::debug!(%from, %to, attempt, error = %err, "copy failed; starting over");
        tokio::time::sleep(delay).await;
        delay = delay.saturating_mul(2);
        attempt += 1;
    }
}

fn read_options(offset: u64, size: Option<u64>) -> ReadOptions {
    let opts = ReadOptions::new().offset(offset);
    match size {
        Some(n) => opts.size(n),
        None => opts,
    }
}

/// Reads `from` into `tx`, reopening at the offset reached when the stream is cut.
async fn pump<S: RemoteFs + ?Sized>(
    src: &S,
    from: &RemotePath,
    size: Option<u64>,
    tx: mpsc::Sender<Result<Bytes>>,
    can_resume: bool,
    options: &CopyOptions,
    resumed: &mut u32,
) -> ReadEnd {
    let mut offset = 0u64;
    let mut resumes_left = if can_resume { options.max_resumes } else { 0 };
    let mut delay = options.retry_delay;
    let fail = |e: Error, tx: mpsc::Sender<Result<Bytes>>| async move {
        // Tell the write side to abandon its upload (it removes its temporary file).
        let echo = Error::io(
            Operation::Copy,
            from.as_str(),
            io::Error::other(format!("source failed: {e}")),
        );
        let _ = tx.send(Err(echo)).await;
        ReadEnd::Failed(e)
    };
    let mut stream = None;
    loop {
        let s = match stream.as_mut() {
            Some(s) => s,
            None => match src.read_with(from, &read_options(offset, size)).await {
                Ok(s) => stream.insert(s),
                Err(e) if e.is_retryable() && resumes_left > 0 && offset > 0 => {
                    resumes_left -= 1;
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                    continue;
                }
                Err(e) => return fail(e, tx).await,
            },
        };
        let cut = match s.next().await {
            Some(Ok(chunk)) => {
                offset += chunk.len() as u64;
                if size.is_some_and(|n| offset > n) {
                    let e = Error::io(
                        Operation::Copy,
                        from.as_str(),
                        io::Error::other("the source grew while it was copied"),
                    );
                    return fail(e, tx).await;
                }
                if tx.send(Ok(chunk)).await.is_err() {
                    // The write side gave up; its error is the one to report.
                    return ReadEnd::Finished;
                }
                continue;
            }
            None => match size {
                Some(n) if offset < n => Error::Truncated {
                    op: Operation::Read,
                    path: from.as_str().to_owned(),
                    received: offset,
                    expected: n,
                },
                _ => return ReadEnd::Finished,
            },
            Some(Err(e)) => e,
        };
        if !(cut.is_retryable() && resumes_left > 0) {
            return fail(cut, tx).await;
        }
        resumes_left -= 1;
        *resumed += 1;
        tracing::debug!(%from, offset, error = %cut, "source stream cut; resuming");
        stream = None;
        tokio::time::sleep(delay).await;
        delay = delay.saturating_mul(2);
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use chrono::{DateTime, TimeZone, Utc};
    use futures::StreamExt;

    use super::*;
    use crate::capabilities::{Capabilities, ChecksumAlgorithm};
    use crate::entry::Entry;
    use crate::error::ErrorKind;
    use crate::ext::RemoteFsExt;
    use crate::fault::FailNth;
    use crate::fs::{ByteStream, Checksum, EntryStream, WriteOutcome};
    use crate::memory::MemoryFs;
    use crate::stream;

    fn p(s: &str) -> RemotePath {
        RemotePath::parse(s).unwrap()
    }

    fn quick() -> CopyOptions {
        CopyOptions::new().retry_delay(Duration::from_millis(1))
    }

    async fn source(len: u64) -> MemoryFs {
        let fs = MemoryFs::new();
        fs.write(&p("a.bin"), stream::generated(1, len), &WriteOptions::new())
            .await
            .unwrap();
        fs
    }

    /// A broken backend: its read streams end, without an error, at 60% of the file, and its
    /// writes keep only the first chunk.
    #[derive(Debug)]
    struct EndsEarly(MemoryFs);

    #[async_trait]
    impl RemoteFs for EndsEarly {
        fn capabilities(&self) -> Capabilities {
            self.0.capabilities()
        }
        fn backend(&self) -> &'static str {
            "ends-early"
        }
        async fn stat(&self, path: &RemotePath) -> Result<Entry> {
            self.0.stat(path).await
        }
        fn list(&self, dir: &RemotePath) -> EntryStream {
            self.0.list(dir)
        }
        async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
            let stop = self.0.stat(path).await?.size.unwrap_or(0) * 6 / 10;
            let mut at = offset;
            let s = self.0.read(path, offset).await?;
            Ok(s.filter_map(move |c| {
                let out = match c {
                    Ok(_) if at >= stop => None,
                    Ok(c) => {
                        let keep = usize::try_from((stop - at).min(c.len() as u64)).unwrap();
                        at += keep as u64;
                        Some(Ok(c.slice(..keep)))
                    }
                    Err(e) => Some(Err(e)),
                };
                async move { out }
            })
            .boxed())
        }
        async fn write(
            &self,
            path: &RemotePath,
            data: ByteStream,
            options: &WriteOptions,
        ) -> Result<WriteOutcome> {
            // Broken the other way too: a write that keeps only its first chunk, ignores
            // `expected_len` and reports success.
            let first = data.take(1).boxed();
            let mut lax = options.clone();
            lax.expected_len = None;
            self.0.write(path, first, &lax).await
        }
        async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
            self.0.rename(from, to).await
        }
        async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
            self.0.create_dir_all(path).await
        }
        async fn remove_file(&self, path: &RemotePath) -> Result<()> {
            self.0.remove_file(path).await
        }
        async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
            self.0.remove_dir(path).await
        }
        async fn set_modified(&self, path: &RemotePath, t: DateTime<Utc>) -> Result<()> {
            self.0.set_modified(path, t).await
        }
        async fn checksum(&self, path: &RemotePath, a: ChecksumAlgorithm) -> Result<Checksum> {
            self.0.checksum(path, a).await
        }
    }

    #[tokio::test]
    async fn a_source_that_ends_silently_short_never_makes_a_short_copy() {
        let src = EndsEarly(source(100_000).await);
        let dst = MemoryFs::new();
        let err = src
            .copy_to(&p("a.bin"), &dst, &p("b.bin"), &quick())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    received: 60_000,
                    expected: 100_000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(!dst.exists(&p("b.bin")).await.unwrap());
    }

    #[tokio::test]
    async fn a_destination_that_stops_reading_early_is_not_trusted() {
        let src = source(300_000).await;
        let dst = EndsEarly(MemoryFs::new());
        let err = src
            .copy_to(&p("a.bin"), &dst, &p("b.bin"), &quick())
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated {
                    expected: 300_000,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            !dst.0.exists(&p("b.bin")).await.unwrap(),
            "the short copy was left"
        );
    }

    #[tokio::test]
    async fn a_retryable_write_failure_starts_over_and_a_final_one_does_not() {
        let src = source(300_000).await;
        let dst = FailNth::new(MemoryFs::new(), 1).only(&[Operation::Write]);
        let out = src
            .copy_to(&p("a.bin"), &dst, &p("b.bin"), &quick())
            .await
            .unwrap();
        assert_eq!((out.attempts, out.bytes), (2, 300_000));
        assert_eq!(
            dst.inner().read_to_bytes(&p("b.bin")).await.unwrap(),
            src.read_to_bytes(&p("a.bin")).await.unwrap()
        );

        let denied = FailNth::new(MemoryFs::new(), 1)
            .every()
            .only(&[Operation::Write])
            .with_error(|op, path| Error::PermissionDenied {
                op,
                path: path.as_str().to_owned(),
                message: "read-only share".into(),
            });
        let err = src
            .copy_to(&p("a.bin"), &denied, &p("b.bin"), &quick())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied);
        assert_eq!(denied.calls(), 1, "a permanent failure was retried");
    }

    #[tokio::test]
    async fn attempts_are_bounded() {
        let src = source(1000).await;
        let dst = FailNth::new(MemoryFs::new(), 1)
            .every()
            .only(&[Operation::Write]);
        let err = src
            .copy_to(&p("a.bin"), &dst, &p("b.bin"), &quick().max_attempts(4))
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(dst.calls(), 4);
    }

    #[tokio::test]
    async fn mtimes_are_carried_over_unless_asked_not_to() {
        let src = source(10).await;
        let when = Utc.with_ymd_and_hms(2019, 5, 6, 7, 8, 9).unwrap();
        src.set_modified(&p("a.bin"), when).await.unwrap();
        let dst = MemoryFs::new();
        let out = src
            .copy_to(&p("a.bin"), &dst, &p("kept.bin"), &quick())
            .await
            .unwrap();
        assert!(out.modified_set);
        let kept = dst.stat(&p("kept.bin")).await.unwrap().modified.unwrap();
        assert_eq!(kept.time, when);
        let out = src
            .copy_to(
                &p("a.bin"),
                &dst,
                &p("fresh.bin"),
                &quick().preserve_mtime(false),
            )
            .await
            .unwrap();
        assert!(!out.modified_set);
        let fresh = dst.stat(&p("fresh.bin")).await.unwrap().modified.unwrap();
        assert_ne!(fresh.time, when);
    }

    #[tokio::test]
    async fn a_listed_entry_is_copied_without_a_stat_unless_it_says_too_little() {
        let src = source(300_000).await;
        let when = Utc.with_ymd_and_hms(2019, 5, 6, 7, 8, 9).unwrap();
        src.set_modified(&p("a.bin"), when).await.unwrap();
        let entry = src.stat(&p("a.bin")).await.unwrap();
        // Every stat fails: a copy that needs one fails.
        let no_stat = FailNth::new(src.clone(), 1)
            .every()
            .only(&[Operation::Stat]);
        let dst = MemoryFs::new();
        let out = no_stat
            .copy_entry_to(&entry, &dst, &p("b.bin"), &quick())
            .await
            .unwrap();
        assert_eq!((out.bytes, out.modified_set), (300_000, true));
        assert_eq!(
            dst.stat(&p("b.bin")).await.unwrap().modified.unwrap().time,
            when
        );
        assert_eq!(no_stat.calls(), 0);

        // A day-precision time (a `LIST` line) is not carried over as is: stat first.
        let mut coarse = entry.clone();
        coarse.modified = Some(crate::entry::Modified::new(when, TimePrecision::Day));
        let err = no_stat
            .copy_entry_to(&coarse, &dst, &p("c.bin"), &quick())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transient);
        assert_eq!(no_stat.calls(), 1);
        // ... unless the time is not wanted.
        no_stat
            .copy_entry_to(&coarse, &dst, &p("c.bin"), &quick().preserve_mtime(false))
            .await
            .unwrap();
        assert_eq!(no_stat.calls(), 1);

        // The entry's size is held against the stream: a source that is shorter fails.
        let mut longer = entry.clone();
        longer.size = Some(300_001);
        let err = src
            .copy_entry_to(&longer, &dst, &p("d.bin"), &quick())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "{err}");
        assert!(!dst.exists(&p("d.bin")).await.unwrap());

        let dir = Entry::dir(p("x"));
        let err = src
            .copy_entry_to(&dir, &dst, &p("x"), &quick())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
    }

    #[tokio::test]
    async fn an_existing_target_is_kept_without_overwrite() {
        let src = source(10).await;
        let dst = MemoryFs::new();
        dst.write(
            &p("b.bin"),
            stream::once(&b"mine"[..]),
            &WriteOptions::new(),
        )
        .await
        .unwrap();
        let err = src
            .copy_to(&p("a.bin"), &dst, &p("b.bin"), &quick().overwrite(false))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        assert_eq!(&dst.read_to_bytes(&p("b.bin")).await.unwrap()[..], b"mine");
    }
}
