//! Client configuration as data ([`ClientConfig`], serde).

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::auth::Credentials;
use crate::id::OrganizationId;
use crate::retry::RetryPolicy;

/// The default API host.
pub const DEFAULT_BASE_URL: &str = "https://www.photoshelter.com";

/// Everything a [`Client`](crate::Client) is built from, as plain data that can be loaded
/// from TOML/JSON (durations as `"30s"`, `"2m"`). Secrets are [`SecretString`]s and never
/// appear in `Debug`.
///
/// ```
/// use photoshelter_client::{Client, ClientConfig};
///
/// let config: ClientConfig = serde_json::from_str(r#"{
///     "base_url": "http://127.0.0.1:9",
///     "api_key": "K3y.abc_123",
///     "email": "me@example.com",
///     "password": "hunter2",
///     "request_timeout": "30s"
/// }"#)?;
/// assert!(!format!("{config:?}").contains("hunter2"));
/// let client = Client::from_config(config)?;
/// # let _ = client;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ClientConfig {
    /// API host, `https://www.photoshelter.com` by default (paths `/psapi/v3/…` are added).
    pub base_url: String,
    /// The API key, sent as `X-PS-Api-Key` on every call.
    #[serde(skip_serializing)]
    pub api_key: Option<SecretString>,
    /// Login e-mail (with `password`).
    pub email: Option<String>,
    /// Login password (with `email`).
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    /// An OAuth access token, sent as `Authorization: Bearer`, instead of email/password.
    #[serde(skip_serializing)]
    pub access_token: Option<SecretString>,
    /// The organisation to act for; entered right after login.
    pub organization_id: Option<OrganizationId>,
    /// Time allowed to open a connection; `null` for none.
    #[serde(with = "humantime_serde_compat::option")]
    pub connect_timeout: Option<Duration>,
    /// Time allowed for a whole metadata call (not for uploads or downloads); `null` for none.
    #[serde(with = "humantime_serde_compat::option")]
    pub request_timeout: Option<Duration>,
    /// Longest silence while reading a reply, including transfers; `null` for none.
    #[serde(with = "humantime_serde_compat::option")]
    pub read_timeout: Option<Duration>,
    /// How long an idle pooled connection is kept; `null` keeps it until the server closes it.
    #[serde(with = "humantime_serde_compat::option")]
    pub pool_idle_timeout: Option<Duration>,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The most requests in flight at once (uploads and downloads included).
    pub max_in_flight: usize,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            email: None,
            password: None,
            access_token: None,
            organization_id: None,
            connect_timeout: Some(Duration::from_secs(15)),
            request_timeout: Some(Duration::from_secs(120)),
            read_timeout: Some(Duration::from_secs(120)),
            pool_idle_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("photoshelter-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_in_flight: 8,
            retry: RetryPolicy::default(),
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("organization_id", &self.organization_id)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("user_agent", &self.user_agent)
            .field("max_in_flight", &self.max_in_flight)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A setting that cannot be used: its name and why.
pub(crate) type Problem = (&'static str, String);

impl ClientConfig {
    /// The base URL without a trailing slash: http(s), no user, query or fragment.
    pub(crate) fn checked_base_url(&self) -> Result<String, Problem> {
        let bad = |why: String| Err(("base_url", why));
        match url::Url::parse(&self.base_url) {
            Ok(url) if !matches!(url.scheme(), "http" | "https") => {
                bad(format!("scheme `{}` is not http or https", url.scheme()))
            }
            Ok(url) if !url.username().is_empty() || url.password().is_some() => {
                bad("must not carry a user or password; use api_key and credentials".into())
            }
            Ok(url) if url.query().is_some() || url.fragment().is_some() => {
                bad("must not have a query or fragment".into())
            }
            Ok(url) => Ok(url.as_str().trim_end_matches('/').to_owned()),
            Err(e) => bad(format!("`{}` is not a URL: {e}", self.base_url)),
        }
    }

    /// The API key as a header value marked sensitive (it prints as `Sensitive`).
    pub(crate) fn checked_api_key(&self) -> Result<HeaderValue, Problem> {
        let bad = |why: &str| Err(("api_key", why.to_owned()));
        match &self.api_key {
            None => bad("is required"),
            Some(key) if key.expose_secret().trim().is_empty() => bad("is empty"),
            Some(key) => match HeaderValue::from_str(key.expose_secret().trim()) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    Ok(v)
                }
                Err(_) => bad("contains characters not allowed in an HTTP header"),
            },
        }
    }

    /// E-mail and password, or an access token: exactly one of the two.
    pub(crate) fn checked_credentials(&self) -> Result<Credentials, Problem> {
        let bad = |field: &'static str, why: &str| Err((field, why.to_owned()));
        match (&self.email, &self.password, &self.access_token) {
            (Some(_), Some(_), Some(_)) => bad(
                "access_token",
                "give either email and password or an access token, not both",
            ),
            (Some(email), Some(password), None) if !email.trim().is_empty() => {
                Ok(Credentials::Password {
                    email: email.trim().to_owned(),
                    password: password.clone(),
                })
            }
            (None, None, Some(token)) if !token.expose_secret().trim().is_empty() => {
                Ok(Credentials::Bearer(token.clone()))
            }
            (Some(_), None, _) => bad("password", "is required with email"),
            (None, Some(_), _) => bad("email", "is required with password"),
            _ => bad("credentials", "give email and password, or an access token"),
        }
    }
}

/// Durations as humantime strings (`"1m 30s"`); plain numbers are read as seconds.
pub(crate) mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Secs(f64),
    }

    fn from_raw<E: serde::de::Error>(raw: Raw) -> Result<Duration, E> {
        match raw {
            Raw::Text(s) => {
                humantime::parse_duration(&s).map_err(|e| E::custom(format!("`{s}`: {e}")))
            }
            Raw::Secs(n) => {
                Duration::try_from_secs_f64(n).map_err(|e| E::custom(format!("{n}: {e}")))
            }
        }
    }

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        from_raw(Raw::deserialize(d)?)
    }

    pub(crate) mod option {
        use super::*;

        pub(crate) fn serialize<S: Serializer>(
            d: &Option<Duration>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => super::serialize(d, s),
                None => s.serialize_none(),
            }
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<Duration>, D::Error> {
            Option::<Raw>::deserialize(d)?.map(from_raw).transpose()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_durations_parse_and_null_disables() {
        let c: ClientConfig = serde_json::from_str(
            r#"{"read_timeout":"1m 30s","request_timeout":null,"connect_timeout":5}"#,
        )
        .unwrap();
        assert_eq!(c.read_timeout, Some(Duration::from_secs(90)));
        assert_eq!(c.request_timeout, None);
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(c.max_in_flight, 8);
    }
}
