//! Discovery of the system daemons started by `scripts/testbed start`.
//!
//! The script writes `export TESTBED_…=…` lines to `$TESTBED_DIR/env` (default
//! `/tmp/photoshelter-ftp-testbed/env`). [`Daemons::from_env`] reads the `TESTBED_*`
//! variables from the process environment and, when neither `TESTBED_FTP_ADDR` nor
//! `TESTBED_SFTP_ADDR` is set there, from that file, so a plain `cargo test` after
//! `scripts/testbed start` finds the daemons without `source`.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default state folder of `scripts/testbed` (overridden by `TESTBED_DIR`).
const DEFAULT_TESTBED_DIR: &str = "/tmp/photoshelter-ftp-testbed";

/// When set to `1`, a missing or unreachable daemon fails the test instead of skipping it
/// (for CI, where the daemons are always started).
const REQUIRE_VAR: &str = "TESTBED_REQUIRE_DAEMONS";

/// The daemons that `scripts/testbed` started, as far as the environment tells.
///
/// ```
/// let daemons = testbed::Daemons::from_env();
/// if let Some(ftp) = &daemons.ftp {
///     assert!(ftp.ftp_url().starts_with("ftp://"));
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct Daemons {
    /// pure-ftpd (FTP and explicit FTPS), when configured.
    pub ftp: Option<DaemonFtp>,
    /// OpenSSH `sshd` with `internal-sftp`, when configured.
    pub sftp: Option<DaemonSftp>,
}

/// pure-ftpd as started by `scripts/testbed`: plain FTP and explicit FTPS on one port.
#[derive(Clone)]
pub struct DaemonFtp {
    /// Control connection address (`TESTBED_FTP_ADDR`).
    pub addr: SocketAddr,
    /// Virtual user (`TESTBED_FTP_USER`).
    pub user: String,
    /// Its password (`TESTBED_FTP_PASSWORD`).
    pub password: String,
    /// PEM of the certificate to trust for FTPS (`TESTBED_FTP_CA`).
    pub ca_cert_path: PathBuf,
    /// Name to verify the certificate against (`TESTBED_FTP_TLS_NAME`, default `localhost`).
    pub tls_server_name: String,
    /// The served directory on disk (`TESTBED_FTP_ROOT`), when known.
    pub root: Option<PathBuf>,
}

impl DaemonFtp {
    /// `ftp://USER@127.0.0.1:PORT/` (no password).
    pub fn ftp_url(&self) -> String {
        format!("ftp://{}@{}/", self.user, self.addr)
    }

    /// `ftps://USER@127.0.0.1:PORT/` (explicit FTPS; no password).
    pub fn ftps_url(&self) -> String {
        format!("ftps://{}@{}/", self.user, self.addr)
    }
}

impl fmt::Debug for DaemonFtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DaemonFtp")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("ca_cert_path", &self.ca_cert_path)
            .field("tls_server_name", &self.tls_server_name)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// OpenSSH `sshd` as started by `scripts/testbed`, serving SFTP with `internal-sftp`.
#[derive(Clone)]
pub struct DaemonSftp {
    /// Address (`TESTBED_SFTP_ADDR`).
    pub addr: SocketAddr,
    /// System user (`TESTBED_SFTP_USER`).
    pub user: String,
    /// Its password (`TESTBED_SFTP_PASSWORD`).
    pub password: String,
    /// Unencrypted OpenSSH private key authorized for the user (`TESTBED_SFTP_KEY`).
    pub key_path: PathBuf,
    /// `SHA256:…` fingerprint of the host key (`TESTBED_SFTP_HOST_FP`).
    pub host_key_fingerprint: String,
    /// A `known_hosts` file naming the host key (`TESTBED_SFTP_KNOWN_HOSTS`).
    pub known_hosts_path: PathBuf,
    /// The user's home directory on disk, which relative SFTP paths start from
    /// (`TESTBED_SFTP_ROOT`), when known.
    pub root: Option<PathBuf>,
}

impl DaemonSftp {
    /// `sftp://USER@127.0.0.1:PORT/~/` (no password): rooted at the user's home directory,
    /// which is [`DaemonSftp::root`] on disk. (A URL path is absolute on the server; `/~/`
    /// is the login directory, as curl reads it.)
    pub fn url(&self) -> String {
        format!("sftp://{}@{}/~/", self.user, self.addr)
    }
}

