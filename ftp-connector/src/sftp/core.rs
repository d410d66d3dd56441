//! One SSH connection with its SFTP channel: connecting, logging in, and the one place
//! where SFTP failures become [`Error`]s ([`map_sftp_error`]).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh_sftp::client::RawSftpSession;
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::StatusCode;
use secrecy::ExposeSecret;

use super::config::{HostKeyPolicy, SftpSettings};
use super::hostkey::{Client, ClientError};
use crate::error::{Error, ErrorKind, Operation, Result};

/// What the server offers beyond plain SFTPv3, and the request sizes it accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Features {
    /// `posix-rename@openssh.com`: a rename that replaces its target atomically.
    pub(crate) posix_rename: bool,
    /// `fsync@openssh.com`.
    pub(crate) fsync: bool,
    /// Bytes per READ request.
    pub(crate) read_len: u32,
    /// Bytes per WRITE request.
    pub(crate) write_len: u32,
}

/// One authenticated SSH connection and its SFTP subsystem. Many requests, from many
/// transfers, may be in flight on it at once: SFTP matches replies to requests by id.
pub(crate) struct Session {
    /// Keeps the connection alive; tells whether it still is. (`None` only in unit tests,
    /// where the SFTP stream runs over an in-memory pipe.)
    ssh: Option<Handle<Client>>,
    pub(crate) sftp: Arc<RawSftpSession>,
    pub(crate) features: Features,
    /// Set when a request timed out or the connection failed: the pool drops the session.
    broken: AtomicBool,
    endpoint: Arc<str>,
    reply_timeout: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("endpoint", &self.endpoint)
            .field("features", &self.features)
            .field("alive", &self.is_alive())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Whether the connection is up and no request on it has timed out.
    pub(crate) fn is_alive(&self) -> bool {
        !self.broken.load(Ordering::Relaxed) && self.ssh.as_ref().is_none_or(|h| !h.is_closed())
    }

    /// Maps a failure of a request on this session, and retires the session if the
    /// failure says the connection is gone or hung.
    pub(crate) fn error(&self, op: Operation, path: &str, e: SftpError) -> Error {
        let err = map_sftp_error(e, op, path, self.is_alive(), self.reply_timeout);
        if err.kind() == ErrorKind::Transient {
            self.broken.store(true, Ordering::Relaxed);
        }
        err
    }

    /// Retires the session: the pool will not hand it out again.
    pub(crate) fn mark_broken(&self) {
        self.broken.store(true, Ordering::Relaxed);
    }

    /// Whether the server still answers: one REALPATH, within a few seconds. Any reply,
    /// even an error status, proves the connection works.
    pub(crate) async fn answers(&self) -> bool {
        let limit = self.reply_timeout.min(Duration::from_secs(10));
        match tokio::time::timeout(limit, self.sftp.realpath(".")).await {
            Ok(Ok(_)) | Ok(Err(SftpError::Status(_))) => true,
            Ok(Err(_)) | Err(_) => false,
        }
    }

    /// Closes the connection politely (best effort).
    pub(crate) async fn close(&self) {
        let _ = self.sftp.close_session();
        if let Some(ssh) = &self.ssh {
            let _ = ssh
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
        }
    }

    /// A session over any byte stream that speaks SFTP (unit tests use an in-memory pipe
    /// to a scripted server).
    #[cfg(test)]
    pub(crate) async fn over_stream<S>(stream: S, features: Features) -> Session
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let sftp = RawSftpSession::new(stream);
        sftp.init().await.unwrap();
        Session {
            ssh: None,
            sftp: Arc::new(sftp),
            features,
            broken: AtomicBool::new(false),
            endpoint: "test".into(),
            reply_timeout: Duration::from_secs(10),
        }
    }
}

