//! Settings shared by every backend: a URL plus [`RemoteOptions`], loadable from TOML or JSON.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::fs::WriteMode;

/// The protocol part of a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `ftp://`: plain FTP.
    Ftp,
    /// `ftps://`: explicit FTPS (`AUTH TLS` on the control port, default 21).
    Ftps,
    /// `ftps+implicit://`: implicit FTPS (TLS from the first byte, default port 990).
    FtpsImplicit,
    /// `sftp://`: SFTP over SSH (default port 22).
    Sftp,
    /// `file:///path`: a local folder.
    File,
    /// `memory://`: an in-memory tree.
    Memory,
}

impl Scheme {
    /// The default port, for network schemes.
    pub fn default_port(self) -> Option<u16> {
        match self {
            Scheme::Ftp | Scheme::Ftps => Some(21),
            Scheme::FtpsImplicit => Some(990),
            Scheme::Sftp => Some(22),
            Scheme::File | Scheme::Memory => None,
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "ftp" => Scheme::Ftp,
            "ftps" | "ftpes" => Scheme::Ftps,
            "ftps+implicit" => Scheme::FtpsImplicit,
            "sftp" => Scheme::Sftp,
            "file" => Scheme::File,
            "memory" => Scheme::Memory,
            other => {
                return Err(Error::config(
                    "url",
                    format!(
                        "unknown scheme `{other}` (expected ftp, ftps, ftps+implicit, sftp, file or memory)"
                    ),
                ));
            }
        })
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Ftp => "ftp",
            Scheme::Ftps => "ftps",
            Scheme::FtpsImplicit => "ftps+implicit",
            Scheme::Sftp => "sftp",
            Scheme::File => "file",
            Scheme::Memory => "memory",
        })
    }
}

/// A parsed location: scheme, host, port, user and root folder. Holds no password: one
/// given in the URL is moved into [`RemoteOptions::password`] by [`RemoteUrl::parse`], so
/// a `RemoteUrl` can be printed and logged freely.
///
/// ```
/// use ftp_connector::{RemoteUrl, Scheme};
/// let (url, password) = RemoteUrl::parse("ftps://alice:s3cret@127.0.0.1/incoming")?;
/// assert_eq!(url.scheme, Scheme::Ftps);
/// assert_eq!(url.port, Some(21));
/// assert_eq!(url.user.as_deref(), Some("alice"));
/// assert_eq!(url.root, "/incoming");
/// assert!(password.is_some());
/// assert_eq!(url.to_string(), "ftps://alice@127.0.0.1:21/incoming");
/// # Ok::<(), ftp_connector::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteUrl {
    /// The protocol.
    pub scheme: Scheme,
    /// Host name or address; empty for `file` and `memory`.
    pub host: String,
    /// The port (the scheme's default when the URL has none); `None` for local schemes.
    pub port: Option<u16>,
    /// The user name, percent-decoded.
    pub user: Option<String>,
    /// The root folder on the server (or the local folder), percent-decoded, starting with
    /// `/`; `/` when the URL has no path. Every [`RemotePath`](crate::RemotePath) is relative to it.
    pub root: String,
}

impl RemoteUrl {
    /// Parses a URL; returns the location and the password it carried, if any.
    pub fn parse(url: &str) -> Result<(Self, Option<SecretString>)> {
        // Split the scheme by hand: `url` does not accept `+` followed by special handling
        // consistently across its "special" schemes, and an error must never echo the URL
        // (it may carry a password).
        let (scheme, _) = url
            .split_once("://")
            .ok_or_else(|| Error::config("url", "expected <scheme>://…"))?;
        let scheme = Scheme::parse(&scheme.to_ascii_lowercase())?;
        let parsed = url::Url::parse(url).map_err(|e| Error::config("url", e.to_string()))?;
        let decode = |s: &str, key: &str| -> Result<String> {
            percent_encoding_decode(s)
                .map_err(|_| Error::config(key, "not valid UTF-8 once decoded"))
        };
        let user = match parsed.username() {
            "" => None,
            u => Some(decode(u, "url.user")?),
        };
        let password = parsed
            .password()
            .map(|p| decode(p, "url.password").map(SecretString::from))
            .transpose()?;
        let root = decode(parsed.path(), "url.path")?;
        let root = if root.is_empty() {
            "/".to_owned()
        } else {
            root
        };
        if root.chars().any(char::is_control) {
            return Err(Error::config("url.path", "control character in path"));
        }
        let host = parsed.host_str().unwrap_or("").to_owned();
        match scheme {
            Scheme::File | Scheme::Memory => {}
            _ if host.is_empty() => return Err(Error::config("url.host", "missing host")),
            _ => {}
        }
        let port = parsed.port().or(scheme.default_port());
        Ok((
            RemoteUrl {
                scheme,
                host,
                port,
                user,
                root,
            },
            password,
        ))
    }

