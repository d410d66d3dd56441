//! Cases for each trait method on its own: stat, list, read, mkdir, and the helpers.

use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;

use super::{
    Fixture, case_dir, clean_listing, expect_err, expect_kind, get, listing, ok, path, put, skip,
};
use crate::entry::EntryKind;
use crate::error::ErrorKind;
use crate::ext::RemoteFsExt;
use crate::fs::WriteOptions;
use crate::path::RemotePath;
use crate::stream;

/// The root is a directory.
pub async fn stat_root(fx: &Fixture) {
    let case = "stat_root";
    let root = ok(fx, case, "stat /", fx.fs.stat(&RemotePath::ROOT).await);
    assert!(
        root.is_dir(),
        "{case}: the root is not a directory: {root:?}"
    );
    assert!(ok(
        fx,
        case,
        "exists /",
        fx.fs.exists(&RemotePath::ROOT).await
    ));
}

/// Nested creation, idempotence, and a file in the way.
pub async fn create_dir_all(fx: &Fixture) {
    let case = "create_dir_all";
    let dir = case_dir(fx, case).await;
    let deep = path(&dir, "a/b/c");
    ok(fx, case, "create a/b/c", fx.fs.create_dir_all(&deep).await);
    ok(
        fx,
        case,
        "create a/b/c again",
        fx.fs.create_dir_all(&deep).await,
    );
    for p in ["a", "a/b", "a/b/c"] {
        let e = ok(fx, case, "stat", fx.fs.stat(&path(&dir, p)).await);
        assert!(e.is_dir(), "{case}: {p} is not a directory: {e:?}");
    }
    ok(
        fx,
        case,
        "write a/file",
        put(fx.fs.as_ref(), &path(&dir, "a/file"), b"x").await,
    );
    expect_err(
        fx,
        case,
        "create_dir_all through a file",
        fx.fs.create_dir_all(&path(&dir, "a/file/sub")).await,
    );
    let e = ok(
        fx,
        case,
        "stat a/file",
        fx.fs.stat(&path(&dir, "a/file")).await,
    );
    assert!(e.is_file(), "{case}: a/file was replaced: {e:?}");
}

/// Write, stat, list and read one small file.
pub async fn write_read_roundtrip(fx: &Fixture) {
    let case = "write_read_roundtrip";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "photo.jpg");
    let data: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let out = ok(
        fx,
        case,
        "write",
        fx.fs
            .write(
                &p,
                stream::once(Bytes::from(data.clone())),
                &WriteOptions::new().expected_len(data.len() as u64),
            )
            .await,
    );
    assert_eq!(out.bytes, data.len() as u64, "{case}: WriteOutcome::bytes");
    let e = ok(fx, case, "stat", fx.fs.stat(&p).await);
    assert_eq!(
        (e.kind, e.size),
        (EntryKind::File, Some(70_000)),
        "{case}: stat {e:?}"
    );
    assert_eq!(e.path, p, "{case}: stat reports the path asked for");
    if fx.fs.capabilities().stat_has_mtime {
        let m = e
            .modified
            .unwrap_or_else(|| panic!("{case}: no mtime in {e:?}"));
        let age = Utc::now().signed_duration_since(m.time).num_seconds().abs();
        // Clocks of a local server agree to within a day even with LIST's coarse times.
        assert!(age < 86_400 + 120, "{case}: mtime {m:?} is far from now");
    }
    let listed = clean_listing(fx, case, &dir).await;
    let l = listed
        .get("photo.jpg")
        .unwrap_or_else(|| panic!("{case}: not listed: {listed:?}"));
    assert_eq!(
        (l.kind, l.size, &l.path),
        (EntryKind::File, Some(70_000), &p)
    );
    assert_eq!(listed.len(), 1, "{case}: extra entries: {listed:?}");
    let back = ok(fx, case, "read", get(fx.fs.as_ref(), &p).await);
    assert!(
        back == data,
        "{case}: content differs ({} bytes back)",
        back.len()
    );
}

/// A file of zero bytes.
pub async fn empty_file(fx: &Fixture) {
    let case = "empty_file";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "empty.txt");
    ok(
        fx,
        case,
        "write",
        fx.fs
            .write(&p, stream::empty(), &WriteOptions::new().expected_len(0))
            .await,
    );
    let e = ok(fx, case, "stat", fx.fs.stat(&p).await);
    assert_eq!(
        (e.kind, e.size),
        (EntryKind::File, Some(0)),
        "{case}: {e:?}"
    );
    assert!(ok(fx, case, "read", get(fx.fs.as_ref(), &p).await).is_empty());
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(
        listed.get("empty.txt").and_then(|e| e.size),
        Some(0),
        "{case}: {listed:?}"
    );
}

/// Reads from an offset (resumed downloads); a backend that cannot says so.
pub async fn read_from_offset(fx: &Fixture) {
    let case = "read_from_offset";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "r.bin");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    ok(fx, case, "write", put(fx.fs.as_ref(), &p, &data).await);
    if !fx.fs.capabilities().read_can_resume {
        expect_kind(
            fx,
            case,
            "read at an offset without read_can_resume",
            fx.fs.read(&p, 10).await.map(|_| ()),
            ErrorKind::Unsupported,
        );
        skip(fx, case, "the backend cannot resume reads (and says so)");
        return;
    }
    for offset in [0usize, 1, 65_536, 99_999, 100_000] {
        let mut s = ok(
            fx,
            case,
            "read at offset",
            fx.fs.read(&p, offset as u64).await,
        );
        let mut got = Vec::new();
        while let Some(c) = s.next().await {
            got.extend_from_slice(&ok(fx, case, "read chunk", c));
        }
        assert!(
            got == data[offset..],
            "{case}: from offset {offset}: {} bytes, expected {}",
            got.len(),
            data.len() - offset
        );
    }
}

