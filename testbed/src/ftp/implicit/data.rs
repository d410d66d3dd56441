//! Data connections: one port of the front per passive reply, relayed to libunftp's.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::{DATA_ACCEPT_TIMEOUT, HANDSHAKE_TIMEOUT, Peer, with_timeout};

/// Binds a data port of the front for libunftp's passive `port` and spawns its relay.
pub(super) async fn data_port(
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
