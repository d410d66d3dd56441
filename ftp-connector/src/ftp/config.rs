//! The settings of one FTP server, resolved and checked from a URL plus [`RemoteOptions`].

use std::fmt;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::config::{DataMode, PoolOptions, RemoteOptions, RemoteUrl, Scheme, Timeouts};
use crate::error::{Error, Result};
use crate::fs::WriteMode;

/// How the control connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Security {
    /// Plain FTP.
    Plain,
    /// `AUTH TLS` after the greeting (explicit FTPS).
    Explicit,
    /// TLS from the first byte (implicit FTPS).
    Implicit,
}

/// Everything a connection needs, checked once in [`FtpConfig::new`].
pub(super) struct FtpConfig {
    pub(super) security: Security,
    pub(super) host: String,
    pub(super) port: u16,
    /// `host:port`, for errors and logs.
    pub(super) endpoint: String,
    pub(super) user: String,
    pub(super) password: SecretString,
    /// The URL's path: relative to the login directory, or absolute when it starts with `//`
    /// (`%2F` in the URL, as in RFC 1738).
    pub(super) url_root: String,
    pub(super) data_mode: DataMode,
    pub(super) use_mlsd: bool,
    pub(super) pool: PoolOptions,
    pub(super) timeouts: Timeouts,
    /// `InPlace` here forces every write in place (servers that refuse rename).
    pub(super) write_mode: WriteMode,
    #[cfg(feature = "ftps")]
    pub(super) tls: Option<super::tls::TlsSetup>,
}

impl fmt::Debug for FtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password is left out on purpose.
        f.debug_struct("FtpConfig")
            .field("security", &self.security)
            .field("endpoint", &self.endpoint)
            .field("user", &self.user)
            .field("url_root", &self.url_root)
            .field("data_mode", &self.data_mode)
            .field("use_mlsd", &self.use_mlsd)
            .field("pool", &self.pool)
            .field("timeouts", &self.timeouts)
            .field("write_mode", &self.write_mode)
            .finish_non_exhaustive()
    }
}

/// The user name sent when the URL has none.
const ANONYMOUS: &str = "anonymous";

impl FtpConfig {
    /// Checks the URL and options; every problem is an [`Error::InvalidConfig`] naming its key.
    pub(super) fn new(url: &RemoteUrl, options: &RemoteOptions) -> Result<Self> {
        options.validate()?;
        crate::config::check_root(&url.root)?;
        let security = match url.scheme {
            Scheme::Ftp => Security::Plain,
            Scheme::Ftps => Security::Explicit,
            Scheme::FtpsImplicit => Security::Implicit,
            other => {
                return Err(Error::config(
                    "url",
                    format!("`{other}` is not an FTP scheme"),
                ));
            }
        };
        if security != Security::Plain && cfg!(not(feature = "ftps")) {
            return Err(Error::config(
                "url",
                "FTPS needs the `ftps` cargo feature of ftp-connector",
            ));
        }
        let port = url
            .port
            .or(url.scheme.default_port())
            .ok_or_else(|| Error::config("url.port", "missing port"))?;
        let user = url.user.clone().unwrap_or_else(|| ANONYMOUS.to_owned());
        if user.is_empty() || user.chars().any(char::is_control) {
            return Err(Error::config(
                "url.user",
                "must be non-empty, without control characters",
            ));
        }
        let password = match &options.password {
            Some(p) => p.clone(),
            None if user == ANONYMOUS => SecretString::from("anonymous@"),
            None => SecretString::from(String::new()),
        };
        if password.expose_secret().contains(['\r', '\n', '\0']) {
            // Never echo the value: say only what is wrong with it.
            return Err(Error::config("password", "contains CR, LF or NUL"));
        }
        #[cfg(feature = "ftps")]
        let tls = match security {
            Security::Plain => None,
            _ => Some(super::tls::TlsSetup::new(&options.tls, &url.host)?),
        };
        Ok(FtpConfig {
            security,
            host: url.host.clone(),
            port,
            endpoint: url.endpoint(),
            user,
            password,
            url_root: url.root.clone(),
            data_mode: options.ftp.data_mode,
            use_mlsd: options.ftp.use_mlsd,
            pool: options.pool.clone(),
            timeouts: options.timeouts.clone(),
            write_mode: options.write_mode,
            #[cfg(feature = "ftps")]
            tls,
        })
    }

