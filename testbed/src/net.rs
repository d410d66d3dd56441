//! Small networking helpers.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

/// A `127.0.0.1` port that was free a moment ago.
///
/// For servers that bind by address themselves (libunftp). Another process may take the
/// port before the server binds it, so callers confirm the server answers and retry.
pub(crate) fn probe_free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}
