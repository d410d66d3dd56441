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
