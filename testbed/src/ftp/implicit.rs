//! Implicit FTPS (TLS from the first byte) in front of the in-process libunftp server, which
//! has no implicit mode of its own.
//!
//! The front accepts TLS on its control port and relays each session, line by line, to a
//! plain control connection of libunftp. It answers the TLS commands itself (`PBSZ`,
//! `PROT`, `AUTH`, `CCC`), adds `PBSZ` and `PROT` to `FEAT`, and rewrites every `227`/`229`
//! reply to a data port of its own. That port accepts one connection, connects it to
//! libunftp's passive port at once (clients send the transfer command before they start
//! TLS on the data connection, and libunftp answers `150` only once it is connected), then
//! runs the TLS handshake (with `PROT P`, the default here) and relays bytes both ways.
//!
//! Data connections can resume the control connection's TLS session: the rustls server
//! keeps a session cache and issues tickets. [`TlsHandshakes`] counts what data
//! connections did.
//!
//! Clients are expected to send one command at a time (RFC 959); a reply the front gives
//! itself is not ordered against replies libunftp still owes. Active mode (`PORT`, `EPRT`)
//! is refused: the front would have to connect out with TLS on libunftp's behalf.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _};
use tokio::io::{AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::Result;

/// Longest control line accepted from either side (a long path fits many times over).
const MAX_LINE: u64 = 64 * 1024;
/// How long a client gets to finish a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a data port waits for the client to connect after a `227`/`229` reply.
const DATA_ACCEPT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long libunftp gets to close a session after its client left.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// TLS handshakes on the data connections of an implicit FTPS server
/// ([`FtpServer::data_tls_handshakes`](crate::FtpServer::data_tls_handshakes)).
///
/// A client that resumes the control connection's TLS session on each data connection (as
/// vsftpd's `require_ssl_reuse` demands) shows `full == 0`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsHandshakes {
    /// Handshakes that negotiated a new session.
    pub full: u64,
    /// Handshakes that resumed an earlier session (by ticket or session id).
    pub resumed: u64,
}

#[derive(Debug, Default)]
struct Counters {
    full: AtomicU64,
    resumed: AtomicU64,
}

