//! Request parameters (query, form or JSON body) and paging.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde_json::{Value, json};

use super::{ApiError, ApiResult};

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
