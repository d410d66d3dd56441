//! Cases about names: non-ASCII and spaces, and hostile names a server may list.

use futures::StreamExt;

use super::{Fixture, HOSTILE_NAMES, case_dir, clean_listing, get, listing, ok, path, put, skip};
use crate::error::ErrorKind;
use crate::ext::{RemoteFsExt, WalkOptions};

/// Names with spaces, accents, CJK, emoji and shell-special characters round-trip
/// through write, list, stat, read, rename and walk.
pub async fn unicode_and_spaces(fx: &Fixture) {
    let case = "unicode_and_spaces";
    let dir = case_dir(fx, case).await;
    let folder = path(&dir, "Événements 2026");
    ok(
        fx,
        case,
        "create folder",
        fx.fs.create_dir_all(&folder).await,
    );
    let names = [
        "photo 1 (copie) — été.jpg",
        "日本語の写真.jpg",
        "emoji 📷 shot.jpg",
        "  leading and trailing spaces  .jpg",
        "quotes 'single' \"double\" & $dollar; #hash.jpg",
        "Ünïcödé NFC.jpg",
        "percent %20 plus+.jpg",
    ];
    for (i, name) in names.iter().enumerate() {
        let p = folder.join(name).expect("valid name");
        let body = format!("file {i}: {name}");
        ok(
            fx,
            case,
            &format!("write {name:?}"),
            put(fx.fs.as_ref(), &p, body.as_bytes()).await,
        );
    }
    let listed = clean_listing(fx, case, &folder).await;
    let mut want: Vec<&str> = names.to_vec();
    want.sort_unstable();
    assert_eq!(
        listed.keys().map(String::as_str).collect::<Vec<_>>(),
        want,
        "{case}: listed names differ"
    );
    for (i, name) in names.iter().enumerate() {
        let p = folder.join(name).expect("valid name");
        let e = ok(fx, case, &format!("stat {name:?}"), fx.fs.stat(&p).await);
        let body = format!("file {i}: {name}");
        assert_eq!(e.size, Some(body.len() as u64), "{case}: size of {name:?}");
        let back = ok(
            fx,
            case,
            &format!("read {name:?}"),
            get(fx.fs.as_ref(), &p).await,
        );
        assert_eq!(back, body.as_bytes(), "{case}: content of {name:?}");
    }
    let from = folder.join(names[0]).expect("valid name");
    let to = folder.join("renamed — ça marche.jpg").expect("valid name");
    ok(fx, case, "rename", fx.fs.rename(&from, &to).await);
    assert!(ok(fx, case, "exists", fx.fs.exists(&to).await));
    let walked: Vec<_> = fx.fs.walk(&dir, WalkOptions::new()).collect().await;
    assert_eq!(
        walked.len(),
        names.len() + 1,
        "{case}: walk found {walked:?}"
    );
    assert!(
        walked.iter().all(Result::is_ok),
        "{case}: walk errors: {walked:?}"
    );
}

/// Hostile names planted on the server are reported as `InvalidInput` items, never as
/// entries, and never break the rest of the listing or a walk.
pub async fn hostile_names(fx: &Fixture) {
    let case = "hostile_names";
    let Some(raw) = fx.raw.clone() else {
        skip(fx, case, "the fixture has no raw access to plant names");
        return;
    };
    let dir = case_dir(fx, case).await;
    let mut planted = 0;
    for (label, name) in HOSTILE_NAMES {
        if fx.unrepresentable.contains(label) {
            skip(
                fx,
                case,
                &format!("{label}: the server cannot list this name faithfully"),
            );
            continue;
        }
        let sub = path(&dir, label);
        ok(fx, case, "create folder", fx.fs.create_dir_all(&sub).await);
        ok(
            fx,
            case,
            "write ok-before",
            put(
                fx.fs.as_ref(),
                &sub.join("ok-before.txt").expect("valid"),
                b"before",
            )
            .await,
        );
        let done = ok(
            fx,
            case,
            &format!("plant {label}"),
            raw.create_raw_file(&sub, name, b"hostile").await,
        );
        if !done {
            skip(
                fx,
                case,
                &format!("{label}: this store cannot hold such a name"),
            );
            continue;
        }
        ok(
            fx,
            case,
            "write ok-after",
            put(
                fx.fs.as_ref(),
                &sub.join("ok-after.txt").expect("valid"),
                b"after",
            )
            .await,
        );
        planted += 1;

        let (entries, errors) = listing(fx.fs.as_ref(), &sub).await;
        let got: Vec<(&str, Option<u64>)> = entries.values().map(|e| (e.name(), e.size)).collect();
        assert_eq!(
            got,
            [("ok-after.txt", Some(5)), ("ok-before.txt", Some(6))],
            "conformance[{}] {case}: {label}: the listing lost or invented entries",
            fx.fs.backend()
        );
        assert!(
            !errors.is_empty(),
            "conformance[{}] {case}: {label}: the hostile name was silently dropped",
            fx.fs.backend()
        );
        for e in &errors {
            assert_eq!(
                e.kind(),
                ErrorKind::InvalidInput,
                "conformance[{}] {case}: {label}: unexpected error item {e}",
                fx.fs.backend()
            );
            assert!(
                e.path().is_some(),
                "{case}: {label}: the error names no folder: {e}"
            );
        }

        // A walk reports it the same way and goes on.
        let walked: Vec<_> = fx.fs.walk(&sub, WalkOptions::new()).collect().await;
        let files = walked.iter().filter(|r| r.is_ok()).count();
        assert_eq!(files, 2, "{case}: {label}: walk found {walked:?}");
        assert!(
            walked
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| e.kind() == ErrorKind::InvalidInput),
            "{case}: {label}: walk errors {walked:?}"
        );
        // The server is still usable after the hostile listing.
        assert_eq!(
            ok(
                fx,
                case,
                "read ok-after",
                get(fx.fs.as_ref(), &sub.join("ok-after.txt").expect("valid")).await
            ),
            b"after"
        );
    }
    // The parent folder lists cleanly: the hostile names live one level down.
    let top = clean_listing(fx, case, &dir).await;
    assert!(top.values().all(|e| e.is_dir()), "{case}: {top:?}");
    if planted == 0 {
        skip(fx, case, "no hostile name could be planted");
    }
}
