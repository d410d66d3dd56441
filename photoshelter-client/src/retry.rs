//! How failed calls are retried: the [`RetryPolicy`] (data), the schedule of one call
//! (backon's backoff plus a total-time bound), which failures may be repeated, and
//! `Retry-After`.

use std::fmt;
use std::time::{Duration, SystemTime};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::config::humantime_serde_compat;
use crate::error::Error;

/// How failed calls are retried: jittered exponential backoff, bounded by a number of
/// attempts and a total time. A `Retry-After` from the server replaces the computed delay.
///
/// Which failures are retried does not depend on the policy: rate limits (429) and 503
/// always; 500/502/504 and network failures for idempotent calls; for uploads and other
/// non-idempotent calls only failures that provably did not reach the server (connect
/// errors), or, for uploads, after checking that the image did not arrive.
///
/// ```
/// use std::time::Duration;
/// use photoshelter_client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(6)
///     .min_delay(Duration::from_millis(100))
///     .max_delay(Duration::from_secs(10))
///     .max_elapsed(Duration::from_secs(60));
/// assert_eq!(policy.attempts(), 6);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Total attempts per call, the first included (1 = no retry).
    pub max_attempts: u32,
    /// The first backoff delay.
    #[serde(with = "humantime_serde_compat")]
    pub min_delay: Duration,
    /// The largest backoff delay (a `Retry-After` may be longer, within `max_elapsed`).
    #[serde(with = "humantime_serde_compat")]
    pub max_delay: Duration,
    /// No retry starts later than this after the first attempt began.
    #[serde(with = "humantime_serde_compat")]
    pub max_elapsed: Duration,
    /// Whether delays are randomised (recommended when many clients retry together).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            min_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(120),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
    /// Sets the total number of attempts (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// Sets the first backoff delay.
    pub fn min_delay(mut self, d: Duration) -> Self {
        self.min_delay = d;
        self
    }
    /// Sets the largest backoff delay.
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }
    /// Sets the total time budget for retries.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }
    /// Turns jitter on or off.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }
    /// The total number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }

    /// The backoff schedule (delays between attempts), from backon.
    pub(crate) fn backoff(&self) -> impl Iterator<Item = Duration> + Send + use<> {
        let mut builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_max_times(self.attempts().saturating_sub(1) as usize)
            .with_factor(2.0);
        if self.jitter {
            builder = builder.with_jitter();
        }
        builder.build()
    }
}

impl fmt::Debug for RetryPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("min_delay", &self.min_delay)
            .field("max_delay", &self.max_delay)
            .field("max_elapsed", &self.max_elapsed)
            .field("jitter", &self.jitter)
            .finish()
    }
}

/// The retry budget of one call: the backon schedule plus the total-time bound.
pub(crate) struct RetrySchedule {
    delays: Box<dyn Iterator<Item = Duration> + Send>,
    started: Instant,
    max_elapsed: Duration,
    pub(crate) attempt: u32,
}

impl RetrySchedule {
    pub(crate) fn new(policy: &RetryPolicy) -> Self {
        Self {
            delays: Box::new(policy.backoff()),
            started: Instant::now(),
            max_elapsed: policy.max_elapsed,
            attempt: 1,
        }
    }

    /// The delay before the next attempt, or `None` when the budget is spent. A server's
    /// `Retry-After` replaces the computed delay.
    pub(crate) fn next_delay(&mut self, err: &Error) -> Option<Duration> {
        let computed = self.delays.next()?;
        let delay = err.retry_after().unwrap_or(computed);
        if self.started.elapsed() + delay > self.max_elapsed {
            return None;
        }
        self.attempt += 1;
        Some(delay)
    }
}

/// Whether `err` may be retried for a call of this idempotency.
///
/// 429 and 503 say the server did not act. A connect error says the request never left.
/// Anything else (500/502/504, a reset or timeout after sending) leaves the outcome
/// unknown, so only idempotent calls repeat it.
pub(crate) fn may_retry(idempotent: bool, err: &Error) -> bool {
    match err {
        Error::Api(api) => match api.status {
            429 | 503 => true,
            500 | 502 | 504 => idempotent,
            _ => false,
        },
        Error::Transport { source, .. } => {
            source.is_connect() || (idempotent && !source.is_builder() && !source.is_redirect())
        }
        _ => false,
    }
}

/// True when the request may have been acted on although no reply arrived: a transport
/// failure after connecting, or a gateway error.
pub(crate) fn outcome_unknown(err: &Error) -> bool {
    match err {
        Error::Api(api) => matches!(api.status, 502 | 504),
        Error::Transport { source, .. } => !source.is_connect() && !source.is_builder(),
        _ => false,
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date.
pub(crate) fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(raw).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn backoff_is_bounded_by_attempts() {
        let p = RetryPolicy::default()
            .max_attempts(4)
            .jitter(false)
            .min_delay(Duration::from_millis(10));
        // backon computes in f32: compare whole milliseconds, rounded.
        let delays: Vec<u128> = p.backoff().map(|d| (d.as_micros() + 500) / 1000).collect();
        assert_eq!(delays, [10, 20, 40]);
        assert_eq!(RetryPolicy::none().backoff().count(), 0);
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        let later = SystemTime::now() + Duration::from_secs(30);
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_str(&httpdate::fmt_http_date(later)).unwrap(),
        );
        let d = parse_retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(25) && d <= Duration::from_secs(30),
            "{d:?}"
        );
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&h), None);
    }
}
