//! The HTTP surface: routes, envelopes, parameters and paging shared by the handlers.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, OriginalUri, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
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
mod images;
pub(crate) mod middleware;
mod records;
mod transfer;
mod v4;

pub(crate) use admin::reset;
pub(crate) use transfer::{TempOriginal, store_original};

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

/// Request parameters: the query string, merged (for POSTs) with a form or JSON body.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(pub HashMap<String, String>);

impl Params {
    pub(crate) fn from_query(q: Option<&str>) -> Self {
        let mut m = HashMap::new();
        if let Some(q) = q {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                m.insert(k.into_owned(), v.into_owned());
            }
        }
        Params(m)
    }

    /// A non-empty parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// A `t`/`f` flag (also accepts `true`/`false`/`1`/`0`).
    pub(crate) fn flag(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some("t" | "true" | "1") => Ok(Some(true)),
            Some("f" | "false" | "0") => Ok(Some(false)),
            Some(other) => Err(ApiError::invalid(format!(
                "{name}: expected \"t\" or \"f\", got {other:?}"
            ))),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        Ok(Params::from_query(parts.uri.query()))
    }
}

/// Query parameters plus a form-encoded or JSON body (bodies win on conflicts).
#[derive(Debug, Default)]
pub(crate) struct FormParams(pub Params);

impl<S: Send + Sync> FromRequest<S> for FormParams {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let mut params = Params::from_query(req.uri().query());
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let body = bytes::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid(format!("request body: {e}")))?;
        if body.is_empty() {
            return Ok(FormParams(params));
        }
        if ctype.starts_with("application/json") {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| ApiError::invalid(format!("JSON body: {e}")))?;
            let Value::Object(map) = v else {
                return Err(ApiError::invalid("JSON body: expected an object"));
            };
            for (k, v) in map {
                let s = match v {
                    Value::String(s) => s,
                    Value::Bool(b) => {
                        if b {
                            "t".into()
                        } else {
                            "f".into()
                        }
                    }
                    Value::Null => continue,
                    other => other.to_string(),
                };
                params.0.insert(k, s);
            }
        } else {
            for (k, v) in url::form_urlencoded::parse(&body) {
                params.0.insert(k.into_owned(), v.into_owned());
            }
        }
        Ok(FormParams(params))
    }
}

/// Largest `per_page` accepted (wire-format.md § 5).
pub(crate) const MAX_PER_PAGE: usize = 1000;

/// `page` (1-based) and `per_page`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Paging {
    pub page: usize,
    pub per_page: usize,
}

impl Paging {
    pub(crate) fn from_params(p: &Params) -> ApiResult<Paging> {
        let num = |name: &str, default: usize| -> ApiResult<usize> {
            match p.get(name) {
                None => Ok(default),
                Some(s) => s.trim().parse::<usize>().map_err(|_| {
                    ApiError::invalid(format!("{name}: expected a positive integer, got {s:?}"))
                }),
            }
        };
        let page = num("page", 1)?;
        let per_page = num("per_page", 100)?;
        if page == 0 {
            return Err(ApiError::invalid("page: pages are numbered from 1"));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(ApiError::invalid(format!(
                "per_page: must be between 1 and {MAX_PER_PAGE}, got {per_page}"
            )));
        }
        Ok(Paging { page, per_page })
    }

    /// The items of this page, and the `Paging` record when more pages follow.
    pub(crate) fn slice<'a, T>(&self, items: &'a [T]) -> (&'a [T], Option<Value>) {
        let start = (self.page - 1)
            .saturating_mul(self.per_page)
            .min(items.len());
        let end = start.saturating_add(self.per_page).min(items.len());
        let more = end < items.len();
        let paging = more
            .then(|| json!({"page": self.page, "per_page": self.per_page, "next": self.page + 1}));
        (&items[start..end], paging)
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
            post(transfer::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/mem/image/search", get(images::search))
        .route("/mem/image/{id}", get(images::image))
        .route("/mem/image/{id}/iptc", get(images::iptc))
        .route("/mem/image/{id}/galleries", get(images::galleries))
        .route("/mem/image/{id}/link", get(images::link))
        .route("/mem/image/{id}/download", get(transfer::download))
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
        .route("/img-get2/{id}/{*rest}", get(transfer::img_get2))
        .fallback(not_found_v3)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(
            state.clone(),
            middleware::faults_and_log,
        ))
        .merge(admin::router())
        .with_state(state)
}
