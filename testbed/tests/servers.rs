//! Proves every server of the test bed is real: a real client logs in, writes a file, reads it
//! back and lists it; wrong credentials and untrusted keys or certificates are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// One test binary; its parts live in `servers/`.
#[path = "servers/ftp.rs"]
mod ftp;
#[path = "servers/ftps_implicit.rs"]
mod ftps_implicit;
#[path = "servers/openssh.rs"]
mod openssh;
#[path = "servers/sftp.rs"]
mod sftp;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// `len` bytes of every value, with LF and CR in it: ASCII mode would corrupt it.
fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(7919) % 251) as u8)
        .collect()
}

/// Whether `addr` refuses connections within a second (a dropped server's listener).
async fn refuses_connections(addr: std::net::SocketAddr) -> bool {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    false
}