/// Decides kind and retryability of every SFTP failure, once for the backend.
///
/// - `SSH_FX_NO_SUCH_FILE` → [`Error::NotFound`]; `SSH_FX_PERMISSION_DENIED` →
///   [`Error::PermissionDenied`]; `SSH_FX_OP_UNSUPPORTED` → `Unsupported`.
/// - `SSH_FX_FAILURE` → `Unexpected`: SFTPv3 says no more. Callers that can tell a
///   clash (rename or mkdir onto an existing name) look and return a conflict.
/// - A request that timed out → [`Error::Timeout`]; a closed channel or connection, a
///   dropped reply → a `ConnectionAborted` I/O error naming the path. Both are retryable.
pub(crate) fn map_sftp_error(
    e: SftpError,
    op: Operation,
    path: &str,
    alive: bool,
    timeout: Duration,
) -> Error {
    let path = path.to_owned();
    let protocol = |code: StatusCode, message: String, kind: ErrorKind| Error::Protocol {
        op,
        path: path.clone(),
        code: Some(code as u32),
        message,
        kind,
    };
    let lost = |message: String| {
        Error::io(
            op,
            path.clone(),
            std::io::Error::new(
                std::io::ErrorKind::ConnectionAborted,
                format!("SFTP connection lost: {message}"),
            ),
        )
    };
    match e {
        SftpError::Status(s) => match s.status_code {
            StatusCode::NoSuchFile => Error::NotFound { op, path },
            StatusCode::PermissionDenied => Error::PermissionDenied {
                op,
                path,
                message: s.error_message,
            },
            StatusCode::OpUnsupported => {
                protocol(s.status_code, s.error_message, ErrorKind::Unsupported)
            }
            StatusCode::NoConnection | StatusCode::ConnectionLost => lost(s.error_message),
            code => protocol(code, s.error_message, ErrorKind::Unexpected),
        },
        SftpError::Timeout => Error::Timeout {
            op,
            path,
            after: timeout,
        },
        // russh-sftp reports a closed channel as "session closed", a reply that will
        // never come (the reader task ended) as "sender dropped", and I/O failures as IO.
        SftpError::IO(m) => lost(m),
        SftpError::UnexpectedBehavior(m)
            if !alive || m.contains("closed") || m.contains("dropped") || m.contains("Send") =>
        {
            lost(m)
        }
        other => Error::Protocol {
            op,
            path,
            code: None,
            message: other.to_string(),
            kind: ErrorKind::Unexpected,
        },
    }
}

/// Opens sessions: holds what every new connection needs (settings, the decrypted key).
pub(crate) struct Connector {
    pub(crate) settings: SftpSettings,
    key: Option<Arc<PrivateKey>>,
    policy: Arc<HostKeyPolicy>,
    ssh_config: Arc<client::Config>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("settings", &self.settings)
            .field("key", &self.key.as_ref().map(|_| "<loaded>"))
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Loads (and decrypts) the private key once, so that the passphrase is not needed again.
    pub(crate) async fn new(settings: SftpSettings) -> Result<Self> {
        let key = match &settings.private_key {
            Some(path) => Some(Arc::new(load_key(&settings, path).await?)),
            None => None,
        };
        let ssh_config = Arc::new(client::Config {
            keepalive_interval: Some(settings.health_check_after),
            keepalive_max: 3,
            nodelay: true,
            ..Default::default()
        });
        Ok(Connector {
            policy: Arc::new(settings.host_key.clone()),
            settings,
            key,
            ssh_config,
        })
    }

    fn endpoint(&self) -> String {
        self.settings.endpoint()
    }

    /// A new connection: TCP, SSH handshake, host key check, login, SFTP subsystem; all
    /// within the connect timeout.
    pub(crate) async fn open(&self) -> Result<Session> {
        let limit = self.settings.connect_timeout;
        match tokio::time::timeout(limit, self.open_inner()).await {
            Ok(r) => r,
            Err(_) => Err(self.conn_error(
                format!("no SSH session within {limit:?} (TCP, handshake and login)"),
                None,
            )),
        }
    }

    fn conn_error(
        &self,
        message: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::Connection {
            op: Operation::Connect,
            endpoint: self.endpoint(),
            message,
            source,
        }
    }

    fn auth_error(&self, message: String) -> Error {
        Error::Auth {
            endpoint: self.endpoint(),
            user: self.settings.user.clone(),
            message,
        }
    }

