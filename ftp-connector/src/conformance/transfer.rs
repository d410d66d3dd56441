//! Cases about transfers: size, concurrency, atomicity, cuts and copies.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::{Fixture, case_dir, clean_listing, get, ok, path, put, skip};
use crate::capabilities::ChecksumAlgorithm;
use crate::entry::Modified;
use crate::error::{ErrorKind, Result};
use crate::ext::{CopyOptions, RemoteFsExt};
use crate::fault::CutStream;
use crate::fs::{ByteStream, RemoteFs, WriteOptions};
use crate::memory::MemoryFs;
use crate::path::RemotePath;
use crate::stream;

/// The SHA-256 and length of a stream, read to its end.
async fn digest(s: ByteStream) -> Result<(String, u64)> {
    let (s, h) = stream::hashing(s);
    let n = s
        .try_fold(0u64, |n, c| async move { Ok(n + c.len() as u64) })
        .await?;
    Ok((h.sha256_hex().unwrap_or_default(), n))
}

/// The SHA-256 of `generated(seed, len)`.
async fn generated_digest(seed: u64, len: u64) -> String {
    digest(stream::generated(seed, len))
        .await
        .map(|(h, _)| h)
        .unwrap_or_default()
}

fn fast_retries() -> CopyOptions {
    CopyOptions::new().retry_delay(Duration::from_millis(10))
}

/// A large file (100 MiB by default) streams up and down unchanged: SHA-256 compared on
/// both sides, never held in memory.
pub async fn large_file(fx: &Fixture) {
    let case = "large_file";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "large.bin");
    let size = fx.large_file_size;
    let (up, sent) = stream::hashing(stream::generated(0x5EED, size));
    let out = ok(
        fx,
        case,
        "write",
        fx.fs
            .write(&p, up, &WriteOptions::new().expected_len(size))
            .await,
    );
    assert_eq!(out.bytes, size, "{case}: WriteOutcome::bytes");
    let sent = sent
        .sha256_hex()
        .unwrap_or_else(|| panic!("{case}: the backend did not read the upload to its end"));
    let e = ok(fx, case, "stat", fx.fs.stat(&p).await);
    assert_eq!(e.size, Some(size), "{case}: stat size");
    let (got, n) = ok(
        fx,
        case,
        "read",
        digest(ok(fx, case, "open", fx.fs.read(&p, 0).await)).await,
    );
    assert_eq!(n, size, "{case}: bytes read back");
    assert_eq!(
        got, sent,
        "{case}: SHA-256 of the download differs from the upload"
    );
    if fx.fs.capabilities().checksums.sha256 {
        let c = ok(
            fx,
            case,
            "checksum",
            fx.fs.checksum(&p, ChecksumAlgorithm::Sha256).await,
        );
        assert_eq!(c.hex, sent, "{case}: server-side SHA-256");
    }
    ok(fx, case, "remove", fx.fs.remove_file(&p).await);
}

/// Several uploads and downloads at once on one backend, each byte-identical.
pub async fn concurrent_transfers(fx: &Fixture) {
    let case = "concurrent_transfers";
    let dir = case_dir(fx, case).await;
    let files: Vec<(RemotePath, u64)> = (0..12u64)
        .map(|i| (path(&dir, &format!("file {i:02}.jpg")), 200_000 + i * 7_919))
        .collect();
    let writes = files.iter().enumerate().map(|(i, (p, len))| {
        let fs = fx.fs.clone();
        async move {
            fs.write(
                p,
                stream::generated(i as u64, *len),
                &WriteOptions::new().expected_len(*len),
            )
            .await
        }
    });
    for r in futures::future::join_all(writes).await {
        ok(fx, case, "concurrent write", r);
    }
    let reads = files.iter().map(|(p, _)| {
        let fs = fx.fs.clone();
        async move { digest(fs.read(p, 0).await?).await }
    });
    let got = futures::future::join_all(reads).await;
    for (i, ((p, len), r)) in files.iter().zip(got).enumerate() {
        let (h, n) = ok(fx, case, "concurrent read", r);
        assert_eq!(n, *len, "{case}: {p} length");
        assert_eq!(
            h,
            generated_digest(i as u64, *len).await,
            "{case}: {p} content"
        );
    }
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(listed.len(), files.len(), "{case}: {listed:?}");
    for (p, len) in &files {
        let name = p.file_name().unwrap_or_default();
        assert_eq!(
            listed.get(name).and_then(|e| e.size),
            Some(*len),
            "{case}: {name}"
        );
    }
}

