//! Unit tests of `MemoryFs` beyond the conformance suite.

use super::*;
use crate::ErrorKind;
use crate::ext::RemoteFsExt;
use crate::stream;
use futures::TryStreamExt;

fn p(s: &str) -> RemotePath {
    RemotePath::parse(s).unwrap()
}

#[tokio::test]
async fn clones_share_and_forks_do_not() {
    let fs = MemoryFs::new();
    let clone = fs.clone();
    let fork = fs.fork();
    fs.create_dir_all(&p("a/b")).await.unwrap();
    assert!(clone.stat(&p("a/b")).await.unwrap().is_dir());
    assert_eq!(
        fork.stat(&p("a")).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn read_snapshot_survives_an_overwrite() {
    let fs = MemoryFs::new();
    fs.write(&p("f"), stream::once(&b"old"[..]), &WriteOptions::new())
        .await
        .unwrap();
    let s = fs.read(&p("f"), 1).await.unwrap();
    fs.write(&p("f"), stream::once(&b"new!"[..]), &WriteOptions::new())
        .await
        .unwrap();
    let got: Vec<Bytes> = s.try_collect().await.unwrap();
    assert_eq!(got.concat(), b"ld");
}

#[tokio::test]
async fn resume_truncates_then_appends() {
    let fs = MemoryFs::new();
    fs.write(&p("f"), stream::once(&b"abcXXX"[..]), &WriteOptions::new())
        .await
        .unwrap();
    fs.write(
        &p("f"),
        stream::once(&b"def"[..]),
        &WriteOptions::new().resume_from(3),
    )
    .await
    .unwrap();
    assert_eq!(&fs.read_to_bytes(&p("f")).await.unwrap()[..], b"abcdef");
    let past_end = fs
        .write(
            &p("f"),
            stream::empty(),
            &WriteOptions::new().resume_from(99),
        )
        .await;
    assert!(past_end.is_err());
}

#[tokio::test]
async fn in_place_failure_removes_the_partial_file() {
    let fs = MemoryFs::new();
    let data = futures::stream::iter(vec![
        Ok(Bytes::from_static(b"part")),
        Err(Error::io(
            Operation::Write,
            "f",
            io::Error::from(io::ErrorKind::ConnectionReset),
        )),
    ])
    .boxed();
    let r = fs
        .write(&p("f"), data, &WriteOptions::new().mode(WriteMode::InPlace))
        .await;
    assert!(r.unwrap_err().is_retryable());
    assert!(!fs.exists(&p("f")).await.unwrap());
}

#[tokio::test]
async fn rename_refuses_to_move_a_dir_into_itself_or_over_a_dir() {
    let fs = MemoryFs::new();
    fs.create_dir_all(&p("a/b")).await.unwrap();
    fs.create_dir_all(&p("c")).await.unwrap();
    assert!(fs.rename(&p("a"), &p("a/b/a")).await.is_err());
    assert_eq!(
        fs.rename(&p("a"), &p("c")).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    fs.rename(&p("a"), &p("c/a")).await.unwrap();
    assert!(fs.stat(&p("c/a/b")).await.unwrap().is_dir());
}

#[tokio::test]
async fn debug_shows_totals_not_contents() {
    let fs = MemoryFs::new();
    fs.write(
        &p("secret.txt"),
        stream::once(&b"hunter2"[..]),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    let shown = format!("{fs:?}");
    assert!(
        shown.contains("files: 1") && !shown.contains("hunter2"),
        "{shown}"
    );
}
