//! `MemoryFs` against the conformance suite.

use ftp_connector::MemoryFs;
use ftp_connector::conformance::Fixture;

async fn fixture() -> Fixture {
    let fs = MemoryFs::new();
    // A clone shares the tree, like a second connection to the same server.
    Fixture::new(fs.clone())
        .with_second(fs.clone())
        .with_raw(fs)
}

ftp_connector::conformance_tests!(fixture);

/// The suite's secret check catches a backend whose errors leak a password.
#[tokio::test]
#[should_panic(expected = "a secret shows")]
async fn secrets_stay_hidden_catches_a_leak() {
    use ftp_connector::fault::FailNth;
    use ftp_connector::{Error, Operation};
    let leaky = FailNth::new(MemoryFs::new(), 1)
        .every()
        .only(&[Operation::Stat])
        .with_error(|op, path| Error::PermissionDenied {
            op,
            path: path.as_str().to_owned(),
            message: "login ci:hunter2 refused".into(),
        });
    let fixture = Fixture::new(leaky).with_secrets(&["hunter2"]);
    ftp_connector::conformance::secrets_stay_hidden(&fixture).await;
}

/// A passed case leaves nothing behind on the server: its folder, however deep, is removed
/// (what a run against a real server must not litter).
#[tokio::test]
async fn passed_cases_leave_nothing_behind() {
    use ftp_connector::{RemoteFs, RemotePath, conformance};
    use futures::TryStreamExt;

    let fs = MemoryFs::new();
    let fixture = Fixture::new(fs.clone()).with_second(fs.clone());
    conformance::deep_tree(&fixture).await;
    conformance::walk_filters(&fixture).await;
    conformance::rename(&fixture).await;
    let before: Vec<_> = fs.list(&RemotePath::ROOT).try_collect().await.unwrap();
    assert_eq!(before.len(), 3, "one folder per case: {before:?}");

    conformance::remove_case_folders(&fixture).await;
    let after: Vec<_> = fs.list(&RemotePath::ROOT).try_collect().await.unwrap();
    assert!(after.is_empty(), "left behind: {after:?}");
}
