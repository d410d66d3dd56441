//! The settings of one SFTP backend, resolved once from a [`RemoteUrl`] and [`RemoteOptions`].

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::config::{RemoteOptions, RemoteUrl, Scheme, check_root};
use crate::error::{Error, Result};
use crate::fs::WriteMode;

/// Where the backend's root is on the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootSpec {
    /// An absolute path (`sftp://host/srv/photos` → `/srv/photos`).
    Absolute(String),
    /// Relative to the login directory: `sftp://host/~` or `sftp://host/~/photos`, as
    /// curl writes it. Resolved with `realpath(".")` when the first session opens.
    Home(String),
}

/// How the server's host key is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostKeyPolicy {
    /// The expected fingerprint, without the `SHA256:` prefix and `=` padding.
    pub(crate) pinned_sha256: Option<String>,
    /// A `known_hosts` file given explicitly.
    pub(crate) known_hosts: Option<PathBuf>,
    /// Look in `~/.ssh/known_hosts` when nothing else was given.
    pub(crate) default_known_hosts: bool,
    /// Accept a key found nowhere (never one that contradicts a pin or a known_hosts line).
    pub(crate) accept_unknown: bool,
}

/// Everything an [`SftpFs`](super::SftpFs) needs, checked.
#[derive(Clone)]
pub(crate) struct SftpSettings {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: String,
    pub(crate) root: RootSpec,
    pub(crate) password: Option<SecretString>,
    pub(crate) private_key: Option<PathBuf>,
    pub(crate) private_key_passphrase: Option<SecretString>,
    pub(crate) host_key: HostKeyPolicy,
    /// Requests in flight per transfer.
    pub(crate) max_in_flight: usize,
    /// Bytes per read or write request (lowered further by the server's `limits@openssh.com`).
    pub(crate) chunk_size: u32,
    pub(crate) fsync: bool,
    pub(crate) max_connections: usize,
    pub(crate) idle_timeout: Duration,
    /// Keepalive interval, and the idle time after which a pooled session is checked
    /// before reuse.
    pub(crate) health_check_after: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) reply_timeout: Duration,
    pub(crate) write_mode: WriteMode,
    /// Behave as if the server did not offer `posix-rename@openssh.com` (unit tests of the
    /// plain SFTPv3 rename path).
    #[cfg(test)]
    pub(crate) ignore_posix_rename: bool,
}

impl fmt::Debug for SftpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SftpSettings")
            .field("endpoint", &self.endpoint())
            .field("user", &self.user)
            .field("root", &self.root)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("private_key", &self.private_key)
            .field("host_key", &self.host_key)
            .field("max_in_flight", &self.max_in_flight)
            .field("chunk_size", &self.chunk_size)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl SftpSettings {
    /// Checks `url` and `options`; every bad input is an [`Error::InvalidConfig`] naming its key.
    pub(crate) fn new(url: &RemoteUrl, options: &RemoteOptions) -> Result<Self> {
        if url.scheme != Scheme::Sftp {
            return Err(Error::config(
                "url",
                format!("expected an sftp:// URL, got {}://", url.scheme),
            ));
        }
        options.validate()?;
        check_root(&url.root)?;
        let host = url.host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(Error::config("url.host", "missing host"));
        }
        let user = match &url.user {
            Some(u) if !u.is_empty() => u.clone(),
            // Like `ssh`, fall back to the local user name.
            _ => std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .map_err(|_| Error::config("url.user", "no user name in the URL"))?,
        };
        if options.password.is_none() && options.private_key.is_none() {
            return Err(Error::config(
                "password",
                "SFTP needs a password or a private_key",
            ));
        }
        let ssh = &options.ssh;
        let pinned_sha256 = ssh
            .host_key_fingerprint
            .as_deref()
            .map(normalize_fingerprint)
            .transpose()?;
        let host_key = HostKeyPolicy {
            default_known_hosts: pinned_sha256.is_none() && ssh.known_hosts.is_none(),
            pinned_sha256,
            known_hosts: ssh.known_hosts.clone(),
            accept_unknown: ssh.insecure_accept_unknown_host_key,
        };
        Ok(SftpSettings {
            host: host.to_owned(),
            port: url.port.unwrap_or(22),
            user,
            root: parse_root(&url.root),
            password: options.password.clone(),
            private_key: options.private_key.clone(),
            private_key_passphrase: options.private_key_passphrase.clone(),
            host_key,
            max_in_flight: ssh.max_in_flight,
            chunk_size: ssh.chunk_size,
            fsync: ssh.fsync,
            max_connections: options.pool.max_connections,
            idle_timeout: options.pool.idle_timeout,
            health_check_after: options.pool.health_check_after,
            connect_timeout: options.timeouts.connect,
            reply_timeout: options.timeouts.reply.max(options.timeouts.data_idle),
            write_mode: options.write_mode,
            #[cfg(test)]
            ignore_posix_rename: false,
        })
    }

    /// `host:port` for errors and logs.
    pub(crate) fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `/~` and `/~/x` are relative to the login directory; anything else is absolute.
