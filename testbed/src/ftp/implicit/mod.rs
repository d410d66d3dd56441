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
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufRead, AsyncBufReadExt as _, AsyncReadExt as _};
use tokio::io::{AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::Result;
use lines::{Flags, is_final_line, local_reply, passive_reply};

mod data;
mod lines;

/// Longest control line accepted from either side (a long path fits many times over).
const MAX_LINE: u64 = 64 * 1024;
/// How long a client gets to finish a TLS handshake.
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a data port waits for the client to connect after a `227`/`229` reply.
pub(super) const DATA_ACCEPT_TIMEOUT: Duration = Duration::from_secs(30);
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
pub(super) struct Counters {
    pub(super) full: AtomicU64,
    pub(super) resumed: AtomicU64,
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
pub(super) struct Peer {
    pub(super) backend: SocketAddr,
    pub(super) acceptor: TlsAcceptor,
    pub(super) counters: Arc<Counters>,
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
    let flags = Flags::new();

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
            let private = flags.private();
            out = match data::data_port(peer, reply.port, private, &mut data).await {
                Ok(port) => reply.rewritten(port).into_bytes(),
                Err(e) => format!("425 Cannot open a data port: {e}\r\n").into_bytes(),
            };
        } else if is_final_line(&line) && flags.take_feat() {
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

pub(super) async fn with_timeout<T>(
    limit: Duration,
    fut: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("no progress in {limit:?}")))?
}
