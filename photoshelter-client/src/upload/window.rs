//! Which images can be the result of an upload attempt: the time window, judged in the
//! account's time zone (in which `uploaded_at` is written).

use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};

use crate::client::Client;

/// How the account's local times map to UTC.
#[derive(Debug, Clone, Copy)]
enum Zone {
    /// `UTC`, `Etc/GMT+5`, `+05:30`…
    Fixed(FixedOffset),
    /// An IANA name such as `America/New_York` (daylight saving time included).
    Named(chrono_tz::Tz),
    /// No zone, or one this crate does not know: local times are taken to be as far behind
    /// UTC as any zone is (12 hours), which widens the window rather than narrowing it.
    Unknown,
}

impl Zone {
    fn parse(tz: Option<&str>) -> Zone {
        let Some(tz) = tz.map(str::trim).filter(|t| !t.is_empty()) else {
            return Zone::Unknown;
        };
        if let Some(offset) = fixed_offset(tz).and_then(|s| i32::try_from(s).ok())
            && let Some(fixed) = FixedOffset::east_opt(offset)
        {
            return Zone::Fixed(fixed);
        }
        match tz.parse::<chrono_tz::Tz>() {
            Ok(named) => Zone::Named(named),
            Err(_) => Zone::Unknown,
        }
    }

    /// The latest UTC instant a local time can stand for (`None`: it cannot be placed).
    /// Across a daylight-saving fold the later reading is taken: the bias is to admit.
    fn latest_utc(&self, local: &NaiveDateTime) -> Option<DateTime<Utc>> {
        fn latest<T: TimeZone>(r: LocalResult<DateTime<T>>) -> Option<DateTime<Utc>> {
            match r {
                LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(a, b) => {
                    Some(a.with_timezone(&Utc).max(b.with_timezone(&Utc)))
                }
                LocalResult::None => None,
            }
        }
        match self {
            Zone::Fixed(offset) => latest(offset.from_local_datetime(local)),
            Zone::Named(tz) => latest(tz.from_local_datetime(local)),
            // The most-behind zone is UTC−12: local + 12 h is the latest UTC it can be.
            Zone::Unknown => Some(local.and_utc() + chrono::Duration::hours(12)),
        }
    }
}

/// The earliest upload time that can belong to an attempt, and the account's zone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UploadWindow {
    earliest_utc: DateTime<Utc>,
    zone: Zone,
}

impl UploadWindow {
    fn new(since: SystemTime, tz: Option<&str>) -> Self {
        UploadWindow {
            earliest_utc: since.into(),
            zone: Zone::parse(tz),
        }
    }

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
            Ok(local) => self
                .zone
                .latest_utc(&local)
                .is_none_or(|utc| utc >= self.earliest_utc),
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
        // Kept once known; a failed look-up is not kept, so the next lookup asks again.
        let tz = match self
            .inner
            .account_tz
            .get_or_try_init(|| async { self.session().await.map(|s| s.tz) })
            .await
        {
            Ok(tz) => tz.as_deref(),
            Err(err) => {
                tracing::debug!(error = %err, "account time zone unknown for now");
                None
            }
        };
        UploadWindow::new(since, tz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(since: &str, tz: &str) -> UploadWindow {
        let since: DateTime<Utc> = since.parse().unwrap();
        UploadWindow::new(since.into(), Some(tz))
    }

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
        let w = window("2026-03-01T12:00:00Z", "+02:00");
        assert!(w.admits(Some("2026-03-01 14:00:05")));
        assert!(!w.admits(Some("2026-03-01 13:59:59")));
        assert!(w.admits(Some("2026-03-01T12:00:01Z")));
        assert!(!w.admits(Some("2026-03-01T11:00:00Z")));
        assert!(w.admits(None));
    }

    #[test]
    fn named_zones_follow_daylight_saving_time() {
        // 12:00 UTC is 08:00 in New York in July (EDT, UTC−4) and 07:00 in January (EST).
        let summer = window("2026-07-01T12:00:00Z", "America/New_York");
        assert!(summer.admits(Some("2026-07-01 08:00:05")));
        assert!(!summer.admits(Some("2026-07-01 07:59:00")));
        assert!(
            !summer.admits(Some("2026-07-01 07:00:05")),
            "an hour too early"
        );
        let winter = window("2026-01-15T12:00:00Z", "America/New_York");
        assert!(winter.admits(Some("2026-01-15 07:00:05")));
        assert!(!winter.admits(Some("2026-01-15 06:59:00")));
        let tokyo = window("2026-01-15T12:00:00Z", "Asia/Tokyo");
        assert!(tokyo.admits(Some("2026-01-15 21:00:00")));
        assert!(!tokyo.admits(Some("2026-01-15 20:59:59")));
    }

    #[test]
    fn a_time_in_the_autumn_fold_is_read_as_its_later_instant() {
        // 2026-11-01 01:30 happens twice in New York: 05:30 UTC (EDT), then 06:30 UTC (EST).
        let w = window("2026-11-01T06:00:00Z", "America/New_York");
        assert!(w.admits(Some("2026-11-01 01:30:00")));
        assert!(!w.admits(Some("2026-11-01 00:59:00")));
    }

    #[test]
    fn an_unknown_zone_widens_the_window_to_twelve_hours() {
        let w = window("2026-03-01T12:00:00Z", "Mars/Olympus_Mons");
        assert!(w.admits(Some("2026-03-01 00:00:01")));
        assert!(!w.admits(Some("2026-02-28 23:59:00")));
        let none = UploadWindow::new(SystemTime::UNIX_EPOCH, None);
        assert!(none.admits(Some("1970-01-01 00:00:00")));
    }
}
