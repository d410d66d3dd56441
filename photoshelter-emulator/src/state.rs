//! State shared by every connection: the account, sessions, the library, faults, the log.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::faults::FaultSet;
use crate::ids;
use crate::library::Library;
use crate::log::RequestLog;

/// The organisation the default user belongs to (with `organization(true)`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Org {
    pub id: String,
    pub name: String,
}

/// The single account the emulator serves. Holds secrets: `Debug` leaves them out.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Account {
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub api_key: String,
    /// A pre-issued OAuth access token, accepted as `Authorization: Bearer`.
    pub oauth_token: String,
    pub org: Option<Org>,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("user_id", &self.user_id)
            .field("email", &self.email)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// A login session (or the OAuth token's pseudo-session) of the single user.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The organisation entered with `mem/organization/{id}/authenticate`.
    pub org: Option<String>,
    /// Authenticated calls made with this token (for the `session_lifetime` fault).
    pub calls: u64,
    pub oauth: bool,
}

/// What the session middleware hands to handlers.
#[derive(Debug, Clone)]
pub(crate) struct SessionCtx {
    pub token: String,
    pub org: Option<String>,
}

/// Snapshot bookkeeping: a dirty flag and a wake-up for the background writer.
#[derive(Debug)]
pub(crate) struct Persist {
    pub path: PathBuf,
    pub dirty: AtomicBool,
    /// Wakes the snapshot task after a change; it debounces and writes once.
    pub notify: tokio::sync::Notify,
    /// Serialises snapshot writes so that an older state never overwrites a newer one. A
    /// `std` mutex: it is held only inside blocking code (`spawn_blocking` or `Drop`).
    pub save_lock: Mutex<()>,
}

/// Everything the handlers share. Each lock is a `std::sync` lock held only for short,
/// synchronous work (never across `.await`):
/// - `library` (RwLock): metadata, read by every browse call, written by creates/uploads;
/// - `sessions` (Mutex): token table, touched once per authenticated call;
/// - `faults` (Mutex): rule counters, updated once per call;
/// - `log` (Mutex): the request log, appended once per call.
#[derive(Debug)]
pub(crate) struct Shared {
    pub base_url: String,
    pub account: Account,
    pub data_dir: PathBuf,
    /// Secret for the `sec=` segment of `auth_link` URLs.
    pub link_secret: String,
    pub library: RwLock<Library>,
    pub sessions: Mutex<HashMap<String, Session>>,
    pub faults: Mutex<FaultSet>,
    pub log: Mutex<RequestLog>,
    pub persist: Option<Persist>,
}

pub(crate) type AppState = Arc<Shared>;

impl Shared {
    pub(crate) fn lib(&self) -> RwLockReadGuard<'_, Library> {
        self.library.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn lib_mut(&self) -> RwLockWriteGuard<'_, Library> {
        self.library.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn sessions(&self) -> MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultSet> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the library changed so that the snapshot task writes it.
    pub(crate) fn changed(&self) {
        if let Some(p) = &self.persist {
            p.dirty.store(true, Ordering::Release);
            p.notify.notify_one();
        }
    }

    /// Issues a new login token for the default user.
    pub(crate) fn new_session(&self) -> String {
        let token = ids::random_alnum(20);
        self.sessions().insert(
            token.clone(),
            Session {
                org: None,
                calls: 0,
                oauth: false,
            },
        );
        token
    }

    /// Registers the account's OAuth token (at start and after a reset).
    pub(crate) fn install_oauth(&self) {
        self.sessions().insert(
            self.account.oauth_token.clone(),
            Session {
                org: None,
                calls: 0,
                oauth: true,
            },
        );
    }

    /// Invalidates every login token (OAuth tokens stay valid: they cannot be renewed by login).
    pub(crate) fn expire_sessions(&self) -> usize {
        let mut s = self.sessions();
        let before = s.len();
        s.retain(|_, v| v.oauth);
        before - s.len()
    }
}
