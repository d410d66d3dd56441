//! In-process FTP / FTPS server: libunftp + unftp-sbe-fs over a temporary directory.

mod implicit;
mod storage;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use libunftp::options::{Shutdown, TlsFlags};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use unftp_core::auth::{AuthenticationError, Authenticator, Credentials, Principal};

use crate::tls::{self, TLS_SERVER_NAME, TlsFiles};
use crate::{FTP_PASSIVE_PORTS, Result};
use implicit::Front;
pub use implicit::TlsHandshakes;
use storage::ServedFs;

/// The user name of every in-process server.
const USER: &str = "alice";
/// How many ports to try before giving up (another process may grab a probed port).
const BIND_ATTEMPTS: usize = 20;
/// How long sessions get to end after the server is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

type ListenResult = std::result::Result<(), libunftp::ServerError>;

/// An in-process FTP server (libunftp) serving a temporary directory on `127.0.0.1`.
///
/// It listens on an ephemeral port, accepts one user ([`user`](Self::user) /
/// [`password`](Self::password), the password generated per server), speaks MLSD, MLST,
/// MDTM, SIZE and REST, and hands out passive ports from [`FTP_PASSIVE_PORTS`]. With
/// [`start_ftps`](Self::start_ftps) it also offers explicit FTPS (`AUTH TLS`), and with
/// [`start_ftps_implicit`](Self::start_ftps_implicit) it speaks implicit FTPS (TLS from the
/// first byte), each with a certificate signed by a CA generated for this server only.
///
/// Dropping the server closes its listener, ends open sessions and removes the directory.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> testbed::Result<()> {
/// let server = testbed::FtpServer::start_ftps().await?;
/// assert!(server.url().starts_with("ftps://alice@127.0.0.1:"));
/// assert_eq!(server.tls_server_name(), "localhost");
/// let ca = server.ca_cert_pem().ok_or("an FTPS server has a CA")?;
/// assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
/// assert_eq!(server.cert_sha256().map(|h| h.len()), Some(64));
/// # Ok(())
/// # }
/// ```
pub struct FtpServer {
    addr: SocketAddr,
    password: String,
    root: PathBuf,
    tls: Option<TlsFiles>,
    /// The implicit FTPS front; `addr` is then its address, not libunftp's.
    front: Option<Front>,
    shutdown: Option<oneshot::Sender<()>>,
    /// Kept for its `Drop`: removes the served directory and the certificate files.
    _dir: TempDir,
}

impl FtpServer {
    /// Starts a plain FTP server (no TLS offered).
    ///
    /// # Errors
    /// When the temporary directory cannot be created or no port could be bound.
    pub async fn start() -> Result<Self> {
        Self::launch(Security::Plain).await
    }

    /// Starts a server that offers explicit FTPS (`AUTH TLS`, `PBSZ`, `PROT P`) next to plain
    /// FTP, with TLS 1.2 and 1.3. Its certificate is issued for `localhost` and `127.0.0.1`
    /// by a fresh CA whose PEM is [`ca_cert_pem`](Self::ca_cert_pem).
    ///
    /// For implicit FTPS see [`start_ftps_implicit`](Self::start_ftps_implicit).
    ///
    /// # Errors
    /// When the certificate cannot be generated or written, or no port could be bound.
    pub async fn start_ftps() -> Result<Self> {
        Self::launch(Security::Explicit).await
    }

