//! One logged-in control connection ([`Conn`]) and the mapping of FTP failures onto the
//! crate's [`Error`], decided here once for the whole backend.
//!
//! Every command runs under the reply timeout. A connection whose control channel may be
//! out of step (a timeout, an I/O error, a `421`, a transfer not finished) is marked
//! unhealthy, and the pool drops it instead of reusing it.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use suppaftp::tokio::{AsyncRustlsFtpStream, AsyncRustlsStream, TransferStream};
use suppaftp::types::{FileType, Response};
use suppaftp::{Encoding, FtpError, FtpResult, Mode, Status, Utf8Encoding};
use tokio::net::TcpStream;

use super::config::{FtpConfig, Security};
use super::parse::{self, Features};
use crate::config::DataMode;
use crate::entry::Modified;
use crate::error::{Error, ErrorKind, Operation, Result};

/// The suppaftp client type. It serves plain FTP too: TLS is only used once set up.
pub(super) type Ftp = AsyncRustlsFtpStream;
/// An open data connection.
pub(super) type Transfer = TransferStream<AsyncRustlsStream>;

/// A failure on a connection, before it is told which operation and path it belongs to.
#[derive(Debug)]
pub(super) enum Fail {
    /// What suppaftp reported.
    Ftp(FtpError),
    /// No reply within this long.
    Timeout(Duration),
}

impl Fail {
    /// The crate error for a failure of `op` on `path` (relative to the backend root).
    pub(super) fn at(self, op: Operation, path: &str) -> Error {
        match self {
            Fail::Ftp(e) => map_ftp_error(e, op, path),
            Fail::Timeout(after) => Error::Timeout {
                op,
                path: path.to_owned(),
                after,
            },
        }
    }

    /// The reply code, when the server answered with an error reply.
    pub(super) fn code(&self) -> Option<u32> {
        match self {
            Fail::Ftp(FtpError::UnexpectedResponse(r)) => Some(reply_code(r)),
            _ => None,
        }
    }
}

/// Maps a suppaftp error: `421`/`425`/`426` (and other `4xx`) are transient, `550` is
/// not found (or a conflict or a refusal, by its text), `530` is an authentication failure,
/// `500`/`502`/`504` unsupported; resets and timeouts keep their I/O kind (transient).
pub(super) fn map_ftp_error(err: FtpError, op: Operation, path: &str) -> Error {
    let protocol = |kind, message: String| Error::Protocol {
        op,
        path: path.to_owned(),
        code: None,
        message,
        kind,
    };
    match err {
        FtpError::ConnectionError(io) => Error::io(op, path, io),
        FtpError::UnexpectedResponse(reply) => map_reply(&reply, op, path),
        FtpError::SecureError(m) => protocol(ErrorKind::Transient, format!("TLS: {m}")),
        FtpError::BadResponse => protocol(ErrorKind::Unexpected, "malformed reply".into()),
        FtpError::InvalidAddress(e) => {
            protocol(ErrorKind::Unexpected, format!("unusable data address: {e}"))
        }
        FtpError::DataConnectionAlreadyOpen => protocol(
            ErrorKind::Unexpected,
            "a data connection is already open".into(),
        ),
    }
}

fn map_reply(reply: &Response, op: Operation, path: &str) -> Error {
    let code = reply_code(reply);
    let message = reply_text(reply);
    let lower = message.to_ascii_lowercase();
    let kind = match code {
        421 | 425 | 426 | 450 | 451 => ErrorKind::Transient,
        530 | 532 => ErrorKind::Auth,
        550 if lower.contains("not empty") || lower.contains("exists") => ErrorKind::Conflict,
        550 if lower.contains("denied") || lower.contains("permission") => {
            ErrorKind::PermissionDenied
        }
        550 => ErrorKind::NotFound,
        553 | 534 => ErrorKind::PermissionDenied,
        501 => ErrorKind::InvalidInput,
        500 | 502 | 504 | 202 => ErrorKind::Unsupported,
        c if (400..500).contains(&c) => ErrorKind::Transient,
        _ => ErrorKind::Unexpected,
    };
    match kind {
        ErrorKind::NotFound => Error::NotFound {
            op,
            path: path.to_owned(),
        },
        ErrorKind::PermissionDenied => Error::PermissionDenied {
            op,
            path: path.to_owned(),
            message,
        },
        kind => Error::Protocol {
            op,
            path: path.to_owned(),
            code: Some(code),
            message,
            kind,
        },
    }
}

