//! Which images can be the result of an upload attempt: the time window, in the account's
//! time zone.

use std::time::SystemTime;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::client::Client;

/// The earliest upload time (in the account's local time, as `uploaded_at` is written)
/// that can belong to an attempt.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadWindow {
    earliest_local: NaiveDateTime,
    earliest_utc: DateTime<Utc>,
}

impl UploadWindow {
    pub(crate) fn admits(&self, uploaded_at: Option<&str>) -> bool {
        let Some(text) = uploaded_at.map(str::trim) else {
            // No timestamp to judge by: same name and size in the same place is taken as ours.
            return true;
        };
        if let Ok(exact) = DateTime::parse_from_rfc3339(text) {
            return exact.with_timezone(&Utc) >= self.earliest_utc;
        }
        match NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
            .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        {
            Ok(local) => local >= self.earliest_local,
            Err(_) => true,
        }
    }
}

/// The offset of a time zone name from UTC, in seconds, for the forms that need no
/// time-zone database: `UTC`, `GMT`, `Z`, `Etc/GMT±N`, `±HH:MM`, `UTC±H`.
pub(crate) fn fixed_offset(tz: &str) -> Option<i64> {
    let tz = tz.trim();
    let upper = tz.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "UTC"
            | "GMT"
            | "Z"
            | "ZULU"
            | "UNIVERSAL"
            | "ETC/UTC"
            | "ETC/GMT"
            | "ETC/UNIVERSAL"
            | "ETC/ZULU"
            | "GMT0"
            | "UCT"
            | "ETC/UCT"
    ) {
        return Some(0);
    }
    // POSIX-style `Etc/GMT+5` means five hours *behind* UTC.
    if let Some(rest) = upper.strip_prefix("ETC/GMT") {
        return parse_signed_offset(rest).map(|s| -s);
    }
    let rest = upper
        .strip_prefix("UTC")
        .or_else(|| upper.strip_prefix("GMT"))
        .unwrap_or(&upper);
    parse_signed_offset(rest)
}

fn parse_signed_offset(s: &str) -> Option<i64> {
    let (sign, digits) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "0"),
    };
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

impl Client {
    /// The upload window for an attempt that began at `since` (server clock).
    pub(crate) async fn upload_window(&self, since: SystemTime) -> UploadWindow {
        let tz = self
            .inner
            .account_tz
            .get_or_init(|| async {
                match self.session().await {
                    Ok(session) => session.tz,
                    Err(err) => {
                        tracing::debug!(error = %err, "account time zone unknown");
                        None
                    }
                }
            })
            .await;
        let earliest_utc: DateTime<Utc> = since.into();
        // Unknown zone: our upload's local time is at least UTC − 12 h.
        let offset = tz.as_deref().and_then(fixed_offset).unwrap_or(-12 * 3600);
        let earliest_local = (earliest_utc + chrono::Duration::seconds(offset)).naive_utc();
        UploadWindow {
            earliest_local,
            earliest_utc,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_offsets() {
        assert_eq!(fixed_offset("UTC"), Some(0));
        assert_eq!(fixed_offset("Etc/GMT+5"), Some(-5 * 3600));
        assert_eq!(fixed_offset("+05:30"), Some(5 * 3600 + 1800));
        assert_eq!(fixed_offset("UTC-0800"), Some(-8 * 3600));
        assert_eq!(fixed_offset("America/New_York"), None);
        assert_eq!(fixed_offset("+25"), None);
    }

    #[test]
    fn window_admits_only_later_uploads() {
        let since: DateTime<Utc> = "2026-03-01T12:00:00Z".parse().unwrap();
        let w = UploadWindow {
            earliest_local: (since + chrono::Duration::hours(2)).naive_utc(),
            earliest_utc: since,
        };
        assert!(w.admits(Some("2026-03-01 14:00:05")));
        assert!(!w.admits(Some("2026-03-01 13:59:59")));
        assert!(w.admits(Some("2026-03-01T12:00:01Z")));
        assert!(!w.admits(Some("2026-03-01T11:00:00Z")));
        assert!(w.admits(None));
    }
}