impl fmt::Debug for DaemonSftp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DaemonSftp")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("key_path", &self.key_path)
            .field("host_key_fingerprint", &self.host_key_fingerprint)
            .field("known_hosts_path", &self.known_hosts_path)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Daemons {
    /// Reads the `TESTBED_*` variables (see the module docs for where from).
    ///
    /// A daemon whose variables are incomplete or malformed is `None`. This does not check
    /// that the daemon is running; [`daemon_ftp`] and [`daemon_sftp`] do.
    pub fn from_env() -> Self {
        let vars = Vars::load();
        Self {
            ftp: DaemonFtp::from_vars(&vars).ok(),
            sftp: DaemonSftp::from_vars(&vars).ok(),
        }
    }
}

/// The pure-ftpd daemon, or `None` after printing
/// `skipped: <test>: pure-ftpd not running (run scripts/testbed start)` to stderr.
///
/// The line is written to the stderr handle directly, so `cargo test` shows it even though it
/// captures `eprintln!`. The daemon counts as running when its control port accepts a TCP
/// connection. With `TESTBED_REQUIRE_DAEMONS=1` (CI) a missing daemon fails the calling test.
pub fn daemon_ftp(test: &str) -> Option<DaemonFtp> {
    let vars = Vars::load();
    let found = DaemonFtp::from_vars(&vars).and_then(|d| reachable(d.addr).map(|()| d));
    accept_or_skip(test, "pure-ftpd", found, &vars)
}

/// The OpenSSH daemon, or `None` after printing
/// `skipped: <test>: sshd not running (run scripts/testbed start)` to stderr.
///
/// Same rules as [`daemon_ftp`].
pub fn daemon_sftp(test: &str) -> Option<DaemonSftp> {
    let vars = Vars::load();
    let found = DaemonSftp::from_vars(&vars).and_then(|d| reachable(d.addr).map(|()| d));
    accept_or_skip(test, "sshd", found, &vars)
}

#[allow(clippy::panic)] // Failing the calling test is the point when daemons are required.
fn accept_or_skip<T>(test: &str, daemon: &str, found: Result<T, String>, vars: &Vars) -> Option<T> {
    match found {
        Ok(d) => Some(d),
        Err(why) if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") => {
            panic!(
                "{test}: {daemon} is required ({REQUIRE_VAR}=1) but not usable: {why} [{}]",
                vars.origin
            )
        }
        Err(why) => {
            let line = format!(
                "skipped: {test}: {daemon} not running (run scripts/testbed start) [{why}]\n"
            );
            // Not eprintln!: the test harness captures that, and this line must be seen.
            let _ = std::io::stderr().write_all(line.as_bytes());
            None
        }
    }
}

fn reachable(addr: SocketAddr) -> Result<(), String> {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500))
        .map(drop)
        .map_err(|e| format!("{addr}: {e}"))
}

impl DaemonFtp {
    fn from_vars(vars: &Vars) -> Result<Self, String> {
        Ok(Self {
            addr: vars.addr("TESTBED_FTP_ADDR")?,
            user: vars.required("TESTBED_FTP_USER")?,
            password: vars.required("TESTBED_FTP_PASSWORD")?,
            ca_cert_path: vars.required("TESTBED_FTP_CA")?.into(),
            tls_server_name: vars
                .get("TESTBED_FTP_TLS_NAME")
                .unwrap_or_else(|| "localhost".to_owned()),
            root: vars.get("TESTBED_FTP_ROOT").map(PathBuf::from),
        })
    }
}

impl DaemonSftp {
    fn from_vars(vars: &Vars) -> Result<Self, String> {
        Ok(Self {
            addr: vars.addr("TESTBED_SFTP_ADDR")?,
            user: vars.required("TESTBED_SFTP_USER")?,
            password: vars.required("TESTBED_SFTP_PASSWORD")?,
            key_path: vars.required("TESTBED_SFTP_KEY")?.into(),
            host_key_fingerprint: vars.required("TESTBED_SFTP_HOST_FP")?,
            known_hosts_path: vars.required("TESTBED_SFTP_KNOWN_HOSTS")?.into(),
            root: vars.get("TESTBED_SFTP_ROOT").map(PathBuf::from),
        })
    }
}

/// The `TESTBED_*` variables and where they came from.
struct Vars {
    map: HashMap<String, String>,
    origin: String,
}