/// The three-digit code: suppaftp folds codes it does not know into `Unknown`, so read
/// it from the reply text.
pub(super) fn reply_code(reply: &Response) -> u32 {
    reply
        .body
        .get(..3)
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| reply.status.code())
}

/// The reply's text without its codes, control characters replaced, at most 300 chars.
pub(super) fn reply_text(reply: &Response) -> String {
    let text = String::from_utf8_lossy(&reply.body);
    let joined = text
        .lines()
        .map(|l| {
            let l = l.trim_end();
            match l.get(..4) {
                Some(head) if head[..3].bytes().all(|b| b.is_ascii_digit()) => l[4..].trim(),
                _ => l.trim(),
            }
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    joined
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(300)
        .collect()
}

/// Whether the control connection can no longer be trusted to be in step.
fn breaks_connection(e: &FtpError) -> bool {
    match e {
        FtpError::UnexpectedResponse(r) => reply_code(r) == 421,
        _ => true,
    }
}

/// Runs one command under the reply timeout, marking the connection unhealthy when the
/// failure leaves the control channel in an unknown state.
async fn guard<T>(
    healthy: &mut bool,
    reply: Duration,
    fut: impl Future<Output = FtpResult<T>>,
) -> std::result::Result<T, Fail> {
    match tokio::time::timeout(reply, fut).await {
        Err(_) => {
            *healthy = false;
            Err(Fail::Timeout(reply))
        }
        Ok(Err(e)) => {
            if breaks_connection(&e) {
                *healthy = false;
            }
            Err(Fail::Ftp(e))
        }
        Ok(Ok(v)) => Ok(v),
    }
}

/// The commands that open a data connection.
#[derive(Debug, Clone, Copy)]
pub(super) enum DataCmd {
    /// `RETR`, after `REST` when the offset is not 0.
    Retr(u64),
    /// `STOR`, after `REST` when the offset is not 0.
    Stor(u64),
    /// `APPE`.
    Appe,
    /// `MLSD <path>`.
    Mlsd,
    /// `LIST -a` in the current directory (no argument: servers glob `LIST` arguments).
    ListAll,
    /// `LIST` in the current directory, for servers that refuse `-a`.
    List,
}

/// The password placeholder suppaftp sees (and logs at trace level); [`LoginEncoding`]
/// puts the real password on the wire instead.
const PASS_PLACEHOLDER: &str = "<password>";

/// A UTF-8 encoding that swaps the password in for [`PASS_PLACEHOLDER`] as the `PASS`
/// line is encoded, so that the password never reaches suppaftp's logs. Installed only
/// for the login.
struct LoginEncoding(SecretString);

impl std::fmt::Debug for LoginEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginEncoding")
    }
}

impl Encoding for LoginEncoding {
    fn decode(&self, bytes: &[u8]) -> String {
        Utf8Encoding.decode(bytes)
    }

    fn encode(&self, text: &str) -> io::Result<Vec<u8>> {
        let line = text.strip_suffix("\r\n").unwrap_or(text);
        if line.strip_prefix("PASS ") == Some(PASS_PLACEHOLDER) {
            let mut out = format!("PASS {}", self.0.expose_secret()).into_bytes();
            out.extend_from_slice(&text.as_bytes()[line.len()..]);
            return Ok(out);
        }
        Utf8Encoding.encode(text)
    }
}

/// One logged-in control connection in binary mode.
pub(super) struct Conn {
    ftp: Ftp,
    reply: Duration,
    /// False once the control channel may be out of step: such a connection is dropped,
    /// never pooled.
    pub(super) healthy: bool,
    /// When it was last handed back to the pool.
    pub(super) last_used: Instant,
    /// Whether data connections use `EPSV` (else `PASV` or active mode).
    epsv: bool,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("healthy", &self.healthy)
            .field("epsv", &self.epsv)
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Connects, secures (FTPS), logs in, switches to binary mode and sets the data mode,
    /// all within the connect timeout. A connection that breaks while being set up (a
    /// reset, a TLS handshake that fails on garbage) is tried once more; timeouts, refused
    /// logins and untrusted certificates are not.
    pub(super) async fn open(cfg: &FtpConfig, epsv: bool, utf8: bool) -> Result<Conn> {
        match Self::open_once(cfg, epsv, utf8).await {
            Err(e @ Error::Connection { .. }) => {
                tracing::debug!(error = %e, "connection failed while being set up; trying again");
                Self::open_once(cfg, epsv, utf8).await
            }
            r => r,
        }
    }

