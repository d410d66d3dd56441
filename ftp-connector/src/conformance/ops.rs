//! Cases about rename, removal and modification times.

use chrono::{TimeZone, Utc};

use super::{
    Fixture, case_dir, clean_listing, expect_err, expect_kind, get, note, ok, path, put, skip,
};
use crate::entry::Modified;
use crate::error::ErrorKind;
use crate::ext::RemoteFsExt;
use crate::fs::WriteOptions;
use crate::stream;

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
