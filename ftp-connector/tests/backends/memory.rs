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