/// While an atomic write is in progress, a second connection sees the old file or
/// nothing, never a partial file; afterwards it sees the whole new file.
pub async fn atomic_write_is_never_seen_partial(fx: &Fixture) {
    let case = "atomic_write_is_never_seen_partial";
    let observer = fx.observer().clone();
    let dir = case_dir(fx, case).await;
    let old: Vec<u8> = (0..65_536u32).map(|i| (i % 253) as u8).collect();
    let replaced = path(&dir, "replaced.jpg");
    ok(
        fx,
        case,
        "write the old version",
        put(fx.fs.as_ref(), &replaced, &old).await,
    );
    let half: u64 = 2 * 1024 * 1024;
    let want = digest(
        stream::generated(2, half)
            .chain(stream::generated(3, half))
            .boxed(),
    )
    .await
    .map(|(h, _)| h)
    .unwrap_or_default();
    for (target, previous) in [(path(&dir, "new.jpg"), None), (replaced, Some(&old))] {
        let (half_tx, half_rx) = tokio::sync::oneshot::channel::<()>();
        let (gate_tx, gate_rx) = tokio::sync::oneshot::channel::<()>();
        // The body pauses after its first half until the observer has looked.
        let pause = futures::stream::once(async move {
            let _ = half_tx.send(());
            let _ = tokio::time::timeout(Duration::from_secs(120), gate_rx).await;
        })
        .filter_map(|()| async { None::<Result<Bytes>> });
        let body = stream::generated(2, half)
            .chain(pause)
            .chain(stream::generated(3, half))
            .boxed();
        let opts = WriteOptions::new().expected_len(2 * half);
        let writing = fx.fs.write(&target, body, &opts);
        let watching = async {
            if half_rx.await.is_err() {
                return; // The write failed before its midpoint; its error is reported below.
            }
            let look = async {
                for _ in 0..3 {
                    match previous {
                        None => {
                            let r = observer.stat(&target).await;
                            assert!(
                                r.as_ref().is_err_and(|e| e.kind() == ErrorKind::NotFound),
                                "conformance[{}] {case}: mid-upload, the new target is visible: {r:?}",
                                fx.fs.backend()
                            );
                        }
                        Some(old) => {
                            let r = observer.stat(&target).await;
                            let size = r.as_ref().ok().and_then(|e| e.size);
                            assert_eq!(
                                size,
                                Some(old.len() as u64),
                                "conformance[{}] {case}: mid-upload, the target is not the old file: {r:?}",
                                fx.fs.backend()
                            );
                            let body = get(observer.as_ref(), &target).await;
                            assert!(
                                body.as_ref().is_ok_and(|b| b == old),
                                "{case}: mid-upload, the old content changed"
                            );
                        }
                    }
                }
            };
            if tokio::time::timeout(Duration::from_secs(60), look)
                .await
                .is_err()
            {
                panic!(
                    "conformance[{}] {case}: the observer could not look while a write was in \
                     progress (give the fixture a second connection or a larger pool)",
                    fx.fs.backend()
                );
            }
            let _ = gate_tx.send(());
        };
        let (written, ()) = tokio::join!(writing, watching);
        ok(fx, case, &format!("write {target}"), written);
        let e = ok(fx, case, "stat after", observer.stat(&target).await);
        assert_eq!(e.size, Some(2 * half), "{case}: size seen after the write");
        let (h, _) = ok(
            fx,
            case,
            "read after",
            digest(ok(fx, case, "open", observer.read(&target, 0).await)).await,
        );
        assert_eq!(h, want, "{case}: content seen after the write");
    }
}

