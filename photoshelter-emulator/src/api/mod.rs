//! The HTTP surface: routes, envelopes, parameters and paging shared by the handlers.

use axum::extract::{DefaultBodyLimit, OriginalUri, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router, middleware::from_fn_with_state};
use serde_json::{Value, json};

use crate::ids::{self, Kind};
use crate::library::LibError;
use crate::state::AppState;

mod admin;
mod auth;
mod browse;
mod create;
mod download;
mod images;
pub(crate) mod middleware;
mod params;
mod records;
mod upload;
mod v4;

pub(crate) use params::{FormParams, Paging, Params};

pub(crate) use admin::reset;
pub(crate) use upload::{TempOriginal, store_original};

/// An API failure, rendered in the v3 envelope (or the v4 one through [`V4Error`]).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub class: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, class: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            class,
            message: message.into(),
            retry_after: None,
        }
    }
    pub(crate) fn api_key(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "ApiKeyErr", message)
    }
    pub(crate) fn auth(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "AuthenticationErr", message)
    }
    pub(crate) fn session(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "SessionRequiredErr", message)
    }
    pub(crate) fn permission(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PermissionErr", message)
    }
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFoundErr", message)
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidInputErr", message)
    }
    pub(crate) fn server(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "ServerErr", message)
    }
    /// The error an injected status fault answers with.
    pub(crate) fn injected(status: u16, retry_after: Option<u64>) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let class = match status.as_u16() {
            401 => "SessionRequiredErr",
            403 => "PermissionErr",
            404 => "NotFoundErr",
            409 => "ConflictErr",
            429 => "RateLimitErr",
            400..=499 => "InvalidInputErr",
            _ => "ServerErr",
        };
        let mut e = Self::new(
            status,
            class,
            format!("injected fault: HTTP {}", status.as_u16()),
        );
        e.retry_after = retry_after;
        e
    }
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RateLimitErr",
            "too many requests, slow down",
        );
        e.retry_after = Some(retry_after);
        e
    }

    fn finish(&self, body: Value) -> Response {
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }

    pub(crate) fn v3(&self) -> Response {
        self.finish(
            json!({"status": "error", "error": {"class": self.class, "message": self.message}}),
        )
    }

    pub(crate) fn v4(&self) -> Response {
        self.finish(json!({"errors": [{
            "id": self.class,
            "status": self.status.as_u16().to_string(),
            "title": self.message,
        }]}))
    }

    /// The envelope of the API version the path belongs to.
    pub(crate) fn for_path(&self, path: &str) -> Response {
        if path.starts_with("/psapi/v4") {
            self.v4()
        } else {
            self.v3()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.v3()
    }
}

/// An [`ApiError`] in the v4 (`errors[]`) envelope.
#[derive(Debug)]
pub(crate) struct V4Error(pub ApiError);

impl IntoResponse for V4Error {
    fn into_response(self) -> Response {
        self.0.v4()
    }
}

impl From<ApiError> for V4Error {
    fn from(e: ApiError) -> Self {
        V4Error(e)
    }
}

impl From<LibError> for V4Error {
    fn from(e: LibError) -> Self {
        V4Error(e.into())
    }
}

impl From<LibError> for ApiError {
    fn from(e: LibError) -> Self {
        match e {
            LibError::NotFound { what, id } => {
                ApiError::not_found(format!("{what} {id} not found"))
            }
            LibError::OrgContext { id } => ApiError::permission(format!(
                "organization context required: {id} belongs to an organization; call mem/organization/{{id}}/authenticate first"
            )),
            LibError::Conflict { what, name, parent } => ApiError::new(
                StatusCode::CONFLICT,
                "ConflictErr",
                format!("a {what} named {name:?} already exists in collection {parent}"),
            ),
            LibError::Invalid { field, message } => {
                ApiError::invalid(format!("{field}: {message}"))
            }
        }
    }
}

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;

/// `{"status":"ok","data":…}`.
pub(crate) fn ok(data: Value) -> Response {
    Json(json!({"status": "ok", "data": data})).into_response()
}

/// `{"status":"ok","data":{"<key>":[…],"Paging"?:…}}`: one page of a list.
pub(crate) fn ok_page(key: &str, list: Value, paging: Option<Value>) -> Response {
    let mut data = json!({ key: list });
    if let Some(pg) = paging {
        data["Paging"] = pg;
    }
    ok(data)
}

