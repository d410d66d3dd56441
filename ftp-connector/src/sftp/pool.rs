//! A pool of SSH sessions: up to `pool.max_connections` connections, each carrying
//! several transfers at once.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use super::core::{Connector, Session};
use crate::error::{Error, Operation, Result};

/// Operations one session carries at once before the pool prefers opening another
/// connection; also the per-session share of the overall bound.
pub(crate) const STREAMS_PER_SESSION: usize = 8;

struct Slot {
    session: Arc<Session>,
    /// Leases out on this session.
    active: usize,
    /// When `active` last dropped to zero.
    idle_since: Instant,
}

#[derive(Default)]
struct State {
    slots: Vec<Slot>,
    /// Connections being opened right now (they count against the cap).
    connecting: usize,
}

/// The shared part of the pool.
pub(crate) struct PoolInner {
    pub(crate) connector: Connector,
    /// A std mutex: it is only held to pick or count, never across an `.await`.
    state: Mutex<State>,
    /// Bounds the operations in flight over all sessions, so that a burst of callers
    /// waits here instead of piling requests (and open handles) onto the server.
    permits: Arc<Semaphore>,
    /// Wakes callers waiting for a connection that another caller is opening.
    opened: Notify,
}

/// The pool; cheap to clone.
#[derive(Clone)]
pub(crate) struct Pool(Arc<PoolInner>);

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (sessions, active) = self
            .0
            .state
            .lock()
            .map(|s| {
                (
                    s.slots.len(),
                    s.slots.iter().map(|s| s.active).sum::<usize>(),
                )
            })
            .unwrap_or_default();
        f.debug_struct("Pool")
            .field("connector", &self.0.connector)
            .field("sessions", &sessions)
            .field("active", &active)
            .finish()
    }
}

/// The right to use one session for one operation; given back on drop.
pub(crate) struct Lease {
    pool: Weak<PoolInner>,
    pub(crate) session: Arc<Session>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// A lease outside any pool (unit tests).
    #[cfg(test)]
    pub(crate) fn detached(session: Arc<Session>) -> Lease {
        let permit = Arc::new(Semaphore::new(1)).try_acquire_owned();
        Lease {
            pool: Weak::new(),
            session,
            _permit: permit.unwrap(),
        }
    }
}

impl std::ops::Deref for Lease {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let Some(pool) = self.pool.upgrade() else {
            return;
        };
        if let Ok(mut state) = pool.state.lock()
            && let Some(slot) = state
                .slots
                .iter_mut()
                .find(|s| Arc::ptr_eq(&s.session, &self.session))
        {
            slot.active = slot.active.saturating_sub(1);
            if slot.active == 0 {
                slot.idle_since = Instant::now();
            }
        }
    }
}

/// Marks one connection as being opened; on drop, unmarks it and wakes the waiters.
struct Connecting<'a>(&'a Pool);

impl Drop for Connecting<'_> {
    fn drop(&mut self) {
        self.0.lock().connecting -= 1;
        self.0.0.opened.notify_waiters();
    }
}

enum Pick {
    /// This session; `check` when it has been idle long enough to need a health check.
    Use {
        session: Arc<Session>,
        check: bool,
    },
    Open,
    Wait,
}

impl Pool {
    /// A pool that opens its first connection now, so that bad credentials or an untrusted
    /// host fail at once; the connection is kept for later use.
    pub(crate) async fn start(connector: Connector) -> Result<Self> {
        let max = connector.settings.max_connections;
        let idle = connector.settings.idle_timeout;
        let first = connector.open().await?;
        let inner = Arc::new(PoolInner {
            connector,
            state: Mutex::new(State {
                slots: vec![Slot {
                    session: Arc::new(first),
                    active: 0,
                    idle_since: Instant::now(),
                }],
                connecting: 0,
            }),
            permits: Arc::new(Semaphore::new(max * STREAMS_PER_SESSION)),
            opened: Notify::new(),
        });
        spawn_reaper(Arc::downgrade(&inner), idle);
        Ok(Pool(inner))
    }