    async fn open_inner(&self) -> Result<Session> {
        let s = &self.settings;
        let tcp = tokio::net::TcpStream::connect((s.host.as_str(), s.port))
            .await
            .map_err(|e| self.conn_error(e.to_string(), Some(Box::new(e))))?;
        let _ = tcp.set_nodelay(true);
        let handler = Client {
            policy: self.policy.clone(),
            host: s.host.clone(),
            port: s.port,
        };
        let mut ssh = client::connect_stream(self.ssh_config.clone(), tcp, handler)
            .await
            .map_err(|e| match e {
                ClientError::Untrusted(message) => Error::Untrusted {
                    endpoint: self.endpoint(),
                    message,
                },
                ClientError::Ssh(e) => {
                    self.conn_error(format!("SSH handshake: {e}"), Some(Box::new(e)))
                }
            })?;
        self.authenticate(&mut ssh).await?;

        let ssh_err =
            |e: russh::Error| self.conn_error(format!("SFTP channel: {e}"), Some(Box::new(e)));
        let mut channel = ssh.channel_open_session().await.map_err(ssh_err)?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(ssh_err)?;
        loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => break,
                Some(ChannelMsg::Failure) | None => {
                    return Err(
                        self.conn_error("the server refused the sftp subsystem".into(), None)
                    );
                }
                Some(_) => {}
            }
        }
        let config = russh_sftp::client::Config {
            // Reads come back as one packet each; leave room for any sane server's NAME lists.
            max_packet_len: 1024 * 1024,
            request_timeout_secs: s.reply_timeout.as_secs_f64().ceil().max(1.0) as u64,
            ..Default::default()
        };
        let mut sftp = RawSftpSession::new_with_config(channel.into_stream(), config);
        let proto = |e: SftpError| map_sftp_error(e, Operation::Connect, "", true, s.reply_timeout);
        let version = sftp.init().await.map_err(proto)?;
        if version.version != 3 {
            return Err(self.conn_error(
                format!("SFTP version {} (expected 3)", version.version),
                None,
            ));
        }
        let has = |name: &str| version.extensions.get(name).is_some_and(|v| v == "1");
        #[cfg(test)]
        let has =
            |name: &str| has(name) && !(s.ignore_posix_rename && name.starts_with("posix-rename"));
        let mut features = Features {
            posix_rename: has("posix-rename@openssh.com"),
            fsync: has("fsync@openssh.com"),
            read_len: s.chunk_size,
            write_len: s.chunk_size,
        };
        if has("limits@openssh.com") {
            let limits =
                russh_sftp::client::rawsession::Limits::from(sftp.limits().await.map_err(proto)?);
            // A WRITE carries ~25 bytes plus the handle around its data.
            let cap = |v: Option<u64>, overhead: u64| {
                let by_packet = limits.packet_len.map(|p| p.saturating_sub(overhead));
                [v, by_packet]
                    .into_iter()
                    .flatten()
                    .min()
                    .map(|m| m.clamp(512, u32::MAX as u64) as u32)
            };
            if let Some(r) = cap(limits.read_len, 13) {
                features.read_len = features.read_len.min(r);
            }
            if let Some(w) = cap(limits.write_len, 25 + 256) {
                features.write_len = features.write_len.min(w);
            }
            sftp.set_limits(limits);
        }
        Ok(Session {
            ssh: Some(ssh),
            sftp: Arc::new(sftp),
            features,
            broken: AtomicBool::new(false),
            endpoint: self.endpoint().into(),
            reply_timeout: s.reply_timeout,
        })
    }

    /// Key first (if given), then password (if given).
    async fn authenticate(&self, ssh: &mut Handle<Client>) -> Result<()> {
        let s = &self.settings;
        let ssh_err =
            |e: russh::Error| self.conn_error(format!("authentication: {e}"), Some(Box::new(e)));
        let mut tried = Vec::new();
        if let Some(key) = &self.key {
            let hash = if key.algorithm().is_rsa() {
                ssh.best_supported_rsa_hash()
                    .await
                    .map_err(ssh_err)?
                    .flatten()
            } else {
                None
            };
            let r = ssh
                .authenticate_publickey(&s.user, PrivateKeyWithHashAlg::new(key.clone(), hash))
                .await
                .map_err(ssh_err)?;
            if r.success() {
                return Ok(());
            }
            tried.push("public key");
        }
        if let Some(password) = &s.password {
            let r = ssh
                .authenticate_password(&s.user, password.expose_secret())
                .await
                .map_err(ssh_err)?;
            if r.success() {
                return Ok(());
            }
            tried.push("password");
        }
        Err(self.auth_error(format!(
            "the server refused the {}",
            tried.join(" and the ")
        )))
    }
}

