//! [`SftpFs`]: connecting, and the [`RemoteFs`] methods that are one or two requests each.

use std::io;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, StatusCode};

use super::config::{RootSpec, SftpSettings};
use super::core::{Connector, Features};
use super::lister;
use super::pool::{Lease, Pool, STREAMS_PER_SESSION};
use super::reader;
use super::writer::{is_dir, times};
use crate::capabilities::Capabilities;
use crate::config::{RemoteOptions, RemoteUrl};
use crate::entry::{Entry, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, EntryStream, ReadOptions, RemoteFs, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

/// A file server over SFTP (SSH File Transfer Protocol, version 3), with russh and
/// russh-sftp.
///
/// - **Trust**: the server's host key is checked against a `known_hosts` file
///   (`ssh.known_hosts`, else `~/.ssh/known_hosts`) or a pinned SHA-256 fingerprint
///   (`ssh.host_key_fingerprint`). An unknown key is refused unless
///   `ssh.insecure_accept_unknown_host_key` is set; a key that contradicts the pin or a
///   `known_hosts` line is always refused.
/// - **Login**: an OpenSSH private key (`private_key`, with `private_key_passphrase` when
///   encrypted; decrypted once at connect) and/or a password; the key is tried first.
/// - **Speed**: reads and writes keep `ssh.max_in_flight` requests of `ssh.chunk_size`
///   bytes in flight; up to `pool.max_connections` SSH connections each carry several
///   transfers at once.
/// - **Writes** go to a temporary name in the same folder and are renamed over the target
///   (`posix-rename@openssh.com` where offered: atomic), unless [`WriteMode::InPlace`](crate::WriteMode::InPlace)
///   is chosen. Uploads end with CLOSE, and with `fsync@openssh.com` only when `ssh.fsync`
///   is set. Modification times are set with SETSTAT, to the second.
/// - **Root**: the URL path is absolute (`sftp://host/srv/photos`); `sftp://host/~/photos`
///   is relative to the login directory.
///
/// ```no_run
/// # async fn demo() -> ftp_connector::Result<()> {
/// use ftp_connector::{RemoteOptions, RemoteUrl, SftpFs};
/// let (url, _) = RemoteUrl::parse("sftp://ftpci@127.0.0.1:2222/~/incoming")?;
/// let options = RemoteOptions::new()
///     .private_key("/etc/ci/client_ed25519")
///     .known_hosts("/etc/ci/known_hosts");
/// let fs = SftpFs::connect(url, options).await?;
/// # let _ = fs; Ok(()) }
/// ```
#[derive(Clone)]
pub struct SftpFs {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// The absolute root on the server, without a trailing `/` (except `/` itself).
    root: String,
    capabilities: Capabilities,
}

impl std::fmt::Debug for SftpFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SftpFs")
            .field("root", &self.inner.root)
            .field("pool", &self.inner.pool)
            .finish_non_exhaustive()
    }
}

impl SftpFs {
    /// Connects, checks the host key, logs in and checks that the root is a directory.
    /// The first connection is kept in the pool.
    #[tracing::instrument(skip_all, fields(url = %url))]
    pub async fn connect(url: RemoteUrl, options: RemoteOptions) -> Result<Self> {
        Self::from_settings(SftpSettings::new(&url, &options)?).await
    }

    async fn from_settings(settings: SftpSettings) -> Result<Self> {
        let connector = Connector::new(settings).await?;
        let pool = Pool::start(connector).await?;
        let lease = pool.get().await?;
        let root = resolve_root(&lease, &pool.connector().settings.root).await?;
        let features = lease.features;
        drop(lease);
        let capabilities = capabilities(&features, &pool.connector().settings);
        Ok(SftpFs {
            inner: Arc::new(Inner {
                pool,
                root,
                capabilities,
            }),
        })
    }

    pub(super) fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    pub(super) fn settings(&self) -> &SftpSettings {
        &self.inner.pool.connector().settings
    }