/// The running front: its control address and the task that owns every session.
#[derive(Debug)]
pub(crate) struct Front {
    addr: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Front {
    /// Listens on an ephemeral `127.0.0.1` port and relays to libunftp at `backend`.
    pub(crate) async fn start(backend: SocketAddr, tls: Arc<rustls::ServerConfig>) -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let peer = Peer {
            backend,
            acceptor: TlsAcceptor::from(tls),
            counters: counters.clone(),
        };
        let task = tokio::spawn(accept_loop(listener, peer));
        Ok(Self {
            addr,
            counters,
            task,
        })
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn handshakes(&self) -> TlsHandshakes {
        TlsHandshakes {
            full: self.counters.full.load(Ordering::Relaxed),
            resumed: self.counters.resumed.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every session, and each
        // session's JoinSet aborts its data relays.
        self.task.abort();
    }
}

/// What every session needs: where libunftp listens, the TLS side, the counters.
#[derive(Clone)]
struct Peer {
    backend: SocketAddr,
    acceptor: TlsAcceptor,
    counters: Arc<Counters>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, peer: Peer) {
    // Owns the sessions, so that they end with this task; finished ones are reaped as we go.
    let mut sessions = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => continue,
        };
        match accepted {
            Ok((tcp, _)) => {
                let peer = peer.clone();
                sessions.spawn(async move {
                    if let Err(e) = session(tcp, peer).await {
                        tracing::debug!("implicit FTPS session ended: {e}");
                    }
                });
            }
            Err(e) => {
                // Out of file descriptors, most likely: let some sessions end first.
                tracing::warn!("implicit FTPS front cannot accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Per-session flags shared by the two relay directions (both run in the session's task).
#[derive(Debug)]
struct Flags {
    /// `PROT P` (the default for implicit FTPS) rather than `PROT C`.
    private: AtomicBool,
    /// The client sent `FEAT` and its reply has not ended yet.
    feat: AtomicBool,
}

async fn session(tcp: TcpStream, peer: Peer) -> io::Result<()> {
    let _ = tcp.set_nodelay(true);
    let client = with_timeout(HANDSHAKE_TIMEOUT, peer.acceptor.accept(tcp)).await?;
    let upstream = TcpStream::connect(peer.backend).await?;
    let _ = upstream.set_nodelay(true);
    let (client_r, client_w) = tokio::io::split(client);
    let (up_r, up_w) = upstream.into_split();
    // Both directions write to the client: replies from libunftp and the front's own. One
    // writer owns the TLS write half; the channel keeps each reply line whole. Only the
    // libunftp side holds a strong sender, so the writer ends (and closes TLS) once libunftp
    // has closed the session and its last replies are out.
    let (tx, rx) = mpsc::channel::<Vec<u8>>(32);
    let flags = Flags {
        private: AtomicBool::new(true),
        feat: AtomicBool::new(false),
    };

    let commands = relay_commands(BufReader::new(client_r), up_w, tx.downgrade(), &flags);
    let replies = relay_replies(BufReader::new(up_r), tx, &flags, &peer);
    let server_side = async { tokio::join!(replies, write_client(rx, client_w)) };
    tokio::pin!(commands, server_side);
    tokio::select! {
        // The client left: libunftp closes its end soon after; pass on its last words.
        done = &mut commands => {
            let _ = tokio::time::timeout(DRAIN_TIMEOUT, server_side).await;
            done
        }
        // libunftp closed the session (QUIT, timeout, shutdown): the client was told.
        (replies, written) = &mut server_side => replies.and(written),
    }
}

/// Client → libunftp: forwards commands, answering the TLS ones itself.
async fn relay_commands<R, W>(
    mut client: R,
    mut upstream: W,
    replies: mpsc::WeakSender<Vec<u8>>,
    flags: &Flags,
) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut line = Vec::new();
    let ended = loop {
        match read_line(&mut client, &mut line).await {
            Ok(true) => {}
            Ok(false) => break Ok(()),
            // Also a client that closed without close_notify: libunftp must learn it left.
            Err(e) => break Err(e),
        }
        match local_reply(&line, flags) {
            Some(reply) => {
                let sent = match replies.upgrade() {
                    Some(tx) => tx.send(reply.into_bytes()).await.is_ok(),
                    None => false,
                };
                if !sent {
                    break Ok(());
                }
            }
            None => {
                if let Err(e) = upstream.write_all(&line).await {
                    break Err(e);
                }
            }
        }
    };
    // Tells libunftp the client is gone.
    let _ = upstream.shutdown().await;
    ended
}

/// The front's own answer to `line`, or `None` to forward it.
fn local_reply(line: &[u8], flags: &Flags) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end_matches(['\r', '\n']);
    let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
    let reply = match verb.to_ascii_uppercase().as_str() {
        "PBSZ" => "200 PBSZ=0".to_owned(),
        "PROT" => match arg.trim().to_ascii_uppercase().as_str() {
            "P" => {
                flags.private.store(true, Ordering::Relaxed);
                "200 Data connections are protected (TLS)".to_owned()
            }
            "C" => {
                flags.private.store(false, Ordering::Relaxed);
                "200 Data connections are clear (no TLS)".to_owned()
            }
            other => format!("504 PROT {other} is not supported; use P or C"),
        },
        "AUTH" => "534 TLS is already in use (implicit FTPS)".to_owned(),
        "CCC" => "534 The control connection stays protected".to_owned(),
        "PORT" | "EPRT" => "502 Active mode is not offered here; use PASV or EPSV".to_owned(),
        "FEAT" => {
            flags.feat.store(true, Ordering::Relaxed);
            return None;
        }
        _ => return None,
    };
    Some(reply + "\r\n")
}

/// libunftp → client: forwards replies, moving passive data connections to ports of the
/// front. The data relays live in this future's `JoinSet`, so they end with the session.
async fn relay_replies<R>(
    mut upstream: R,
    client: mpsc::Sender<Vec<u8>>,
    flags: &Flags,
    peer: &Peer,
) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
{
    let mut data = JoinSet::new();
    let mut line = Vec::new();
    while read_line(&mut upstream, &mut line).await? {
        while data.try_join_next().is_some() {}
        let mut out = Vec::new();
        if let Some(reply) = passive_reply(&line) {
            let private = flags.private.load(Ordering::Relaxed);
            out = match data_port(peer, reply.port, private, &mut data).await {
                Ok(port) => reply.rewritten(port).into_bytes(),
                Err(e) => format!("425 Cannot open a data port: {e}\r\n").into_bytes(),
            };
        } else if flags.feat.load(Ordering::Relaxed) && is_final_line(&line) {
            flags.feat.store(false, Ordering::Relaxed);
            if line.starts_with(b"211 ") {
                out.extend_from_slice(b" PBSZ\r\n PROT\r\n");
            }
            out.extend_from_slice(&line);
        } else {
            out.extend_from_slice(&line);
        }
        if client.send(out).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// Writes reply lines to the client; ends the TLS session cleanly when both directions are done.
async fn write_client<W>(mut rx: mpsc::Receiver<Vec<u8>>, mut client: W) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    while let Some(bytes) = rx.recv().await {
        client.write_all(&bytes).await?;
        client.flush().await?;
    }
    client.shutdown().await
}

/// A `227` or `229` reply and the libunftp port it names.
#[derive(Debug, PartialEq, Eq)]
struct Passive {
    extended: bool,
    port: u16,
}

impl Passive {
    fn rewritten(&self, port: u16) -> String {
        if self.extended {
            format!("229 Entering Extended Passive Mode (|||{port}|)\r\n")
        } else {
            format!(
                "227 Entering Passive Mode (127,0,0,1,{},{})\r\n",
                port >> 8,
                port & 0xff
            )
        }
    }
}

/// Parses `227 … (h1,h2,h3,h4,p1,p2)` and `229 … (|||port|)`.
fn passive_reply(line: &[u8]) -> Option<Passive> {
    let text = std::str::from_utf8(line).ok()?;
    let inner = |text: &str| {
        let open = text.find('(')?;
        let close = open + text[open..].find(')')?;
        Some(text[open + 1..close].to_owned())
    };
    if text.starts_with("227 ") {
        let numbers: Vec<u16> = inner(text)?
            .split(',')
            .map(|n| n.trim().parse::<u8>().map(u16::from))
            .collect::<std::result::Result<_, _>>()
            .ok()?;
        let [_, _, _, _, hi, lo] = numbers[..] else {
            return None;
        };
        Some(Passive {
            extended: false,
            port: hi << 8 | lo,
        })
    } else if text.starts_with("229 ") {
        let inner = inner(text)?;
        let port = inner.strip_prefix("|||")?.strip_suffix('|')?.parse().ok()?;
        Some(Passive {
            extended: true,
            port,
        })
    } else {
        None
    }
}

/// `NNN ` ends a reply (`NNN-` opens a multi-line one; other lines continue it).
fn is_final_line(line: &[u8]) -> bool {
    line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit) && line[3] == b' '
}

/// Binds a data port of the front for libunftp's passive `port` and spawns its relay.
async fn data_port(
    peer: &Peer,
    port: u16,
    private: bool,
    tasks: &mut JoinSet<()>,
) -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let front_port = listener.local_addr()?.port();
    let backend = SocketAddr::new(peer.backend.ip(), port);
    let peer = peer.clone();
    tasks.spawn(async move {
        if let Err(e) = data_relay(listener, backend, private, &peer).await {
            tracing::debug!("implicit FTPS data connection to {backend} ended: {e}");
        }
    });
    Ok(front_port)
}

async fn data_relay(
    listener: TcpListener,
    backend: SocketAddr,
    private: bool,
    peer: &Peer,
) -> io::Result<()> {
    let (tcp, _) = with_timeout(DATA_ACCEPT_TIMEOUT, listener.accept()).await?;
    drop(listener);
    let _ = tcp.set_nodelay(true);
    // Connected before the handshake: the client waits for libunftp's `150` first.
    let upstream = TcpStream::connect(backend).await?;
    let _ = upstream.set_nodelay(true);
    // Dropped early (the client reset its side, a handshake failed), the connection to
    // libunftp is reset rather than closed, so that libunftp fails the transfer as it would
    // for a client of its own, instead of taking a cut upload for a complete one. On the
    // clean path libunftp has closed its side before the drop, so the reset costs nothing.
    upstream.set_zero_linger()?;
    if !private {
        return relay(tcp, upstream).await;
    }
    let tls = with_timeout(HANDSHAKE_TIMEOUT, peer.acceptor.accept(tcp)).await?;
    let counter = match tls.get_ref().1.handshake_kind() {
        Some(rustls::HandshakeKind::Resumed) => &peer.counters.resumed,
        _ => &peer.counters.full,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    relay(tls, upstream).await
}

/// Copies both ways until both sides have finished, passing each end-of-stream on; the
/// first error ends both directions (and the caller drops both connections).
async fn relay<A, B>(a: A, b: B) -> io::Result<()>
where
    A: AsyncRead + AsyncWrite,
    B: AsyncRead + AsyncWrite,
{
    let (a_r, a_w) = tokio::io::split(a);
    let (b_r, b_w) = tokio::io::split(b);
    tokio::try_join!(pipe(a_r, b_w), pipe(b_r, a_w)).map(drop)
}

async fn pipe<R, W>(mut from: R, mut to: W) -> io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match tokio::io::copy(&mut from, &mut to).await {
        Ok(_) => {}
        // A TLS peer that closes without close_notify has still sent all it meant to.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e),
    }
    to.shutdown().await
}

/// Reads one line (up to and including `\n`) into `line`; `false` at end of stream.
async fn read_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> io::Result<bool> {
    line.clear();
    let n = reader.take(MAX_LINE).read_until(b'\n', line).await?;
    if n as u64 == MAX_LINE && line.last() != Some(&b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("control line longer than {MAX_LINE} bytes"),
        ));
    }
    Ok(n > 0)
}