    pub(crate) fn connector(&self) -> &Connector {
        &self.0.connector
    }

    /// A session for one operation: an idle one, else a new connection while under the
    /// cap, else the least busy one.
    pub(crate) async fn get(&self) -> Result<Lease> {
        loop {
            let permit =
                self.0
                    .permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Error::Connection {
                        op: Operation::Connect,
                        endpoint: self.0.connector.settings.endpoint(),
                        message: "the pool is closed".into(),
                        source: None,
                    })?;
            let notified = self.0.opened.notified();
            tokio::pin!(notified);
            // Register for a wake-up before looking, so that none is missed.
            notified.as_mut().enable();
            match self.pick() {
                Pick::Use { session, check } => {
                    let lease = self.lease(session, permit);
                    // A connection idle for a while may have died silently (a NAT or a
                    // firewall forgot it): ask before trusting it with an operation.
                    if check && !lease.answers().await {
                        lease.mark_broken();
                        continue;
                    }
                    return Ok(lease);
                }
                Pick::Wait => {
                    drop(permit);
                    notified.await;
                }
                Pick::Open => {
                    // Counts the connection as "being opened" until it is in the pool or
                    // has failed, even if this future is dropped half-way.
                    let connecting = Connecting(self);
                    let session = Arc::new(self.0.connector.open().await?);
                    self.lock().slots.push(Slot {
                        session: session.clone(),
                        active: 1,
                        idle_since: Instant::now(),
                    });
                    drop(connecting);
                    return Ok(self.lease(session, permit));
                }
            }
        }
    }

    fn lease(&self, session: Arc<Session>, permit: OwnedSemaphorePermit) -> Lease {
        Lease {
            pool: Arc::downgrade(&self.0),
            session,
            _permit: permit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counts inconsistent enough to
        // matter; carry on with the data.
        self.0.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pick(&self) -> Pick {
        let max = self.0.connector.settings.max_connections;
        let mut guard = self.lock();
        let state = &mut *guard;
        retire(&mut state.slots, None);
        let alive = state.slots.iter().filter(|s| s.session.is_alive()).count();
        let least = state
            .slots
            .iter_mut()
            .filter(|s| s.session.is_alive())
            .min_by_key(|s| s.active);
        match least {
            Some(slot) if slot.active == 0 => {
                slot.active += 1;
                Pick::Use {
                    session: slot.session.clone(),
                    check: slot.idle_since.elapsed()
                        >= self.0.connector.settings.health_check_after,
                }
            }
            _ if alive + state.connecting < max => {
                state.connecting += 1;
                Pick::Open
            }
            Some(slot) => {
                slot.active += 1;
                Pick::Use {
                    session: slot.session.clone(),
                    check: false,
                }
            }
            None => Pick::Wait,
        }
    }

    /// Closes every idle session.
    pub(crate) fn close_idle(&self) {
        let mut state = self.lock();
        retire(&mut state.slots, Some(Duration::ZERO));
    }
}

/// Drops dead sessions no longer in use, and idle ones older than `idle` when given.
/// Dropped sessions are closed in the background. A dead session still in use stays
/// listed until its last lease goes, but `pick` never hands it out again.
fn retire(slots: &mut Vec<Slot>, idle: Option<Duration>) {
    slots.retain(|slot| {
        let dead = !slot.session.is_alive();
        let stale = idle.is_some_and(|d| slot.idle_since.elapsed() >= d);
        if slot.active > 0 || !(dead || stale) {
            return true;
        }
        let session = slot.session.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { session.close().await });
        }
        false
    });
}

/// Closes sessions idle for longer than `idle`, until the pool is dropped.
fn spawn_reaper(pool: Weak<PoolInner>, idle: Duration) {
    let period = (idle / 2).max(Duration::from_secs(1));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(pool) = pool.upgrade() else { return };
            if let Ok(mut state) = pool.state.lock() {
                retire(&mut state.slots, Some(idle));
            }
        }
    });
}