    /// The absolute server path of `path`.
    pub(super) fn server_path(&self, path: &RemotePath) -> String {
        server_path(&self.inner.root, path)
    }

    /// Closes the pooled connections that are not in use right now (they reopen on demand).
    pub fn close_idle(&self) {
        self.inner.pool.close_idle();
    }

    async fn lstat(
        &self,
        lease: &Lease,
        path: &RemotePath,
        op: Operation,
    ) -> Result<FileAttributes> {
        let p = self.server_path(path);
        let reply = if path.is_root() {
            lease.sftp.stat(p).await
        } else {
            lease.sftp.lstat(p).await
        };
        reply
            .map(|a| a.attrs)
            .map_err(|e| lease.error(op, path.as_str(), e))
    }
}

fn server_path(root: &str, path: &RemotePath) -> String {
    match (root, path.is_root()) {
        (_, true) => root.to_owned(),
        ("/", false) => format!("/{}", path.as_str()),
        (_, false) => format!("{root}/{}", path.as_str()),
    }
}

fn capabilities(features: &Features, settings: &SftpSettings) -> Capabilities {
    Capabilities {
        stat_has_mtime: true,
        mtime_precision: Some(TimePrecision::Second),
        list_has_permissions: true,
        list_has_mlsd: false,
        write_can_set_mtime: true,
        read_can_resume: true,
        write_can_resume: true,
        rename_is_atomic: features.posix_rename,
        rename_can_overwrite: true,
        max_concurrency: Some(settings.max_connections * STREAMS_PER_SESSION),
        ..Default::default()
    }
}

/// Turns the URL's root into an absolute path and checks it is a directory.
async fn resolve_root(lease: &Lease, root: &RootSpec) -> Result<String> {
    let op = Operation::Connect;
    let path = match root {
        RootSpec::Absolute(p) => p.clone(),
        RootSpec::Home(rest) => {
            let name = lease
                .sftp
                .realpath(".")
                .await
                .map_err(|e| lease.error(op, "~", e))?;
            let home = name
                .files
                .first()
                .map(|f| f.filename.clone())
                .unwrap_or_default();
            let home = home.trim_end_matches('/');
            if rest.is_empty() {
                if home.is_empty() {
                    "/".into()
                } else {
                    home.to_owned()
                }
            } else {
                format!("{home}/{rest}")
            }
        }
    };
    let attrs = lease
        .sftp
        .stat(path.as_str())
        .await
        .map_err(|e| lease.error(op, &path, e))?;
    if !is_dir(&attrs.attrs) && attrs.attrs.permissions.is_some() {
        return Err(Error::io(
            op,
            path,
            io::Error::new(io::ErrorKind::NotADirectory, "the root is not a directory"),
        ));
    }
    Ok(path)
}

fn io_error(op: Operation, path: &RemotePath, kind: io::ErrorKind, message: &'static str) -> Error {
    Error::io(op, path.as_str(), io::Error::new(kind, message))
}

fn is_status(e: &SftpError, code: StatusCode) -> bool {
    matches!(e, SftpError::Status(s) if s.status_code == code)
}