impl Vars {
    fn load() -> Self {
        let from_process: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("TESTBED_"))
            .collect();
        if from_process.contains_key("TESTBED_FTP_ADDR")
            || from_process.contains_key("TESTBED_SFTP_ADDR")
        {
            return Self {
                map: from_process,
                origin: "process environment".to_owned(),
            };
        }
        let dir = from_process
            .get("TESTBED_DIR")
            .cloned()
            .unwrap_or_else(|| DEFAULT_TESTBED_DIR.to_owned());
        let file = Path::new(&dir).join("env");
        match std::fs::read_to_string(&file) {
            Ok(text) => {
                let mut map = parse_env_file(&text);
                // Variables set in the process win over the file.
                map.extend(from_process);
                Self {
                    map,
                    origin: format!("env file {}", file.display()),
                }
            }
            Err(_) => Self {
                map: from_process,
                origin: format!("process environment; no env file at {}", file.display()),
            },
        }
    }

    fn get(&self, key: &str) -> Option<String> {
        self.map.get(key).filter(|v| !v.is_empty()).cloned()
    }

    fn required(&self, key: &str) -> Result<String, String> {
        self.get(key).ok_or_else(|| format!("{key} is not set"))
    }

    fn addr(&self, key: &str) -> Result<SocketAddr, String> {
        let value = self.required(key)?;
        value
            .parse()
            .map_err(|e| format!("{key}={value:?} is not an address: {e}"))
    }
}

/// Parses `export KEY=VALUE` / `KEY=VALUE` lines; values may be wrapped in `'…'` or `"…"`.
/// Blank lines and `#` comments are ignored.
fn parse_env_file(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
            let (key, value) = l.split_once('=')?;
            let value = value.trim();
            let value = ['\'', '"']
                .iter()
                .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
                .unwrap_or(value);
            Some((key.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        Vars {
            map: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            origin: "test".to_owned(),
        }
    }

    #[test]
    fn env_file_lines_are_parsed_with_and_without_quotes() {
        let map = parse_env_file(
            "# written by scripts/testbed\n\
             export TESTBED_FTP_ADDR='127.0.0.1:10021'\n\
             export TESTBED_FTP_USER=\"ftpuser\"\n\
             TESTBED_FTP_PASSWORD=s3cret=x\n\n",
        );
        assert_eq!(map["TESTBED_FTP_ADDR"], "127.0.0.1:10021");
        assert_eq!(map["TESTBED_FTP_USER"], "ftpuser");
        assert_eq!(map["TESTBED_FTP_PASSWORD"], "s3cret=x");
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn ftp_daemon_needs_address_user_password_and_ca() {
        let full = [
            ("TESTBED_FTP_ADDR", "127.0.0.1:10021"),
            ("TESTBED_FTP_USER", "u"),
            ("TESTBED_FTP_PASSWORD", "pw-never-printed"),
            ("TESTBED_FTP_CA", "/x/ca.pem"),
        ];
        let d = DaemonFtp::from_vars(&vars(&full)).unwrap();
        assert_eq!(d.ftp_url(), "ftp://u@127.0.0.1:10021/");
        assert_eq!(d.ftps_url(), "ftps://u@127.0.0.1:10021/");
        assert_eq!(d.tls_server_name, "localhost");
        assert!(!format!("{d:?}").contains("pw-never-printed"));

        let err = DaemonFtp::from_vars(&vars(&full[..3])).unwrap_err();
        assert!(err.contains("TESTBED_FTP_CA"), "{err}");
        let err = DaemonFtp::from_vars(&vars(&[("TESTBED_FTP_ADDR", "nope")])).unwrap_err();
        assert!(err.contains("not an address"), "{err}");
    }

    #[test]
    fn sftp_daemon_debug_hides_password() {
        let d = DaemonSftp::from_vars(&vars(&[
            ("TESTBED_SFTP_ADDR", "127.0.0.1:10022"),
            ("TESTBED_SFTP_USER", "u"),
            ("TESTBED_SFTP_PASSWORD", "pw-never-printed"),
            ("TESTBED_SFTP_KEY", "/k"),
            ("TESTBED_SFTP_HOST_FP", "SHA256:abc"),
            ("TESTBED_SFTP_KNOWN_HOSTS", "/kh"),
        ]))
        .unwrap();
        assert_eq!(d.url(), "sftp://u@127.0.0.1:10022/~/");
        assert!(d.root.is_none());
        assert!(!format!("{d:?}").contains("pw-never-printed"));
    }
}
