//! `LocalFs` against the conformance suite, plus what only a local folder has: symbolic
//! links that try to leave the root, permission bits, names no `RemotePath` can hold.

use std::io::Write as _;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use ftp_connector::conformance::{Fixture, LocalRaw};
use ftp_connector::{
    EntryKind, Error, ErrorKind, LocalFs, RemoteFs, RemoteFsExt, RemoteOptions, RemotePath,
    WalkOptions, WriteMode, WriteOptions, stream,
};
use futures::StreamExt;

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let fs = LocalFs::new(dir.path()).await.unwrap();
    let second = LocalFs::new(dir.path()).await.unwrap();
    Fixture::new(fs)
        .with_second(second)
        .with_raw(LocalRaw::new(dir.path()))
        .keep_alive(dir)
}

ftp_connector::conformance_tests!(fixture);

fn p(s: &str) -> RemotePath {
    RemotePath::parse(s).unwrap()
}

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(r: ftp_connector::Result<T>, what: &str) {
    match r {
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {}
        other => panic!("{what}: expected PermissionDenied, got {other:?}"),
    }
}

/// A root with a link to `/etc`, a link to a sibling folder and a link to a sibling file.
struct Escapes {
    _base: tempfile::TempDir,
    fs: LocalFs,
    sibling: std::path::PathBuf,
}

async fn escapes() -> Escapes {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    let sibling = base.path().join("sibling");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(&sibling).unwrap();
    std::fs::write(sibling.join("secret.txt"), b"secret").unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    symlink("/etc", root.join("etc")).unwrap();
    symlink("../sibling", root.join("sib")).unwrap();
    symlink("../sibling/secret.txt", root.join("secret-link.txt")).unwrap();
    symlink("/nonexistent/nowhere", root.join("dangling")).unwrap();
    let fs = LocalFs::new(&root).await.unwrap();
    Escapes {
        _base: base,
        fs,
        sibling,
    }
}

fn sibling_untouched(sibling: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(sibling)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["secret.txt"],
        "something was written outside the root"
    );
    assert_eq!(
        std::fs::read(sibling.join("secret.txt")).unwrap(),
        b"secret"
    );
}

#[tokio::test]
async fn a_link_to_etc_is_listed_but_never_followed() {
    let e = escapes().await;
    let fs = &e.fs;
    assert_eq!(fs.stat(&p("etc")).await.unwrap().kind, EntryKind::Symlink);
    assert_denied(fs.stat(&p("etc/passwd")).await, "stat etc/passwd");
    assert_denied(
        fs.read(&p("etc/passwd"), 0).await.map(|_| ()),
        "read etc/passwd",
    );
    assert_denied(
        fs.read(&p("etc"), 0).await.map(|_| ()),
        "read the link itself",
    );
    let listed: Vec<_> = fs.list(&p("etc")).collect().await;
    assert!(
        matches!(listed.as_slice(), [Err(e)] if e.kind() == ErrorKind::PermissionDenied),
        "list etc: {listed:?}"
    );
    assert_denied(
        fs.write(
            &p("etc/evil.conf"),
            stream::once(&b"x"[..]),
            &WriteOptions::new(),
        )
        .await,
        "write under etc",
    );
    assert_denied(fs.create_dir_all(&p("etc/evil.d")).await, "mkdir under etc");
    assert!(!Path::new("/etc/evil.conf").exists() && !Path::new("/etc/evil.d").exists());
    // A walk reports the link and does not descend.
    let walked: Vec<_> = fs
        .walk(&RemotePath::ROOT, WalkOptions::new())
        .collect()
        .await;
    assert!(walked.iter().all(Result::is_ok), "{walked:?}");
    assert!(
        walked
            .iter()
            .flatten()
            .all(|e| !e.path.as_str().starts_with("etc/")),
        "the walk followed the link: {walked:?}"
    );
}

