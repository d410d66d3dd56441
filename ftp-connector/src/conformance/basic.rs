//! Cases for each trait method on its own.

use bytes::Bytes;
use chrono::{TimeZone, Utc};
use futures::StreamExt;

use super::{Fixture, case_dir, clean_listing, get, listing, note, ok, path, put, skip};
use crate::entry::{EntryKind, Modified};
use crate::error::{Error, ErrorKind, Operation};
use crate::ext::RemoteFsExt;
use crate::fs::{WriteMode, WriteOptions};
use crate::path::RemotePath;
use crate::stream;

#[track_caller]
fn expect_kind<T: std::fmt::Debug>(
    fx: &Fixture,
    case: &str,
    what: &str,
    r: crate::Result<T>,
    kind: ErrorKind,
) {
    match r {
        Err(e) if e.kind() == kind => {}
        Err(e) => panic!(
            "conformance[{}] {case}: {what}: expected {kind:?}, got {:?}: {e}",
            fx.fs.backend(),
            e.kind()
        ),
        Ok(v) => panic!(
            "conformance[{}] {case}: {what}: expected {kind:?}, got Ok({v:?})",
            fx.fs.backend()
        ),
    }
}

#[track_caller]
fn expect_err<T: std::fmt::Debug>(fx: &Fixture, case: &str, what: &str, r: crate::Result<T>) {
    if let Ok(v) = r {
        panic!(
            "conformance[{}] {case}: {what}: expected an error, got Ok({v:?})",
            fx.fs.backend()
        );
    }
}

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

/// A write into a missing folder fails and creates nothing.
pub async fn write_needs_parent(fx: &Fixture) {
    let case = "write_needs_parent";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "nowhere/a.jpg");
    expect_err(
        fx,
        case,
        "write into a missing folder",
        put(fx.fs.as_ref(), &p, b"x").await,
    );
    assert!(!ok(
        fx,
        case,
        "exists",
        fx.fs.exists(&path(&dir, "nowhere")).await
    ));
    assert!(
        clean_listing(fx, case, &dir).await.is_empty(),
        "{case}: leftovers"
    );
}

/// `overwrite(true)` replaces (no stale tail), `overwrite(false)` refuses with a conflict.
pub async fn overwrite(fx: &Fixture) {
    let case = "overwrite";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "a.txt");
    ok(
        fx,
        case,
        "first write",
        put(fx.fs.as_ref(), &p, b"a long first version").await,
    );
    ok(
        fx,
        case,
        "overwrite",
        put(fx.fs.as_ref(), &p, b"short").await,
    );
    assert_eq!(
        ok(fx, case, "read", get(fx.fs.as_ref(), &p).await),
        b"short"
    );
    let refused = fx
        .fs
        .write(
            &p,
            stream::once(&b"third"[..]),
            &WriteOptions::new().overwrite(false),
        )
        .await;
    expect_kind(
        fx,
        case,
        "write with overwrite(false)",
        refused,
        ErrorKind::Conflict,
    );
    assert_eq!(
        ok(fx, case, "read", get(fx.fs.as_ref(), &p).await),
        b"short"
    );
    let fresh = path(&dir, "new.txt");
    ok(
        fx,
        case,
        "overwrite(false) of a new file",
        fx.fs
            .write(
                &fresh,
                stream::once(&b"new"[..]),
                &WriteOptions::new().overwrite(false),
            )
            .await,
    );
    assert_eq!(
        ok(fx, case, "read", get(fx.fs.as_ref(), &fresh).await),
        b"new"
    );
}

/// A stream shorter or longer than `expected_len` fails the write and leaves nothing.
pub async fn wrong_length_is_refused(fx: &Fixture) {
    let case = "wrong_length_is_refused";
    let dir = case_dir(fx, case).await;
    let old = path(&dir, "existing.txt");
    ok(
        fx,
        case,
        "write",
        put(fx.fs.as_ref(), &old, b"keep me").await,
    );
    for (name, declared) in [("short.bin", 50_000u64), ("long.bin", 10)] {
        let p = path(&dir, name);
        let r = fx
            .fs
            .write(
                &p,
                stream::generated(1, 20_000),
                &WriteOptions::new().expected_len(declared),
            )
            .await;
        expect_err(fx, case, &format!("write {name} declared {declared}"), r);
        assert!(
            !ok(fx, case, "exists", fx.fs.exists(&p).await),
            "{case}: {name} was left"
        );
    }
    let r = fx
        .fs
        .write(
            &old,
            stream::generated(1, 20_000),
            &WriteOptions::new().expected_len(30_000),
        )
        .await;
    expect_err(fx, case, "short overwrite", r);
    assert_eq!(
        ok(fx, case, "read", get(fx.fs.as_ref(), &old).await),
        b"keep me"
    );
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["existing.txt"],
        "{case}: leftovers"
    );
}

