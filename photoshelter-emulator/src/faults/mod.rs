//! Fault injection: rules that make the emulator misbehave on purpose, set from Rust
//! ([`Faults`]), from the admin API (`POST /_emulator/faults`) or from the command line.
//!
//! A rule matches calls by `path_prefix` (default `/psapi/`) and `method` (default any).
//! Among matching calls it fires on every `every`-th one (default: each), at most `count`
//! times (default: no limit). Rules are independent; one call may trigger several (for
//! example latency and a 503).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::Shared;

mod set;
pub(crate) use set::{FaultSet, Respond};

fn one() -> u64 {
    1
}

/// What a rule does when it fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultKind {
    /// Answer with this HTTP status (400–599) and the API's error envelope, without running
    /// the call. `retry_after` (seconds) adds a `Retry-After` header.
    Status {
        /// The HTTP status to answer with.
        status: u16,
        /// Optional `Retry-After` seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
    },
    /// Answer 429 `RateLimitErr` with `Retry-After: <retry_after>` (default 1 s).
    RateLimit {
        /// Seconds announced in `Retry-After`.
        #[serde(default = "one")]
        retry_after: u64,
    },
    /// Delay the call by `ms` milliseconds before handling it.
    Latency {
        /// The delay.
        ms: u64,
    },
    /// Reset the connection (RST) without a response. By default the call is handled first
    /// (an upload IS stored), so the client cannot know the outcome; with `before_handler`
    /// the request body is read and discarded and nothing happens.
    Drop {
        /// Drop before handling instead of after.
        #[serde(default)]
        before_handler: bool,
    },
    /// Invalidate the session token the call carries, so it fails with 401
    /// `SessionRequiredErr` (calls without a token are not counted).
    ExpireSession,
    /// Every login token stops working after this many authenticated calls with it
    /// (counted from when the rule is set). `every`, `count` and `path_prefix` do not apply.
    SessionLifetime {
        /// Calls a token may make.
        calls: u64,
    },
}

/// One fault rule. Build it with a constructor and refine it with the setters.
///
/// ```
/// use photoshelter_emulator::FaultRule;
/// let rule = FaultRule::status(503).count(3).path_prefix("/psapi/v3/mem/image/upload");
/// let json = serde_json::to_value(&rule).unwrap();
/// assert_eq!(json["kind"], "status");
/// assert_eq!(json["count"], 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FaultRule {
    /// What the rule does.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Only calls whose path starts with this (default `/psapi/`: every API call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// Only calls with this HTTP method (case-insensitive; default any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Fire on every n-th matching call (default: every matching call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u64>,
    /// Fire at most this many times (default: no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

impl FaultRule {
    fn new(kind: FaultKind) -> Self {
        FaultRule {
            kind,
            path_prefix: None,
            method: None,
            every: None,
            count: None,
        }
    }

    /// Answer with `status` (e.g. 500 or 503).
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status {
            status,
            retry_after: None,
        })
    }

    /// Answer 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit(retry_after_secs: u64) -> Self {
        Self::new(FaultKind::RateLimit {
            retry_after: retry_after_secs,
        })
    }

    /// Delay calls by `ms` milliseconds.
    pub fn latency(ms: u64) -> Self {
        Self::new(FaultKind::Latency { ms })
    }

    /// Reset the connection after handling the call, without a response.
    pub fn drop_connection() -> Self {
        Self::new(FaultKind::Drop {
            before_handler: false,
        })
    }

    /// Reset the connection after reading the request, without handling it.
    pub fn drop_before_handler() -> Self {
        Self::new(FaultKind::Drop {
            before_handler: true,
        })
    }

    /// Invalidate the token of the matching calls.
    pub fn expire_session() -> Self {
        Self::new(FaultKind::ExpireSession)
    }

    /// Every login token expires after `calls` authenticated calls.
    pub fn session_lifetime(calls: u64) -> Self {
        Self::new(FaultKind::SessionLifetime { calls })
    }

    /// Restrict to paths starting with `prefix`.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Restrict to one HTTP method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Fire on every n-th matching call.
    pub fn every(mut self, n: u64) -> Self {
        self.every = Some(n);
        self
    }

    /// Fire at most `n` times.
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |field: &'static str, message: &str| {
            Err(Error::InvalidInput {
                field,
                message: message.into(),
            })
        };
        match self.kind {
            FaultKind::Status { status, .. } if !(400..=599).contains(&status) => {
                return bad("status", "must be 400..=599");
            }
            FaultKind::Latency { ms } if ms > 600_000 => {
                return bad("ms", "must be at most 600000");
            }
            FaultKind::SessionLifetime { calls: 0 } => return bad("calls", "must be at least 1"),
            _ => {}
        }
        if self.every == Some(0) {
            return bad("every", "must be at least 1");
        }
        if self.count == Some(0) {
            return bad("count", "must be at least 1");
        }
        Ok(())
    }
}

/// A rule as installed, with its counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FaultStatus {
    /// Id to remove it with.
    pub id: u64,
    /// The rule.
    pub rule: FaultRule,
    /// Calls that matched its path and method while it was active.
    pub matched: u64,
    /// Times it fired.
    pub fired: u64,
    /// False once `count` is used up.
    pub active: bool,
}

/// A handle to the emulator's fault rules (cheap to clone).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emu = photoshelter_emulator::Emulator::start().await?;
/// let faults = emu.faults();
/// faults.fail_next(503, 2)?;                 // the next two API calls get 503
/// faults.rate_limit_every(5, 2)?;            // every 5th call gets 429, Retry-After: 2
/// assert_eq!(faults.list().len(), 2);
/// faults.clear();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("rules", &self.list())
            .finish()
    }
}

impl Faults {
    /// Installs a rule; returns its id.
    pub fn add(&self, rule: FaultRule) -> Result<u64> {
        let id = self.shared.faults().add(rule.clone())?;
        if matches!(rule.kind, FaultKind::SessionLifetime { .. }) {
            for s in self.shared.sessions().values_mut() {
                s.calls = 0;
            }
        }
        Ok(id)
    }

    /// Removes one rule; false when no rule has that id.
    pub fn remove(&self, id: u64) -> bool {
        self.shared.faults().remove(id)
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.shared.faults().clear();
    }

    /// The installed rules with their counters.
    pub fn list(&self) -> Vec<FaultStatus> {
        self.shared.faults().list()
    }

    /// Every `n`-th API call gets 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit_every(&self, n: u64, retry_after_secs: u64) -> Result<u64> {
        self.add(FaultRule::rate_limit(retry_after_secs).every(n))
    }

    /// The next `count` API calls get `status` (a 500/503 burst).
    pub fn fail_next(&self, status: u16, count: u64) -> Result<u64> {
        self.add(FaultRule::status(status).count(count))
    }

    /// Every API call is delayed by `ms` milliseconds.
    pub fn latency_ms(&self, ms: u64) -> Result<u64> {
        self.add(FaultRule::latency(ms))
    }

    /// The next `count` uploads are stored, then their connection is reset without a response.
    pub fn drop_next_uploads(&self, count: u64) -> Result<u64> {
        self.add(
            FaultRule::drop_connection()
                .path_prefix("/psapi/v3/mem/image/upload")
                .count(count),
        )
    }

    /// Invalidates every login token now; returns how many there were.
    pub fn expire_sessions_now(&self) -> usize {
        self.shared.expire_sessions()
    }

    /// Every login token expires after `calls` authenticated calls.
    pub fn expire_sessions_after(&self, calls: u64) -> Result<u64> {
        self.add(FaultRule::session_lifetime(calls))
    }
}