/// A server-side SHA-256 matches the data.
pub async fn checksum(fx: &Fixture) {
    let case = "checksum";
    if !fx.fs.capabilities().checksums.sha256 {
        skip(fx, case, "the backend computes no SHA-256");
        return;
    }
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "c.bin");
    ok(
        fx,
        case,
        "write",
        fx.fs
            .write(&p, stream::generated(8, 1_000_003), &WriteOptions::new())
            .await,
    );
    let c = ok(
        fx,
        case,
        "checksum",
        fx.fs.checksum(&p, ChecksumAlgorithm::Sha256).await,
    );
    assert_eq!(c.hex, generated_digest(8, 1_000_003).await, "{case}");
    let missing = fx
        .fs
        .checksum(&path(&dir, "missing"), ChecksumAlgorithm::Sha256)
        .await;
    assert!(
        missing.is_err_and(|e| e.kind() == ErrorKind::NotFound),
        "{case}: missing file"
    );
}

/// A download cut mid-way ends with a retryable error — never a silent short file — the
/// backend stays usable, and `copy_to` resumes or retries to a whole copy.
pub async fn cut_read(fx: &Fixture) {
    let case = "cut_read";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "source.bin");
    let size = 1_000_000u64;
    ok(
        fx,
        case,
        "write",
        fx.fs
            .write(&p, stream::generated(11, size), &WriteOptions::new())
            .await,
    );
    let want = generated_digest(11, size).await;

    let always = CutStream::new(fx.fs.clone(), 200_000).reads_only();
    let mut s = ok(fx, case, "open", always.read(&p, 0).await);
    let mut got = 0u64;
    let end = loop {
        match s.next().await {
            Some(Ok(c)) => got += c.len() as u64,
            Some(Err(e)) => break Some(e),
            None => break None,
        }
    };
    drop(s);
    match end {
        Some(e) if e.is_retryable() => {}
        other => panic!("{case}: a cut read ended with {other:?} after {got} bytes"),
    }
    assert_eq!(got, 200_000, "{case}: bytes before the cut");
    // The abandoned transfer does not poison the backend.
    let (h, n) = ok(
        fx,
        case,
        "read after a cut",
        digest(ok(fx, case, "open", fx.fs.read(&p, 0).await)).await,
    );
    assert_eq!(
        (h.as_str(), n),
        (want.as_str(), size),
        "{case}: whole read after a cut"
    );

    let twice = CutStream::new(fx.fs.clone(), 300_000).reads_only().times(2);
    let to = path(&dir, "copy.bin");
    let out = ok(
        fx,
        case,
        "copy_to through two cuts",
        twice
            .copy_to(&p, fx.fs.as_ref(), &to, &fast_retries())
            .await,
    );
    if fx.fs.capabilities().read_can_resume {
        assert_eq!((out.resumed_reads, out.attempts), (2, 1), "{case}: {out:?}");
    } else {
        assert_eq!(out.attempts, 3, "{case}: {out:?}");
    }
    let (h, n) = ok(
        fx,
        case,
        "read copy",
        digest(ok(fx, case, "open", fx.fs.read(&to, 0).await)).await,
    );
    assert_eq!((h.as_str(), n), (want.as_str(), size), "{case}: the copy");

    // A source that never gets through: reported, and nothing left at the target.
    let doomed = path(&dir, "doomed.bin");
    let opts = fast_retries().max_resumes(2).max_attempts(2);
    let r = always.copy_to(&p, fx.fs.as_ref(), &doomed, &opts).await;
    assert!(
        r.as_ref().is_err_and(|e| e.is_retryable()),
        "{case}: hopeless copy gave {r:?}"
    );
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["copy.bin", "source.bin"],
        "{case}: leftovers"
    );
}

