//! Creating collections and galleries, and changing their visibility (wire-format.md § 7).

use axum::Extension;
use axum::extract::{Path, State};
use serde_json::json;

use super::browse::ctx;
use super::records;
use super::{ApiError, ApiResult, FormParams, Params, check_id, ok};
use crate::ids::Kind;
use crate::library::{Mode, NewContainer};
use crate::state::{AppState, SessionCtx};

fn mode_param(p: &Params, default: Mode) -> ApiResult<Mode> {
    match p.get("mode") {
        None => Ok(default),
        Some(m) => Mode::parse(m).ok_or_else(|| {
            ApiError::invalid(format!(
                "mode: expected everyone, permission or private, got {m:?}"
            ))
        }),
    }
}

fn new_container(p: &Params) -> ApiResult<NewContainer> {
    let name = p
        .get("name")
        .ok_or_else(|| ApiError::invalid("name: required"))?
        .to_owned();
    let parent = match p.get("parent") {
        None | Some("root") => None,
        Some(id) => {
            check_id(id, Kind::Collection)
                .map_err(|e| ApiError::invalid(format!("parent: {}", e.message)))?;
            Some(id.to_owned())
        }
    };
    Ok(NewContainer {
        name,
        parent,
        description: p.get("description").unwrap_or("").to_owned(),
        f_list: p.flag("f_list")?.unwrap_or(false),
        mode: mode_param(p, Mode::Private)?,
    })
}

/// `POST mem/{collection|gallery}/insert` (`kind`): `name`, `parent`, `description`,
/// `f_list`, `mode`.
fn insert(state: &AppState, s: &SessionCtx, kind: Kind, p: &Params) -> ApiResult {
    let new = new_container(p)?;
    let c = ctx(s);
    let data = {
        let mut lib = state.lib_mut();
        if kind == Kind::Collection {
            let id = lib.insert_collection(&c, new)?.id.clone();
            json!({"Collection": records::collection(&lib, lib.collection(&c, &id)?)})
        } else {
            let id = lib.insert_gallery(&c, new)?.id.clone();
            json!({"Gallery": records::gallery(&lib, lib.gallery(&c, &id)?)})
        }
    };
    state.changed();
    Ok(ok(data))
}

/// `POST mem/collection/insert`.
pub(crate) async fn collection_insert(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    FormParams(p): FormParams,
) -> ApiResult {
    insert(&state, &s, Kind::Collection, &p)
}

/// `POST mem/gallery/insert`.
pub(crate) async fn gallery_insert(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    FormParams(p): FormParams,
) -> ApiResult {
    insert(&state, &s, Kind::Gallery, &p)
}

fn visibility(state: &AppState, s: &SessionCtx, kind: Kind, id: &str, p: &Params) -> ApiResult {
    check_id(id, kind)?;
    if p.get("mode").is_none() {
        return Err(ApiError::invalid(
            "mode: required (everyone, permission or private)",
        ));
    }
    let mode = mode_param(p, Mode::Private)?;
    let c = ctx(s);
    {
        let mut lib = state.lib_mut();
        let now = crate::library::now();
        if kind == Kind::Collection {
            lib.collection(&c, id)?;
            if let Some(x) = lib.collections.get_mut(id) {
                x.mode = mode;
                x.modified_at = now;
            }
        } else {
            lib.gallery(&c, id)?;
            if let Some(x) = lib.galleries.get_mut(id) {
                x.mode = mode;
                x.modified_at = now;
            }
        }
    }
    state.changed();
    Ok(ok(json!({"Visibility": {"mode": mode.as_str()}})))
}

/// `POST mem/collection/{id}/visibility/update` with `mode`.
pub(crate) async fn collection_visibility(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    FormParams(p): FormParams,
) -> ApiResult {
    visibility(&state, &s, Kind::Collection, &id, &p)
}

/// `POST mem/gallery/{id}/visibility/update` with `mode`.
pub(crate) async fn gallery_visibility(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
    FormParams(p): FormParams,
) -> ApiResult {
    visibility(&state, &s, Kind::Gallery, &id, &p)
}
