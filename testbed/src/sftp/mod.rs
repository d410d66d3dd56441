//! In-process SFTP server: russh (SSH) + russh-sftp (SFTP v3) over a temporary directory.

mod fs;
mod paths;
mod ssh;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use russh::keys::ssh_key::LineEnding;
use russh::keys::{Algorithm, HashAlg, PrivateKey};
use russh::server::{RunningServerHandle, Server as _};
use russh::{MethodKind, MethodSet};
use tempfile::TempDir;

use crate::Result;
use paths::Jail;
use ssh::{Factory, Users};

/// The user name of every in-process server.
const USER: &str = "alice";

/// An in-process SFTP server serving a temporary directory on `127.0.0.1`.
///
/// * Host key: a fresh ed25519 key per server; clients pin it with
///   [`host_key_fingerprint`](Self::host_key_fingerprint) or
///   [`known_hosts_path`](Self::known_hosts_path).
/// * Logins for [`user`](Self::user): the generated [`password`](Self::password), the
///   unencrypted key at [`client_key_path`](Self::client_key_path), or the
///   passphrase-protected key at [`encrypted_client_key_path`](Self::encrypted_client_key_path).
/// * Paths: `/` is [`root`](Self::root), relative paths start there, and nothing outside is
///   reachable (`..`, absolute paths and symlinks are confined). `posix-rename@openssh.com`
///   and `fsync@openssh.com` are offered, like OpenSSH's server; plain `rename` never
///   replaces an existing file.
///
/// Dropping the server disconnects its clients, stops listening and removes its directory.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> testbed::Result<()> {
/// let server = testbed::SftpServer::start().await?;
/// assert_eq!(server.url(), format!("sftp://alice@{}/", server.addr()));
/// assert!(server.host_key_fingerprint().starts_with("SHA256:"));
/// let known_hosts = std::fs::read_to_string(server.known_hosts_path())?;
/// assert!(known_hosts.starts_with(&format!("[127.0.0.1]:{} ssh-ed25519 ", server.addr().port())));
/// # Ok(())
/// # }
/// ```
pub struct SftpServer {
    addr: SocketAddr,
    password: String,
    root: PathBuf,
    host_key_fingerprint: String,
    known_hosts_path: PathBuf,
    client_key_path: PathBuf,
    encrypted_key: EncryptedKey,
    handle: RunningServerHandle,
    /// Kept for its `Drop`: removes the served directory and the keys.
    _dir: TempDir,
}

impl SftpServer {
    /// Generates the keys, binds an ephemeral port and starts serving.
    ///
    /// # Errors
    /// When the temporary directory, the keys or the listener cannot be created.
    pub async fn start() -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("testbed-sftp-").tempdir()?;
        let root = dir.path().join("root");
        std::fs::create_dir(&root)?;
        let keys = dir.path().join("keys");
        std::fs::create_dir(&keys)?;

        let mut rng = rand::rng();
        let host_key = PrivateKey::random(&mut rng, Algorithm::Ed25519)?;
        let host_key_fingerprint = host_key
            .public_key()
            .fingerprint(HashAlg::Sha256)
            .to_string();

        let mut client_key = PrivateKey::random(&mut rng, Algorithm::Ed25519)?;
        client_key.set_comment("testbed-client");
        let client_key_path = keys.join("client_ed25519");
        client_key.write_openssh_file(&client_key_path, LineEnding::LF)?;
        client_key
            .public_key()
            .write_openssh_file(keys.join("client_ed25519.pub"))?;

        let mut second_key = PrivateKey::random(&mut rng, Algorithm::Ed25519)?;
        second_key.set_comment("testbed-client-encrypted");
        let encrypted_key = EncryptedKey {
            public: second_key.public_key().clone(),
            key: second_key,
            path: keys.join("client_ed25519_encrypted"),
            passphrase: crate::secret::random_password(),
            written: OnceLock::new(),
        };

        let jail = Arc::new(Jail::new(&root)?);
        let users = Arc::new(Users {
            user: USER.to_owned(),
            password: crate::secret::random_password(),
            authorized: vec![
                client_key.public_key().clone(),
                encrypted_key.public.clone(),
            ],
        });
        let config = Arc::new(russh::server::Config {
            keys: vec![host_key.clone()],
            methods: MethodSet::from(&[MethodKind::Password, MethodKind::PublicKey][..]),
            // OpenSSH probes "none" first on every connection: answer that at once, and
            // keep real rejections short so wrong-credential tests stay fast.
            auth_rejection_time: Duration::from_millis(20),
            auth_rejection_time_initial: Some(Duration::ZERO),
            inactivity_timeout: Some(Duration::from_secs(600)),
            nodelay: true,
            ..Default::default()
        });

        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let known_hosts_path = keys.join("known_hosts");
        std::fs::write(
            &known_hosts_path,
            format!(
                "[127.0.0.1]:{} {}\n",
                addr.port(),
                host_key.public_key().to_openssh()?
            ),
        )?;