    async fn open_once(cfg: &FtpConfig, epsv: bool, utf8: bool) -> Result<Conn> {
        let limit = cfg.timeouts.connect;
        match tokio::time::timeout(limit, Self::open_inner(cfg, epsv, utf8)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                op: Operation::Connect,
                path: String::new(),
                after: limit,
            }),
        }
    }

    async fn open_inner(cfg: &FtpConfig, epsv: bool, utf8: bool) -> Result<Conn> {
        let connect_err = |message: String, source: Option<FtpError>| Error::Connection {
            op: Operation::Connect,
            endpoint: cfg.endpoint.clone(),
            message,
            source: source.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
        };
        let tcp_err = |e: io::Error| connect_err(e.to_string(), Some(FtpError::ConnectionError(e)));
        let at_connect = |e: FtpError| connect_error(cfg, e);
        let mut ftp = match cfg.security {
            Security::Plain => {
                let tcp = connect_tcp(&cfg.host, cfg.port).await.map_err(tcp_err)?;
                Ftp::connect_with_stream(tcp).await.map_err(at_connect)?
            }
            #[cfg(feature = "ftps")]
            Security::Explicit => {
                let tls = tls_setup(cfg)?;
                let tcp = connect_tcp(&cfg.host, cfg.port).await.map_err(tcp_err)?;
                Ftp::connect_with_stream(tcp)
                    .await
                    .map_err(at_connect)?
                    .into_secure(tls.connector(), &tls.server_name)
                    .await
                    .map_err(at_connect)?
            }
            #[cfg(feature = "ftps")]
            Security::Implicit => {
                let tls = tls_setup(cfg)?;
                // suppaftp opens the socket itself for implicit TLS: give it the addresses.
                let addrs: Vec<std::net::SocketAddr> =
                    tokio::net::lookup_host((cfg.host.as_str(), cfg.port))
                        .await
                        .map_err(tcp_err)?
                        .collect();
                let mut ftp = Ftp::connect_secure_implicit(
                    addrs.as_slice(),
                    tls.connector(),
                    &tls.server_name,
                )
                .await
                .map_err(at_connect)?;
                let _ = ftp.get_ref().await.set_nodelay(true);
                // suppaftp does not protect the data channel on its own in implicit mode.
                ftp.custom_command("PBSZ 0", &[Status::CommandOk])
                    .await
                    .map_err(at_connect)?;
                ftp.custom_command("PROT P", &[Status::CommandOk])
                    .await
                    .map_err(at_connect)?;
                ftp
            }
            #[cfg(not(feature = "ftps"))]
            _ => return Err(Error::config("url", "FTPS needs the `ftps` feature")),
        };

        ftp.set_encoding(LoginEncoding(cfg.password.clone())).await;
        let login = ftp.login(cfg.user.as_str(), PASS_PLACEHOLDER).await;
        ftp.set_encoding(Utf8Encoding).await;
        login.map_err(|e| match e {
            FtpError::UnexpectedResponse(r) if matches!(reply_code(&r), 530 | 430 | 332) => {
                Error::Auth {
                    endpoint: cfg.endpoint.clone(),
                    user: cfg.user.clone(),
                    message: reply_text(&r),
                }
            }
            e => connect_error(cfg, e),
        })?;
        // suppaftp starts in ASCII mode, which rewrites line ends: never use it.
        ftp.transfer_type(FileType::Binary)
            .await
            .map_err(at_connect)?;
        if utf8 {
            utf8_on(&mut ftp).await;
        }
        let data_timeout = cfg.timeouts.connect;
        ftp = match cfg.data_mode {
            DataMode::Active => ftp.active_mode(data_timeout),
            DataMode::Passive => {
                ftp.set_mode(if epsv {
                    Mode::ExtendedPassive
                } else {
                    Mode::Passive
                });
                ftp
            }
        };
        // Connect data sockets to the control connection's peer, whatever address PASV
        // names: servers behind NAT announce private addresses, and a hostile server could
        // point the client at a third host.
        ftp.set_passive_nat_workaround(true);
        ftp = ftp.passive_stream_builder(move |addr| {
            Box::pin(async move {
                match tokio::time::timeout(data_timeout, TcpStream::connect(addr)).await {
                    Ok(r) => r.map_err(FtpError::ConnectionError),
                    Err(_) => Err(FtpError::ConnectionError(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "data connection not accepted in time",
                    ))),
                }
            })
        });
        Ok(Conn {
            ftp,
            reply: cfg.reply_timeout(),
            healthy: true,
            last_used: Instant::now(),
            epsv: epsv && cfg.data_mode == DataMode::Passive,
        })
    }

    /// `NOOP`: is the connection still alive?
    pub(super) async fn noop(&mut self) -> std::result::Result<(), Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.noop()).await
    }

    /// After a transfer was dropped unfinished: reads the reply the server sends for it,
    /// then checks with `NOOP` that the connection is in step; healthy again only if so.
    pub(super) async fn resync(&mut self) {
        let mut healthy = true;
        let r = guard(&mut healthy, self.reply, self.ftp.noop()).await;
        self.healthy = r.is_ok();
    }

    /// `FEAT`; a server that does not know it gets [`Features::assumed`].
    pub(super) async fn features(&mut self) -> std::result::Result<Features, Fail> {
        match guard(&mut self.healthy, self.reply, self.ftp.feat()).await {
            Ok(f) => Ok(Features::from_feat(&f)),
            Err(f) if f.code().is_some_and(|c| (500..600).contains(&c)) => Ok(Features::assumed()),
            Err(f) => Err(f),
        }
    }

    /// `OPTS UTF8 ON`.
    pub(super) async fn utf8_on(&mut self) {
        if tokio::time::timeout(self.reply, utf8_on(&mut self.ftp))
            .await
            .is_err()
        {
            self.healthy = false;
        }
    }

    /// Switches this connection from `EPSV` to `PASV`.
    pub(super) fn use_pasv(&mut self) {
        if self.epsv {
            self.ftp.set_mode(Mode::Passive);
            self.epsv = false;
        }
    }

    /// `PWD`.
    pub(super) async fn pwd(&mut self) -> std::result::Result<String, Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.pwd()).await
    }

    /// `SIZE`.
    pub(super) async fn size(&mut self, path: &str) -> std::result::Result<u64, Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.size(path))
            .await
            .map(|n| n as u64)
    }

    /// `MDTM`, whole seconds, UTC.
    pub(super) async fn mdtm(&mut self, path: &str) -> std::result::Result<Modified, Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.mdtm(path))
            .await
            .map(|t| Modified::new(t.and_utc(), crate::entry::TimePrecision::Second))
    }

    /// `MLST`: the fact line.
    pub(super) async fn mlst(&mut self, path: &str) -> std::result::Result<String, Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.mlst(Some(path))).await
    }

    /// `CWD`.
    pub(super) async fn cwd(&mut self, path: &str) -> std::result::Result<(), Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.cwd(path)).await
    }

    /// `MKD`.
    pub(super) async fn mkdir(&mut self, path: &str) -> std::result::Result<(), Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.mkdir(path)).await
    }

    /// `RMD`.
    pub(super) async fn rmdir(&mut self, path: &str) -> std::result::Result<(), Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.rmdir(path)).await
    }

    /// `DELE`.
    pub(super) async fn dele(&mut self, path: &str) -> std::result::Result<(), Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.rm(path)).await
    }

    /// `RNFR` + `RNTO`.
    pub(super) async fn rename(&mut self, from: &str, to: &str) -> std::result::Result<(), Fail> {
        guard(&mut self.healthy, self.reply, self.ftp.rename(from, to)).await
    }

    /// `MFMT YYYYMMDDHHMMSS path`.
    pub(super) async fn mfmt(
        &mut self,
        time: chrono::DateTime<chrono::Utc>,
        path: &str,
    ) -> std::result::Result<(), Fail> {
        let cmd = format!("MFMT {} {path}", parse::format_fact_time(time));
        let ok = [
            Status::File,
            Status::CommandOk,
            Status::RequestedFileActionOk,
        ];
        guard(
            &mut self.healthy,
            self.reply,
            self.ftp.custom_command(cmd, &ok),
        )
        .await
        .map(|_| ())
    }

    /// Opens a data connection for `cmd`. The connection stays unhealthy until the
    /// transfer is [finished](Self::finish). A server that
    /// refuses `EPSV` is asked again with `PASV`; `epsv_refused` is then set.
    pub(super) async fn open_transfer(
        &mut self,
        cmd: DataCmd,
        path: &str,
        epsv_refused: &mut bool,
    ) -> std::result::Result<Transfer, Fail> {
        self.healthy = false;
        let mut result = self.start(cmd, path).await;
        if let Err(f) = &result
            && self.epsv
            && matches!(f.code(), Some(500 | 501 | 502 | 504))
        {
            *epsv_refused = true;
            self.use_pasv();
            result = self.start(cmd, path).await;
        }
        if let Err(Fail::Ftp(e)) = &result
            && !breaks_connection(e)
        {
            // The server refused the command: no data connection is open.
            self.healthy = true;
        }
        result
    }

    async fn start(&mut self, cmd: DataCmd, path: &str) -> std::result::Result<Transfer, Fail> {
        let open = [Status::AboutToSend, Status::AlreadyOpen];
        let ftp = &mut self.ftp;
        let fut = async {
            match cmd {
                DataCmd::Retr(offset) | DataCmd::Stor(offset) if offset > 0 => {
                    let offset = usize::try_from(offset).map_err(|_| {
                        FtpError::ConnectionError(io::ErrorKind::InvalidInput.into())
                    })?;
                    ftp.resume_transfer(offset).await?;
                }
                _ => {}
            }
            match cmd {
                DataCmd::Retr(_) => ftp.retr_as_stream(path).await,
                DataCmd::Stor(_) => ftp.put_with_stream(path).await,
                DataCmd::Appe => ftp.append_with_stream(path).await,
                DataCmd::Mlsd => ftp
                    .custom_data_command(format!("MLSD {path}"), &open)
                    .await
                    .map(|(_, t)| t),
                DataCmd::ListAll => ftp
                    .custom_data_command("LIST -a", &open)
                    .await
                    .map(|(_, t)| t),
                DataCmd::List => ftp.custom_data_command("LIST", &open).await.map(|(_, t)| t),
            }
        };
        let mut healthy = false;
        guard(&mut healthy, self.reply, fut).await
    }

    /// Closes the data connection and reads the transfer's final reply: a `426`/`451`
    /// here means the transfer failed, however many bytes moved.
    pub(super) async fn finish(&mut self, transfer: Transfer) -> std::result::Result<(), Fail> {
        let mut healthy = true;
        let r = guard(&mut healthy, self.reply, transfer.finish()).await;
        self.healthy = r.is_ok() || healthy;
        r
    }
}

