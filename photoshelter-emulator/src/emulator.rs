//! [`Emulator`]: start, inspect, seed and stop a local PhotoShelter API.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{self, store_original};
use crate::builder::EmulatorBuilder;
use crate::error::{Error, Result};
use crate::faults::Faults;
use crate::library::{Ctx, LibError, Mode, NewContainer};
use crate::log::RequestRecord;
use crate::snapshot;
use crate::state::Shared;

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
    pub(crate) fn new(
        shared: Arc<Shared>,
        stop: CancellationToken,
        tasks: Vec<JoinHandle<()>>,
        temp: Option<tempfile::TempDir>,
    ) -> Emulator {
        Emulator {
            shared,
            stop,
            tasks,
            _temp: temp,
        }
    }

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
    #[tracing::instrument(skip(self, bytes))]
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
    #[tracing::instrument(skip(self))]
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
    #[tracing::instrument(skip(self))]
    pub async fn reset(&self, wipe_data: bool) {
        api::reset(&self.shared, wipe_data).await;
    }

    /// Writes the snapshot now (a no-op without one).
    #[tracing::instrument(skip(self))]
    pub async fn save_snapshot(&self) -> Result<()> {
        snapshot::save(&self.shared).await
    }

    /// Stops accepting, lets in-flight requests finish, writes the snapshot.
    #[tracing::instrument(skip(self), fields(base_url = %self.shared.base_url))]
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
