//! What every connection to one server shares, and the pool of its control connections.
//!
//! - A semaphore caps the connections open at once (`pool.max_connections`); a caller
//!   holds a permit for as long as it holds a connection, a read or a listing stream
//!   included.
//! - Idle connections wait in a stack (the most recently used is reused first, so the
//!   others age out). One idle longer than `pool.idle_timeout` is closed; one idle longer
//!   than `pool.health_check_after` is checked with `NOOP` before reuse.
//! - A connection goes back to the pool only through [`Server::release`], and only while
//!   its control channel is in step ([`Conn::healthy`]). Anything else — an error that
//!   left a reply unread, a transfer dropped half-way — drops it, which closes it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::{FtpConfig, server_path};
use super::connect::Opening;
use super::core::Conn;
use super::parse::Features;
use crate::error::{Error, Operation, Result};
use crate::path::RemotePath;

/// One FTP server as the backend sees it: settings, what it can do, and its connections.
#[derive(Debug)]
pub(super) struct Server {
    pub(super) cfg: FtpConfig,
    /// The server path of the backend root (see `config::resolve_root`).
    pub(super) root: String,
    pub(super) features: Features,
    /// Cleared when the server refuses `EPSV`, so that new connections go to `PASV` at once.
    epsv: AtomicBool,
    /// FTPS: open connections with TLS 1.2 (the server issues no TLS 1.3 tickets).
    tls12: bool,
    /// Caps the connections in use or idle; see the module docs.
    permits: Arc<Semaphore>,
    /// Idle, logged-in connections. A std mutex: it is never held across an await.
    idle: Mutex<Vec<Conn>>,
}

/// A connection taken from the pool, with the permit that counts it.
#[derive(Debug)]
pub(super) struct Pooled {
    pub(super) conn: Conn,
    _permit: OwnedSemaphorePermit,
}

impl Server {
    /// The server, with `first` (the connection that discovered `features` and `root`)
    /// as its first idle connection.
    pub(super) fn new(
        cfg: FtpConfig,
        root: String,
        features: Features,
        first: Conn,
        tls12: bool,
    ) -> Self {
        let epsv = features.epsv;
        let max = cfg.pool.max_connections;
        Server {
            cfg,
            root,
            features,
            epsv: AtomicBool::new(epsv),
            tls12,
            permits: Arc::new(Semaphore::new(max)),
            idle: Mutex::new(vec![first]),
        }
    }

    /// The server path of `rel`.
    pub(super) fn path(&self, rel: &RemotePath) -> String {
        server_path(&self.root, rel)
    }

    /// A connection: an idle one still alive, else a new one. Waits while the cap is reached.
    pub(super) async fn get(&self) -> Result<Pooled> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Connection {
                op: Operation::Connect,
                endpoint: self.cfg.endpoint.clone(),
                message: "connection pool closed".into(),
                source: None,
            })?;
        let idle_timeout = self.cfg.pool.idle_timeout;
        loop {
            let next = {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                idle.retain(|c| c.last_used.elapsed() <= idle_timeout);
                idle.pop()
            };
            let Some(mut conn) = next else { break };
            if conn.last_used.elapsed() >= self.cfg.pool.health_check_after
                && conn.noop().await.is_err()
            {
                tracing::debug!(endpoint = %self.cfg.endpoint, "idle FTP connection failed NOOP; dropped");
                continue;
            }
            return Ok(Pooled {
                conn,
                _permit: permit,
            });
        }
        Ok(Pooled {
            conn: self.open().await?,
            _permit: permit,
        })
    }

    /// A new connection (no permit taken: callers hold one).
    pub(super) async fn open(&self) -> Result<Conn> {
        let how = Opening {
            epsv: self.epsv.load(Ordering::Relaxed),
            utf8: self.features.utf8,
            tls12: self.tls12,
        };
        Conn::open(&self.cfg, how).await
    }

    /// Replaces a connection that failed with a fresh one, keeping its permit.
    pub(super) async fn reconnect(&self, pooled: &mut Pooled) -> Result<()> {
        pooled.conn = self.open().await?;
        Ok(())
    }

    /// Hands a connection back: pooled if its control channel is in step, else closed.
    pub(super) fn release(&self, pooled: Pooled) {
        let Pooled { mut conn, _permit } = pooled;
        if conn.healthy {
            conn.last_used = Instant::now();
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
        // `_permit` is dropped here, after the connection is back: a waiter finds it.
    }

    /// Remembers that the server refused `EPSV`.
    pub(super) fn epsv_refused(&self) {
        if self.epsv.swap(false, Ordering::Relaxed) {
            tracing::debug!(endpoint = %self.cfg.endpoint, "server refused EPSV; using PASV");
        }
    }

    /// Idle connections right now (for tests and diagnostics).
    pub(super) fn idle_count(&self) -> usize {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
