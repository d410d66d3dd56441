//! Layers in front of the handlers: faults and the request log (outermost), the API key,
//! and the session.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;

use super::ApiError;
use crate::faults::Respond;
use crate::log::{RequestRecord, redact_query};
use crate::server::ConnCtx;
use crate::state::{AppState, SessionCtx};

/// The body of a request dropped before handling is read and discarded up to this many
/// bytes before the connection is reset.
const DRAIN_LIMIT: usize = 64 * 1024 * 1024;

/// How long the rest of a body is read and discarded after an injected error has answered
/// (a front end's lingering close), so that the client sees the answer and not a reset.
const LINGER: Duration = Duration::from_secs(30);

/// The session token a request carries: `X-PS-Auth-Token`, `Authorization: Bearer`, or
/// the `auth_token` query parameter.
pub(crate) fn request_token(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers.get("x-ps-auth-token").and_then(|v| v.to_str().ok()) {
        return Some(v.trim().to_owned()).filter(|s| !s.is_empty());
    }
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(t) = v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    {
        return Some(t.trim().to_owned()).filter(|s| !s.is_empty());
    }
    let q = query?;
    url::form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "auth_token")
        .map(|(_, v)| v.into_owned())
        .filter(|s| !s.is_empty())
}

/// The path as the client sent it (nested routers see it without their prefix).
fn original_path(req: &Request) -> String {
    req.extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned())
}

/// Reads and discards a request body, up to `limit` bytes.
async fn drain(body: Body, limit: usize) {
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            break;
        }
    }
}

/// Closes the connection without a response: the connection task drops the connection when
/// `kill` fires, and this future never completes.
async fn drop_connection(conn: Option<ConnCtx>) -> Response {
    if let Some(c) = conn {
        c.kill.cancel();
    }
    std::future::pending::<()>().await;
    // ok: unreachable, `pending` never completes; this keeps the signature honest.
    Response::default()
}

/// Applies the fault rules and records the call in the request log.
pub(crate) async fn faults_and_log(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = redact_query(req.uri().query());
    let token = request_token(req.headers(), req.uri().query());
    let conn = req.extensions().get::<ConnCtx>().cloned();
    let decision = state.faults().evaluate(&method, &path, token.is_some());
    let mut record = RequestRecord {
        seq: 0,
        method,
        path: path.clone(),
        query,
        status: None,
        fault: decision.fired.first().map(|s| (*s).to_owned()),
        dropped: false,
    };
    if decision.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(decision.latency_ms)).await;
    }
    if decision.expire_token
        && let Some(t) = &token
    {
        state.sessions().remove(t);
    }
    if let Some(respond) = decision.respond {
        // Answer at once, however large the upload, and read the rest of its body in the
        // background: the client sees the answer while it is still sending, and the
        // connection stays usable.
        let body = req.into_body();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(LINGER, drain(body, usize::MAX)).await;
        });
        let err = match respond {
            Respond::Status {
                status,
                retry_after,
            } => ApiError::injected(status, retry_after),
            Respond::RateLimit { retry_after } => ApiError::rate_limited(retry_after),
        };
        let resp = err.for_path(&path);
        record.status = Some(resp.status().as_u16());
        state.log().push(record);
        return resp;
    }
    if decision.drop == Some(true) {
        drain(req.into_body(), DRAIN_LIMIT).await;
        record.dropped = true;
        state.log().push(record);
        tracing::debug!(%path, "fault: connection dropped before handling");
        return drop_connection(conn).await;
    }
    let resp = next.run(req).await;
    if decision.drop == Some(false) {
        record.dropped = true;
        state.log().push(record);
        tracing::debug!(%path, "fault: connection dropped after handling");
        return drop_connection(conn).await;
    }
    record.status = Some(resp.status().as_u16());
    tracing::debug!(method = %record.method, %path, status = resp.status().as_u16(), "request");
    state.log().push(record);
    resp
}

/// 401 `ApiKeyErr` unless the call carries the account's API key (header or query).
pub(crate) async fn require_api_key(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = original_path(&req);
    let header_key = req
        .headers()
        .get("x-ps-api-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let key = header_key.or_else(|| {
        url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .find(|(k, _)| k == "api_key")
            .map(|(_, v)| v.into_owned())
    });
    match key {
        None => ApiError::api_key(
            "API key required: send the X-PS-Api-Key header or the api_key parameter",
        )
        .for_path(&path),
        Some(k) if k != state.account.api_key => {
            ApiError::api_key("invalid API key").for_path(&path)
        }
        Some(_) => next.run(req).await,
    }
}

/// 401 `SessionRequiredErr` unless the call carries a live session token; hands the session
/// to the handler as a [`SessionCtx`] extension.
pub(crate) async fn require_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = original_path(&req);
    let Some(token) = request_token(req.headers(), req.uri().query()) else {
        return ApiError::session("login required: send X-PS-Auth-Token from mem/authenticate")
            .for_path(&path);
    };
    let lifetime = state.faults().session_lifetime();
    let ctx = {
        let mut sessions = state.sessions();
        match sessions.get_mut(&token) {
            None => None,
            Some(s) => {
                s.calls += 1;
                if !s.oauth && lifetime.is_some_and(|max| s.calls > max) {
                    sessions.remove(&token);
                    None
                } else {
                    Some(SessionCtx {
                        token: token.clone(),
                        org: s.org.clone(),
                    })
                }
            }
        }
    };
    match ctx {
        None => ApiError::session("session expired or invalid: log in again").for_path(&path),
        Some(ctx) => {
            req.extensions_mut().insert(ctx);
            next.run(req).await
        }
    }
}
