//! Cases about connections cut mid-transfer.

use futures::StreamExt;

use super::transfer::{digest, fast_retries, generated_digest};
use super::{Fixture, case_dir, clean_listing, get, ok, path, put};
use crate::ext::RemoteFsExt;
use crate::fault::CutStream;
use crate::fs::{RemoteFs, WriteOptions};
use crate::stream;

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