async fn with_timeout<T>(
    limit: Duration,
    fut: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("no progress in {limit:?}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> Flags {
        Flags {
            private: AtomicBool::new(true),
            feat: AtomicBool::new(false),
        }
    }

    #[test]
    fn passive_replies_are_parsed_and_rewritten() {
        let p = passive_reply(b"227 Entering Passive Mode (127,0,0,1,78,32)\r\n").unwrap();
        assert_eq!(
            p,
            Passive {
                extended: false,
                port: 78 * 256 + 32
            }
        );
        assert_eq!(
            p.rewritten(40000),
            "227 Entering Passive Mode (127,0,0,1,156,64)\r\n"
        );
        let p = passive_reply(b"229 Entering Extended Passive Mode (|||15123|)\r\n").unwrap();
        assert_eq!(
            p,
            Passive {
                extended: true,
                port: 15123
            }
        );
        assert_eq!(
            p.rewritten(7),
            "229 Entering Extended Passive Mode (|||7|)\r\n"
        );
        assert!(passive_reply(b"227 (1,2,3)\r\n").is_none());
        assert!(passive_reply(b"227 (1,2,3,4,5,300)\r\n").is_none());
        assert!(passive_reply(b"229 (|||x|)\r\n").is_none());
        assert!(passive_reply(b"226 Transfer complete (1,2,3,4,5,6)\r\n").is_none());
    }

    #[test]
    fn tls_commands_are_answered_locally() {
        let f = flags();
        assert_eq!(local_reply(b"PBSZ 0\r\n", &f).unwrap(), "200 PBSZ=0\r\n");
        assert!(local_reply(b"prot c\r\n", &f).unwrap().starts_with("200 "));
        assert!(!f.private.load(Ordering::Relaxed));
        assert!(local_reply(b"PROT P\r\n", &f).unwrap().starts_with("200 "));
        assert!(f.private.load(Ordering::Relaxed));
        assert!(local_reply(b"PROT S\r\n", &f).unwrap().starts_with("504 "));
        assert!(
            local_reply(b"AUTH TLS\r\n", &f)
                .unwrap()
                .starts_with("534 ")
        );
        assert!(
            local_reply(b"EPRT |1|127.0.0.1|5000|\r\n", &f)
                .unwrap()
                .starts_with("502 ")
        );
        assert_eq!(local_reply(b"RETR a.jpg\r\n", &f), None);
        assert_eq!(local_reply(b"FEAT\r\n", &f), None);
        assert!(f.feat.load(Ordering::Relaxed));
    }

    #[test]
    fn final_reply_lines_are_told_apart() {
        assert!(is_final_line(b"211 END\r\n"));
        assert!(!is_final_line(b"211-Extensions supported:\r\n"));
        assert!(!is_final_line(b" MLSD\r\n"));
        assert!(!is_final_line(b"21\r\n"));
    }
}