/// Reads an OpenSSH private key, decrypting it with the passphrase if one is given.
/// Decryption is slow on purpose (bcrypt), so it runs on the blocking pool.
async fn load_key(settings: &SftpSettings, path: &Path) -> Result<PrivateKey> {
    let owned = path.to_owned();
    let passphrase = settings.private_key_passphrase.clone();
    let has_passphrase = passphrase.is_some();
    let loaded = tokio::task::spawn_blocking(move || {
        let pass = passphrase.as_ref().map(|p| p.expose_secret());
        russh::keys::load_secret_key(&owned, pass)
    })
    .await
    .map_err(|e| Error::config("private_key", format!("loading the key failed: {e}")))?;
    let shown = path.display();
    let auth = |message: String| Error::Auth {
        endpoint: settings.endpoint(),
        user: settings.user.clone(),
        message,
    };
    loaded.map_err(|e| match e {
        russh::keys::Error::IO(e) => {
            Error::config("private_key", format!("cannot read {shown}: {e}"))
        }
        russh::keys::Error::KeyIsEncrypted => auth(format!(
            "private key {shown} is encrypted and no private_key_passphrase was given"
        )),
        e if has_passphrase => auth(format!(
            "cannot decrypt private key {shown} (wrong passphrase?): {e}"
        )),
        e => Error::config(
            "private_key",
            format!("{shown} is not a usable private key: {e}"),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use russh_sftp::protocol::Status;

    fn status(code: StatusCode) -> SftpError {
        SftpError::Status(Status {
            id: 1,
            status_code: code,
            error_message: "msg".into(),
            language_tag: "en".into(),
        })
    }

    #[test]
    fn status_codes_map_to_kinds() {
        let t = Duration::from_secs(1);
        let kind = |e| map_sftp_error(e, Operation::Read, "a", true, t).kind();
        assert_eq!(kind(status(StatusCode::NoSuchFile)), ErrorKind::NotFound);
        assert_eq!(
            kind(status(StatusCode::PermissionDenied)),
            ErrorKind::PermissionDenied
        );
        assert_eq!(kind(status(StatusCode::Failure)), ErrorKind::Unexpected);
        assert_eq!(
            kind(status(StatusCode::OpUnsupported)),
            ErrorKind::Unsupported
        );
        assert_eq!(
            kind(status(StatusCode::ConnectionLost)),
            ErrorKind::Transient
        );
        assert_eq!(kind(SftpError::Timeout), ErrorKind::Transient);
        assert_eq!(
            kind(SftpError::UnexpectedBehavior("session closed".into())),
            ErrorKind::Transient
        );
        assert_eq!(
            kind(SftpError::UnexpectedBehavior("sender dropped".into())),
            ErrorKind::Transient
        );
        assert_eq!(kind(SftpError::UnexpectedPacket), ErrorKind::Unexpected);
        // Anything odd on a dead session is a lost connection.
        let dead = map_sftp_error(SftpError::UnexpectedPacket, Operation::Read, "a", false, t);
        assert!(!dead.is_retryable());
        let gone = map_sftp_error(
            SftpError::UnexpectedBehavior("?".into()),
            Operation::Read,
            "a",
            false,
            t,
        );
        assert!(gone.is_retryable());
        assert_eq!(gone.path(), Some("a"));
    }
}