/// Missing paths fail with `NotFound`, whatever the operation.
pub async fn not_found(fx: &Fixture) {
    let case = "not_found";
    let dir = case_dir(fx, case).await;
    let missing = path(&dir, "missing.jpg");
    let nf = ErrorKind::NotFound;
    expect_kind(fx, case, "stat", fx.fs.stat(&missing).await, nf);
    expect_kind(
        fx,
        case,
        "read",
        fx.fs.read(&missing, 0).await.map(|_| ()),
        nf,
    );
    expect_kind(
        fx,
        case,
        "remove_file",
        fx.fs.remove_file(&missing).await,
        nf,
    );
    expect_kind(fx, case, "remove_dir", fx.fs.remove_dir(&missing).await, nf);
    expect_kind(
        fx,
        case,
        "rename",
        fx.fs.rename(&missing, &path(&dir, "b")).await,
        nf,
    );
    let items: Vec<_> = fx.fs.list(&path(&dir, "no-such-dir")).collect().await;
    match items.first() {
        Some(Err(e)) if e.kind() == nf => {}
        other => panic!(
            "conformance[{}] {case}: listing a missing folder: expected a NotFound item, got {other:?}",
            fx.fs.backend()
        ),
    }
    assert!(!ok(fx, case, "exists", fx.fs.exists(&missing).await));
}

/// Listings give kinds, exact sizes and paths, no `.`/`..`.
pub async fn list_kinds_and_sizes(fx: &Fixture) {
    let case = "list_kinds_and_sizes";
    let dir = case_dir(fx, case).await;
    for (name, len) in [("a.jpg", 1usize), ("b.tif", 4096), ("c.xmp", 123_457)] {
        let data = vec![b'x'; len];
        ok(
            fx,
            case,
            "write",
            put(fx.fs.as_ref(), &path(&dir, name), &data).await,
        );
    }
    ok(
        fx,
        case,
        "mkdir",
        fx.fs.create_dir_all(&path(&dir, "sub/inner")).await,
    );
    let listed = clean_listing(fx, case, &dir).await;
    let got: Vec<(&str, EntryKind, Option<u64>)> = listed
        .values()
        .map(|e| (e.name(), e.kind, if e.is_file() { e.size } else { None }))
        .collect();
    assert_eq!(
        got,
        [
            ("a.jpg", EntryKind::File, Some(1)),
            ("b.tif", EntryKind::File, Some(4096)),
            ("c.xmp", EntryKind::File, Some(123_457)),
            ("sub", EntryKind::Dir, None),
        ],
        "{case}"
    );
    for e in listed.values() {
        assert_eq!(e.path.parent().as_ref(), Some(&dir), "{case}: {e:?}");
        if fx.fs.capabilities().stat_has_mtime {
            assert!(e.modified.is_some(), "{case}: no mtime in {e:?}");
        }
    }
}

/// `exists` and `read_to_bytes`.
pub async fn exists_and_read_to_bytes(fx: &Fixture) {
    let case = "exists_and_read_to_bytes";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "sidecar.xmp");
    assert!(!ok(fx, case, "exists before", fx.fs.exists(&p).await));
    ok(
        fx,
        case,
        "write",
        put(fx.fs.as_ref(), &p, b"<x:xmpmeta/>").await,
    );
    assert!(ok(fx, case, "exists after", fx.fs.exists(&p).await));
    assert!(ok(fx, case, "exists folder", fx.fs.exists(&dir).await));
    let b = ok(fx, case, "read_to_bytes", fx.fs.read_to_bytes(&p).await);
    assert_eq!(&b[..], b"<x:xmpmeta/>");
    let (_, errors) = listing(fx.fs.as_ref(), &dir).await;
    assert!(errors.is_empty(), "{case}: {errors:?}");
}

/// The secrets declared with [`Fixture::with_secrets`] never show in the backend's
/// `Debug` output nor in its errors.
pub async fn secrets_stay_hidden(fx: &Fixture) {
    let case = "secrets_stay_hidden";
    if fx.secrets.is_empty() {
        skip(fx, case, "the fixture declares no secrets");
        return;
    }
    let dir = case_dir(fx, case).await;
    let missing = path(&dir, "missing/file.jpg");
    let mut shown = vec![format!("{:?}", fx.fs), format!("{fx:?}")];
    if let Some(second) = &fx.second {
        shown.push(format!("{second:?}"));
    }
    let errors = [
        fx.fs.stat(&missing).await.err(),
        fx.fs.read(&missing, 0).await.err(),
        put(fx.fs.as_ref(), &missing, b"x").await.err(),
        fx.fs.remove_dir(&missing).await.err(),
        fx.fs.rename(&missing, &dir).await.err(),
    ];
    for e in errors.into_iter().flatten() {
        shown.push(format!("{e} / {e:?}"));
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            shown.push(s.to_string());
            source = s.source();
        }
    }
    for text in &shown {
        for secret in &fx.secrets {
            assert!(
                !text.contains(secret.as_str()),
                "conformance[{}] {case}: a secret shows in: {text}",
                fx.fs.backend()
            );
        }
    }
}
