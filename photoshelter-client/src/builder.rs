//! [`ClientBuilder`]: settings in, a checked [`Client`] out.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::{Mutex, Semaphore};

use crate::auth::SessionState;
use crate::client::{Client, Inner};
use crate::config::{ClientConfig, Problem};
use crate::error::{Error, Result};
use crate::id::OrganizationId;
use crate::retry::RetryPolicy;

/// Builds a [`Client`]. Setters consume and return the builder; [`build`](Self::build)
/// checks everything and names every bad setting.
///
/// ```
/// use std::time::Duration;
/// use photoshelter_client::{Client, RetryPolicy};
///
/// let client = Client::builder()
///     .base_url("https://www.photoshelter.com")
///     .api_key("K3y.abc_123")
///     .access_token("oauth-access-token")
///     .organization("O0000abcdefghijk".parse()?)
///     .request_timeout(Duration::from_secs(30))
///     .max_in_flight(4)
///     .retry(RetryPolicy::default().max_attempts(3))
///     .build()?;
/// # let _ = client;
/// assert!(Client::builder().api_key("k").build().is_err()); // no credentials
/// # Ok::<(), photoshelter_client::Error>(())
/// ```
#[derive(Default, Clone)]
pub struct ClientBuilder {
    config: ClientConfig,
    /// Settings read from the environment that were not usable, reported by `build()`.
    env_problems: Vec<Problem>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish()
    }
}

impl ClientBuilder {
    /// A builder starting from configuration data.
    ///
    /// ```
    /// # use photoshelter_client::{Client, ClientBuilder};
    /// let config: photoshelter_client::ClientConfig = serde_json::from_str(r#"{"api_key":"K3y.abc_123","access_token":"t"}"#).unwrap();
    /// let client = ClientBuilder::from_config(config).max_in_flight(2).build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn from_config(config: ClientConfig) -> Self {
        Self {
            config,
            env_problems: Vec::new(),
        }
    }

    /// The API host (default `https://www.photoshelter.com`); `/psapi/v3/…` is appended.
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().base_url("http://127.0.0.1:8080").api_key("K3y.abc_123").access_token("t").build()?;
    /// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.config.base_url = url.into();
        self
    }
    /// The API key, sent as `X-PS-Api-Key` on every call.
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("K3y.abc_123").access_token("t").build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(SecretString::from(key.into()));
        self
    }
    /// Log in with e-mail and password (`mem/authenticate`, token mode).
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("K3y.abc_123").credentials("me@example.com", "hunter2").build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn credentials(mut self, email: impl Into<String>, password: impl Into<String>) -> Self {
        self.config.email = Some(email.into());
        self.config.password = Some(SecretString::from(password.into()));
        self
    }
    /// Use an OAuth access token (`Authorization: Bearer`) instead of a login.
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("K3y.abc_123").access_token("oauth-token").build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.config.access_token = Some(SecretString::from(token.into()));
        self
    }
    /// Act for this organisation (entered right after login).
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let org = "O0000abcdefghijk".parse()?;
    /// let client = Client::builder().api_key("K3y.abc_123").access_token("t").organization(org).build()?;
    /// assert!(client.organization().is_some());
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn organization(mut self, id: OrganizationId) -> Self {
        self.config.organization_id = Some(id);
        self
    }
    /// Time allowed to connect (`None`: no limit).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("k").access_token("t").connect_timeout(Duration::from_secs(5)).build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.connect_timeout = timeout.into();
        self
    }
    /// Time allowed for a whole metadata call; transfers are bounded by
    /// [`read_timeout`](Self::read_timeout) instead (`None`: no limit).
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("k").access_token("t").request_timeout(None).build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn request_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.request_timeout = timeout.into();
        self
    }
    /// Longest silence while reading a reply (`None`: no limit).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("k").access_token("t").read_timeout(Duration::from_secs(300)).build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.read_timeout = timeout.into();
        self
    }
    /// How long idle pooled connections are kept (`None`: until the server closes them).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("k").access_token("t").pool_idle_timeout(Duration::from_secs(30)).build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.config.pool_idle_timeout = timeout.into();
        self
    }
    /// The `User-Agent` header.
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("k").access_token("t").user_agent("my-sync/1.0").build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.config.user_agent = agent.into();
        self
    }
    /// The most requests in flight at once, across all clones (at least 1, default 8).
    /// A download holds its slot until its stream ends or is dropped.
    ///
    /// ```
    /// # use photoshelter_client::Client;
    /// let client = Client::builder().api_key("k").access_token("t").max_in_flight(16).build()?;
    /// assert!(Client::builder().api_key("k").access_token("t").max_in_flight(0).build().is_err());
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.config.max_in_flight = n;
        self
    }
    /// How failed calls are retried.
    ///
    /// ```
    /// # use photoshelter_client::{Client, RetryPolicy};
    /// let client = Client::builder().api_key("k").access_token("t").retry(RetryPolicy::none()).build()?;
    /// # Ok::<(), photoshelter_client::Error>(())
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Fills unset fields from the environment: `PHOTOSHELTER_BASE_URL`,
    /// `PHOTOSHELTER_API_KEY`, `PHOTOSHELTER_EMAIL` + `PHOTOSHELTER_PASSWORD`,
    /// `PHOTOSHELTER_ACCESS_TOKEN`, `PHOTOSHELTER_ORG_ID`. A malformed organisation id is
    /// reported by [`build`](Self::build), never ignored (the calls would otherwise run
    /// outside the organisation).
    ///
    /// ```
    /// let builder = photoshelter_client::Client::builder().from_env();
    /// # let _ = builder;
    /// ```
    pub fn from_env(self) -> Self {
        self.with_env_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by `lookup`.
    fn with_env_lookup(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if let Some(url) = var("PHOTOSHELTER_BASE_URL") {
            self.config.base_url = url;
        }
        if self.config.api_key.is_none() {
            self.config.api_key = var("PHOTOSHELTER_API_KEY").map(SecretString::from);
        }
        if self.config.email.is_none() && self.config.access_token.is_none() {
            self.config.email = var("PHOTOSHELTER_EMAIL");
            self.config.password = var("PHOTOSHELTER_PASSWORD").map(SecretString::from);
            if self.config.email.is_none() {
                self.config.access_token = var("PHOTOSHELTER_ACCESS_TOKEN").map(SecretString::from);
            }
        }
        if self.config.organization_id.is_none()
            && let Some(org) = var("PHOTOSHELTER_ORG_ID")
        {
            match org.trim().parse() {
                Ok(id) => self.config.organization_id = Some(id),
                Err(e) => self
                    .env_problems
                    .push(("PHOTOSHELTER_ORG_ID", e.to_string())),
            }
        }
        self
    }

    /// Checks the settings and builds the client. Every bad setting is reported, as
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the setting.
    pub fn build(self) -> Result<Client> {
        let c = self.config;
        let mut problems: Vec<Problem> = self.env_problems;

        let base = noted(&mut problems, c.checked_base_url());
        let api_key = noted(&mut problems, c.checked_api_key());
        let credentials = noted(&mut problems, c.checked_credentials());

        if c.max_in_flight == 0 {
            problems.push(("max_in_flight", "must be at least 1".into()));
        }

        let mut http = reqwest::Client::builder()
            .user_agent(c.user_agent.clone())
            .tcp_nodelay(true)
            // Custom auth headers would follow a redirect to another host; never follow.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(c.pool_idle_timeout);
        if let Some(t) = c.connect_timeout {
            http = http.connect_timeout(t);
        }
        if let Some(t) = c.read_timeout {
            http = http.read_timeout(t);
        }
        let http = match http.build() {
            Ok(h) => Some(h),
            Err(e) => {
                problems.push(("user_agent", format!("HTTP client could not be built: {e}")));
                None
            }
        };

        let (Some(base), Some(api_key), Some(credentials), Some(http), true) =
            (base, api_key, credentials, http, problems.is_empty())
        else {
            let field = problems
                .iter()
                .map(|(f, _)| *f)
                .collect::<Vec<_>>()
                .join(", ");
            let message = problems
                .iter()
                .map(|(f, m)| format!("{f} {m}"))
                .collect::<Vec<_>>()
                .join("; ");
            return Err(Error::invalid(field, message));
        };

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                api_key,
                credentials,
                organization: c.organization_id,
                request_timeout: c.request_timeout,
                retry: c.retry,
                permits: Arc::new(Semaphore::new(c.max_in_flight)),
                session: Mutex::new(SessionState::default()),
                logins: AtomicU64::new(0),
                clock_skew: AtomicI64::new(0),
                account_tz: tokio::sync::OnceCell::new(),
            }),
        })
    }
}