/// 400 unless `id` is a well-formed id of `kind`.
pub(crate) fn check_id(id: &str, kind: Kind) -> ApiResult<()> {
    if ids::is_valid(id, kind) {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "malformed {} id {id:?}: expected 16 characters, {} followed by 11 of [A-Za-z0-9._]",
            kind.noun(),
            kind.prefix()
        )))
    }
}

async fn not_found_v3(OriginalUri(uri): OriginalUri) -> Response {
    ApiError::not_found(format!("no such endpoint: {}", uri.path())).v3()
}

async fn not_found_v4(OriginalUri(uri): OriginalUri) -> Response {
    ApiError::not_found(format!("no such endpoint: {}", uri.path())).v4()
}

async fn method_not_allowed(OriginalUri(uri): OriginalUri, req: Request) -> Response {
    let e = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "InvalidInputErr",
        format!("method {} is not allowed on {}", req.method(), uri.path()),
    );
    e.for_path(uri.path())
}

/// The whole application: API versions, image links, the admin API.
pub(crate) fn router(state: AppState) -> Router {
    let v3_member = Router::new()
        .route(
            "/mem/authenticate/logout",
            get(auth::logout).post(auth::logout),
        )
        .route("/mem/user/session", get(auth::session))
        .route(
            "/mem/organization/logout",
            get(auth::org_logout).post(auth::org_logout),
        )
        .route(
            "/mem/organization/{id}/authenticate",
            get(auth::org_authenticate).post(auth::org_authenticate),
        )
        .route(
            "/mem/collection/insert",
            post(create::collection_insert).get(create::collection_insert),
        )
        .route("/mem/collection/{id}", get(browse::collection))
        .route("/mem/collection/{id}/children", get(browse::children))
        .route(
            "/mem/collection/{id}/visibility/update",
            post(create::collection_visibility),
        )
        .route(
            "/mem/gallery/insert",
            post(create::gallery_insert).get(create::gallery_insert),
        )
        .route("/mem/gallery/query", get(browse::gallery_query))
        .route("/mem/gallery/{id}", get(browse::gallery))
        .route("/mem/gallery/{id}/images", get(browse::gallery_images))
        .route(
            "/mem/gallery/{id}/visibility/update",
            post(create::gallery_visibility),
        )
        .route(
            "/mem/image/upload",
            post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/mem/image/search", get(images::search))
        .route("/mem/image/{id}", get(images::image))
        .route("/mem/image/{id}/iptc", get(images::iptc))
        .route("/mem/image/{id}/galleries", get(images::galleries))
        .route("/mem/image/{id}/link", get(images::link))
        .route("/mem/image/{id}/download", get(download::download))
        .route_layer(from_fn_with_state(
            state.clone(),
            middleware::require_session,
        ));
    let v3 = Router::new()
        .route("/mem/authenticate", post(auth::login).get(auth::login))
        .merge(v3_member)
        .fallback(not_found_v3)
        .layer(from_fn_with_state(
            state.clone(),
            middleware::require_api_key,
        ));
    let v4 = Router::new()
        .route("/media/{id}", delete(v4::delete_media))
        .route("/media/{id}/iptc", patch(v4::patch_iptc).get(v4::get_iptc))
        .route("/galleries/{id}", patch(v4::patch_gallery))
        .route("/galleries/{id}/children", post(v4::add_children))
        .route(
            "/galleries/{id}/children/{media_id}",
            delete(v4::remove_child),
        )
        .route_layer(from_fn_with_state(
            state.clone(),
            middleware::require_session,
        ))
        .fallback(not_found_v4)
        .layer(from_fn_with_state(
            state.clone(),
            middleware::require_api_key,
        ));
    Router::new()
        .nest("/psapi/v3", v3.clone())
        .nest("/psapi/v3.0", v3)
        .nest("/psapi/v4.0", v4)
        .route("/img-get2/{id}/{*rest}", get(download::img_get2))
        .fallback(not_found_v3)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            state.clone(),
            middleware::faults_and_log,
        ))
        .merge(admin::router())
        .with_state(state)
}
