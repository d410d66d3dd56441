//! Cases about transfers: size, concurrency, atomicity, cuts and copies.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::{Fixture, case_dir, clean_listing, get, listing, ok, path, put, skip};
use crate::capabilities::ChecksumAlgorithm;
use crate::entry::Modified;
use crate::error::{ErrorKind, Result};
use crate::ext::{CopyOptions, RemoteFsExt};
use crate::fs::{ByteStream, RemoteFs, WriteOptions};
use crate::memory::MemoryFs;
use crate::path::RemotePath;
use crate::stream;

/// The SHA-256 and length of a stream, read to its end.
pub(super) async fn digest(s: ByteStream) -> Result<(String, u64)> {
    let (s, h) = stream::hashing(s);
    let n = s
        .try_fold(0u64, |n, c| async move { Ok(n + c.len() as u64) })
        .await?;
    Ok((h.sha256_hex().unwrap_or_default(), n))
}

/// The SHA-256 of `generated(seed, len)`.
pub(super) async fn generated_digest(seed: u64, len: u64) -> String {
    digest(stream::generated(seed, len))
        .await
        .map(|(h, _)| h)
        .unwrap_or_default()
}

pub(super) fn fast_retries() -> CopyOptions {
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
                    let name = target.file_name().unwrap_or_default();
                    let (listed, _) = listing(observer.as_ref(), &dir).await;
                    let seen = listed.get(name).map(|e| e.size);
                    assert_eq!(
                        seen,
                        previous.map(|old| Some(old.len() as u64)),
                        "conformance[{}] {case}: mid-upload, the listing shows {name} as {seen:?}",
                        fx.fs.backend()
                    );
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