#[tokio::test]
async fn a_link_to_a_sibling_folder_is_refused_for_every_operation() {
    let e = escapes().await;
    let fs = &e.fs;
    let secret = p("sib/secret.txt");
    assert_denied(fs.stat(&secret).await, "stat");
    assert_denied(fs.read(&secret, 0).await.map(|_| ()), "read");
    assert_denied(fs.remove_file(&secret).await, "remove_file");
    assert_denied(fs.rename(&p("a.txt"), &p("sib/a.txt")).await, "rename into");
    assert_denied(fs.rename(&secret, &p("stolen.txt")).await, "rename out of");
    assert_denied(
        fs.set_modified(&secret, chrono::Utc::now()).await,
        "set_modified",
    );
    assert_denied(
        fs.checksum(&secret, ftp_connector::ChecksumAlgorithm::Sha256)
            .await,
        "checksum",
    );
    for mode in [WriteMode::Atomic, WriteMode::InPlace] {
        let opts = WriteOptions::new().mode(mode);
        assert_denied(
            fs.write(&p("sib/new.txt"), stream::once(&b"x"[..]), &opts)
                .await,
            "write",
        );
    }
    assert_denied(fs.create_dir_all(&p("sib/new/deeper")).await, "mkdir");
    assert_denied(fs.remove_dir(&p("sib/x")).await, "remove_dir");
    sibling_untouched(&e.sibling);
    assert_eq!(std::fs::read(e.fs.root().join("a.txt")).unwrap(), b"a");
}

#[tokio::test]
async fn a_link_to_a_sibling_file_is_never_written_through() {
    let e = escapes().await;
    let fs = &e.fs;
    let link = p("secret-link.txt");
    assert_eq!(fs.stat(&link).await.unwrap().kind, EntryKind::Symlink);
    assert_denied(fs.read(&link, 0).await.map(|_| ()), "read through");
    let in_place = WriteOptions::new().mode(WriteMode::InPlace);
    assert_denied(
        fs.write(&link, stream::once(&b"pwned"[..]), &in_place)
            .await,
        "in-place write through",
    );
    sibling_untouched(&e.sibling);
    // An atomic write replaces the link itself with a file, inside the root.
    fs.write(&link, stream::once(&b"mine"[..]), &WriteOptions::new())
        .await
        .unwrap();
    assert_eq!(fs.stat(&link).await.unwrap().kind, EntryKind::File);
    sibling_untouched(&e.sibling);
    // Removing a link removes the link, never its target.
    symlink("../sibling/secret.txt", e.fs.root().join("again.txt")).unwrap();
    fs.remove_file(&p("again.txt")).await.unwrap();
    sibling_untouched(&e.sibling);
}

#[tokio::test]
async fn dangling_links_are_refused_when_followed() {
    let e = escapes().await;
    assert_eq!(
        e.fs.stat(&p("dangling")).await.unwrap().kind,
        EntryKind::Symlink
    );
    assert_denied(e.fs.read(&p("dangling"), 0).await.map(|_| ()), "read");
    assert_denied(e.fs.stat(&p("dangling/x")).await, "stat below");
    assert_denied(e.fs.create_dir_all(&p("dangling/x")).await, "mkdir below");
}

#[tokio::test]
async fn links_inside_the_root_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("real/sub")).unwrap();
    std::fs::write(dir.path().join("real/sub/f.jpg"), b"jpeg").unwrap();
    symlink("real", dir.path().join("alias")).unwrap();
    let fs = LocalFs::new(dir.path()).await.unwrap();
    assert_eq!(
        &fs.read_to_bytes(&p("alias/sub/f.jpg")).await.unwrap()[..],
        b"jpeg"
    );
    let listed: Vec<_> = fs.list(&p("alias/sub")).collect().await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].as_ref().unwrap().path, p("alias/sub/f.jpg"));
    fs.write(
        &p("alias/sub/g.jpg"),
        stream::once(&b"g"[..]),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("real/sub/g.jpg")).unwrap(),
        b"g"
    );
}

#[tokio::test]
async fn the_root_itself_may_be_reached_through_a_link() {
    let base = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(base.path().join("real")).unwrap();
    symlink("real", base.path().join("link")).unwrap();
    let fs = LocalFs::new(base.path().join("link")).await.unwrap();
    assert_eq!(
        fs.root(),
        std::fs::canonicalize(base.path().join("real")).unwrap()
    );
    fs.write(&p("x.txt"), stream::once(&b"x"[..]), &WriteOptions::new())
        .await
        .unwrap();
    assert!(base.path().join("real/x.txt").exists());
}

