//! Upload: multipart, streamed to a temp file in the data directory, then renamed into place.

use std::path::PathBuf;

use axum::Extension;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use serde_json::json;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::browse::ctx;
use super::records;
use super::{ApiError, ApiResult, Params, check_id, ok};
use crate::ids::{self, Kind};
use crate::library::{Ctx, Image};
use crate::meta;
use crate::state::{AppState, SessionCtx, Shared};

/// Largest non-file multipart field accepted (ids and flags are tiny).
const MAX_TEXT_FIELD: usize = 64 * 1024;
pub(crate) const IO_BUFFER: usize = 256 * 1024;

/// A file in the data directory's `tmp/` folder, removed on drop unless kept.
#[derive(Debug)]
pub(crate) struct TempOriginal {
    pub path: PathBuf,
    pub size: u64,
}

impl TempOriginal {
    pub(crate) fn new(state: &Shared) -> TempOriginal {
        let name = format!("upload-{}", ids::random_alnum(16));
        TempOriginal {
            path: state.data_dir.join("tmp").join(name),
            size: 0,
        }
    }
}

impl Drop for TempOriginal {
    fn drop(&mut self) {
        // Already renamed into place (or never created) when this fails; both are fine.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The last path component of an uploaded file name, or `None` when unusable.
fn clean_file_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    if base.is_empty()
        || base == "."
        || base == ".."
        || base.len() > 255
        || base.chars().any(char::is_control)
    {
        return None;
    }
    Some(base.to_owned())
}

/// Moves a finished temp file into `originals/`, reads its metadata and records the image in
/// `gallery`. Shared by the upload handler and the seeding helpers.
pub(crate) async fn store_original(
    state: &Shared,
    ctx: &Ctx,
    gallery: &str,
    file_name: String,
    tmp: TempOriginal,
    f_searchable: bool,
) -> Result<Image, ApiError> {
    // Fail before touching the file when the gallery is wrong.
    state.lib().gallery(ctx, gallery)?;
    let tmp_path = tmp.path.clone();
    let extracted = tokio::task::spawn_blocking(move || meta::extract_file(&tmp_path))
        .await
        .unwrap_or_default();
    let id = ids::new_id(Kind::Image);
    let rel = format!("originals/{id}");
    let dest = state.data_dir.join(&rel);
    tokio::fs::rename(&tmp.path, &dest)
        .await
        .map_err(|e| ApiError::server(format!("storing the original of {file_name}: {e}")))?;
    let now = crate::library::now();
    let image = Image {
        id,
        file_name,
        file_size: tmp.size,
        width: extracted.width,
        height: extracted.height,
        f_searchable,
        model_released: false,
        property_released: false,
        rating: 0,
        uploaded_at: now.clone(),
        updated_at: now,
        iptc: extracted.iptc,
        org: None,
        galleries: Vec::new(),
        file: rel,
        seq: 0,
    };
    let inserted = {
        let mut lib = state.lib_mut();
        // Checked again under the write lock: the gallery may have gone meanwhile.
        match lib.gallery(ctx, gallery) {
            Ok(_) => lib.insert_image(image, gallery).cloned(),
            Err(e) => Err(e),
        }
    };
    match inserted {
        Ok(img) => {
            state.changed();
            Ok(img)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&dest).await;
            Err(e.into())
        }
    }
}

/// `POST mem/image/upload`: multipart `file` plus `gallery_id` or `parent_id`, optional
/// `f_searchable`. The file streams to disk chunk by chunk.
pub(crate) async fn upload(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult {
    let mut mp = multipart.map_err(|e| ApiError::invalid(format!("multipart body: {e}")))?;
    let mut params = Params::default();
    let mut file: Option<(String, TempOriginal)> = None;
    let bad_body = |e: axum::extract::multipart::MultipartError| {
        ApiError::invalid(format!("multipart body: {e}"))
    };
    while let Some(mut field) = mp.next_field().await.map_err(bad_body)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" || name == "file[]" {
            if file.is_some() {
                return Err(ApiError::invalid("file: one file per request"));
            }
            let raw_name = field.file_name().unwrap_or("").to_owned();
            let file_name = clean_file_name(&raw_name).ok_or_else(|| {
                ApiError::invalid(format!("file: unusable file name {raw_name:?}"))
            })?;
            let mut tmp = TempOriginal::new(&state);
            let f = tokio::fs::File::create(&tmp.path)
                .await
                .map_err(|e| ApiError::server(format!("creating a temp file: {e}")))?;
            let mut w = BufWriter::with_capacity(IO_BUFFER, f);
            while let Some(chunk) = field.chunk().await.map_err(bad_body)? {
                w.write_all(&chunk)
                    .await
                    .map_err(|e| ApiError::server(format!("writing the upload: {e}")))?;
                tmp.size += chunk.len() as u64;
            }
            w.flush()
                .await
                .map_err(|e| ApiError::server(format!("writing the upload: {e}")))?;
            file = Some((file_name, tmp));
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad_body)? {
                if text.len() + chunk.len() > MAX_TEXT_FIELD {
                    return Err(ApiError::invalid(format!("{name}: field too large")));
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text)
                .map_err(|_| ApiError::invalid(format!("{name}: not UTF-8")))?;
            params.0.insert(name, text.trim().to_owned());
        }
    }
    let (file_name, tmp) =
        file.ok_or_else(|| ApiError::invalid("file: required (multipart field \"file\")"))?;
    let f_searchable = params.flag("f_searchable")?.unwrap_or(true);
    let c = ctx(&s);
    let gallery = match (params.get("gallery_id"), params.get("parent_id")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("give gallery_id or parent_id, not both"));
        }
        (None, None) => return Err(ApiError::invalid("gallery_id or parent_id: required")),
        (Some(g), None) => {
            check_id(g, Kind::Gallery)?;
            g.to_owned()
        }
        (None, Some(p)) => {
            check_id(p, Kind::Collection)?;
            let id = state.lib_mut().uploads_gallery(&c, p)?;
            state.changed();
            id
        }
    };
    let img = store_original(&state, &c, &gallery, file_name, tmp, f_searchable).await?;
    tracing::debug!(image = %img.id, size = img.file_size, "upload stored");
    Ok(ok(json!({"Image": records::image(&img)})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(
            clean_file_name("C:\\photos\\a.jpg").as_deref(),
            Some("a.jpg")
        );
        assert_eq!(
            clean_file_name("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(clean_file_name(".."), None);
        assert_eq!(clean_file_name("a\u{0}b"), None);
    }
}
