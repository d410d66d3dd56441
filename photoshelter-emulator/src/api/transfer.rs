//! Upload (multipart, streamed to disk), download (streamed, with `Range`) and the
//! `img-get2` links.

use std::path::{Path as FsPath, PathBuf};

use axum::Extension;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;

use super::browse::ctx;
use super::records;
use super::{ApiError, ApiResult, Params, check_id, ok};
use crate::ids::{self, Kind};
use crate::library::{Ctx, Image};
use crate::meta;
use crate::state::{AppState, SessionCtx, Shared};

/// Largest non-file multipart field accepted (ids and flags are tiny).
const MAX_TEXT_FIELD: usize = 64 * 1024;
const IO_BUFFER: usize = 256 * 1024;

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

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against `len`: `Ok(None)` means serve everything
/// (no header, or one the RFC says to ignore), `Err` means unsatisfiable.
fn parse_range(h: Option<&HeaderValue>, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().strip_prefix("bytes="))
    else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // multiple ranges: answer with the whole file
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        (Some(start), None) if b.is_empty() => (start, len.saturating_sub(1)),
        (Some(start), Some(end)) if start <= end => (start, end.min(len.saturating_sub(1))),
        (None, Some(n)) if a.is_empty() => {
            if n == 0 {
                return Err(());
            }
            (len.saturating_sub(n), len.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if len == 0 || range.0 >= len {
        return Err(());
    }
    Ok(Some(range))
}

/// `attachment; filename="…"; filename*=UTF-8''…`.
fn content_disposition(kind: &str, file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Streams a stored original, honouring a single `Range`.
async fn serve_file(
    path: &FsPath,
    file_name: &str,
    disposition: &str,
    headers: &HeaderMap,
) -> ApiResult {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::server(format!("original of {file_name} is unavailable: {e}")))?;
    let len = file
        .metadata()
        .await
        .map_err(|e| ApiError::server(format!("original of {file_name}: {e}")))?
        .len();
    let mime = mime_guess::from_path(file_name).first_or_octet_stream();
    let range = match parse_range(headers.get(header::RANGE), len) {
        Ok(r) => r,
        Err(()) => {
            let mut resp = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidInputErr",
                format!("range not satisfiable: the file has {len} bytes"),
            )
            .v3();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                resp.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(resp);
        }
    };
    let (status, start, count) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, b - a + 1),
        None => (StatusCode::OK, 0, len),
    };
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| ApiError::server(format!("original of {file_name}: {e}")))?;
    }
    let body = Body::from_stream(ReaderStream::with_capacity(
        tokio::io::AsyncReadExt::take(file, count),
        IO_BUFFER,
    ));
    let mut b = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, mime.as_ref())
        .header(header::CONTENT_LENGTH, count)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(disposition, file_name),
        );
    if range.is_some() {
        b = b.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", start + count - 1),
        );
    }
    b.body(body)
        .map_err(|e| ApiError::server(format!("building the response: {e}")))
}

/// `GET mem/image/{id}/download`: the original, as an attachment.
pub(crate) async fn download(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult {
    check_id(&id, Kind::Image)?;
    let (path, name) = {
        let lib = state.lib();
        let img = lib.image(&ctx(&s), &id)?;
        (state.data_dir.join(&img.file), img.file_name.clone())
    };
    serve_file(&path, &name, "attachment", &headers).await
}

/// `GET /img-get2/{id}/[sec=…/][g=…/]{fit|fill}=…/{slug}.jpg`: the CDN path of image links.
/// Needs no API key; a wrong `sec=` signature is refused with 403.
pub(crate) async fn img_get2(
    State(state): State<AppState>,
    Path((id, rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult {
    check_id(&id, Kind::Image).map_err(|e| ApiError::not_found(e.message))?;
    let mut segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segments.pop().is_none() {
        return Err(ApiError::not_found("image link without a file name"));
    }
    let mut size_seen = false;
    for seg in segments {
        match seg.split_once('=') {
            Some(("sec", sig)) if sig != records::link_signature(&state.link_secret, &id) => {
                return Err(ApiError::permission("invalid link signature"));
            }
            Some(("sec" | "g", _)) => {}
            Some((mode @ ("fit" | "fill"), size)) => {
                records::LinkParams::parse(Some(size), Some(mode))
                    .map_err(|e| ApiError::not_found(e.message))?;
                size_seen = true;
            }
            _ => {
                return Err(ApiError::not_found(format!(
                    "unknown image link segment {seg:?}"
                )));
            }
        }
    }
    if !size_seen {
        return Err(ApiError::not_found(
            "image link without a fit= or fill= size",
        ));
    }
    let (path, name) = {
        let lib = state.lib();
        let img = lib.image(&Ctx::admin(None), &id)?;
        (state.data_dir.join(&img.file), img.file_name.clone())
    };
    serve_file(&path, &name, "inline", &headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let h = |s: &str| HeaderValue::from_str(s).ok();
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(parse_range(h("bytes=0-3").as_ref(), 10), Ok(Some((0, 3))));
        assert_eq!(parse_range(h("bytes=4-").as_ref(), 10), Ok(Some((4, 9))));
        assert_eq!(parse_range(h("bytes=-3").as_ref(), 10), Ok(Some((7, 9))));
        assert_eq!(parse_range(h("bytes=5-100").as_ref(), 10), Ok(Some((5, 9))));
        assert_eq!(parse_range(h("bytes=10-").as_ref(), 10), Err(()));
        assert_eq!(parse_range(h("bytes=-0").as_ref(), 10), Err(()));
        assert_eq!(parse_range(h("bytes=0-1,3-4").as_ref(), 10), Ok(None));
        assert_eq!(parse_range(h("items=0-1").as_ref(), 10), Ok(None));
        assert_eq!(parse_range(h("bytes=5-2").as_ref(), 10), Ok(None));
    }

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
        assert_eq!(
            content_disposition("attachment", "Été \"1\".jpg"),
            "attachment; filename=\"_t_ _1_.jpg\"; filename*=UTF-8''%C3%89t%C3%A9%20%221%22.jpg"
        );
    }
}
