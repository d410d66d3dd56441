//! The provisional v4 writes (wire-format.md § 9), in the v4 JSON:API-like format.
//! v4 attributes use JSON booleans.

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::browse::ctx;
use super::records;
use super::{ApiError, V4Error, check_id};
use crate::ids::Kind;
use crate::library::{Gallery, LibError, Library};
use crate::state::{AppState, SessionCtx};

type V4Result = Result<Response, V4Error>;

fn body_json(body: &Bytes) -> Result<Value, V4Error> {
    serde_json::from_slice(body).map_err(|e| V4Error(ApiError::invalid(format!("JSON body: {e}"))))
}

/// `data` of a single-resource body, checking `type`; returns its `attributes`.
fn resource_attributes(body: &Value, ty: &str) -> Result<Map<String, Value>, V4Error> {
    let data = body
        .get("data")
        .ok_or_else(|| V4Error(ApiError::invalid("data: required")))?;
    match data.get("type").and_then(Value::as_str) {
        Some(t) if t == ty => {}
        other => {
            return Err(V4Error(ApiError::invalid(format!(
                "data.type: expected {ty:?}, got {other:?}"
            ))));
        }
    }
    match data.get("attributes") {
        Some(Value::Object(m)) => Ok(m.clone()),
        _ => Err(V4Error(ApiError::invalid(
            "data.attributes: expected an object",
        ))),
    }
}

fn iptc_doc(img: &crate::library::Image) -> Value {
    json!({"data": {"id": img.id, "type": "iptc", "attributes": Value::Object(records::iptc_fields(img))}})
}

/// `GET media/{id}/iptc`.
pub(crate) async fn get_iptc(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
) -> V4Result {
    check_id(&id, Kind::Image)?;
    let lib = state.lib();
    Ok(Json(iptc_doc(lib.image(&ctx(&s), &id)?)).into_response())
}

/// `PATCH media/{id}/iptc`: a present key overwrites, `null` clears.
pub(crate) async fn patch_iptc(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    body: Bytes,
) -> V4Result {
    check_id(&id, Kind::Image)?;
    let attrs = resource_attributes(&body_json(&body)?, "iptc")?;
    let mut changes: Vec<(String, Option<String>)> = Vec::new();
    for (k, v) in attrs {
        if k.is_empty()
            || k.len() > 64
            || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(V4Error(ApiError::invalid(format!(
                "data.attributes: bad field name {k:?}"
            ))));
        }
        let value = match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            Value::Array(items) if k == "keyword" => {
                let words: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                let words = words.ok_or_else(|| {
                    V4Error(ApiError::invalid(
                        "data.attributes.keyword: expected strings",
                    ))
                })?;
                Some(words.join(", "))
            }
            _ => {
                return Err(V4Error(ApiError::invalid(format!(
                    "data.attributes.{k}: expected a string or null"
                ))));
            }
        };
        changes.push((k, value));
    }
    let doc = {
        let mut lib = state.lib_mut();
        lib.image(&ctx(&s), &id)?;
        let img = lib.images.get_mut(&id).ok_or(LibError::NotFound {
            what: "image",
            id: id.clone(),
        })?;
        for (k, v) in changes {
            match v {
                Some(v) if !v.is_empty() => {
                    img.iptc.insert(k, v);
                }
                _ => {
                    img.iptc.remove(&k);
                }
            }
        }
        img.updated_at = crate::library::now();
        iptc_doc(img)
    };
    state.changed();
    Ok(Json(doc).into_response())
}

fn gallery_doc(lib: &Library, g: &Gallery) -> Value {
    json!({"data": {
        "id": g.id,
        "type": "gallery",
        "attributes": {
            "name": g.name,
            "description": g.description,
            "f_list": g.f_list,
            "mode": g.mode.as_str(),
            "effective_mode": lib.effective_mode(g.mode, g.parent.as_deref()).as_str(),
            "created_at": g.created_at,
            "modified_at": g.modified_at,
        },
        "links": {"self": format!("/psapi/v4.0/galleries/{}", g.id)},
    }})
}

