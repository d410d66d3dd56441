//! Real FTP, FTPS and SFTP servers on `127.0.0.1`, for tests, benchmarks and examples.
//!
//! Two layers:
//!
//! * **In-process servers** that need no root and no system package: [`FtpServer`]
//!   (libunftp over a temporary directory: plain FTP, explicit FTPS, or implicit FTPS through
//!   a TLS front, with a certificate signed by a freshly generated CA) and [`SftpServer`]
//!   (russh + russh-sftp over a temporary directory, with its own host key, password and
//!   public-key logins). Each listens on an ephemeral port, starts in milliseconds and stops
//!   when dropped.
//! * **System daemons** (pure-ftpd and OpenSSH `sshd`) started by `scripts/testbed start` and
//!   discovered through environment variables by [`Daemons::from_env`], [`daemon_ftp`] and
//!   [`daemon_sftp`]. When they are not running, those functions print one
//!   `skipped: <test>: … not running` line and return `None`, so `cargo test` still passes.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> testbed::Result<()> {
//! let server = testbed::FtpServer::start().await?;
//! assert!(server.url().starts_with("ftp://alice@127.0.0.1:"));
//!
//! // Tests plant files directly in the served directory...
//! std::fs::write(server.root().join("hello.txt"), b"hello")?;
//!
//! // ...and any FTP client logs in with `server.user()` / `server.password()`.
//! let mut control = tokio::net::TcpStream::connect(server.addr()).await?;
//! let mut greeting = [0u8; 3];
//! tokio::io::AsyncReadExt::read_exact(&mut control, &mut greeting).await?;
//! assert_eq!(&greeting, b"220");
//!
//! // The password never shows up in Debug output.
//! assert!(!format!("{server:?}").contains(server.password()));
//! # Ok(())
//! # }
//! ```

mod daemons;
mod ftp;
mod net;
mod secret;
mod sftp;
mod tls;

pub use daemons::{DaemonFtp, DaemonSftp, Daemons, daemon_ftp, daemon_sftp};
pub use ftp::{FtpServer, TlsHandshakes};
pub use sftp::SftpServer;

/// Result type of this crate: any error, boxed.
///
/// The test bed is a tool for tests, so its errors only need to be readable, not matched on.
pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Passive data ports of the in-process FTP servers.
///
/// Every in-process server (in any process) draws its passive ports at random from this
/// range and retries on a clash, so many servers and test processes can share it. It lies
/// below Linux's default ephemeral range (32768–60999) and does not overlap the range that
/// `scripts/testbed` gives pure-ftpd (25000–29999) or the ports it picks for the daemons'
/// control connections (10000–14999).
pub const FTP_PASSIVE_PORTS: std::ops::RangeInclusive<u16> = 15000..=24999;

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