#[tokio::test]
async fn permission_bits_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("f.jpg");
    std::fs::write(&f, b"x").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::create_dir(dir.path().join("d")).unwrap();
    std::fs::set_permissions(dir.path().join("d"), std::fs::Permissions::from_mode(0o750)).unwrap();
    let fs = LocalFs::new(dir.path()).await.unwrap();
    assert!(fs.capabilities().list_has_permissions);
    let mut listed: Vec<_> = fs
        .list(&RemotePath::ROOT)
        .map(|e| {
            let e = e.unwrap();
            (e.name().to_owned(), e.permissions)
        })
        .collect()
        .await;
    listed.sort();
    assert_eq!(
        listed,
        [
            ("d".to_owned(), Some(0o750)),
            ("f.jpg".to_owned(), Some(0o640))
        ]
    );
}

#[tokio::test]
async fn an_unreadable_file_is_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("locked.jpg");
    std::fs::write(&f, b"x").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&f).is_ok() {
        // Root (or CAP_DAC_OVERRIDE) reads anything: nothing to check here.
        let _ = std::io::stderr().write_all(
            b"local an_unreadable_file_is_permission_denied: SKIPPED: running with privileges that bypass file modes\n",
        );
        return;
    }
    let fs = LocalFs::new(dir.path()).await.unwrap();
    let err = fs.read(&p("locked.jpg"), 0).await.map(|_| ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn names_no_remote_path_can_hold_are_reported_not_followed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let weird = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"); // Latin-1, not UTF-8
    std::fs::write(dir.path().join(weird), b"x").unwrap();
    std::fs::create_dir(dir.path().join("back\\slash")).unwrap();
    std::fs::write(dir.path().join("fine.jpg"), b"x").unwrap();
    let fs = LocalFs::new(dir.path()).await.unwrap();
    let items: Vec<_> = fs.list(&RemotePath::ROOT).collect().await;
    let ok: Vec<_> = items
        .iter()
        .flatten()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(ok, ["fine.jpg"]);
    let errs: Vec<&Error> = items.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errs.len(), 2, "{items:?}");
    for e in errs {
        assert!(matches!(e, Error::InvalidName { .. }), "{e}");
        let shown = e.to_string();
        assert!(shown.contains("caf") || shown.contains("slash"), "{shown}");
    }
}

#[tokio::test]
async fn a_missing_or_file_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = LocalFs::new(dir.path().join("missing")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    assert!(LocalFs::new(dir.path().join("file")).await.is_err());
}

#[tokio::test]
async fn file_urls_open_a_local_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a b.jpg"), b"x").unwrap();
    let url = format!("file://{}", dir.path().display());
    let fs = ftp_connector::open(&url, RemoteOptions::new())
        .await
        .unwrap();
    assert_eq!(fs.backend(), "local");
    assert_eq!(fs.stat(&p("a b.jpg")).await.unwrap().size, Some(1));
}

#[tokio::test]
async fn atomic_writes_use_a_hidden_temporary_name_in_the_same_folder() {
    let dir = tempfile::tempdir().unwrap();
    let fs = LocalFs::new(dir.path()).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // More than one write batch (1 MiB), so that the first half reaches the disk while
    // the stream waits.
    let body = stream::once(vec![b'x'; 2 << 20])
        .chain(
            futures::stream::once(async move {
                let _ = rx.await;
                Ok(bytes::Bytes::from_static(b"second half"))
            })
            .boxed(),
        )
        .boxed();
    let path = dir.path().to_owned();
    let watch = async move {
        // Wait until the temporary file holds the first half.
        let mut seen = Vec::new();
        for _ in 0..500 {
            seen = std::fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            if !seen.is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let _ = tx.send(());
        seen
    };
    let (target, opts) = (p("photo.jpg"), WriteOptions::new());
    let (written, seen) = tokio::join!(fs.write(&target, body, &opts), watch);
    written.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0].starts_with(".photo.jpg.") && seen[0].ends_with(".part"),
        "{seen:?}"
    );
    let after: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(after, ["photo.jpg"]);
}
