//! Download (streamed from disk, with `Range`) and the `img-get2` links.

use std::path::Path as FsPath;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use tokio::io::AsyncSeekExt;
use tokio_util::io::ReaderStream;

use super::browse::ctx;
use super::records;
use super::upload::IO_BUFFER;
use super::{ApiError, ApiResult, check_id};
use crate::ids::Kind;
use crate::library::Ctx;
use crate::state::{AppState, SessionCtx};

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
    fn content_disposition_has_ascii_and_utf8_names() {
        assert_eq!(
            content_disposition("attachment", "Été \"1\".jpg"),
            "attachment; filename=\"_t_ _1_.jpg\"; filename*=UTF-8''%C3%89t%C3%A9%20%221%22.jpg"
        );
    }
}