    /// `host:port`, as used in errors and logs.
    pub fn endpoint(&self) -> String {
        match self.port {
            Some(p) if self.host.contains(':') => format!("[{}]:{p}", self.host),
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }
}

impl fmt::Display for RemoteUrl {
    /// The URL without any password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        write!(f, "{}{}", self.endpoint(), self.root)
    }
}

fn percent_encoding_decode(s: &str) -> std::result::Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
}

/// A TLS protocol version, as `"1.2"` or `"1.3"` in TOML or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2.
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3.
    #[serde(rename = "1.3")]
    Tls13,
}

/// TLS settings for FTPS.
///
/// **Versions.** By default FTPS speaks TLS 1.3 or 1.2, as the server prefers, with one
/// exception made for speed: FTP opens a new data connection per file and per listing,
/// and each one resumes the TLS session of its control connection (which servers such
/// as vsftpd and FileZilla Server insist on). Over TLS 1.3 that takes a session ticket
/// from the server; a server that speaks TLS 1.3 but issues none (pure-ftpd) would make
/// every data connection a full handshake, several times the work of the transfer itself
/// for small files. When the first connection finds exactly that (TLS 1.3, no ticket
/// after the login), the backend opens its connections with TLS 1.2 instead, whose
/// sessions its data connections do resume; if the server refuses TLS 1.2, it stays on
/// TLS 1.3. `max_version` or `min_version` turn this off. Over TLS 1.2 the server picks the
/// cipher suite, so where the processor has AES instructions the ChaCha20-Poly1305 suites
/// are not offered (AES-GCM then costs a third of the CPU per byte):
///
/// ```
/// use ftp_connector::{RemoteOptions, TlsVersion};
/// let mut o = RemoteOptions::new();
/// o.tls.min_version = TlsVersion::Tls13; // TLS 1.3 only, whatever the server's tickets
/// let o: RemoteOptions = serde_json::from_str(r#"{"tls": {"max_version": "1.2"}}"#).unwrap();
/// assert_eq!(o.tls.max_version, Some(TlsVersion::Tls12)); // TLS 1.2 only
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsOptions {
    /// The oldest TLS version accepted (default 1.2).
    pub min_version: TlsVersion,
    /// The newest TLS version offered. `None` (the default): 1.3, with the switch to 1.2
    /// described above for servers that issue no TLS 1.3 session tickets. Set, it is
    /// kept as given.
    pub max_version: Option<TlsVersion>,
    /// Extra root certificates (PEM files) to trust, e.g. a company CA or a test CA.
    pub ca_certificates: Vec<PathBuf>,
    /// Trust the platform's root store too (default `true`).
    pub use_system_roots: bool,
    /// Accept only a server certificate whose SHA-256 (hex, `:` allowed) matches, in
    /// addition to normal verification.
    pub pinned_sha256: Option<String>,
    /// The name to verify the certificate against (default: the URL's host).
    pub server_name: Option<String>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            min_version: TlsVersion::Tls12,
            max_version: None,
            ca_certificates: Vec::new(),
            use_system_roots: true,
            pinned_sha256: None,
            server_name: None,
        }
    }
}

/// SSH settings for SFTP.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SshOptions {
    /// A `known_hosts` file to check the host key against (default `~/.ssh/known_hosts`
    /// when neither this nor a fingerprint is given).
    pub known_hosts: Option<PathBuf>,
    /// The expected host key fingerprint, `SHA256:…` as `ssh-keygen -lf` prints it.
    pub host_key_fingerprint: Option<String>,
    /// Accept a host key that is in neither place. Off by default; the name says why.
    pub insecure_accept_unknown_host_key: bool,
    /// Requests in flight per transfer (pipelining). Default 32.
    pub max_in_flight: usize,
    /// Bytes per read or write request. Default 32 KiB (the SFTP ceiling most servers honour).
    pub chunk_size: u32,
    /// Ask the server to `fsync` each uploaded file before it is renamed into place.
    pub fsync: bool,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            known_hosts: None,
            host_key_fingerprint: None,
            insecure_accept_unknown_host_key: false,
            max_in_flight: 32,
            chunk_size: 32 * 1024,
            fsync: false,
        }
    }
}

/// How FTP data connections are opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DataMode {
    /// `EPSV`, then `PASV` if the server refuses it (default).
    #[default]
    Passive,
    /// `EPRT`/`PORT`: the server connects back to the client.
    Active,
}

