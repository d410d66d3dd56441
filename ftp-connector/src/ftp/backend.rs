//! [`FtpFs`]: connecting, and the [`RemoteFs`] methods that need no data connection.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::config::{FtpConfig, Security, resolve_root};
use super::connect::Opening;
use super::core::{Conn, Fail};
use super::parse::{self, Line};
use super::pool::Server;
use super::{lister, reader, writer};
use crate::capabilities::Capabilities;
use crate::config::{RemoteOptions, RemoteUrl};
use crate::entry::{Entry, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::{ByteStream, EntryStream, ReadOptions, RemoteFs, WriteOptions, WriteOutcome};
use crate::path::RemotePath;

/// Runs `$body` (an expression using `$conn: &mut Conn`) on a pooled connection. When it
/// fails with a retryable error (`421`, `425`, `426`, a reset, a timeout), it runs once more
/// on a freshly opened connection. Only idempotent operations use this. The connection
/// goes back to the pool if it is still in step.
macro_rules! retry_once {
    ($server:expr, |$conn:ident| $body:expr) => {{
        let server: &Server = &$server;
        let mut pooled = server.get().await?;
        let mut result = {
            let $conn = &mut pooled.conn;
            $body
        };
        if let Err(e) = &result
            && e.is_retryable()
        {
            tracing::debug!(error = %e, "retrying once on a fresh connection");
            if server.reconnect(&mut pooled).await.is_ok() {
                let $conn = &mut pooled.conn;
                result = $body;
            }
        }
        server.release(pooled);
        result
    }};
}

/// A [`RemoteFs`] over FTP, explicit FTPS (`AUTH TLS`) or implicit FTPS, on a pool of
/// control connections.
///
/// - Binary mode always; passive data connections (`EPSV`, then `PASV` when refused) to
///   the control connection's address, or active mode (`options.ftp.data_mode`).
/// - `MLSD`/`MLST` where `FEAT` offers them (unless `options.ftp.use_mlsd` is off), else
///   `LIST` (Unix and DOS formats) and `SIZE`/`MDTM`. `MFMT` sets times; `REST` resumes.
/// - FTPS verifies the server certificate against the platform roots and/or
///   `options.tls.ca_certificates`, plus an optional SHA-256 pin; data connections resume
///   the control connection's TLS session.
/// - Writes are atomic by default: a temporary `.<name>.<random>.part` in the same folder,
///   renamed over the target.
/// - Retries: `stat`, `create_dir_all`, `set_modified` and the opening of `read`, `list`
///   and `write` (before any byte moves) are retried once on a fresh connection when they
///   fail with a retryable error. Nothing else is retried here: errors say whether a
///   caller may retry ([`Error::is_retryable`]).
/// - The URL path is relative to the login directory; start it with `%2F`
///   (`ftp://host/%2Fsrv/in`) for an absolute one.
///
/// Cloning is cheap and shares the pool. The password never appears in `Debug` output,
/// logs or errors.
///
/// ```no_run
/// # async fn run() -> Result<(), ftp_connector::Error> {
/// use ftp_connector::{FtpFs, RemoteFs, RemoteOptions, RemoteUrl, RemotePath};
/// let (url, _) = RemoteUrl::parse("ftps://photo@ftp.example.com/incoming")?;
/// let fs = FtpFs::connect(url, RemoteOptions::new().password("s3cret")).await?;
/// let entry = fs.stat(&RemotePath::parse("2026/a.jpg")?).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FtpFs {
    server: Arc<Server>,
}

impl fmt::Debug for FtpFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.server;
        f.debug_struct("FtpFs")
            .field("endpoint", &s.cfg.endpoint)
            .field("user", &s.cfg.user)
            .field("security", &s.cfg.security)
            .field("root", &s.root)
            .field("features", &s.features)
            .field("pool", &s.cfg.pool)
            .finish_non_exhaustive()
    }
}

impl FtpFs {
    /// Connects and logs in once, so that a wrong password or an untrusted certificate
    /// fails here; reads `FEAT` and the login directory. That connection becomes the
    /// first of the pool.
    #[tracing::instrument(level = "debug", skip_all, fields(url = %url))]
    pub async fn connect(url: RemoteUrl, options: RemoteOptions) -> Result<Self> {
        let cfg = FtpConfig::new(&url, &options)?;
        let first = Opening {
            epsv: true,
            utf8: false,
            tls12: false,
        };
        let mut conn = Conn::open(&cfg, first).await?;
        let at = |f: Fail| f.at(Operation::Connect, "");
        let mut features = conn.features().await.map_err(at)?;
        if !cfg.use_mlsd {
            features.mlst = false;
        }
        if !features.epsv {
            conn.use_pasv();
        }
        if features.utf8 {
            // Later connections send it as they log in; this one was opened before FEAT.
            conn.utf8_on().await;
        }
        let home = conn.pwd().await.map_err(at)?;
        let root = resolve_root(&home, &cfg.url_root);
        #[cfg(feature = "ftps")]
        let tls12 = tls12_instead(&cfg, &mut conn, &features).await;
        #[cfg(not(feature = "ftps"))]
        let tls12 = false;
        tracing::debug!(root = %root, ?features, tls12, "FTP server ready");
        Ok(FtpFs {
            server: Arc::new(Server::new(cfg, root, features, conn, tls12)),
        })
    }

