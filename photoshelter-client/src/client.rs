//! [`Client`]: the handle every call goes through.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use reqwest::header::HeaderValue;
use tokio::sync::{Mutex, Semaphore};

use crate::api::{Collections, Galleries, Images};
use crate::auth::{Credentials, SessionState};
use crate::builder::ClientBuilder;
use crate::config::ClientConfig;
use crate::decode::decode_v3;
use crate::error::Result;
use crate::id::OrganizationId;
use crate::models::{Organization, Session};
use crate::provisional::Provisional;
use crate::retry::RetryPolicy;
use crate::transport::Call;

/// A PhotoShelter API client.
///
/// Cheap to clone (an `Arc` inside); clones share the connection pool, the session and the
/// in-flight cap. Login happens on the first call that needs it, once.
///
/// ```
/// use photoshelter_client::Client;
///
/// let client = Client::builder()
///     .api_key("K3y.abc_123")
///     .credentials("me@example.com", "hunter2")
///     .build()?;
/// assert!(!format!("{client:?}").contains("hunter2"));
/// # Ok::<(), photoshelter_client::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

/// Shared state of all clones of a [`Client`].
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// Base URL without a trailing slash.
    pub(crate) base: String,
    pub(crate) api_key: HeaderValue,
    pub(crate) credentials: Credentials,
    pub(crate) organization: Option<OrganizationId>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) session: Mutex<SessionState>,
    /// Logins finished so far (changed only under `session`; read before waiting for it).
    pub(crate) logins: AtomicU64,
    /// Server clock minus local clock, in seconds (from `Date` headers).
    pub(crate) clock_skew: AtomicI64,
    /// The account time zone, looked up once when an upload needs it.
    pub(crate) account_tz: tokio::sync::OnceCell<Option<String>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let login = match &self.inner.credentials {
            Credentials::Password { email, .. } => format!("password ({email})"),
            Credentials::Bearer(_) => "oauth token".to_owned(),
        };
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("login", &login)
            .field("organization", &self.inner.organization)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults of [`ClientConfig`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from configuration data.
    pub fn from_config(config: ClientConfig) -> Result<Self> {
        ClientBuilder::from_config(config).build()
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The organisation this client acts for, if any.
    pub fn organization(&self) -> Option<&OrganizationId> {
        self.inner.organization.as_ref()
    }

    /// Collections: the tree, creation, visibility.
    pub fn collections(&self) -> Collections {
        Collections::new(self.clone())
    }

    /// Galleries: listing, images of a gallery, creation, visibility.
    pub fn galleries(&self) -> Galleries {
        Galleries::new(self.clone())
    }

    /// Images: records, IPTC, links, search, upload and download.
    pub fn images(&self) -> Images {
        Images::new(self.clone())
    }

    /// The provisional v4 writes (IPTC update, gallery membership, deletes). See
    /// [`provisional`](crate::provisional) for why they are provisional.
    pub fn provisional(&self) -> Provisional {
        Provisional::new(self.clone())
    }

    /// Logs in now (normally done lazily by the first call) and returns the organisations
    /// the login reply listed. With an OAuth token, enters the organisation (if set) and
    /// returns an empty list.
    #[tracing::instrument(skip(self))]
    pub async fn login(&self) -> Result<Vec<Organization>> {
        self.inner.login().await
    }

    /// Ends the session on the server (`mem/authenticate/logout`). A later call logs in again.
    #[tracing::instrument(skip(self))]
    pub async fn logout(&self) -> Result<()> {
        self.inner.logout().await
    }

    /// The current session (`mem/user/session`): user, e-mail, time zone, organisation.
    #[tracing::instrument(skip(self))]
    pub async fn session(&self) -> Result<Session> {
        #[derive(serde::Deserialize)]
        struct Data {
            #[serde(rename = "Session")]
            session: Session,
        }
        let call = Call::get("mem/user/session");
        let (status, bytes) = self.inner.send_bytes(&call).await?;
        let data: Data = decode_v3(&call.endpoint(), status, &bytes)?;
        Ok(data.session)
    }
}