fn parse_root(root: &str) -> RootSpec {
    let trimmed = root.trim_end_matches('/');
    if trimmed == "/~" {
        RootSpec::Home(String::new())
    } else if let Some(rest) = trimmed.strip_prefix("/~/") {
        RootSpec::Home(rest.to_owned())
    } else if trimmed.is_empty() {
        RootSpec::Absolute("/".to_owned())
    } else {
        RootSpec::Absolute(trimmed.to_owned())
    }
}

/// Accepts `SHA256:<base64>` as `ssh-keygen -lf` prints it (padding optional), or the bare
/// base64; returns the bare base64 without padding.
fn normalize_fingerprint(fp: &str) -> Result<String> {
    let bare = fp.trim();
    let bare = bare.strip_prefix("SHA256:").unwrap_or(bare);
    let bare = bare.trim_end_matches('=');
    let valid = bare.len() == 43
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !valid {
        return Err(Error::config(
            "ssh.host_key_fingerprint",
            "expected a SHA-256 fingerprint as `ssh-keygen -lf` prints it (SHA256:<43 base64 characters>)",
        ));
    }
    Ok(bare.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, options: RemoteOptions) -> Result<SftpSettings> {
        let (url, pw) = RemoteUrl::parse(url)?;
        let mut options = options;
        if options.password.is_none() {
            options.password = pw;
        }
        SftpSettings::new(&url, &options)
    }

    #[test]
    fn roots_are_absolute_unless_they_start_with_a_tilde() {
        assert_eq!(parse_root("/"), RootSpec::Absolute("/".into()));
        assert_eq!(parse_root("/srv/in/"), RootSpec::Absolute("/srv/in".into()));
        assert_eq!(parse_root("/~"), RootSpec::Home(String::new()));
        assert_eq!(parse_root("/~/up/"), RootSpec::Home("up".into()));
        assert_eq!(parse_root("/~x"), RootSpec::Absolute("/~x".into()));
    }

    #[test]
    fn fingerprints_are_accepted_as_ssh_keygen_prints_them() {
        let fp = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
        assert_eq!(
            normalize_fingerprint(fp).unwrap(),
            "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
        );
        assert_eq!(
            normalize_fingerprint(&format!("{fp}=")).unwrap(),
            normalize_fingerprint(fp).unwrap()
        );
        for bad in ["MD5:aa:bb", "SHA256:short", "", "SHA256:!!!"] {
            assert!(
                matches!(normalize_fingerprint(bad), Err(Error::InvalidConfig { key, .. }) if key == "ssh.host_key_fingerprint"),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_settings_name_their_key() {
        let with_pw = RemoteOptions::new().password("pw");
        let cases = [
            ("ftp://u@h/", with_pw.clone(), "url"),
            ("sftp://u@h/", RemoteOptions::new(), "password"),
            (
                "sftp://u@h/",
                with_pw.clone().host_key_fingerprint("nope"),
                "ssh.host_key_fingerprint",
            ),
            (
                "sftp://u@h/",
                with_pw.clone().max_connections(0),
                "pool.max_connections",
            ),
        ];
        for (url, options, key) in cases {
            match settings(url, options) {
                Err(Error::InvalidConfig { key: k, .. }) => assert_eq!(k, key, "{url}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_password_never_prints() {
        let s = settings("sftp://bob:hunter2@h:2222/in", RemoteOptions::new()).unwrap();
        assert_eq!((s.port, s.user.as_str()), (2222, "bob"));
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(s.endpoint(), "h:2222");
        assert!(s.host_key.default_known_hosts);
    }
}