/// An upload cut mid-way fails with a retryable error and leaves neither a target nor a
/// temporary file; the old file survives; `copy_to` retries to a whole copy.
pub async fn cut_write(fx: &Fixture) {
    let case = "cut_write";
    let dir = case_dir(fx, case).await;
    let cut = CutStream::new(fx.fs.clone(), 150_000).writes_only();
    let fresh = path(&dir, "fresh.bin");
    let r = cut
        .write(
            &fresh,
            stream::generated(1, 1_000_000),
            &WriteOptions::new(),
        )
        .await;
    assert!(
        r.as_ref().is_err_and(|e| e.is_retryable()),
        "{case}: cut upload gave {r:?}"
    );
    let old = path(&dir, "old.bin");
    ok(
        fx,
        case,
        "write old",
        put(fx.fs.as_ref(), &old, b"old content").await,
    );
    let r = cut
        .write(&old, stream::generated(1, 1_000_000), &WriteOptions::new())
        .await;
    assert!(r.is_err(), "{case}: cut overwrite succeeded");
    assert_eq!(
        ok(fx, case, "read old", get(fx.fs.as_ref(), &old).await),
        b"old content"
    );
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["old.bin"],
        "{case}: leftovers after cut uploads"
    );

    let src = path(&dir, "src.bin");
    ok(
        fx,
        case,
        "write src",
        fx.fs
            .write(&src, stream::generated(4, 700_000), &WriteOptions::new())
            .await,
    );
    let once = CutStream::new(fx.fs.clone(), 150_000)
        .writes_only()
        .times(1);
    let to = path(&dir, "copied.bin");
    let out = ok(
        fx,
        case,
        "copy_to into a cut",
        fx.fs.copy_to(&src, &once, &to, &fast_retries()).await,
    );
    assert_eq!(out.attempts, 2, "{case}: {out:?}");
    let (h, n) = ok(
        fx,
        case,
        "read",
        digest(ok(fx, case, "open", fx.fs.read(&to, 0).await)).await,
    );
    assert_eq!(
        (h, n),
        (generated_digest(4, 700_000).await, 700_000),
        "{case}: the copy"
    );
}

/// `copy_to` to and from another backend keeps bytes and, where both sides can, the
/// modification time.
pub async fn copy_between_backends(fx: &Fixture) {
    let case = "copy_between_backends";
    let dir = case_dir(fx, case).await;
    let caps = fx.fs.capabilities();
    let p = path(&dir, "original.jpg");
    ok(
        fx,
        case,
        "write",
        fx.fs
            .write(&p, stream::generated(21, 600_000), &WriteOptions::new())
            .await,
    );
    let src_entry = ok(fx, case, "stat", fx.fs.stat(&p).await);
    let mem = MemoryFs::new();
    let there = RemotePath::parse("copy.jpg").expect("valid");
    let out = ok(
        fx,
        case,
        "copy_to memory",
        fx.fs.copy_to(&p, &mem, &there, &CopyOptions::new()).await,
    );
    assert_eq!(out.bytes, 600_000);
    let want = generated_digest(21, 600_000).await;
    let (h, _) = ok(
        fx,
        case,
        "read memory copy",
        digest(ok(fx, case, "open", mem.read(&there, 0).await)).await,
    );
    assert_eq!(h, want, "{case}: memory copy content");
    if let Some(m) = src_entry.modified {
        assert!(out.modified_set, "{case}: mtime not carried to memory");
        let copied = ok(fx, case, "stat memory copy", mem.stat(&there).await);
        let c = copied
            .modified
            .unwrap_or_else(|| panic!("{case}: no mtime on the copy"));
        assert!(
            Modified::new(c.time, m.precision).same_as(&m),
            "{case}: {c:?} vs {m:?}"
        );
    }

    let back = path(&dir, "back again.jpg");
    let mem_dyn: Arc<dyn RemoteFs> = Arc::new(mem.clone());
    let out = ok(
        fx,
        case,
        "copy_to from memory",
        mem_dyn
            .copy_to(&there, fx.fs.as_ref(), &back, &CopyOptions::new())
            .await,
    );
    assert_eq!(
        out.modified_set, caps.write_can_set_mtime,
        "{case}: {out:?}"
    );
    let (h, _) = ok(
        fx,
        case,
        "read back",
        digest(ok(fx, case, "open", fx.fs.read(&back, 0).await)).await,
    );
    assert_eq!(h, want, "{case}: copied back content");

    let same = path(&dir, "same backend.jpg");
    ok(
        fx,
        case,
        "copy_to the same backend",
        fx.fs
            .copy_to(&p, fx.fs.as_ref(), &same, &CopyOptions::new())
            .await,
    );
    assert_eq!(
        ok(fx, case, "stat", fx.fs.stat(&same).await).size,
        Some(600_000)
    );

    let r = fx.fs.copy_to(&dir, &mem, &there, &CopyOptions::new()).await;
    assert!(r.is_err(), "{case}: copying a folder gave {r:?}");
    let r = fx
        .fs
        .copy_to(&path(&dir, "missing"), &mem, &there, &CopyOptions::new())
        .await;
    assert!(
        r.is_err_and(|e| e.kind() == ErrorKind::NotFound),
        "{case}: copying a missing file"
    );
}