fn broken_stream(after: u64) -> crate::ByteStream {
    let reset = Error::io(
        Operation::Read,
        "source",
        std::io::Error::new(std::io::ErrorKind::ConnectionReset, "source went away"),
    );
    stream::generated(5, after)
        .chain(futures::stream::once(async move { Err(reset) }))
        .boxed()
}

/// A stream that fails mid-way fails the write; an atomic write leaves no target, no
/// temporary file, and an overwritten file intact.
pub async fn failed_write_leaves_no_trace(fx: &Fixture) {
    let case = "failed_write_leaves_no_trace";
    let dir = case_dir(fx, case).await;
    let old = path(&dir, "old.jpg");
    ok(
        fx,
        case,
        "write",
        put(fx.fs.as_ref(), &old, b"original").await,
    );
    let fresh = path(&dir, "new.jpg");
    let r = fx
        .fs
        .write(&fresh, broken_stream(300_000), &WriteOptions::new())
        .await;
    expect_err(fx, case, "atomic write of a failing stream", r);
    let r = fx
        .fs
        .write(&old, broken_stream(300_000), &WriteOptions::new())
        .await;
    expect_err(fx, case, "atomic overwrite with a failing stream", r);
    assert_eq!(
        ok(fx, case, "read old", get(fx.fs.as_ref(), &old).await),
        b"original"
    );
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        ["old.jpg"],
        "{case}: a failed atomic write left something behind"
    );
    let r = fx
        .fs
        .write(
            &fresh,
            broken_stream(1000),
            &WriteOptions::new().mode(WriteMode::InPlace),
        )
        .await;
    expect_err(fx, case, "in-place write of a failing stream", r);
}

/// `WriteMode::InPlace` writes, and replaces a longer file without a stale tail.
pub async fn in_place_write(fx: &Fixture) {
    let case = "in_place_write";
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "in-place.txt");
    let opts = WriteOptions::new().mode(WriteMode::InPlace);
    for data in [&b"a first, longer version"[..], b"second"] {
        ok(
            fx,
            case,
            "write",
            fx.fs.write(&p, stream::once(data), &opts).await,
        );
        assert_eq!(ok(fx, case, "read", get(fx.fs.as_ref(), &p).await), data);
    }
    let listed = clean_listing(fx, case, &dir).await;
    assert_eq!(listed.keys().collect::<Vec<_>>(), ["in-place.txt"]);
}

/// Renames files and folders, over an existing file, and from a missing path.
pub async fn rename(fx: &Fixture) {
    let case = "rename";
    let dir = case_dir(fx, case).await;
    let (a, b) = (path(&dir, "a.txt"), path(&dir, "b.txt"));
    ok(fx, case, "write a", put(fx.fs.as_ref(), &a, b"aaa").await);
    ok(fx, case, "rename a -> b", fx.fs.rename(&a, &b).await);
    assert!(
        !ok(fx, case, "exists a", fx.fs.exists(&a).await),
        "{case}: source still there"
    );
    assert_eq!(
        ok(fx, case, "read b", get(fx.fs.as_ref(), &b).await),
        b"aaa"
    );

    ok(
        fx,
        case,
        "create sub",
        fx.fs.create_dir_all(&path(&dir, "sub")).await,
    );
    let moved = path(&dir, "sub/b moved.txt");
    ok(
        fx,
        case,
        "rename into a folder",
        fx.fs.rename(&b, &moved).await,
    );
    assert_eq!(
        ok(fx, case, "read moved", get(fx.fs.as_ref(), &moved).await),
        b"aaa"
    );

    let c = path(&dir, "c.txt");
    ok(fx, case, "write c", put(fx.fs.as_ref(), &c, b"ccccc").await);
    if fx.fs.capabilities().rename_can_overwrite {
        ok(
            fx,
            case,
            "rename over an existing file",
            fx.fs.rename(&c, &moved).await,
        );
        assert_eq!(
            ok(fx, case, "read", get(fx.fs.as_ref(), &moved).await),
            b"ccccc"
        );
        assert!(!ok(fx, case, "exists c", fx.fs.exists(&c).await));
    } else {
        note(
            fx,
            case,
            "rename over an existing file not checked (rename_can_overwrite is false)",
        );
    }

    let tree = path(&dir, "tree");
    ok(
        fx,
        case,
        "create tree/x",
        fx.fs.create_dir_all(&path(&dir, "tree/x")).await,
    );
    ok(
        fx,
        case,
        "write tree/x/f",
        put(fx.fs.as_ref(), &path(&dir, "tree/x/f"), b"f").await,
    );
    let renamed = path(&dir, "tree renamed");
    ok(
        fx,
        case,
        "rename a folder",
        fx.fs.rename(&tree, &renamed).await,
    );
    assert_eq!(
        ok(
            fx,
            case,
            "read inside renamed folder",
            get(fx.fs.as_ref(), &path(&dir, "tree renamed/x/f")).await
        ),
        b"f"
    );
    assert!(!ok(fx, case, "exists tree", fx.fs.exists(&tree).await));
}

