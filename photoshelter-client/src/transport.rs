//! Sending one API call: URL, headers, the in-flight cap, error mapping before anything
//! reads a body, and the retry loop (backoff from backon, `Retry-After`, one session renewal).

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest::header::{AUTHORIZATION, DATE, HeaderMap, HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, Response};
use tokio::sync::OwnedSemaphorePermit;

use crate::auth::{AuthHeader, AuthSnapshot};
use crate::client::Inner;
use crate::decode::error_details;
use crate::error::{ApiError, Error, Result};
use crate::retry::{RetrySchedule, may_retry, parse_retry_after};

/// Which API generation a call goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V3,
    V4,
}

impl Version {
    fn prefix(self) -> &'static str {
        match self {
            Version::V3 => "psapi/v3",
            Version::V4 => "psapi/v4.0",
        }
    }
}

/// A request body that can be sent again on a retry.
#[derive(Debug, Clone)]
pub(crate) enum CallBody {
    Empty,
    Form(Vec<(&'static str, String)>),
    Json(serde_json::Value),
}

/// A request body for one attempt (multipart bodies cannot be cloned).
pub(crate) enum AttemptBody {
    Call,
    Multipart(reqwest::multipart::Form),
}

/// One API call, described as data so that it can be retried.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) method: Method,
    pub(crate) version: Version,
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: CallBody,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Needs the session token (every `mem/` and v4 call).
    pub(crate) auth: bool,
    /// Safe to repeat after an unknown outcome.
    pub(crate) idempotent: bool,
    /// Whether the metadata `request_timeout` applies (not for transfers).
    pub(crate) bounded: bool,
}

impl Call {
    pub(crate) fn new(method: Method, version: Version, path: impl Into<String>) -> Self {
        let idempotent = matches!(
            method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::PATCH
        );
        Self {
            method,
            version,
            path: path.into(),
            query: Vec::new(),
            body: CallBody::Empty,
            headers: Vec::new(),
            auth: true,
            idempotent,
            bounded: true,
        }
    }
    pub(crate) fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, Version::V3, path)
    }
    pub(crate) fn post_form(path: impl Into<String>, form: Vec<(&'static str, String)>) -> Self {
        let mut call = Self::new(Method::POST, Version::V3, path);
        call.body = CallBody::Form(form);
        call
    }
    pub(crate) fn query(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.query.push((key, value.into()));
        self
    }
    pub(crate) fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
    /// `METHOD /psapi/v3/path`: how errors and logs name the call. Carries no secret.
    pub(crate) fn endpoint(&self) -> String {
        format!("{} /{}/{}", self.method, self.version.prefix(), self.path)
    }
}

/// A successful reply whose body has not been read yet; it holds its in-flight permit.
pub(crate) struct Reply {
    pub(crate) response: Response,
    pub(crate) permit: OwnedSemaphorePermit,
    pub(crate) endpoint: String,
}

impl Reply {
    /// Reads the whole body and gives the in-flight slot back before returning, so that
    /// whatever the caller does next (a backoff sleep, a lookup) does not hold it.
    pub(crate) async fn read_all(self) -> (u16, reqwest::Result<Bytes>) {
        let Reply {
            response, permit, ..
        } = self;
        let status = response.status().as_u16();
        let body = response.bytes().await;
        drop(permit);
        (status, body)
    }
}

/// The largest server clock skew believed (one day).
const MAX_SKEW_SECS: i64 = 24 * 3600;

/// Largest error body read to extract the API's message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

impl Inner {
    fn url(&self, call: &Call) -> Result<reqwest::Url> {
        let raw = format!("{}/{}/{}", self.base, call.version.prefix(), call.path);
        reqwest::Url::parse(&raw)
            .map_err(|e| Error::invalid("url", format!("{}: {e}", call.endpoint())))
    }

