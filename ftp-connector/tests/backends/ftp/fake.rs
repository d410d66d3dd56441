//! A scripted FTP server on 127.0.0.1 for what real servers will not do on demand: list
//! hostile names (`..`, `a/b`, CR), lie about a cut transfer, fail with `421`, refuse
//! `EPSV`, speak implicit FTPS, and insist (like vsftpd's `require_ssl_reuse`) that every
//! TLS data connection resumes the session of its own control connection. It speaks just
//! enough FTP for `FtpFs`, and records every command it receives.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ServerSessionMemoryCache;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// How the fake server uses TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tls {
    /// Plain FTP only.
    Off,
    /// `AUTH TLS` on the control connection.
    Explicit,
    /// TLS from the first byte.
    Implicit,
}

/// What the fake server says and sends.
#[derive(Debug, Clone)]
pub(super) struct Script {
    /// The password it accepts.
    pub(super) password: String,
    /// The `FEAT` lines (without the `211` framing).
    pub(super) features: Vec<&'static str>,
    /// Whether `EPSV` is refused with `502` (then `PASV` works).
    pub(super) refuse_epsv: bool,
    /// The body of every `MLSD` and `LIST` (raw bytes, lines included).
    pub(super) listing: Vec<u8>,
    /// What `SIZE` answers for any file.
    pub(super) size: u64,
    /// What a `RETR` sends on the data connection.
    pub(super) body: Vec<u8>,
    /// The reply after a `RETR`'s data (`226 ...` even when the data was cut short).
    pub(super) retr_reply: &'static str,
    /// Answer the first `SIZE` of each connection that has not yet seen one with `421`
    /// and hang up, this many times in all.
    pub(super) fail_first_size: usize,
    /// TLS mode.
    pub(super) tls: Tls,
    /// Whether TLS 1.3 session tickets are issued (pure-ftpd issues none).
    pub(super) tls13_tickets: bool,
    /// Whether TLS 1.2 is refused.
    pub(super) tls13_only: bool,
    /// Whether a TLS data connection that does not resume its control connection's
    /// session is refused (vsftpd's `require_ssl_reuse`).
    pub(super) require_reuse: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            password: "fake-secret-77".into(),
            features: vec![
                "MLST type*;size*;modify*;",
                "SIZE",
                "MDTM",
                "EPSV",
                "REST STREAM",
                "UTF8",
            ],
            refuse_epsv: false,
            listing: Vec::new(),
            size: 0,
            body: Vec::new(),
            retr_reply: "226 Transfer complete",
            fail_first_size: 0,
            tls: Tls::Off,
            tls13_tickets: true,
            tls13_only: false,
            require_reuse: true,
        }
    }
}

/// What the server counts, across connections.
#[derive(Debug, Default)]
pub(super) struct Log {
    /// Every command line received, in order.
    pub(super) commands: Vec<String>,
    /// TLS data connections that resumed their control connection's session.
    pub(super) resumed: usize,
    /// TLS data connections refused for not resuming it.
    pub(super) refused: usize,
    /// TLS data connections served without resuming it (`require_reuse` off).
    pub(super) full: usize,
    /// The TLS version of each control connection, in order.
    pub(super) control_versions: Vec<rustls::ProtocolVersion>,
}

/// A running fake server.
pub(super) struct Fake {
    pub(super) port: u16,
    pub(super) log: Arc<Mutex<Log>>,
    /// The PEM of the (self-signed) certificate, when TLS is on.
    pub(super) cert_path: Option<PathBuf>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

impl Fake {
    pub(super) async fn start(script: Script) -> Fake {
        let dir = tempfile::tempdir().unwrap();
        let (cert_path, tls) = if script.tls == Tls::Off {
            (None, None)
        } else {
            let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
            let path = dir.path().join("fake.pem");
            std::fs::write(&path, ck.cert.pem()).unwrap();
            let key =
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
            let cert: CertificateDer<'static> = ck.cert.der().clone();
            (Some(path), Some((cert, key)))
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log::default()));
        let failures = Arc::new(Mutex::new(script.fail_first_size));
        let shared = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                // Each control connection has its own session cache and no tickets, like
                // a vsftpd process: only its own session can be resumed.
                let acceptor = tls.as_ref().map(|(cert, key)| {
                    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                    let versions: &[&rustls::SupportedProtocolVersion] = if script.tls13_only {
                        &[&rustls::version::TLS13]
                    } else {
                        rustls::DEFAULT_VERSIONS
                    };
                    let mut config = ServerConfig::builder_with_provider(provider)
                        .with_protocol_versions(versions)
                        .unwrap()
                        .with_no_client_auth()
                        .with_single_cert(vec![cert.clone()], key.clone_key())
                        .unwrap();
                    config.session_storage = ServerSessionMemoryCache::new(64);
                    if !script.tls13_tickets {
                        config.send_tls13_tickets = 0;
                    }
                    TlsAcceptor::from(Arc::new(config))
                });
                let (script, log, failures) = (script.clone(), shared.clone(), failures.clone());
                tokio::spawn(async move {
                    let _ = session(sock, script, log, failures, acceptor).await;
                });
            }
        });
        Fake {
            port,
            log,
            cert_path,
            task,
            _dir: dir,
        }
    }

    pub(super) fn url(&self) -> String {
        let scheme = match self.cert_path {
            None => "ftp",
            Some(_) => "ftps",
        };
        format!("{scheme}://bob@127.0.0.1:{}/", self.port)
    }

    pub(super) fn commands(&self) -> Vec<String> {
        self.log.lock().unwrap().commands.clone()
    }
}