/// The value, or `None` with its problem noted.
fn noted<T>(problems: &mut Vec<Problem>, checked: std::result::Result<T, Problem>) -> Option<T> {
    checked.map_err(|problem| problems.push(problem)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn build_reports_every_bad_setting() {
        let err = Client::builder()
            .base_url("ftp://x")
            .max_in_flight(0)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let text = err.to_string();
        for field in ["base_url", "api_key", "credentials", "max_in_flight"] {
            assert!(text.contains(field), "{text}");
        }
    }

    #[test]
    fn a_malformed_organisation_in_the_environment_is_reported() {
        let env = |value: &'static str| {
            move |name: &str| match name {
                "PHOTOSHELTER_API_KEY" => Some("K3y.abc_123".to_owned()),
                "PHOTOSHELTER_ACCESS_TOKEN" => Some("token".to_owned()),
                "PHOTOSHELTER_ORG_ID" => Some(value.to_owned()),
                _ => None,
            }
        };
        let err = Client::builder()
            .with_env_lookup(env("O0000-not-an-id"))
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("PHOTOSHELTER_ORG_ID"), "{err}");
        let client = Client::builder()
            .with_env_lookup(env("O0000abcdefghijk"))
            .build()
            .unwrap();
        assert_eq!(
            client.organization().map(|o| o.as_str()),
            Some("O0000abcdefghijk")
        );
    }

    #[test]
    fn base_url_with_userinfo_is_refused() {
        let err = Client::builder()
            .base_url("https://me:secret@example.com")
            .api_key("k")
            .access_token("t")
            .build()
            .unwrap_err();
        assert!(err.to_string().contains("base_url"));
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn debug_of_client_and_builder_hides_secrets() {
        let builder = Client::builder()
            .api_key("APIKEY-abcdef")
            .credentials("me@example.com", "PASSWORD-xyz");
        let client = builder.clone().build().unwrap();
        let oauth = Client::builder()
            .api_key("APIKEY-abcdef")
            .access_token("TOKEN-123")
            .build()
            .unwrap();
        for text in [
            format!("{builder:?}"),
            format!("{client:?}"),
            format!("{oauth:?}"),
            format!("{:#?}", client),
        ] {
            for secret in ["APIKEY-abcdef", "PASSWORD-xyz", "TOKEN-123"] {
                assert!(!text.contains(secret), "{secret} leaked in {text}");
            }
        }
    }
}
