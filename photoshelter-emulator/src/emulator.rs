//! [`Emulator`]: start, inspect, seed and stop a local PhotoShelter API.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{self, store_original};
use crate::error::{Error, Result};
use crate::faults::{FaultSet, Faults};
use crate::ids::{self, Kind};
use crate::library::{Ctx, LibError, Library, Mode, NewContainer};
use crate::log::{RequestLog, RequestRecord};
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
        Ok(Emulator {
            shared,
            stop,
            tasks: vec![server, writer],
            _temp: temp,
        })
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

/// A stored image as the emulator sees it (for assertions in tests).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageInfo {
    /// `I0000…` id.
    pub id: String,
    /// The uploaded file name.
    pub file_name: String,
    /// Size of the original in bytes.
    pub file_size: u64,
    /// Pixel width read from the file (0 when unknown).
    pub width: u32,
    /// Pixel height read from the file (0 when unknown).
    pub height: u32,
    /// Galleries holding it.
    pub galleries: Vec<String>,
    /// Its IPTC fields (API names).
    pub iptc: BTreeMap<String, String>,
}

/// A running PhotoShelter emulator on 127.0.0.1. Stops when dropped (or with
/// [`shutdown`](Self::shutdown), which also waits for in-flight requests).
pub struct Emulator {
    shared: Arc<Shared>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    _temp: Option<tempfile::TempDir>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.shared.base_url)
            .field("data_dir", &self.shared.data_dir)
            .field("account", &self.shared.account)
            .finish_non_exhaustive()
    }
}

fn lib_error(e: LibError) -> Error {
    match e {
        LibError::NotFound { what, id } => Error::NotFound { what, id },
        LibError::Conflict { what, name, parent } => Error::Conflict { what, name, parent },
        LibError::Invalid { field, message } => Error::InvalidInput { field, message },
        LibError::OrgContext { id } => Error::InvalidInput {
            field: "id",
            message: format!("{id} is out of context"),
        },
    }
}

impl Emulator {
    /// Starts an emulator with the defaults: 127.0.0.1 on a free port, a temporary data
    /// directory, a personal account (no organisation), generated API key and password.
    pub async fn start() -> Result<Emulator> {
        EmulatorBuilder::default().start().await
    }

    /// A builder for other settings.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// `http://127.0.0.1:PORT` (the SDK appends `/psapi/v3/…`).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The API key to send as `X-PS-Api-Key`.
    pub fn api_key(&self) -> &str {
        &self.shared.account.api_key
    }

    /// The user's e-mail address.
    pub fn email(&self) -> &str {
        &self.shared.account.email
    }

    /// The user's password.
    pub fn password(&self) -> &str {
        &self.shared.account.password
    }

    /// The user's id (`U0000…`).
    pub fn user_id(&self) -> &str {
        &self.shared.account.user_id
    }

    /// The organisation the user belongs to (`O0000…`), when started with `organization(true)`.
    pub fn org_id(&self) -> Option<&str> {
        self.shared.account.org.as_ref().map(|o| o.id.as_str())
    }

    /// An OAuth access token accepted as `Authorization: Bearer …` (it never expires).
    pub fn oauth_token(&self) -> &str {
        &self.shared.account.oauth_token
    }

    /// Where originals are stored.
    pub fn data_dir(&self) -> &Path {
        &self.shared.data_dir
    }

    /// Fault injection (same effect as the admin API).
    pub fn faults(&self) -> Faults {
        Faults {
            shared: Arc::clone(&self.shared),
        }
    }

    fn seed_ctx(&self) -> Ctx {
        Ctx::admin(self.org_id().map(str::to_owned))
    }

    fn seed_container(&self, name: &str, parent: Option<&str>) -> NewContainer {
        NewContainer {
            name: name.to_owned(),
            parent: parent.filter(|p| *p != "root").map(str::to_owned),
            description: String::new(),
            f_list: false,
            mode: Mode::Private,
        }
    }

    /// Creates a collection (in the organisation's library with `organization(true)`);
    /// `parent` is a collection id, or `None` for the top level. Returns its id.
    pub fn seed_collection(&self, name: &str, parent: Option<&str>) -> Result<String> {
        let new = self.seed_container(name, parent);
        let id = self
            .shared
            .lib_mut()
            .insert_collection(&self.seed_ctx(), new)
            .map_err(lib_error)?
            .id
            .clone();
        self.shared.changed();
        Ok(id)
    }

