//! Login, organisation context, session renewal and logout.
//!
//! The session is established lazily, once: the first call that needs it takes the lock,
//! logs in (and enters the organisation), and every call waiting on the lock then reuses
//! that token. A call that gets `401 SessionRequiredErr` asks for a renewal naming the
//! session generation it used; only the first such request for a generation logs in again.
//! A login the service refuses is not tried again by the calls that were waiting for it:
//! they all get its refusal (repeated failed logins can lock an account).

use std::sync::atomic::Ordering;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::client::Inner;
use crate::decode::{decode_v3, one_or_many, opt_bool};
use crate::error::{ApiError, Error, Result};
use crate::id::OrganizationId;
use crate::models::Organization;
use crate::transport::Call;

/// How the client proves who it is.
pub(crate) enum Credentials {
    Password {
        email: String,
        password: SecretString,
    },
    Bearer(SecretString),
}

/// The header carrying the session on each call. Values are marked sensitive, so they
/// print as `Sensitive` even in `Debug`.
#[derive(Clone, Debug)]
pub(crate) enum AuthHeader {
    Token(HeaderValue),
    Bearer(HeaderValue),
}

/// A session as used by one call, with the generation it belongs to.
#[derive(Clone, Debug)]
pub(crate) struct AuthSnapshot {
    pub(crate) header: AuthHeader,
    pub(crate) generation: u64,
}

#[derive(Default)]
pub(crate) struct SessionState {
    active: Option<AuthSnapshot>,
    generation: u64,
    organizations: Vec<Organization>,
    /// How the last login was refused, when the service refused it.
    refused: Option<Box<ApiError>>,
}

#[derive(Deserialize)]
struct LoginData {
    #[serde(default)]
    token: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "one_or_many")]
    org: Vec<Organization>,
    #[serde(default, deserialize_with = "opt_bool")]
    two_factor: Option<bool>,
}

fn sensitive(value: &str, what: &'static str) -> Result<HeaderValue> {
    let mut header = HeaderValue::from_str(value)
        .map_err(|_| Error::invalid(what, "contains characters not allowed in an HTTP header"))?;
    header.set_sensitive(true);
    Ok(header)
}

impl Inner {
    /// The current session, logging in first if there is none.
    pub(crate) async fn session_auth(&self) -> Result<AuthSnapshot> {
        let logins_before = self.logins.load(Ordering::Acquire);
        // Why a tokio Mutex held across the login call: concurrent first calls must wait for
        // one login rather than each logging in (and each using up a server-side session).
        let mut state = self.session.lock().await;
        if let Some(active) = &state.active {
            return Ok(active.clone());
        }
        // A login that ran while this call waited was refused: share its answer.
        if self.logins.load(Ordering::Acquire) != logins_before
            && let Some(refused) = &state.refused
        {
            return Err(Error::Api(refused.clone()));
        }
        // Boxed: logging in sends calls, which may need a session: the futures recurse.
        Box::pin(self.establish(&mut state)).await
    }

    /// Logs in again after `generation` was refused. Returns `false` when the session cannot
    /// be renewed (an OAuth token the client did not obtain itself).
    pub(crate) async fn renew_session(&self, generation: u64) -> Result<bool> {
        if matches!(self.credentials, Credentials::Bearer(_)) {
            return Ok(false);
        }
        let mut state = self.session.lock().await;
        match &state.active {
            // Someone else already renewed it: use theirs.
            Some(active) if active.generation != generation => return Ok(true),
            _ => {}
        }
        tracing::debug!(generation, "session expired; logging in again");
        state.active = None;
        Box::pin(self.establish(&mut state)).await?;
        Ok(true)
    }

    async fn establish(&self, state: &mut SessionState) -> Result<AuthSnapshot> {
        let result = self.log_in(state).await;
        state.refused = match &result {
            Err(Error::Api(api)) => Some(api.clone()),
            _ => None,
        };
        // Counted when done: a call that began waiting before this point shares the answer.
        self.logins.fetch_add(1, Ordering::AcqRel);
        result
    }

    async fn log_in(&self, state: &mut SessionState) -> Result<AuthSnapshot> {
        let generation = state.generation + 1;
        let header = match &self.credentials {
            Credentials::Bearer(token) => AuthHeader::Bearer(sensitive(
                &format!("Bearer {}", token.expose_secret()),
                "access token",
            )?),
            Credentials::Password { email, password } => {
                let (token, orgs) = self.login_call(email, password).await?;
                state.organizations = orgs;
                AuthHeader::Token(sensitive(token.expose_secret(), "session token")?)
            }
        };
        let snapshot = AuthSnapshot { header, generation };
        if let Some(org) = &self.organization {
            self.enter_organization(org, &snapshot).await?;
        }
        state.generation = generation;
        state.active = Some(snapshot.clone());
        Ok(snapshot)
    }

    async fn login_call(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<(SecretString, Vec<Organization>)> {
        let mut call = Call::post_form(
            "mem/authenticate",
            vec![
                ("email", email.to_owned()),
                ("password", password.expose_secret().to_owned()),
                ("mode", "token".to_owned()),
            ],
        );
        call.auth = false;
        let endpoint = call.endpoint();
        tracing::debug!("logging in");
        let (status, bytes) = self.send_bytes(&call).await?;
        let data: LoginData = decode_v3(&endpoint, status, &bytes)?;
        if data.two_factor == Some(true) && data.token.is_none() {
            return Err(Error::unexpected(
                &endpoint,
                "the account requires two-factor authentication, which this client does not support; use an OAuth access token",
            ));
        }
        let token = match data.token {
            Some(serde_json::Value::String(t)) if !t.is_empty() => SecretString::from(t),
            // Never echo the value: it may be the token in an unexpected shape.
            _ => {
                return Err(Error::unexpected(
                    &endpoint,
                    "the login reply has no `data.token` string",
                ));
            }
        };
        Ok((token, data.org))
    }

    async fn enter_organization(&self, org: &OrganizationId, session: &AuthSnapshot) -> Result<()> {
        let call = Call::post_form(format!("mem/organization/{org}/authenticate"), Vec::new());
        tracing::debug!(organization = %org, "entering organisation");
        let reply = self.send_with(&call, Some(session)).await?;
        let endpoint = reply.endpoint.clone();
        // Read the body so the connection returns to the pool; its content (`data: {}`)
        // carries nothing we need, but an error envelope in a 200 must still fail.
        let (status, body) = reply.read_all().await;
        let bytes = body.map_err(|e| Error::transport(&endpoint, e))?;
        decode_v3::<serde_json::Value>(&endpoint, status, &bytes)?;
        Ok(())
    }

    /// Forces a login now (if not logged in) and returns the organisations the login
    /// reply listed.
    pub(crate) async fn login(&self) -> Result<Vec<Organization>> {
        self.session_auth().await?;
        Ok(self.session.lock().await.organizations.clone())
    }

    /// Ends the session on the server and forgets it locally.
    pub(crate) async fn logout(&self) -> Result<()> {
        let mut state = self.session.lock().await;
        let Some(active) = state.active.take() else {
            return Ok(());
        };
        if matches!(self.credentials, Credentials::Bearer(_)) {
            return Ok(());
        }
        let call = Call::get("mem/authenticate/logout");
        match self.send_with(&call, Some(&active)).await {
            Ok(reply) => {
                // Drain the small body so the connection can be reused.
                let _ = reply.read_all().await;
                Ok(())
            }
            // Logging out of a session that already expired is not a failure.
            Err(err) if err.is_session_expired() => Ok(()),
            Err(err) => Err(err),
        }
    }
}