    /// Starts a server that speaks implicit FTPS: TLS from the first byte on the control
    /// connection (port 990 style, URL `ftps+implicit://alice@127.0.0.1:PORT/`) and on every
    /// passive data connection, with the same kind of certificate as
    /// [`start_ftps`](Self::start_ftps).
    ///
    /// libunftp has no implicit mode, so a TLS front in this process terminates TLS and
    /// relays to a plain libunftp server: it answers `PBSZ` and `PROT` itself (data is
    /// protected by default; `PROT C` turns that off), refuses `AUTH` and active mode
    /// (`PORT`, `EPRT`), and moves each passive data connection to a port of its own. Data
    /// connections can resume the control connection's TLS session (session cache and
    /// tickets); [`data_tls_handshakes`](Self::data_tls_handshakes) tells whether they did.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> testbed::Result<()> {
    /// let server = testbed::FtpServer::start_ftps_implicit().await?;
    /// assert_eq!(server.url(), format!("ftps+implicit://alice@{}/", server.addr()));
    /// assert!(server.ca_cert_path().is_some());
    /// assert_eq!(server.data_tls_handshakes().map(|h| h.full + h.resumed), Some(0));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// When the certificate cannot be generated or loaded, or no port could be bound.
    pub async fn start_ftps_implicit() -> Result<Self> {
        Self::launch(Security::Implicit).await
    }

    async fn launch(security: Security) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("testbed-ftp-").tempdir()?;
        let root = dir.path().join("root");
        std::fs::create_dir(&root)?;
        let tls = match security {
            Security::Plain => None,
            Security::Explicit | Security::Implicit => {
                Some(tls::generate(&dir.path().join("tls"))?)
            }
        };
        let password = crate::secret::random_password();
        // A greeting unique to this server tells it apart from anything else that might
        // have grabbed the probed port between probing and binding.
        let greeting: &'static str = Box::leak(
            format!(
                "testbed FTP server {} ready",
                crate::secret::hex(&rand::random::<[u8; 8]>())
            )
            .into_boxed_str(),
        );

        let mut last_error: Option<Box<dyn std::error::Error + Send + Sync>> = None;
        for _ in 0..BIND_ATTEMPTS {
            let addr = crate::net::probe_free_port()?;
            let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
            let served = root.clone();
            let mut builder = libunftp::ServerBuilder::with_authenticator(
                Box::new(move || ServedFs::open(&served)),
                Arc::new(OneUser {
                    password: password.clone(),
                }),
            )
            .greeting(greeting)
            .passive_ports(FTP_PASSIVE_PORTS)
            .shutdown_indicator(async move {
                // Resolves on an explicit signal and also when the sender is dropped.
                let _ = shutdown_rx.await;
                Shutdown::new().grace_period(SHUTDOWN_GRACE)
            });
            if let (Security::Explicit, Some(tls)) = (security, &tls) {
                builder = builder
                    .ftps(tls.cert_path.clone(), tls.key_path.clone())
                    .ftps_tls_flags(
                        TlsFlags::V1_2
                            | TlsFlags::V1_3
                            | TlsFlags::RESUMPTION_SESS_ID
                            | TlsFlags::RESUMPTION_TICKETS,
                    );
            }
            let server = builder.build()?;
            let task = tokio::spawn(server.listen(addr.to_string()));
            match confirm_listening(addr, greeting, &task).await {
                Ok(()) => {
                    let front = match (security, &tls) {
                        (Security::Implicit, Some(files)) => {
                            Some(Front::start(addr, tls::server_config(files)?).await?)
                        }
                        _ => None,
                    };
                    let addr = front.as_ref().map_or(addr, Front::addr);
                    tracing::debug!(%addr, ?security, "in-process FTP server listening");
                    return Ok(Self {
                        addr,
                        password,
                        root,
                        tls,
                        front,
                        shutdown: Some(shutdown_tx),
                        _dir: dir,
                    });
                }
                Err(e) => {
                    task.abort();
                    last_error = Some(e);
                }
            }
        }
        Err(format!(
            "in-process FTP server could not bind a port in {BIND_ATTEMPTS} attempts: {}",
            last_error.map(|e| e.to_string()).unwrap_or_default()
        )
        .into())
    }

    /// `ftp://alice@127.0.0.1:PORT/`, `ftps://…` for a server started with
    /// [`start_ftps`](Self::start_ftps), `ftps+implicit://…` for one started with
    /// [`start_ftps_implicit`](Self::start_ftps_implicit). The password is not part of the URL.
    pub fn url(&self) -> String {
        let scheme = match (&self.front, &self.tls) {
            (Some(_), _) => "ftps+implicit",
            (None, Some(_)) => "ftps",
            (None, None) => "ftp",
        };
        format!("{scheme}://{USER}@{}/", self.addr)
    }

    /// The control connection address (`127.0.0.1:PORT`); for implicit FTPS, the port that
    /// speaks TLS from the first byte.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The user name to log in with.
    pub fn user(&self) -> &str {
        USER
    }

    /// The password to log in with (generated per server).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The served directory on disk: `/` of the FTP session. Tests plant files here.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of the PEM of the CA that signed the server certificate (FTPS servers only).
    pub fn ca_cert_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|t| t.ca_path.as_path())
    }

    /// PEM of the CA that signed the server certificate (FTPS servers only).
    pub fn ca_cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.ca_pem.as_str())
    }

    /// Lowercase hex SHA-256 of the server certificate's DER, for certificate pinning
    /// (FTPS servers only).
    pub fn cert_sha256(&self) -> Option<String> {
        self.tls.as_ref().map(|t| t.cert_sha256.clone())
    }

    /// The name to verify the server certificate against: `localhost` (the certificate's
    /// subject alternative names are `localhost` and `127.0.0.1`).
    pub fn tls_server_name(&self) -> &str {
        TLS_SERVER_NAME
    }

    /// How many TLS handshakes on data connections were full and how many resumed an
    /// earlier session, so far (implicit FTPS servers only: the front sees them).
    pub fn data_tls_handshakes(&self) -> Option<TlsHandshakes> {
        self.front.as_ref().map(Front::handshakes)
    }
}