    /// How long a command may wait for its reply.
    pub(super) fn reply_timeout(&self) -> Duration {
        self.timeouts.reply
    }
}

/// The server-side root: the URL path resolved against the login directory `home`
/// (as `PWD` reported it). A URL path starting with `//` is absolute. The result starts
/// with `/` and has no trailing `/`, `.` or empty segments (the root alone is `/`).
pub(super) fn resolve_root(home: &str, url_root: &str) -> String {
    let (base, rel) = match url_root.strip_prefix("//") {
        Some(abs) => ("", abs),
        None => (home, url_root),
    };
    let segments: Vec<&str> = base
        .split('/')
        .chain(rel.split('/'))
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    format!("/{}", segments.join("/"))
}

/// The server path of `rel` under `root` (as built by [`resolve_root`]).
pub(super) fn server_path(root: &str, rel: &crate::RemotePath) -> String {
    match (root, rel.is_root()) {
        (_, true) => root.to_owned(),
        ("/", false) => format!("/{}", rel.as_str()),
        (_, false) => format!("{root}/{}", rel.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RemotePath;

    fn config(url: &str, options: RemoteOptions) -> Result<FtpConfig> {
        let (url, pw) = RemoteUrl::parse(url)?;
        let mut options = options;
        if options.password.is_none() {
            options.password = pw;
        }
        FtpConfig::new(&url, &options)
    }

    #[test]
    fn root_is_relative_to_the_login_directory_unless_written_with_percent_2f() {
        assert_eq!(resolve_root("/", "/"), "/");
        assert_eq!(resolve_root("/home/bob", "/"), "/home/bob");
        assert_eq!(
            resolve_root("/home/bob", "/in/./2026/"),
            "/home/bob/in/2026"
        );
        assert_eq!(resolve_root("/home/bob", "//srv/ftp"), "/srv/ftp");
        assert_eq!(resolve_root("/", "//"), "/");
    }

    #[test]
    fn server_paths_join_the_root_only_once() {
        let p = RemotePath::parse("a b/c.jpg").unwrap();
        assert_eq!(server_path("/", &p), "/a b/c.jpg");
        assert_eq!(server_path("/in", &p), "/in/a b/c.jpg");
        assert_eq!(server_path("/in", &RemotePath::ROOT), "/in");
        assert_eq!(server_path("/", &RemotePath::ROOT), "/");
    }

    #[test]
    fn password_never_shows_and_bad_passwords_are_refused_without_echo() {
        let c = config("ftp://bob:hunter2@h/in", RemoteOptions::new()).unwrap();
        assert_eq!(c.port, 21);
        assert!(!format!("{c:?}").contains("hunter2"));
        let e = config("ftp://bob@h/", RemoteOptions::new().password("x\r\nDELE y")).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidConfig { key, .. } if key == "password"),
            "{e}"
        );
        assert!(!e.to_string().contains("DELE"), "{e}");
    }

    #[test]
    fn anonymous_is_the_default_user_and_schemes_pick_the_security() {
        let c = config("ftp://h/", RemoteOptions::new()).unwrap();
        assert_eq!(c.user, "anonymous");
        assert_eq!(c.security, Security::Plain);
        let c = config("ftps+implicit://u@h/", RemoteOptions::new()).unwrap();
        assert_eq!((c.security, c.port), (Security::Implicit, 990));
        assert!(config("sftp://u@h/", RemoteOptions::new()).is_err());
    }
}