    /// Creates a gallery; `parent` is a collection id, or `None` for the top level.
    /// Returns its id.
    pub fn seed_gallery(&self, name: &str, parent: Option<&str>) -> Result<String> {
        let new = self.seed_container(name, parent);
        let id = self
            .shared
            .lib_mut()
            .insert_gallery(&self.seed_ctx(), new)
            .map_err(lib_error)?
            .id
            .clone();
        self.shared.changed();
        Ok(id)
    }

    /// Stores an image in a gallery as an upload would (metadata extracted). Returns its id.
    pub async fn seed_image(
        &self,
        gallery_id: &str,
        file_name: &str,
        bytes: impl AsRef<[u8]>,
    ) -> Result<String> {
        let mut tmp = api::TempOriginal::new(&self.shared);
        let bytes = bytes.as_ref();
        tokio::fs::write(&tmp.path, bytes)
            .await
            .map_err(|e| Error::io("write", &tmp.path, e))?;
        tmp.size = bytes.len() as u64;
        let name = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or("")
            .to_owned();
        if name.is_empty() || name == "." || name == ".." {
            return Err(Error::InvalidInput {
                field: "file_name",
                message: format!("unusable: {file_name:?}"),
            });
        }
        store_original(&self.shared, &self.seed_ctx(), gallery_id, name, tmp, true)
            .await
            .map(|img| img.id)
            .map_err(|e| match e.status.as_u16() {
                404 => Error::NotFound {
                    what: "gallery",
                    id: gallery_id.to_owned(),
                },
                _ => Error::InvalidInput {
                    field: "image",
                    message: e.message,
                },
            })
    }

    /// A stored image's record, or `None`.
    pub fn image(&self, id: &str) -> Option<ImageInfo> {
        let lib = self.shared.lib();
        lib.images.get(id).map(|i| ImageInfo {
            id: i.id.clone(),
            file_name: i.file_name.clone(),
            file_size: i.file_size,
            width: i.width,
            height: i.height,
            galleries: i.galleries.clone(),
            iptc: i.iptc.clone(),
        })
    }

    /// A stored image's IPTC fields (API names), or `None` for an unknown id.
    pub fn image_iptc(&self, id: &str) -> Option<BTreeMap<String, String>> {
        self.shared.lib().images.get(id).map(|i| i.iptc.clone())
    }

    /// The bytes of a stored original (reads the whole file: for tests with small files).
    pub async fn image_bytes(&self, id: &str) -> Result<Vec<u8>> {
        let rel = self
            .shared
            .lib()
            .images
            .get(id)
            .map(|i| i.file.clone())
            .ok_or_else(|| Error::NotFound {
                what: "image",
                id: id.to_owned(),
            })?;
        let path = self.shared.data_dir.join(rel);
        tokio::fs::read(&path)
            .await
            .map_err(|e| Error::io("read", path, e))
    }

    /// Ids of the images in a gallery, in order.
    pub fn gallery_images(&self, gallery_id: &str) -> Result<Vec<String>> {
        let lib = self.shared.lib();
        let g = lib
            .galleries
            .get(gallery_id)
            .ok_or_else(|| Error::NotFound {
                what: "gallery",
                id: gallery_id.to_owned(),
            })?;
        Ok(g.images.clone())
    }

    /// How many images the library holds.
    pub fn image_count(&self) -> usize {
        self.shared.lib().images.len()
    }

    /// Every API call received so far (oldest first; admin calls excluded).
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.shared.log().all()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        self.shared.log().clear();
    }

    /// Clears faults, the request log and sessions; with `wipe_data` also the whole library.
    pub async fn reset(&self, wipe_data: bool) {
        api::reset(&self.shared, wipe_data).await;
    }

    /// Writes the snapshot now (a no-op without one).
    pub async fn save_snapshot(&self) -> Result<()> {
        snapshot::save(&self.shared).await
    }

    /// Stops accepting, lets in-flight requests finish, writes the snapshot.
    pub async fn shutdown(mut self) -> Result<()> {
        self.stop.cancel();
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        snapshot::save(&self.shared).await
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.cancel();
        let dirty = self
            .shared
            .persist
            .as_ref()
            .is_some_and(|p| p.dirty.load(Ordering::Acquire));
        if dirty && let Err(e) = snapshot::save_blocking(&self.shared) {
            tracing::warn!(error = %e, "snapshot not written at drop");
        }
    }
}
