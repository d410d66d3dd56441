//! One logged-in control connection ([`Conn`]; opened in `connect.rs`) and the mapping of
//! FTP failures onto the crate's [`Error`], decided here once for the whole backend.
//!
//! Every command runs under the reply timeout. A connection whose control channel may be
//! out of step (a timeout, an I/O error, a `421`, a transfer not finished) is marked
//! unhealthy, and the pool drops it instead of reusing it.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use suppaftp::tokio::{AsyncRustlsFtpStream, AsyncRustlsStream, TransferStream};
use suppaftp::types::Response;
use suppaftp::{FtpError, FtpResult, Mode, Status};

use super::parse::{self, Features};
use crate::entry::Modified;
use crate::error::{Error, ErrorKind, Operation};

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
    /// FTPS: what the TLS session cache of this connection received.
    #[cfg(feature = "ftps")]
    pub(super) tls_seen: Option<std::sync::Arc<super::tls::SessionsSeen>>,
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
    /// A connection just logged in (see `connect.rs`).
    pub(super) fn new(ftp: Ftp, reply: Duration, epsv: bool) -> Conn {
        Conn {
            ftp,
            reply,
            healthy: true,
            last_used: Instant::now(),
            epsv,
            #[cfg(feature = "ftps")]
            tls_seen: None,
        }
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
pub(super) async fn utf8_on(ftp: &mut Ftp) {
    let ok = [Status::CommandOk, Status::CommandNotImplemented];
    let _ = ftp.custom_command("OPTS UTF8 ON", &ok).await;
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