        let mut factory = Factory {
            users: users.clone(),
            jail,
        };
        let (handle_tx, handle_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            // `run_on_socket` borrows the listener, so both live in this task.
            let running = factory.run_on_socket(config, &listener);
            let _ = handle_tx.send(running.handle());
            if let Err(e) = running.await {
                tracing::warn!(%addr, "in-process SFTP server stopped: {e}");
            }
        });
        let handle = handle_rx.await?;
        tracing::debug!(%addr, "in-process SFTP server listening");

        Ok(Self {
            addr,
            password: users.password.clone(),
            root,
            host_key_fingerprint,
            known_hosts_path,
            client_key_path,
            encrypted_key,
            handle,
            _dir: dir,
        })
    }

    /// `sftp://alice@127.0.0.1:PORT/` (no password).
    pub fn url(&self) -> String {
        format!("sftp://{USER}@{}/", self.addr)
    }

    /// The listening address (`127.0.0.1:PORT`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The user name to log in with.
    pub fn user(&self) -> &str {
        USER
    }

    /// The password (generated per server); password authentication is accepted.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The served directory on disk: `/` of the SFTP session. Tests plant files here.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:` + unpadded base64.
    pub fn host_key_fingerprint(&self) -> &str {
        &self.host_key_fingerprint
    }

    /// A `known_hosts` file with one line, `[127.0.0.1]:PORT ssh-ed25519 AAAA…`.
    pub fn known_hosts_path(&self) -> &Path {
        &self.known_hosts_path
    }

    /// An unencrypted OpenSSH ed25519 private key (mode 0600) authorized for the user.
    /// Its public half is next to it, with a `.pub` suffix.
    pub fn client_key_path(&self) -> &Path {
        &self.client_key_path
    }

    /// A second authorized ed25519 key, encrypted with
    /// [`client_key_passphrase`](Self::client_key_passphrase) (OpenSSH format, AES-256-CTR,
    /// bcrypt KDF with 16 rounds like `ssh-keygen`), mode 0600.
    ///
    /// The file is written on the first call: bcrypt is deliberately slow (a few hundred
    /// milliseconds in a debug build), and most tests never need this key.
    pub fn encrypted_client_key_path(&self) -> &Path {
        self.encrypted_key.ensure_written()
    }

    /// The passphrase of [`encrypted_client_key_path`](Self::encrypted_client_key_path).
    pub fn client_key_passphrase(&self) -> &str {
        &self.encrypted_key.passphrase
    }
}

/// The passphrase-protected client key, encrypted and written on first use.
struct EncryptedKey {
    key: PrivateKey,
    public: russh::keys::PublicKey,
    path: PathBuf,
    passphrase: String,
    written: OnceLock<()>,
}

impl EncryptedKey {
    fn ensure_written(&self) -> &Path {
        self.written.get_or_init(|| {
            let result = self
                .key
                .encrypt(&mut rand::rng(), &self.passphrase)
                .map_err(|e| e.to_string())
                .and_then(|k| {
                    // Written under a temporary name and renamed, so no reader ever sees
                    // a partial key.
                    let tmp = self.path.with_extension("partial");
                    k.write_openssh_file(&tmp, LineEnding::LF)
                        .map_err(|e| e.to_string())?;
                    std::fs::rename(&tmp, &self.path).map_err(|e| e.to_string())
                });
            if let Err(e) = result {
                // The path then names no file, and the client reports that.
                tracing::error!(path = %self.path.display(), "cannot write encrypted key: {e}");
            }
        });
        &self.path
    }
}

impl fmt::Debug for SftpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpServer")
            .field("url", &self.url())
            .field("root", &self.root)
            .field("host_key_fingerprint", &self.host_key_fingerprint)
            .field("client_key_path", &self.client_key_path)
            .finish_non_exhaustive()
    }
}

impl Drop for SftpServer {
    fn drop(&mut self) {
        // Stops accepting and disconnects every session; their SFTP loops end with them.
        self.handle.shutdown("test server dropped".to_owned());
    }
}