/// FTP settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct FtpOptions {
    /// Passive (default) or active data connections.
    pub data_mode: DataMode,
    /// Use `MLSD`/`MLST` when `FEAT` offers them (default `true`); `LIST` otherwise.
    pub use_mlsd: bool,
}

impl Default for FtpOptions {
    fn default() -> Self {
        FtpOptions {
            data_mode: DataMode::Passive,
            use_mlsd: true,
        }
    }
}

/// Connection pool settings (FTP control connections, SSH sessions).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct PoolOptions {
    /// At most this many connections to the server at once. Default 4.
    pub max_connections: usize,
    /// Close a connection idle for longer than this. Default 60 s.
    #[serde(with = "humantime_serde_compat")]
    pub idle_timeout: Duration,
    /// Check an idle connection (`NOOP`) before reuse when it has been idle this long.
    /// Default 15 s.
    #[serde(with = "humantime_serde_compat")]
    pub health_check_after: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 4,
            idle_timeout: Duration::from_secs(60),
            health_check_after: Duration::from_secs(15),
        }
    }
}

/// Timeouts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Timeouts {
    /// Opening a connection, TLS and SSH handshakes, login. Default 30 s.
    #[serde(with = "humantime_serde_compat")]
    pub connect: Duration,
    /// Waiting for a reply to a command. Default 60 s.
    #[serde(with = "humantime_serde_compat")]
    pub reply: Duration,
    /// A data transfer that moves no byte for this long fails. Default 60 s.
    #[serde(with = "humantime_serde_compat")]
    pub data_idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            reply: Duration::from_secs(60),
            data_idle: Duration::from_secs(60),
        }
    }
}

/// Every option of every backend, as one serde struct: the same settings load from a URL
/// plus TOML or JSON. Unused sections are ignored by backends they do not concern.
///
/// Secrets (password, key passphrase) are [`SecretString`]s and never appear in `Debug`.
///
/// ```
/// use ftp_connector::RemoteOptions;
/// let opts: RemoteOptions = serde_json::from_str(r#"{
///     "password": "s3cret",
///     "pool": { "max_connections": 8, "idle_timeout": "2m" },
///     "ssh": { "host_key_fingerprint": "SHA256:abc" }
/// }"#)?;
/// assert_eq!(opts.pool.max_connections, 8);
/// assert!(!format!("{opts:?}").contains("s3cret"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RemoteOptions {
    /// The password (FTP, SFTP password auth). Overrides one given in the URL.
    pub password: Option<SecretString>,
    /// A private key file (OpenSSH format) for SFTP key auth.
    pub private_key: Option<PathBuf>,
    /// The passphrase of `private_key`, if it is encrypted.
    pub private_key_passphrase: Option<SecretString>,
    /// TLS (FTPS).
    pub tls: TlsOptions,
    /// SSH (SFTP).
    pub ssh: SshOptions,
    /// FTP.
    pub ftp: FtpOptions,
    /// Connection pool.
    pub pool: PoolOptions,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// The default write mode (atomic unless the server refuses rename).
    pub write_mode: WriteMode,
}

impl fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("private_key", &self.private_key)
            .field(
                "private_key_passphrase",
                &self.private_key_passphrase.as_ref().map(|_| "<redacted>"),
            )
            .field("tls", &self.tls)
            .field("ssh", &self.ssh)
            .field("ftp", &self.ftp)
            .field("pool", &self.pool)
            .field("timeouts", &self.timeouts)
            .field("write_mode", &self.write_mode)
            .finish()
    }
}