#[async_trait]
impl RemoteFs for SftpFs {
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities
    }

    fn backend(&self) -> &'static str {
        "sftp"
    }

    /// Symbolic links are reported as such, not followed (`LSTAT`); the root is followed.
    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        let lease = self.pool().get().await?;
        let attrs = self.lstat(&lease, path, Operation::Stat).await?;
        lister::entry(path.clone(), &attrs).ok_or_else(|| {
            io_error(
                Operation::Stat,
                path,
                io::ErrorKind::Unsupported,
                "a socket, FIFO or device",
            )
        })
    }

    fn list(&self, dir: &RemotePath) -> EntryStream {
        lister::list(self.pool().clone(), self.server_path(dir), dir.clone())
    }

    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        self.read_with(path, &ReadOptions::new().offset(offset))
            .await
    }

    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn read_with(&self, path: &RemotePath, options: &ReadOptions) -> Result<ByteStream> {
        if path.is_root() {
            return Err(io_error(
                Operation::Read,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        let lease = self.pool().get().await?;
        let max_in_flight = self.settings().max_in_flight;
        reader::open(
            lease,
            self.server_path(path),
            path.as_str(),
            (options.offset, options.size),
            max_in_flight,
        )
        .await
    }

    #[tracing::instrument(skip(self, data), fields(path = %path))]
    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        self.write_file(path, data, options).await
    }

    #[tracing::instrument(skip(self), fields(from = %from, to = %to))]
    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        let op = Operation::Rename;
        if from.is_root() || to.is_root() {
            let p = if from.is_root() { from } else { to };
            return Err(io_error(
                op,
                p,
                io::ErrorKind::InvalidInput,
                "cannot rename the root",
            ));
        }
        if to.starts_with(from) && to != from {
            return Err(io_error(
                op,
                to,
                io::ErrorKind::InvalidInput,
                "cannot move a directory into itself",
            ));
        }
        let lease = self.pool().get().await?;
        let source = self.lstat(&lease, from, op).await?;
        if from == to {
            return Ok(());
        }
        let (a, b) = (self.server_path(from), self.server_path(to));
        // A directory never replaces anything; a file may replace a file.
        let overwrite = !is_dir(&source);
        self.replace(&lease, (&a, &b), op, to.as_str(), overwrite)
            .await
            .map_err(|e| match e {
                // The source was there a moment ago: a missing path now is the target's parent.
                Error::NotFound { op, .. } => Error::NotFound {
                    op,
                    path: to.as_str().to_owned(),
                },
                e => e,
            })
    }

    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::CreateDir;
        let lease = self.pool().get().await?;
        // Walk up to the deepest directory that exists, then create downwards.
        let mut missing = Vec::new();
        let mut cursor = Some(path.clone());
        while let Some(p) = cursor.filter(|p| !p.is_root()) {
            match lease.sftp.stat(self.server_path(&p)).await {
                Ok(a) if is_dir(&a.attrs) => break,
                Ok(_) => {
                    return Err(io_error(
                        op,
                        path,
                        io::ErrorKind::NotADirectory,
                        "a file is in the way",
                    ));
                }
                Err(e) if is_status(&e, StatusCode::NoSuchFile) => {
                    cursor = p.parent();
                    missing.push(p);
                }
                Err(e) => return Err(lease.error(op, p.as_str(), e)),
            }
        }
        for p in missing.iter().rev() {
            if let Err(e) = lease
                .sftp
                .mkdir(self.server_path(p), FileAttributes::empty())
                .await
            {
                // Someone else may have made it meanwhile: that is success.
                match lease.sftp.stat(self.server_path(p)).await {
                    Ok(a) if is_dir(&a.attrs) => continue,
                    Ok(_) => {
                        return Err(io_error(
                            op,
                            path,
                            io::ErrorKind::NotADirectory,
                            "a file is in the way",
                        ));
                    }
                    Err(_) => return Err(lease.error(op, p.as_str(), e)),
                }
            }
        }
        Ok(())
    }

    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::RemoveFile;
        if path.is_root() {
            return Err(io_error(
                op,
                path,
                io::ErrorKind::IsADirectory,
                "is a directory",
            ));
        }
        let lease = self.pool().get().await?;
        match lease.sftp.remove(self.server_path(path)).await {
            Ok(_) => Ok(()),
            Err(e)
                if is_status(&e, StatusCode::Failure)
                    || is_status(&e, StatusCode::PermissionDenied) =>
            {
                // Unlinking a directory fails vaguely (EISDIR, EPERM): say what it was.
                match self.lstat(&lease, path, op).await {
                    Ok(a) if is_dir(&a) => Err(io_error(
                        op,
                        path,
                        io::ErrorKind::IsADirectory,
                        "is a directory",
                    )),
                    _ => Err(lease.error(op, path.as_str(), e)),
                }
            }
            Err(e) => Err(lease.error(op, path.as_str(), e)),
        }
    }

    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        let op = Operation::RemoveDir;
        if path.is_root() {
            return Err(io_error(
                op,
                path,
                io::ErrorKind::InvalidInput,
                "cannot remove the root",
            ));
        }
        let lease = self.pool().get().await?;
        match lease.sftp.rmdir(self.server_path(path)).await {
            Ok(_) => Ok(()),
            Err(e)
                if is_status(&e, StatusCode::Failure) || is_status(&e, StatusCode::NoSuchFile) =>
            {
                // ENOTEMPTY and ENOTDIR both arrive as a bare failure; look to tell which.
                match self.lstat(&lease, path, op).await {
                    Ok(a) if is_dir(&a) => Err(io_error(
                        op,
                        path,
                        io::ErrorKind::DirectoryNotEmpty,
                        "directory not empty",
                    )),
                    Ok(_) => Err(io_error(
                        op,
                        path,
                        io::ErrorKind::NotADirectory,
                        "not a directory",
                    )),
                    Err(_) => Err(lease.error(op, path.as_str(), e)),
                }
            }
            Err(e) => Err(lease.error(op, path.as_str(), e)),
        }
    }

    #[tracing::instrument(skip(self), fields(path = %path))]
    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        let op = Operation::SetModified;
        let attrs = times(modified, path.as_str()).map_err(|e| match e {
            Error::Io { path, source, .. } => Error::Io { op, path, source },
            e => e,
        })?;
        let lease = self.pool().get().await?;
        lease
            .sftp
            .setstat(self.server_path(path), attrs)
            .await
            .map(|_| ())
            .map_err(|e| lease.error(op, path.as_str(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ext::RemoteFsExt;
    use crate::stream;

    #[test]
    fn server_paths_join_the_root() {
        let p = RemotePath::parse("in/a b.jpg").unwrap();
        assert_eq!(server_path("/", &p), "/in/a b.jpg");
        assert_eq!(server_path("/srv/x", &p), "/srv/x/in/a b.jpg");
        assert_eq!(server_path("/srv/x", &RemotePath::ROOT), "/srv/x");
        assert_eq!(server_path("/", &RemotePath::ROOT), "/");
    }

    /// A server without `posix-rename@openssh.com`: replacing goes through remove + rename,
    /// and the backend says rename is not atomic.
    #[tokio::test]
    async fn without_posix_rename_files_are_replaced_by_remove_then_rename() {
        let server = testbed::SftpServer::start().await.unwrap();
        let (url, _) = RemoteUrl::parse(&server.url()).unwrap();
        let options = RemoteOptions::new()
            .password(server.password())
            .host_key_fingerprint(server.host_key_fingerprint());
        let mut settings = SftpSettings::new(&url, &options).unwrap();
        settings.ignore_posix_rename = true;
        let fs = SftpFs::from_settings(settings).await.unwrap();
        assert!(!fs.capabilities().rename_is_atomic);
        assert!(fs.capabilities().rename_can_overwrite);

        let a = RemotePath::parse("a.txt").unwrap();
        let b = RemotePath::parse("b.txt").unwrap();
        for content in [&b"first"[..], b"second"] {
            fs.write(&a, stream::once(content), &WriteOptions::new())
                .await
                .unwrap();
            assert_eq!(&fs.read_to_bytes(&a).await.unwrap()[..], content);
        }
        fs.write(&b, stream::once(&b"bbb"[..]), &WriteOptions::new())
            .await
            .unwrap();
        fs.rename(&a, &b).await.unwrap();
        assert_eq!(&fs.read_to_bytes(&b).await.unwrap()[..], b"second");
        assert!(!fs.exists(&a).await.unwrap());
        // Not overwriting still refuses an existing target.
        let no = WriteOptions::new().overwrite(false);
        let e = fs
            .write(&b, stream::once(&b"x"[..]), &no)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Conflict);
        let names: Vec<_> = std::fs::read_dir(server.root())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.txt"]);
    }
}
