//! The optional JSON snapshot of the account and library metadata.
//!
//! Loaded once at start. Written after changes by a background task (debounced: at most
//! one write per [`DEBOUNCE`], however many changes), on `shutdown()`, on drop, and on
//! `POST /_emulator/snapshot`. Writes go to a temporary file that is then renamed, so a
//! crash never leaves half a snapshot. Originals are not in the snapshot: they stay in the
//! data directory, which the snapshot refers to by relative paths.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::library::{Collection, Gallery, Image, Library};
use crate::state::{Account, Shared};

/// Quiet time after a change before the snapshot is written.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(250);

const FORMAT: &str = "photoshelter-emulator/1";

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotFile {
    format: String,
    account: Account,
    collections: Vec<Collection>,
    galleries: Vec<Gallery>,
    images: Vec<Image>,
    next_seq: u64,
}

/// Reads a snapshot; `Ok(None)` when the file does not exist yet.
pub(crate) fn load(path: &Path) -> Result<Option<(Account, Library)>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let snap: SnapshotFile = serde_json::from_slice(&bytes).map_err(|e| Error::Snapshot {
        path: path.to_owned(),
        message: format!("line {}, column {}: {e}", e.line(), e.column()),
    })?;
    if snap.format != FORMAT {
        return Err(Error::Snapshot {
            path: path.to_owned(),
            message: format!("unknown format {:?}, expected {FORMAT:?}", snap.format),
        });
    }
    let mut lib = Library {
        next_seq: snap.next_seq,
        ..Default::default()
    };
    for c in snap.collections {
        lib.collections.insert(c.id.clone(), c);
    }
    for g in snap.galleries {
        lib.galleries.insert(g.id.clone(), g);
    }
    for i in snap.images {
        lib.images.insert(i.id.clone(), i);
    }
    Ok(Some((snap.account, lib)))
}

/// Writes the snapshot now (blocking; call from `spawn_blocking` or `Drop`).
pub(crate) fn save_blocking(state: &Shared) -> Result<()> {
    let Some(persist) = &state.persist else {
        return Ok(());
    };
    let _guard = persist
        .save_lock
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    persist.dirty.store(false, Ordering::Release);
    let lib = state.lib().clone();
    let mut collections: Vec<Collection> = lib.collections.into_values().collect();
    collections.sort_by_key(|c| c.seq);
    let mut galleries: Vec<Gallery> = lib.galleries.into_values().collect();
    galleries.sort_by_key(|g| g.seq);
    let mut images: Vec<Image> = lib.images.into_values().collect();
    images.sort_by_key(|i| i.seq);
    let snap = SnapshotFile {
        format: FORMAT.into(),
        account: state.account.clone(),
        collections,
        galleries,
        images,
        next_seq: lib.next_seq,
    };
    let result = write_atomically(&persist.path, &snap);
    if result.is_err() {
        persist.dirty.store(true, Ordering::Release);
    }
    result
}

fn write_atomically(path: &Path, snap: &SnapshotFile) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(snap).map_err(|e| Error::Snapshot {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))
}

/// Writes the snapshot now, off the async threads.
pub(crate) async fn save(state: &Arc<Shared>) -> Result<()> {
    let s = Arc::clone(state);
    tokio::task::spawn_blocking(move || save_blocking(&s))
        .await
        .map_err(|e| Error::Snapshot {
            path: Default::default(),
            message: format!("snapshot task: {e}"),
        })?
}

/// The background writer: waits for a change, lets changes settle, writes once.
pub(crate) async fn writer(state: Arc<Shared>, stop: CancellationToken) {
    let Some(persist) = &state.persist else {
        return;
    };
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = persist.notify.notified() => {}
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(DEBOUNCE) => {}
        }
        if persist.dirty.load(Ordering::Acquire)
            && let Err(e) = save(&state).await
        {
            tracing::warn!(error = %e, "snapshot not written");
        }
    }
}