    /// The server-side path of the backend root, as resolved at connect time.
    pub fn server_root(&self) -> &str {
        &self.server.root
    }

    /// Connections idle in the pool right now.
    pub fn idle_connections(&self) -> usize {
        self.server.idle_count()
    }
}

/// FTPS: whether to speak TLS 1.2, decided on the first connection. A server that
/// negotiated TLS 1.3 and issued no session ticket by the end of the login leaves data
/// connections nothing to resume; if the options allow and the server accepts TLS 1.2,
/// `conn` is replaced by a TLS 1.2 connection (whose session its data connections
/// resume) and every later connection uses TLS 1.2 too.
#[cfg(feature = "ftps")]
async fn tls12_instead(
    cfg: &FtpConfig,
    conn: &mut Conn,
    features: &super::parse::Features,
) -> bool {
    let can = cfg.tls.as_ref().is_some_and(|t| t.can_fall_back());
    let ticketless = conn.tls_seen.as_ref().is_some_and(|s| !s.resumable());
    if !(can && ticketless) {
        return false;
    }
    let how = Opening {
        epsv: features.epsv,
        utf8: features.utf8,
        tls12: true,
    };
    match Conn::open(cfg, how).await {
        Ok(c) => {
            tracing::debug!(
                endpoint = %cfg.endpoint,
                "TLS 1.3 without session tickets: using TLS 1.2, whose sessions data connections resume"
            );
            *conn = c;
            true
        }
        Err(e) => {
            tracing::debug!(endpoint = %cfg.endpoint, error = %e, "TLS 1.2 refused; staying on TLS 1.3");
            false
        }
    }
}

/// `stat` on one connection: `MLST`, else `CWD` for directories, `SIZE` + `MDTM` for files.
async fn stat_on(server: &Server, conn: &mut Conn, path: &RemotePath) -> Result<Entry> {
    let at = |f: Fail| f.at(Operation::Stat, path.as_str());
    let sp = server.path(path);
    if server.features.mlst {
        let line = conn.mlst(&sp).await.map_err(at)?;
        return match parse::parse_mlsx(&line) {
            Ok(Line::Entry(l)) => Ok(Entry {
                path: path.clone(),
                kind: l.kind,
                size: l.size,
                modified: l.modified,
                permissions: l.permissions,
            }),
            // `type=cdir`: the path named a directory.
            Ok(Line::Skip) => Ok(Entry::dir(path.clone())),
            Err(reason) => Err(Error::Protocol {
                op: Operation::Stat,
                path: path.as_str().to_owned(),
                code: None,
                message: format!("unreadable MLST reply ({reason})"),
                kind: crate::ErrorKind::Unexpected,
            }),
        };
    }
    // Directories first: some servers (libunftp) answer SIZE for a directory too.
    match conn.cwd(&sp).await {
        Ok(()) => return Ok(Entry::dir(path.clone())),
        Err(f) if f.code().is_none() => return Err(at(f)),
        Err(_) => {}
    }
    let size = conn.size(&sp).await.map_err(at)?;
    let mut entry = Entry::file(path.clone(), size);
    if server.features.mdtm
        && let Ok(m) = conn.mdtm(&sp).await
    {
        entry.modified = Some(m);
    }
    Ok(entry)
}