    /// Sends one attempt. A non-2xx reply becomes an [`Error::Api`] here, before anything
    /// else reads the body.
    pub(crate) async fn attempt(
        &self,
        call: &Call,
        body: AttemptBody,
        auth: Option<&AuthSnapshot>,
    ) -> Result<Reply> {
        let endpoint = call.endpoint();
        let url = self.url(call)?;
        // Why a semaphore: it caps the requests in flight across every clone of this client
        // (uploads and downloads hold their permit until the body is done), so a caller that
        // spawns thousands of tasks cannot open thousands of connections.
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::unexpected(&endpoint, "client is shutting down"))?;
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .header("X-PS-Api-Key", self.api_key.clone());
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        match auth.map(|a| &a.header) {
            Some(AuthHeader::Token(token)) => req = req.header("X-PS-Auth-Token", token.clone()),
            Some(AuthHeader::Bearer(bearer)) => req = req.header(AUTHORIZATION, bearer.clone()),
            None => {}
        }
        for (name, value) in &call.headers {
            req = req.header(name.clone(), value.clone());
        }
        req = match body {
            AttemptBody::Multipart(form) => req.multipart(form),
            AttemptBody::Call => match &call.body {
                CallBody::Empty => req,
                CallBody::Form(fields) => req.form(fields),
                CallBody::Json(value) => req.json(value),
            },
        };
        if call.bounded
            && let Some(timeout) = self.request_timeout
        {
            req = req.timeout(timeout);
        }
        tracing::debug!(%endpoint, "request");
        let response = req
            .send()
            .await
            .map_err(|e| Error::transport(&endpoint, e))?;
        self.note_server_date(response.headers());
        let status = response.status();
        tracing::debug!(%endpoint, status = status.as_u16(), "reply");
        if status.is_success() {
            return Ok(Reply {
                response,
                permit,
                endpoint,
            });
        }
        Err(api_error(&endpoint, response).await)
    }

    /// Runs a call with retries and one session renewal; returns the reply, body unread.
    pub(crate) async fn send(&self, call: &Call) -> Result<Reply> {
        self.send_with(call, None).await
    }

    /// Like [`Inner::send`], with an explicit session (used while logging in).
    pub(crate) async fn send_with(
        &self,
        call: &Call,
        explicit: Option<&AuthSnapshot>,
    ) -> Result<Reply> {
        let mut schedule = RetrySchedule::new(&self.retry);
        let mut renewed = false;
        loop {
            let auth = match explicit {
                Some(a) => Some(a.clone()),
                None if call.auth => Some(self.session_auth().await?),
                None => None,
            };
            let err = match self.attempt(call, AttemptBody::Call, auth.as_ref()).await {
                Ok(reply) => return Ok(reply),
                Err(err) => err,
            };
            if let (Some(a), None, false) = (&auth, explicit, renewed)
                && err.is_session_expired()
                && self.renew_session(a.generation).await?
            {
                renewed = true;
                continue;
            }
            if !may_retry(call.idempotent, &err) {
                return Err(err);
            }
            let Some(delay) = schedule.next_delay(&err) else {
                return Err(err);
            };
            tracing::debug!(endpoint = %call.endpoint(), attempt = schedule.attempt, ?delay, error = %err, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// Runs a call and reads the whole reply body (metadata replies).
    pub(crate) async fn send_bytes(&self, call: &Call) -> Result<(u16, Bytes)> {
        // The body is read inside the retry budget: an idempotent call whose body breaks
        // off is sent again.
        let mut schedule = RetrySchedule::new(&self.retry);
        loop {
            let reply = self.send(call).await?;
            let endpoint = reply.endpoint.clone();
            match reply.read_all().await {
                (status, Ok(bytes)) => return Ok((status, bytes)),
                (_, Err(e)) => {
                    let err = Error::transport(&endpoint, e);
                    if !may_retry(call.idempotent, &err) {
                        return Err(err);
                    }
                    match schedule.next_delay(&err) {
                        Some(delay) => tokio::time::sleep(delay).await,
                        None => return Err(err),
                    }
                }
            }
        }
    }

    /// Remembers how far the server's clock is from ours (from the `Date` header), so that
    /// server timestamps can be compared with local instants.
    fn note_server_date(&self, headers: &HeaderMap) {
        let Some(date) = headers
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|s| httpdate::parse_http_date(s).ok())
        else {
            return;
        };
        let skew = match date.duration_since(SystemTime::now()) {
            Ok(ahead) => i64::try_from(ahead.as_secs()).unwrap_or(i64::MAX),
            Err(behind) => -i64::try_from(behind.duration().as_secs()).unwrap_or(i64::MAX),
        };
        // A clock days off is a broken header, not a skew worth correcting for.
        if skew.abs() <= MAX_SKEW_SECS {
            self.clock_skew.store(skew, Ordering::Relaxed);
        }
    }

    /// The server's current time, estimated from the last `Date` header seen.
    pub(crate) fn server_now(&self) -> SystemTime {
        let skew = self.clock_skew.load(Ordering::Relaxed);
        let now = SystemTime::now();
        let by = Duration::from_secs(skew.unsigned_abs());
        let moved = if skew >= 0 {
            now.checked_add(by)
        } else {
            now.checked_sub(by)
        };
        moved.unwrap_or(now)
    }
}

/// Turns a non-2xx reply into an [`Error::Api`] (reading at most 64 KiB of its body).
async fn api_error(endpoint: &str, mut response: Response) -> Error {
    let status = response.status().as_u16();
    let retry_after = parse_retry_after(response.headers());
    if (300..400).contains(&status) {
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| l.split('?').next().unwrap_or(l).to_owned());
        return Error::Api(Box::new(ApiError {
            endpoint: endpoint.to_owned(),
            status,
            class: None,
            message: format!(
                "redirected to {} (redirects are not followed, so that credentials stay on the API host)",
                location.as_deref().unwrap_or("?")
            ),
            retry_after,
        }));
    }
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    let (class, message) = error_details(&body);
    Error::Api(Box::new(ApiError {
        endpoint: endpoint.to_owned(),
        status,
        class,
        message,
        retry_after,
    }))
}