/// Some servers (IIS, FileZilla) switch to UTF-8 names only when asked; a refusal
/// changes nothing.
async fn utf8_on(ftp: &mut Ftp) {
    let ok = [Status::CommandOk, Status::CommandNotImplemented];
    let _ = ftp.custom_command("OPTS UTF8 ON", &ok).await;
}

#[cfg(feature = "ftps")]
fn tls_setup(cfg: &FtpConfig) -> Result<&super::tls::TlsSetup> {
    cfg.tls
        .as_ref()
        .ok_or_else(|| Error::config("tls", "FTPS without TLS settings"))
}

/// A failure while connecting: certificate problems are [`Error::Untrusted`], the rest
/// [`Error::Connection`] or a mapped reply.
fn connect_error(cfg: &FtpConfig, e: FtpError) -> Error {
    match e {
        FtpError::SecureError(m) if m.contains("certificate") => Error::Untrusted {
            endpoint: cfg.endpoint.clone(),
            message: m,
        },
        FtpError::UnexpectedResponse(r) => map_reply(&r, Operation::Connect, ""),
        e => Error::Connection {
            op: Operation::Connect,
            endpoint: cfg.endpoint.clone(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        },
    }
}

/// Resolves `host` and connects to the first address that answers.
async fn connect_tcp(host: &str, port: u16) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host has no address");
    for addr in tokio::net::lookup_host((host, port)).await? {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                // Commands are small and answered one by one: do not let Nagle delay them.
                s.set_nodelay(true)?;
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
