//! Login, logout, session and organisation context (wire-format.md § 2).

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use super::{ApiError, ApiResult, FormParams, check_id, ok};
use crate::ids::Kind;
use crate::state::{AppState, SessionCtx};

/// `POST|GET mem/authenticate` with `email`, `password`, `mode=token`.
pub(crate) async fn login(State(state): State<AppState>, FormParams(p): FormParams) -> ApiResult {
    let (Some(email), Some(password)) = (p.get("email"), p.get("password")) else {
        return Err(ApiError::invalid("email and password are required"));
    };
    match p.get("mode") {
        Some("token") => {}
        other => {
            return Err(ApiError::invalid(format!(
                "mode: only \"token\" is supported by the emulator, got {:?}",
                other.unwrap_or("cookie (the default)")
            )));
        }
    }
    let acct = &state.account;
    if !email.eq_ignore_ascii_case(&acct.email) || password != acct.password {
        return Err(ApiError::auth("invalid email or password"));
    }
    let token = state.new_session();
    let mut data = json!({"token": token, "two_factor": "f"});
    if let Some(org) = &acct.org {
        data["org"] = json!([{"id": org.id, "name": org.name, "member": "t"}]);
    }
    Ok(ok(data))
}

/// `GET mem/authenticate/logout`: the token stops working.
pub(crate) async fn logout(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
) -> Response {
    state.sessions().remove(&s.token);
    ok(json!({}))
}

/// `GET mem/user/session`.
pub(crate) async fn session(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
) -> Response {
    ok(json!({"Session": {
        "user_id": state.account.user_id,
        "email": state.account.email,
        "tz": "UTC",
        "organization_id": s.org,
    }}))
}

/// `POST|GET mem/organization/{id}/authenticate`: later calls act in that organisation.
pub(crate) async fn org_authenticate(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
    Path(id): Path<String>,
) -> ApiResult {
    check_id(&id, Kind::Organization)?;
    let Some(org) = state.account.org.as_ref().filter(|o| o.id == id) else {
        return Err(ApiError::not_found(format!(
            "organization {id} not found, or the user is not a member"
        )));
    };
    if let Some(sess) = state.sessions().get_mut(&s.token) {
        sess.org = Some(org.id.clone());
    }
    Ok(ok(json!({})))
}

/// `GET|POST mem/organization/logout`: back to the personal library.
pub(crate) async fn org_logout(
    State(state): State<AppState>,
    Extension(s): Extension<SessionCtx>,
) -> Response {
    if let Some(sess) = state.sessions().get_mut(&s.token) {
        sess.org = None;
    }
    ok(json!({}))
}
