//! Opening a control connection: TCP, TLS (explicit or implicit), login with the password
//! kept out of suppaftp's logs, binary mode, data connection mode.

use std::io;

use secrecy::{ExposeSecret, SecretString};
use suppaftp::types::FileType;
use suppaftp::{Encoding, FtpError, Mode, Utf8Encoding};
use tokio::net::TcpStream;

use super::config::{FtpConfig, Security};
use super::core::{Conn, Ftp, map_ftp_error, reply_code, reply_text, utf8_on};
use crate::config::DataMode;
use crate::error::{Error, Operation, Result};

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

impl Conn {
    /// Connects, secures (FTPS), logs in, switches to binary mode and sets the data mode,
    /// all within the connect timeout. A connection that breaks while being set up (a
    /// reset, a TLS handshake that fails on garbage) is tried once more; timeouts, refused
    /// logins and untrusted certificates are not.
    pub(super) async fn open(cfg: &FtpConfig, how: Opening) -> Result<Conn> {
        match Self::open_once(cfg, how).await {
            Err(e @ Error::Connection { .. }) => {
                tracing::debug!(error = %e, "connection failed while being set up; trying again");
                Self::open_once(cfg, how).await
            }
            r => r,
        }
    }

    async fn open_once(cfg: &FtpConfig, how: Opening) -> Result<Conn> {
        let limit = cfg.timeouts.connect;
        match tokio::time::timeout(limit, Self::open_inner(cfg, how)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                op: Operation::Connect,
                path: String::new(),
                after: limit,
            }),
        }
    }

    async fn open_inner(cfg: &FtpConfig, how: Opening) -> Result<Conn> {
        let Opening { epsv, utf8, tls12 } = how;
        #[cfg(not(feature = "ftps"))]
        let _ = tls12;
        #[cfg(feature = "ftps")]
        let mut tls_seen = None;
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
                let (connector, seen) = tls.connector(tls12);
                tls_seen = Some(seen);
                let tcp = connect_tcp(&cfg.host, cfg.port).await.map_err(tcp_err)?;
                Ftp::connect_with_stream(tcp)
                    .await
                    .map_err(at_connect)?
                    .into_secure(connector, &tls.server_name)
                    .await
                    .map_err(at_connect)?
            }
            #[cfg(feature = "ftps")]
            Security::Implicit => {
                let tls = tls_setup(cfg)?;
                let (connector, seen) = tls.connector(tls12);
                tls_seen = Some(seen);
                // suppaftp opens the socket itself for implicit TLS: give it the addresses.
                let addrs: Vec<std::net::SocketAddr> =
                    tokio::net::lookup_host((cfg.host.as_str(), cfg.port))
                        .await
                        .map_err(tcp_err)?
                        .collect();
                let mut ftp =
                    Ftp::connect_secure_implicit(addrs.as_slice(), connector, &tls.server_name)
                        .await
                        .map_err(at_connect)?;
                let _ = ftp.get_ref().await.set_nodelay(true);
                // suppaftp does not protect the data channel on its own in implicit mode.
                ftp.custom_command("PBSZ 0", &[suppaftp::Status::CommandOk])
                    .await
                    .map_err(at_connect)?;
                ftp.custom_command("PROT P", &[suppaftp::Status::CommandOk])
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
        #[cfg_attr(not(feature = "ftps"), allow(unused_mut))]
        let mut conn = Conn::new(
            ftp,
            cfg.reply_timeout(),
            epsv && cfg.data_mode == DataMode::Passive,
        );
        #[cfg(feature = "ftps")]
        {
            conn.tls_seen = tls_seen;
        }
        Ok(conn)
    }
}

/// How to open a control connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct Opening {
    /// `EPSV` for data connections (else `PASV`), in passive mode.
    pub(super) epsv: bool,
    /// Send `OPTS UTF8 ON` after the login.
    pub(super) utf8: bool,
    /// FTPS: TLS 1.2 only (the switch for servers without TLS 1.3 tickets).
    pub(super) tls12: bool,
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
        e @ FtpError::UnexpectedResponse(_) => map_ftp_error(e, Operation::Connect, ""),
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
mod tests {
    use super::*;

    #[test]
    fn the_login_encoding_puts_the_password_on_the_wire_only() {
        let enc = LoginEncoding(SecretString::from("hunter2"));
        let wire = enc.encode(&format!("PASS {PASS_PLACEHOLDER}\r\n")).unwrap();
        assert_eq!(wire, b"PASS hunter2\r\n");
        assert_eq!(enc.encode("USER bob\r\n").unwrap(), b"USER bob\r\n");
        assert_eq!(enc.encode("PASS other\r\n").unwrap(), b"PASS other\r\n");
        assert!(!format!("{enc:?}").contains("hunter2"));
    }
}