/// What the control port speaks.
#[derive(Debug, Clone, Copy)]
enum Security {
    /// Plain FTP only.
    Plain,
    /// Plain FTP with `AUTH TLS` offered (libunftp's own FTPS).
    Explicit,
    /// TLS from the first byte (the front in [`implicit`]).
    Implicit,
}

impl fmt::Debug for FtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FtpServer")
            .field("url", &self.url())
            .field("root", &self.root)
            .field("ca_cert_path", &self.ca_cert_path())
            .finish_non_exhaustive()
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        // libunftp closes the listener at once and tells every session to end; the task
        // finishes after at most SHUTDOWN_GRACE. If the runtime is already gone, so is it.
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Waits until the server task accepts connections on `addr` with our greeting.
///
/// Fails when the task ends first (the port was taken) or someone else answers.
async fn confirm_listening(
    addr: SocketAddr,
    greeting: &str,
    task: &JoinHandle<ListenResult>,
) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        if task.is_finished() {
            return Err(format!("listener on {addr} stopped at start-up (port taken?)").into());
        }
        match tokio::net::TcpStream::connect(addr).await {
            Ok(stream) => {
                let mut line = String::new();
                let mut reader = BufReader::new(stream);
                tokio::time::timeout(Duration::from_secs(2), reader.read_line(&mut line))
                    .await
                    .map_err(|_| format!("no greeting from {addr}"))??;
                if line.starts_with("220") && line.contains(greeting) {
                    return Ok(());
                }
                return Err(format!("another server answers on {addr}: {}", line.trim()).into());
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("FTP server on {addr} did not come up: {e}").into());
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    }
}

/// The single account of an in-process server.
struct OneUser {
    password: String,
}

impl fmt::Debug for OneUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneUser")
            .field("user", &USER)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Authenticator for OneUser {
    async fn authenticate(
        &self,
        username: &str,
        creds: &Credentials,
    ) -> std::result::Result<Principal, AuthenticationError> {
        if username != USER {
            return Err(AuthenticationError::BadUser);
        }
        match creds.password.as_deref() {
            Some(p) if p == self.password => Ok(Principal {
                username: username.to_owned(),
            }),
            _ => Err(AuthenticationError::BadPassword),
        }
    }
}
