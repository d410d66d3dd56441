//! Cases about trees: deep nesting and walks with filters.

use futures::TryStreamExt;

use super::{Fixture, case_dir, ok, path, put};
use crate::ext::{RemoteFsExt, WalkOptions};
use crate::path::RemotePath;

/// The paths a walk yields, relative to `root`, sorted.
async fn walked(fx: &Fixture, case: &str, root: &RemotePath, opts: WalkOptions) -> Vec<String> {
    let entries = ok(
        fx,
        case,
        "walk",
        fx.fs.walk(root, opts).try_collect::<Vec<_>>().await,
    );
    let mut rel: Vec<String> = entries
        .iter()
        .map(|e| {
            e.path
                .strip_prefix(root)
                .unwrap_or_else(|| panic!("{case}: {} is outside the walk root {root}", e.path))
                .as_str()
                .to_owned()
        })
        .collect();
    rel.sort();
    let before = rel.len();
    rel.dedup();
    assert_eq!(before, rel.len(), "{case}: a walk yielded an entry twice");
    rel
}

/// A tree twelve folders deep: written, walked whole, by depth, from inside, and pruned.
pub async fn deep_tree(fx: &Fixture) {
    let case = "deep_tree";
    let dir = case_dir(fx, case).await;
    const LEVELS: usize = 12;
    let mut here = dir.clone();
    for d in 0..LEVELS {
        here = here.join(&format!("level-{d:02}")).expect("valid");
        ok(fx, case, "create", fx.fs.create_dir_all(&here).await);
        let f = here.join(&format!("f-{d:02}.txt")).expect("valid");
        ok(
            fx,
            case,
            "write",
            put(fx.fs.as_ref(), &f, format!("level {d}").as_bytes()).await,
        );
    }
    let deepest = here
        .join(&format!("f-{:02}.txt", LEVELS - 1))
        .expect("valid");
    assert_eq!(
        ok(
            fx,
            case,
            "stat the deepest file",
            fx.fs.stat(&deepest).await
        )
        .size,
        Some(8),
        "{case}"
    );

    let all = walked(fx, case, &dir, WalkOptions::new()).await;
    assert_eq!(all.len(), 2 * LEVELS, "{case}: {all:?}");
    let serial = walked(fx, case, &dir, WalkOptions::new().concurrency(1)).await;
    assert_eq!(serial, all, "{case}: concurrency changes the result");

    let shallow = walked(fx, case, &dir, WalkOptions::new().max_depth(3)).await;
    assert_eq!(
        shallow,
        [
            "level-00",
            "level-00/f-00.txt",
            "level-00/level-01",
            "level-00/level-01/f-01.txt",
            "level-00/level-01/level-02",
        ],
        "{case}: max_depth(3)"
    );

    let inner = path(&dir, "level-00/level-01");
    let from_inside = walked(fx, case, &inner, WalkOptions::new()).await;
    assert_eq!(from_inside.len(), 2 * LEVELS - 3, "{case}: {from_inside:?}");

    let pruned = walked(fx, case, &dir, WalkOptions::new().exclude("level-05")).await;
    assert_eq!(pruned.len(), 10, "{case}: exclude by name: {pruned:?}");
    let pruned = walked(fx, case, &dir, WalkOptions::new().exclude("**/level-07/**")).await;
    assert_eq!(pruned.len(), 14, "{case}: exclude a subtree: {pruned:?}");
    let files = walked(fx, case, &dir, WalkOptions::new().include("*.txt")).await;
    assert_eq!(files.len(), LEVELS, "{case}: include files: {files:?}");
}

/// Include and exclude patterns, case folding and depth, on a small photo tree.
pub async fn walk_filters(fx: &Fixture) {
    let case = "walk_filters";
    let dir = case_dir(fx, case).await;
    let files = [
        "a.jpg",
        "b.JPG",
        "notes.txt",
        "raw/c.cr2",
        "raw/d.jpg",
        "2026/e.jpg",
        "2026/.thumbs/e.jpg",
        "2026/deep/f.jpg",
    ];
    for f in files {
        let p = path(&dir, f);
        if let Some(parent) = p.parent() {
            ok(fx, case, "create", fx.fs.create_dir_all(&parent).await);
        }
        ok(
            fx,
            case,
            "write",
            put(fx.fs.as_ref(), &p, f.as_bytes()).await,
        );
    }
    let jpg = [
        "2026/.thumbs/e.jpg",
        "2026/deep/f.jpg",
        "2026/e.jpg",
        "a.jpg",
        "raw/d.jpg",
    ];
    let w = |o| walked(fx, case, &dir, o);
    assert_eq!(
        w(WalkOptions::new().include("*.jpg")).await,
        jpg,
        "{case}: *.jpg"
    );
    assert_eq!(
        w(WalkOptions::new().include("*.jpg").exclude(".thumbs")).await,
        ["2026/deep/f.jpg", "2026/e.jpg", "a.jpg", "raw/d.jpg"],
        "{case}: *.jpg without .thumbs"
    );
    assert_eq!(
        w(WalkOptions::new().include("*.jpg").case_insensitive(true)).await,
        [
            "2026/.thumbs/e.jpg",
            "2026/deep/f.jpg",
            "2026/e.jpg",
            "a.jpg",
            "b.JPG",
            "raw/d.jpg"
        ],
        "{case}: case-insensitive"
    );
    assert_eq!(
        w(WalkOptions::new().include("raw/*")).await,
        ["raw/c.cr2", "raw/d.jpg"],
        "{case}: raw/*"
    );
    assert_eq!(
        w(WalkOptions::new().exclude("raw/**").exclude("2026")).await,
        ["a.jpg", "b.JPG", "notes.txt"],
        "{case}: excluded folders"
    );
    assert_eq!(
        w(WalkOptions::new().max_depth(1)).await,
        ["2026", "a.jpg", "b.JPG", "notes.txt", "raw"],
        "{case}: max_depth(1)"
    );
    let bad = fx
        .fs
        .walk(&dir, WalkOptions::new().include("["))
        .try_collect::<Vec<_>>()
        .await;
    assert!(bad.is_err(), "{case}: a bad pattern was accepted");
}