async fn session(
    sock: TcpStream,
    script: Script,
    log: Arc<Mutex<Log>>,
    failures: Arc<Mutex<usize>>,
    acceptor: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    let version_of = |tls: &tokio_rustls::server::TlsStream<TcpStream>| {
        let v = tls.get_ref().1.protocol_version();
        log.lock().unwrap().control_versions.extend(v);
    };
    let control: Box<dyn Io> = match (&acceptor, script.tls) {
        (Some(a), Tls::Implicit) => {
            let tls = a.accept(sock).await?;
            version_of(&tls);
            Box::new(tls)
        }
        _ => Box::new(sock),
    };
    let mut lines = BufReader::new(control);
    lines
        .get_mut()
        .write_all(b"220 fake server ready\r\n")
        .await?;
    let mut data: Option<TcpListener> = None;
    let mut protected = false;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']).to_owned();
        log.lock().unwrap().commands.push(cmd.clone());
        let (verb, arg) = cmd.split_once(' ').unwrap_or((cmd.as_str(), ""));
        let reply: String = match verb.to_ascii_uppercase().as_str() {
            "AUTH" if script.tls == Tls::Explicit => {
                lines.get_mut().write_all(b"234 AUTH TLS OK\r\n").await?;
                let Some(a) = &acceptor else { return Ok(()) };
                let plain = lines.into_inner();
                let tls = a.accept(plain).await?;
                log.lock()
                    .unwrap()
                    .control_versions
                    .extend(tls.get_ref().1.protocol_version());
                lines = BufReader::new(Box::new(tls));
                continue;
            }
            "PBSZ" if acceptor.is_some() => "200 PBSZ=0".into(),
            "PROT" if acceptor.is_some() => {
                protected = arg == "P";
                "200 Protection set".into()
            }
            "USER" => "331 Password please".into(),
            "PASS" if arg == script.password => "230 Logged in".into(),
            "PASS" => "530 Login incorrect".into(),
            "TYPE" | "OPTS" | "NOOP" => "200 OK".into(),
            "FEAT" => {
                let mut r = String::from("211-Features:\r\n");
                for f in &script.features {
                    r.push_str(&format!(" {f}\r\n"));
                }
                r.push_str("211 End");
                r
            }
            "PWD" => "257 \"/\" is the current directory".into(),
            "CWD" if arg.ends_with(".jpg") => "550 Not a directory".into(),
            "CWD" => "250 OK".into(),
            "EPSV" if script.refuse_epsv => "502 EPSV not implemented".into(),
            "EPSV" => {
                let l = TcpListener::bind("127.0.0.1:0").await?;
                let p = l.local_addr()?.port();
                data = Some(l);
                format!("229 Entering Extended Passive Mode (|||{p}|)")
            }
            "PASV" => {
                let l = TcpListener::bind("127.0.0.1:0").await?;
                let p = l.local_addr()?.port();
                data = Some(l);
                // A hostile address: the client must connect to the control peer instead.
                format!(
                    "227 Entering Passive Mode (10,9,8,7,{},{})",
                    p / 256,
                    p % 256
                )
            }
            "SIZE" => {
                let fail = {
                    let mut f = failures.lock().unwrap();
                    let fail = *f > 0;
                    *f = f.saturating_sub(1);
                    fail
                };
                if fail {
                    let w = lines.get_mut();
                    w.write_all(b"421 Service closing, try later\r\n").await?;
                    return Ok(());
                }
                format!("213 {}", script.size)
            }
            "MDTM" => "213 20261127150542".into(),
            "MLST" => format!(
                "250-Listing {arg}\r\n type=file;size={};modify=20261127150542; {arg}\r\n250 End",
                script.size
            ),
            "MLSD" | "LIST" | "RETR" => {
                let Some(l) = data.take() else {
                    lines.get_mut().write_all(b"425 Use EPSV first\r\n").await?;
                    continue;
                };
                let w = lines.get_mut();
                w.write_all(b"150 Opening data connection\r\n").await?;
                let (tcp, _) = l.accept().await?;
                let mut d: Box<dyn Io> = match (&acceptor, protected) {
                    (Some(a), true) => {
                        let tls = a.accept(tcp).await?;
                        let resumed = tls.get_ref().1.handshake_kind()
                            == Some(rustls::HandshakeKind::Resumed);
                        {
                            let mut log = log.lock().unwrap();
                            if resumed {
                                log.resumed += 1;
                            } else if script.require_reuse {
                                log.refused += 1;
                            } else {
                                log.full += 1;
                            }
                        }
                        if !resumed && script.require_reuse {
                            drop(tls);
                            let msg = b"522 SSL connection failed: session reuse required\r\n";
                            lines.get_mut().write_all(msg).await?;
                            continue;
                        }
                        Box::new(tls)
                    }
                    _ => Box::new(tcp),
                };
                let (payload, done) = if verb.eq_ignore_ascii_case("RETR") {
                    (&script.body, script.retr_reply)
                } else {
                    (&script.listing, "226 Listing sent")
                };
                d.write_all(payload).await?;
                d.shutdown().await?;
                drop(d);
                done.into()
            }
            "QUIT" => {
                lines.get_mut().write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => "502 Not implemented".into(),
        };
        let w = lines.get_mut();
        w.write_all(reply.as_bytes()).await?;
        w.write_all(b"\r\n").await?;
    }
}