/// `create_dir_all` on one connection: find the deepest existing ancestor with `CWD`,
/// then `MKD` downwards. A `MKD` that fails because another client created the
/// directory first is fine.
async fn mkdirs_on(server: &Server, conn: &mut Conn, path: &RemotePath) -> Result<()> {
    let full = server.path(path);
    let prefixes: Vec<&str> = full
        .match_indices('/')
        .map(|(i, _)| &full[..i])
        .filter(|p| !p.is_empty())
        .chain(std::iter::once(full.as_str()))
        .filter(|p| *p != "/")
        .collect();
    let mut exists = prefixes.len();
    while exists > 0 {
        match conn.cwd(prefixes[exists - 1]).await {
            Ok(()) => break,
            Err(f) if f.code().is_some() => exists -= 1,
            Err(f) => return Err(f.at(Operation::CreateDir, path.as_str())),
        }
    }
    for dir in &prefixes[exists..] {
        if let Err(f) = conn.mkdir(dir).await {
            if f.code().is_none() {
                return Err(f.at(Operation::CreateDir, path.as_str()));
            }
            if conn.cwd(dir).await.is_err() {
                return Err(match conn.size(dir).await {
                    Ok(_) => Error::AlreadyExists {
                        op: Operation::CreateDir,
                        path: path.as_str().to_owned(),
                    },
                    Err(_) => f.at(Operation::CreateDir, path.as_str()),
                });
            }
        }
    }
    Ok(())
}

#[async_trait]
impl RemoteFs for FtpFs {
    fn capabilities(&self) -> Capabilities {
        let f = &self.server.features;
        Capabilities {
            stat_has_mtime: true,
            // LIST times may be whole days (`Nov 27  2024`); MLSD and MDTM give seconds.
            mtime_precision: Some(if f.mlst {
                TimePrecision::Second
            } else {
                TimePrecision::Day
            }),
            list_has_permissions: !f.mlst || f.unix_mode,
            list_has_mlsd: f.mlst,
            write_can_set_mtime: f.mfmt,
            read_can_resume: f.rest_stream,
            write_can_resume: f.rest_stream || f.size,
            rename_is_atomic: true,
            rename_can_overwrite: true,
            checksums: Default::default(),
            max_concurrency: Some(self.server.cfg.pool.max_connections),
        }
    }

    fn backend(&self) -> &'static str {
        match self.server.cfg.security {
            Security::Plain => "ftp",
            Security::Explicit | Security::Implicit => "ftps",
        }
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn stat(&self, path: &RemotePath) -> Result<Entry> {
        if path.is_root() {
            return Ok(Entry::dir(RemotePath::ROOT));
        }
        retry_once!(self.server, |conn| stat_on(&self.server, conn, path).await)
    }

    fn list(&self, dir: &RemotePath) -> EntryStream {
        lister::list(self.server.clone(), dir.clone())
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn read(&self, path: &RemotePath, offset: u64) -> Result<ByteStream> {
        reader::read(self.server.clone(), path.clone(), offset, None).await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn read_with(&self, path: &RemotePath, options: &ReadOptions) -> Result<ByteStream> {
        reader::read(
            self.server.clone(),
            path.clone(),
            options.offset,
            options.size,
        )
        .await
    }

    #[tracing::instrument(level = "debug", skip(self, data), fields(path = %path))]
    async fn write(
        &self,
        path: &RemotePath,
        data: ByteStream,
        options: &WriteOptions,
    ) -> Result<WriteOutcome> {
        writer::write(&self.server, path, data, options).await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(from = %from, to = %to))]
    async fn rename(&self, from: &RemotePath, to: &RemotePath) -> Result<()> {
        let (f, t) = (self.server.path(from), self.server.path(to));
        let mut pooled = self.server.get().await?;
        let r = writer::rename_over(&mut pooled.conn, &f, &t, true).await;
        self.server.release(pooled);
        r.map_err(|e| e.at(Operation::Rename, from.as_str()))
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn create_dir_all(&self, path: &RemotePath) -> Result<()> {
        retry_once!(self.server, |conn| mkdirs_on(&self.server, conn, path)
            .await)
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn remove_file(&self, path: &RemotePath) -> Result<()> {
        let sp = self.server.path(path);
        let mut pooled = self.server.get().await?;
        let r = pooled.conn.dele(&sp).await;
        self.server.release(pooled);
        r.map_err(|f| f.at(Operation::RemoveFile, path.as_str()))
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn remove_dir(&self, path: &RemotePath) -> Result<()> {
        let sp = self.server.path(path);
        let mut pooled = self.server.get().await?;
        let r = pooled.conn.rmdir(&sp).await;
        self.server.release(pooled);
        r.map_err(|f| f.at(Operation::RemoveDir, path.as_str()))
    }

    #[tracing::instrument(level = "debug", skip(self), fields(path = %path))]
    async fn set_modified(&self, path: &RemotePath, modified: DateTime<Utc>) -> Result<()> {
        if !self.server.features.mfmt {
            return Err(Error::unsupported(Operation::SetModified, self.backend()));
        }
        let sp = self.server.path(path);
        retry_once!(self.server, |conn| conn
            .mfmt(modified, &sp)
            .await
            .map_err(|f| f.at(Operation::SetModified, path.as_str())))
    }
}
