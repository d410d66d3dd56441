//! [`EmulatorBuilder`]: settings, and start-up (data directory, snapshot, account, listener).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use tokio_util::sync::CancellationToken;

use crate::api;
use crate::emulator::Emulator;
use crate::error::{Error, Result};
use crate::faults::FaultSet;
use crate::ids::{self, Kind};
use crate::library::Library;
use crate::log::RequestLog;
use crate::state::{Account, Org, Persist, Shared};
use crate::{server, snapshot};

/// The default user's e-mail address (the password is generated; see [`Emulator::password`]).
pub const DEFAULT_EMAIL: &str = "photographer@example.com";

/// File name of the snapshot kept in an explicit data directory.
pub const SNAPSHOT_FILE: &str = "emulator-snapshot.json";

/// Configures an [`Emulator`] before starting it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let emu = photoshelter_emulator::Emulator::builder()
///     .data_dir(dir.path())
///     .port(0)
///     .organization(true)
///     .start()
///     .await?;
/// assert!(emu.org_id().is_some());
/// assert!(dir.path().join("emulator-snapshot.json").exists());
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct EmulatorBuilder {
    data_dir: Option<PathBuf>,
    snapshot: Option<PathBuf>,
    host: Option<IpAddr>,
    port: u16,
    organization: bool,
    api_key: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorBuilder")
            .field("data_dir", &self.data_dir)
            .field("snapshot", &self.snapshot)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("organization", &self.organization)
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// Where originals (and, unless [`snapshot`](Self::snapshot) says otherwise, the
    /// snapshot `emulator-snapshot.json`) are kept. Default: a temporary directory removed
    /// when the emulator stops, with no snapshot.
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().data_dir("./ps-data");
    /// ```
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// A JSON snapshot of the account and library metadata: loaded at start when it
    /// exists, written after changes and at shutdown. Pair it with a persistent
    /// [`data_dir`](Self::data_dir), which holds the originals it refers to.
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().snapshot("./ps-data/state.json");
    /// ```
    pub fn snapshot(mut self, path: impl Into<PathBuf>) -> Self {
        self.snapshot = Some(path.into());
        self
    }

    /// TCP port on 127.0.0.1; 0 (the default) picks a free one.
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().port(8080);
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Address to listen on (default 127.0.0.1).
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().host([127, 0, 0, 1].into());
    /// ```
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = Some(host);
        self
    }

    /// Make the user a member of one organisation whose library needs
    /// `mem/organization/{id}/authenticate` before use. Seeded objects then belong to the
    /// organisation. Default: a personal account without organisation.
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().organization(true);
    /// ```
    pub fn organization(mut self, yes: bool) -> Self {
        self.organization = yes;
        self
    }

    /// A fixed API key (11 characters of `[A-Za-z0-9._]`). Default: generated.
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().api_key("DevKey_0001");
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The user's e-mail address. Default: [`DEFAULT_EMAIL`].
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().email("me@example.org");
    /// ```
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// A fixed password. Default: generated.
    ///
    /// ```
    /// let b = photoshelter_emulator::Emulator::builder().password("local-only");
    /// ```
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Binds the listener and starts serving.
    #[tracing::instrument(skip(self), fields(port = self.port, organization = self.organization))]
    pub async fn start(self) -> Result<Emulator> {
        let (data_dir, temp) = match &self.data_dir {
            Some(d) => (d.clone(), None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("ps-emulator-")
                    .tempdir()
                    .map_err(|e| Error::io("create", std::env::temp_dir(), e))?;
                (t.path().to_owned(), Some(t))
            }
        };
        for sub in ["originals", "tmp"] {
            let p = data_dir.join(sub);
            std::fs::create_dir_all(&p).map_err(|e| Error::io("create", &p, e))?;
        }
        clear_dir(&data_dir.join("tmp"));
        let snapshot_path = self
            .snapshot
            .clone()
            .or_else(|| self.data_dir.as_ref().map(|d| d.join(SNAPSHOT_FILE)));
        let loaded = match &snapshot_path {
            Some(p) => snapshot::load(p)?,
            None => None,
        };
        let (account, library) = self.account(loaded)?;
        let host = self.host.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let addr = SocketAddr::new(host, self.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Error::Bind {
                addr: addr.to_string(),
                source: e,
            })?;
        let addr = listener.local_addr().map_err(|e| Error::Bind {
            addr: addr.to_string(),
            source: e,
        })?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            account,
            data_dir,
            link_secret: ids::random_alnum(24),
            library: RwLock::new(library),
            sessions: Mutex::new(HashMap::new()),
            faults: Mutex::new(FaultSet::default()),
            log: Mutex::new(RequestLog::default()),
            persist: snapshot_path.map(|path| Persist {
                path,
                dirty: AtomicBool::new(false),
                notify: tokio::sync::Notify::new(),
                save_lock: Mutex::new(()),
            }),
        });
        shared.install_oauth();
        if shared.persist.is_some() {
            snapshot::save(&shared).await?;
        }
        let stop = CancellationToken::new();
        let server = tokio::spawn(server::serve(
            listener,
            api::router(Arc::clone(&shared)),
            stop.clone(),
        ));
        let writer = tokio::spawn(snapshot::writer(Arc::clone(&shared), stop.clone()));
        tracing::info!(base_url = %shared.base_url, "PhotoShelter emulator listening");
        Ok(Emulator::new(shared, stop, vec![server, writer], temp))
    }

    fn account(&self, loaded: Option<(Account, Library)>) -> Result<(Account, Library)> {
        let (mut account, library) = match loaded {
            Some((a, l)) => (a, l),
            None => (
                Account {
                    user_id: ids::new_id(Kind::User),
                    email: DEFAULT_EMAIL.into(),
                    password: ids::random_alnum(16),
                    api_key: ids::random_alnum(11),
                    oauth_token: ids::random_alnum(32),
                    org: None,
                },
                Library::default(),
            ),
        };
        if let Some(k) = &self.api_key {
            if !ids::is_api_key_shape(k) {
                return Err(Error::InvalidInput {
                    field: "api_key",
                    message: "must be 11 characters of [A-Za-z0-9._]".into(),
                });
            }
            account.api_key = k.clone();
        }
        if let Some(e) = &self.email {
            account.email = e.clone();
        }
        if let Some(p) = &self.password {
            if p.is_empty() {
                return Err(Error::InvalidInput {
                    field: "password",
                    message: "must not be empty".into(),
                });
            }
            account.password = p.clone();
        }
        if self.organization && account.org.is_none() {
            account.org = Some(Org {
                id: ids::new_id(Kind::Organization),
                name: "Emulated Organization".into(),
            });
        }
        Ok((account, library))
    }
}

fn clear_dir(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