/// `remove_file` and `remove_dir`, and what each refuses.
pub async fn remove(fx: &Fixture) {
    let case = "remove";
    let dir = case_dir(fx, case).await;
    let f = path(&dir, "f.txt");
    let d = path(&dir, "d");
    ok(fx, case, "write f", put(fx.fs.as_ref(), &f, b"f").await);
    ok(fx, case, "create d", fx.fs.create_dir_all(&d).await);
    ok(
        fx,
        case,
        "write d/g",
        put(fx.fs.as_ref(), &path(&dir, "d/g"), b"g").await,
    );

    expect_err(
        fx,
        case,
        "remove_file of a folder",
        fx.fs.remove_file(&d).await,
    );
    expect_err(fx, case, "remove_dir of a file", fx.fs.remove_dir(&f).await);
    expect_err(
        fx,
        case,
        "remove_dir of a non-empty folder",
        fx.fs.remove_dir(&d).await,
    );
    assert!(
        ok(fx, case, "stat d", fx.fs.stat(&d).await).is_dir(),
        "{case}: d is gone"
    );
    assert!(
        ok(fx, case, "stat f", fx.fs.stat(&f).await).is_file(),
        "{case}: f is gone"
    );

    ok(
        fx,
        case,
        "remove_file d/g",
        fx.fs.remove_file(&path(&dir, "d/g")).await,
    );
    ok(fx, case, "remove_dir d", fx.fs.remove_dir(&d).await);
    ok(fx, case, "remove_file f", fx.fs.remove_file(&f).await);
    expect_kind(
        fx,
        case,
        "remove_file again",
        fx.fs.remove_file(&f).await,
        ErrorKind::NotFound,
    );
    assert!(
        clean_listing(fx, case, &dir).await.is_empty(),
        "{case}: leftovers"
    );
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

/// `set_modified` and `WriteOptions::modified`, compared at the backend's precision.
pub async fn set_modified(fx: &Fixture) {
    let case = "set_modified";
    let caps = fx.fs.capabilities();
    if !caps.write_can_set_mtime {
        skip(fx, case, "the backend cannot set modification times");
        return;
    }
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "dated.jpg");
    ok(fx, case, "write", put(fx.fs.as_ref(), &p, b"x").await);
    let when = Utc
        .with_ymd_and_hms(2021, 3, 4, 5, 6, 7)
        .single()
        .expect("valid date");
    ok(fx, case, "set_modified", fx.fs.set_modified(&p, when).await);
    let check = |e: &crate::Entry, label: &str| {
        let m = e
            .modified
            .unwrap_or_else(|| panic!("{case}: {label}: no mtime in {e:?}"));
        let precision = caps.mtime_precision.unwrap_or(m.precision).max(m.precision);
        assert!(
            m.same_as(&Modified::new(when, precision)),
            "{case}: {label}: {m:?} is not {when}"
        );
    };
    check(
        &ok(fx, case, "stat", fx.fs.stat(&p).await),
        "stat after set_modified",
    );
    let listed = clean_listing(fx, case, &dir).await;
    check(&listed["dated.jpg"], "listing after set_modified");

    let q = path(&dir, "written dated.jpg");
    let out = ok(
        fx,
        case,
        "write with modified",
        fx.fs
            .write(
                &q,
                stream::once(&b"y"[..]),
                &WriteOptions::new().modified(when),
            )
            .await,
    );
    assert!(
        out.modified_set,
        "{case}: WriteOutcome::modified_set is false"
    );
    check(
        &ok(fx, case, "stat", fx.fs.stat(&q).await),
        "stat after write with modified",
    );
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