impl RemoteOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the password.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(SecretString::from(password.into()));
        self
    }

    /// Sets the private key file for SFTP.
    pub fn private_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.private_key = Some(path.into());
        self
    }

    /// Sets the passphrase of the private key.
    pub fn private_key_passphrase(mut self, passphrase: impl Into<String>) -> Self {
        self.private_key_passphrase = Some(SecretString::from(passphrase.into()));
        self
    }

    /// Trusts an extra CA certificate (PEM file) for FTPS.
    pub fn ca_certificate(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca_certificates.push(path.into());
        self
    }

    /// Sets the expected SSH host key fingerprint (`SHA256:…`).
    pub fn host_key_fingerprint(mut self, fingerprint: impl Into<String>) -> Self {
        self.ssh.host_key_fingerprint = Some(fingerprint.into());
        self
    }

    /// Sets the `known_hosts` file for SFTP.
    pub fn known_hosts(mut self, path: impl Into<PathBuf>) -> Self {
        self.ssh.known_hosts = Some(path.into());
        self
    }

    /// Sets the maximum number of pooled connections.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.pool.max_connections = n;
        self
    }

    /// Sets the default write mode.
    pub fn write_mode(mut self, mode: WriteMode) -> Self {
        self.write_mode = mode;
        self
    }

    /// Checks the options on their own; every backend calls this in its `build()`.
    pub fn validate(&self) -> Result<()> {
        if self.pool.max_connections == 0 {
            return Err(Error::config("pool.max_connections", "must be at least 1"));
        }
        if self
            .tls
            .max_version
            .is_some_and(|max| max < self.tls.min_version)
        {
            return Err(Error::config(
                "tls.max_version",
                "is older than tls.min_version",
            ));
        }
        if self.ssh.max_in_flight == 0 {
            return Err(Error::config("ssh.max_in_flight", "must be at least 1"));
        }
        if self.ssh.chunk_size < 512 || self.ssh.chunk_size > 255 * 1024 {
            return Err(Error::config(
                "ssh.chunk_size",
                "must be between 512 bytes and 255 KiB",
            ));
        }
        for (key, d) in [
            ("timeouts.connect", self.timeouts.connect),
            ("timeouts.reply", self.timeouts.reply),
            ("timeouts.data_idle", self.timeouts.data_idle),
        ] {
            if d.is_zero() {
                return Err(Error::config(key, "must be more than zero"));
            }
        }
        Ok(())
    }
}

/// Durations as humantime strings (`"30s"`, `"2m"`) or whole seconds.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Secs(u64),
        Text(String),
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Secs(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => humantime::parse_duration(&t).map_err(serde::de::Error::custom),
        }
    }
}

/// Refuses a URL root with `..` segments; every backend calls it when built.
pub(crate) fn check_root(root: &str) -> Result<()> {
    if root.split('/').any(|s| s == "..") {
        return Err(Error::config("url.path", "`..` is not allowed in the root"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_kept_out_of_everything_printable() {
        let (url, pw) = RemoteUrl::parse("sftp://bob:hunter%232@example.com:2222/up")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(url.port, Some(2222));
        assert_eq!(url.user.as_deref(), Some("bob"));
        let printed = format!("{url} {url:?} {pw:?}");
        assert!(!printed.contains("hunter"), "{printed}");
        use secrecy::ExposeSecret;
        assert_eq!(
            pw.map(|p| p.expose_secret().to_owned()).as_deref(),
            Some("hunter#2")
        );
    }

    #[test]
    fn bad_urls_name_the_key() {
        for (url, key) in [
            ("gopher://x/", "url"),
            ("sftp:///nohost", "url.host"),
            ("no-scheme", "url"),
        ] {
            match RemoteUrl::parse(url) {
                Err(Error::InvalidConfig { key: k, .. }) => assert_eq!(k, key, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn implicit_ftps_defaults_to_990_and_file_has_no_host() {
        let (u, _) = RemoteUrl::parse("ftps+implicit://h/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((u.scheme, u.port), (Scheme::FtpsImplicit, Some(990)));
        let (u, _) = RemoteUrl::parse("file:///tmp/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.scheme, u.root.as_str(), u.port),
            (Scheme::File, "/tmp/x", None)
        );
    }

    #[test]
    fn options_load_from_toml_like_json_and_validate() {
        let o: RemoteOptions = serde_json::from_str(r#"{"pool":{"max_connections":0}}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(o.validate(), Err(Error::InvalidConfig { key, .. }) if key == "pool.max_connections")
        );
        assert!(serde_json::from_str::<RemoteOptions>(r#"{"pasword":"x"}"#).is_err());
    }

    #[test]
    fn tls_versions_load_as_numbers_and_must_be_in_order() {
        let o: RemoteOptions =
            serde_json::from_str(r#"{"tls":{"min_version":"1.3","max_version":"1.3"}}"#)
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (o.tls.min_version, o.tls.max_version),
            (TlsVersion::Tls13, Some(TlsVersion::Tls13))
        );
        assert!(o.validate().is_ok());
        assert!(serde_json::from_str::<RemoteOptions>(r#"{"tls":{"max_version":"1.1"}}"#).is_err());
        let d = RemoteOptions::new();
        assert_eq!(
            (d.tls.min_version, d.tls.max_version),
            (TlsVersion::Tls12, None)
        );
        let mut bad = RemoteOptions::new();
        bad.tls.min_version = TlsVersion::Tls13;
        bad.tls.max_version = Some(TlsVersion::Tls12);
        assert!(
            matches!(bad.validate(), Err(Error::InvalidConfig { key, .. }) if key == "tls.max_version")
        );
    }
}
