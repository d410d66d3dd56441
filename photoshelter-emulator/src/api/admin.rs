//! The admin API under `/_emulator/`: fault rules, the request log, session expiry, reset
//! and snapshots. No API key is needed; it is served on the emulator's own listener only
//! and is not subject to faults or logging.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::faults::{FaultRule, Faults};
use crate::state::{AppState, Shared};

fn admin_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/_emulator", get(info))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/_emulator/faults/{id}", delete(remove_fault))
        .route("/_emulator/sessions/expire", post(expire_sessions))
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/reset", post(reset_handler))
        .route("/_emulator/snapshot", post(snapshot_now))
}

/// `GET /_emulator`: where and how to connect (credentials of a local test account).
async fn info(State(state): State<AppState>) -> Response {
    let a = &state.account;
    Json(json!({
        "base_url": state.base_url,
        "api_key": a.api_key,
        "email": a.email,
        "password": a.password,
        "user_id": a.user_id,
        "org_id": a.org.as_ref().map(|o| o.id.clone()),
        "oauth_token": a.oauth_token,
    }))
    .into_response()
}

async fn list_faults(State(state): State<AppState>) -> Response {
    Json(json!({"faults": Faults { shared: state }.list()})).into_response()
}

/// `POST /_emulator/faults` with one rule object or an array of them → `{"ids":[…]}`.
async fn add_faults(State(state): State<AppState>, body: Bytes) -> Response {
    let rules: Vec<FaultRule> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => match items.into_iter().map(serde_json::from_value).collect() {
            Ok(r) => r,
            Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("fault rule: {e}")),
        },
        Ok(v) => match serde_json::from_value(v) {
            Ok(r) => vec![r],
            Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("fault rule: {e}")),
        },
        Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("JSON body: {e}")),
    };
    let faults = Faults { shared: state };
    let mut ids = Vec::new();
    for r in rules {
        match faults.add(r) {
            Ok(id) => ids.push(id),
            Err(e) => return admin_error(StatusCode::BAD_REQUEST, e.to_string()),
        }
    }
    (StatusCode::CREATED, Json(json!({"ids": ids}))).into_response()
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults().clear();
    StatusCode::NO_CONTENT
}

async fn remove_fault(State(state): State<AppState>, Path(id): Path<u64>) -> Response {
    if state.faults().remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        admin_error(StatusCode::NOT_FOUND, format!("no fault rule {id}"))
    }
}

async fn expire_sessions(State(state): State<AppState>) -> Response {
    Json(json!({"expired": state.expire_sessions()})).into_response()
}

async fn requests(State(state): State<AppState>) -> Response {
    Json(json!({"requests": state.log().all()})).into_response()
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.log().clear();
    StatusCode::NO_CONTENT
}

/// Clears faults, the request log and sessions; with `wipe_data` also every collection,
/// gallery and image (and the originals on disk).
pub(crate) async fn reset(state: &Shared, wipe_data: bool) {
    state.faults().clear();
    state.log().clear();
    state.sessions().clear();
    state.install_oauth();
    if wipe_data {
        *state.lib_mut() = Default::default();
        let dir = state.data_dir.join("originals");
        let _ = tokio::fs::remove_dir_all(&dir).await;
        let _ = tokio::fs::create_dir_all(&dir).await;
        state.changed();
    }
}

/// `POST /_emulator/reset`, optional body `{"data": true}`.
async fn reset_handler(State(state): State<AppState>, body: Bytes) -> Response {
    let wipe = if body.is_empty() {
        false
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) => v.get("data").and_then(Value::as_bool).unwrap_or(false),
            Err(e) => return admin_error(StatusCode::BAD_REQUEST, format!("JSON body: {e}")),
        }
    };
    reset(&state, wipe).await;
    Json(json!({"reset": true, "data": wipe})).into_response()
}

/// `POST /_emulator/snapshot`: writes the snapshot now.
async fn snapshot_now(State(state): State<AppState>) -> Response {
    if state.persist.is_none() {
        return admin_error(StatusCode::BAD_REQUEST, "no snapshot file configured");
    }
    match crate::snapshot::save(&state).await {
        Ok(()) => Json(json!({"saved": true})).into_response(),
        Err(e) => admin_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
