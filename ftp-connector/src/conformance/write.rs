//! Cases about writes: parents, overwrite, lengths, failures, in-place mode.

use futures::StreamExt;

use super::{Fixture, case_dir, clean_listing, expect_err, expect_kind, get, ok, path, put, skip};
use crate::error::{Error, ErrorKind, Operation};
use crate::ext::RemoteFsExt;
use crate::fs::{WriteMode, WriteOptions};
use crate::stream;

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

/// `WriteOptions::resume_from` continues a partial upload where the backend can.
pub async fn resumed_write(fx: &Fixture) {
    let case = "resumed_write";
    if !fx.fs.capabilities().write_can_resume {
        skip(fx, case, "the backend cannot resume uploads");
        return;
    }
    let dir = case_dir(fx, case).await;
    let p = path(&dir, "partial.bin");
    let whole: Vec<u8> = (0..300_000u32).map(|i| (i % 241) as u8).collect();
    ok(
        fx,
        case,
        "write the first part",
        put(fx.fs.as_ref(), &p, &whole[..120_000]).await,
    );
    let rest = stream::once(bytes::Bytes::copy_from_slice(&whole[120_000..]));
    let out = ok(
        fx,
        case,
        "resume at 120000",
        fx.fs
            .write(
                &p,
                rest,
                &WriteOptions::new()
                    .resume_from(120_000)
                    .expected_len(180_000),
            )
            .await,
    );
    assert_eq!(
        out.bytes, 180_000,
        "{case}: WriteOutcome::bytes counts this call only"
    );
    let back = ok(fx, case, "read", get(fx.fs.as_ref(), &p).await);
    assert!(
        back == whole,
        "{case}: {} bytes after resuming, expected 300000",
        back.len()
    );
}