/// `PATCH galleries/{id}`: `name`, `description`, `f_list`.
pub(crate) async fn patch_gallery(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    body: Bytes,
) -> V4Result {
    check_id(&id, Kind::Gallery)?;
    let attrs = resource_attributes(&body_json(&body)?, "gallery")?;
    let mut name = None;
    let mut description = None;
    let mut f_list = None;
    for (k, v) in attrs {
        match (k.as_str(), v) {
            ("name", Value::String(n)) => {
                if n.trim().is_empty() || n.chars().count() > 255 || n.chars().any(char::is_control)
                {
                    return Err(V4Error(ApiError::invalid(
                        "data.attributes.name: must be 1 to 255 characters",
                    )));
                }
                name = Some(n);
            }
            ("description", Value::String(d)) => description = Some(d),
            ("description", Value::Null) => description = Some(String::new()),
            ("f_list", Value::Bool(b)) => f_list = Some(b),
            (k, _) => {
                return Err(V4Error(ApiError::invalid(format!(
                    "data.attributes.{k}: not a changeable gallery attribute, or of the wrong type"
                ))));
            }
        }
    }
    let doc = {
        let mut lib = state.lib_mut();
        let g = lib.gallery(&ctx(&s), &id)?;
        if let Some(n) = &name {
            let clash = lib
                .galleries
                .values()
                .any(|o| o.id != g.id && o.parent == g.parent && o.org == g.org && &o.name == n);
            if clash {
                return Err(LibError::Conflict {
                    what: "gallery",
                    name: n.clone(),
                    parent: g.parent.clone().unwrap_or_else(|| "root".into()),
                }
                .into());
            }
        }
        let g = lib.galleries.get_mut(&id).ok_or(LibError::NotFound {
            what: "gallery",
            id: id.clone(),
        })?;
        if let Some(n) = name {
            g.name = n;
        }
        if let Some(d) = description {
            g.description = d;
        }
        if let Some(f) = f_list {
            g.f_list = f;
        }
        g.modified_at = crate::library::now();
        let g = g.clone();
        gallery_doc(&lib, &g)
    };
    state.changed();
    Ok(Json(doc).into_response())
}

/// `POST galleries/{id}/children` with `{"data":[{"type":"image","id":"I…"},…]}`.
/// All ids are checked before anything changes.
pub(crate) async fn add_children(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    body: Bytes,
) -> V4Result {
    check_id(&id, Kind::Gallery)?;
    let body = body_json(&body)?;
    let Some(Value::Array(items)) = body.get("data") else {
        return Err(V4Error(ApiError::invalid(
            "data: expected an array of {\"type\":\"image\",\"id\":…}",
        )));
    };
    if items.is_empty() {
        return Err(V4Error(ApiError::invalid(
            "data: at least one image is required",
        )));
    }
    let mut image_ids = Vec::with_capacity(items.len());
    for (n, item) in items.iter().enumerate() {
        match item.get("type").and_then(Value::as_str) {
            Some("image" | "media") => {}
            other => {
                return Err(V4Error(ApiError::invalid(format!(
                    "data[{n}].type: expected \"image\", got {other:?}"
                ))));
            }
        }
        let mid = item
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| V4Error(ApiError::invalid(format!("data[{n}].id: required"))))?;
        check_id(mid, Kind::Image)
            .map_err(|e| ApiError::invalid(format!("data[{n}].id: {}", e.message)))?;
        image_ids.push(mid.to_owned());
    }
    {
        let c = ctx(&s);
        let mut lib = state.lib_mut();
        lib.gallery(&c, &id)?;
        for mid in &image_ids {
            lib.image(&c, mid)?;
        }
        for mid in &image_ids {
            lib.link_image(&c, &id, mid)?;
        }
    }
    state.changed();
    let data: Vec<Value> = image_ids
        .iter()
        .map(|i| json!({"type": "image", "id": i}))
        .collect();
    Ok(Json(json!({"data": data})).into_response())
}

/// `DELETE galleries/{id}/children/{media_id}` → 204.
pub(crate) async fn remove_child(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path((id, media_id)): Path<(String, String)>,
) -> V4Result {
    check_id(&id, Kind::Gallery)?;
    check_id(&media_id, Kind::Image)?;
    state.lib_mut().unlink_image(&ctx(&s), &id, &media_id)?;
    state.changed();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE media/{id}` → 204; the original is removed from the data directory.
pub(crate) async fn delete_media(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
) -> V4Result {
    check_id(&id, Kind::Image)?;
    let rel = state.lib_mut().delete_image(&ctx(&s), &id)?;
    state.changed();
    let _ = tokio::fs::remove_file(state.data_dir.join(rel)).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
