//! [`DateCreated`]: the IPTC "Date Created", a date of year, month or day precision with an
//! optional time and UTC offset.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveTime, Timelike};

use crate::error::Error;

/// The IPTC "Date Created" of an asset.
///
/// Archives hold dates known only to the year or the month, so the date has a precision:
/// a year, a year and month, or a full day. A time needs a full day, and a UTC offset needs a
/// time, as in XMP's `photoshop:DateCreated`.
///
/// Parsing accepts the forms found in the wild: ISO 8601 / XMP (`2023`, `2023-05`,
/// `2023-05-01`, `2023-05-01T10:30`, `2023-05-01T10:30:15.250+02:00`, `…Z`), exiftool
/// (`2023:05:01 10:30:15+02:00`) and IPTC IIM (`20230501`). Day-first and month-first forms
/// such as `01/05/2023` are refused as ambiguous.
///
/// ```
/// use asset_metadata::DateCreated;
///
/// let d: DateCreated = "2023:05:01 10:30:00+02:00".parse()?;
/// assert_eq!(d.to_string(), "2023-05-01T10:30:00+02:00");
/// assert_eq!("1952".parse::<DateCreated>()?.year(), 1952);
/// assert!("2023-02-30".parse::<DateCreated>().is_err());
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateCreated {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
    time: Option<NaiveTime>,
    offset: Option<FixedOffset>,
}

impl DateCreated {
    /// A full date.
    pub fn from_date(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: Some(date.month()),
            day: Some(date.day()),
            time: None,
            offset: None,
        }
    }

    /// A date known to the year only (`0..=9999`), or `None` if out of range.
    pub fn from_year(year: i32) -> Option<Self> {
        (0..=9999).contains(&year).then_some(Self {
            year,
            month: None,
            day: None,
            time: None,
            offset: None,
        })
    }

    /// A date known to the month only, or `None` if out of range.
    pub fn from_year_month(year: i32, month: u32) -> Option<Self> {
        let mut d = Self::from_year(year)?;
        (1..=12).contains(&month).then(|| {
            d.month = Some(month);
            d
        })
    }

    /// Adds a time of day; `None` unless the date has day precision.
    pub fn with_time(mut self, time: NaiveTime) -> Option<Self> {
        self.day?;
        self.time = Some(time);
        Some(self)
    }

    /// Adds a UTC offset; `None` unless the value has a time.
    pub fn with_offset(mut self, offset: FixedOffset) -> Option<Self> {
        self.time?;
        self.offset = Some(offset);
        Some(self)
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month (1–12), if known.
    pub fn month(&self) -> Option<u32> {
        self.month
    }

    /// The day of the month, if known.
    pub fn day(&self) -> Option<u32> {
        self.day
    }

    /// The full date, if known to the day.
    pub fn date(&self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month?, self.day?)
    }

    /// The time of day, if known.
    pub fn time(&self) -> Option<NaiveTime> {
        self.time
    }

    /// The UTC offset, if known.
    pub fn offset(&self) -> Option<FixedOffset> {
        self.offset
    }

    /// The date alone as `YYYY-MM-DD` (or `YYYY-MM`, `YYYY`), as PhotoShelter stores it.
    pub fn date_string(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{m:02}-{d:02}", self.year),
            (Some(m), None) => format!("{:04}-{m:02}", self.year),
            _ => format!("{:04}", self.year),
        }
    }
}

impl From<NaiveDate> for DateCreated {
    fn from(date: NaiveDate) -> Self {
        Self::from_date(date)
    }
}

impl fmt::Display for DateCreated {
    /// ISO 8601 as XMP writes it: `2023-05-01T10:30:00.5+02:00`, `Z` for UTC.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.date_string())?;
        if let Some(t) = self.time {
            write!(f, "T{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())?;
            let nanos = t.nanosecond();
            if nanos != 0 {
                let frac = format!("{nanos:09}");
                write!(f, ".{}", frac.trim_end_matches('0'))?;
            }
            if let Some(o) = self.offset {
                let secs = o.local_minus_utc();
                if secs == 0 {
                    f.write_str("Z")?;
                } else {
                    let sign = if secs < 0 { '-' } else { '+' };
                    let abs = secs.unsigned_abs();
                    write!(f, "{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)?;
                }
            }
        }
        Ok(())
    }
}

impl FromStr for DateCreated {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        parse(crate::values::trim(s)).map_err(|reason| Error::invalid_value(s, reason))
    }
}

/// A tiny cursor over ASCII digits and separators.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    /// The next `N` bytes as a decimal number, if they are all digits.
    #[inline(always)]
    fn digits<const N: usize>(&mut self) -> Option<u32> {
        let part = self.s.get(self.at..)?.first_chunk::<N>()?;
        let mut value = 0;
        for &b in part {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            value = value * 10 + u32::from(digit);
        }
        self.at += N;
        Some(value)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, chars: &[u8]) -> Option<u8> {
        let c = self.peek()?;
        if chars.contains(&c) {
            self.at += 1;
            Some(c)
        } else {
            None
        }
    }

    fn done(&self) -> bool {
        self.at == self.s.len()
    }
}

const AMBIGUOUS: &str =
    "expected YYYY, YYYY-MM, YYYY-MM-DD[Thh:mm[:ss][±hh:mm|Z]] or YYYY:MM:DD hh:mm:ss";

/// The two shapes manifests hold most, `YYYY-MM-DD` and `YYYY:MM:DD hh:mm:ss` (`-` or `:`
/// between the date's parts, ` ` or `T` before the time), read without the general parser,
/// as this runs for every row. Anything else, or a value out of range, is left to
/// [`parse`], which then gives the same value or the error.
#[inline]
fn fixed(b: &[u8]) -> Option<DateCreated> {
    if b.len() != 10 && b.len() != 19 {
        return None;
    }
    let digit = |i: usize| {
        let d = b.get(i)?.wrapping_sub(b'0');
        (d <= 9).then_some(u32::from(d))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let sep = *b.get(4)?;
    if !matches!(sep, b'-' | b':') || b.get(7) != Some(&sep) {
        return None;
    }
    let year = i32::try_from(two(0)? * 100 + two(2)?).ok()?;
    let date = full_date(year, two(5)?, two(8)?).ok()?;
    if b.len() == 10 {
        return Some(date);
    }
    if !matches!(b.get(10), Some(b' ' | b'T'))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let time = NaiveTime::from_hms_opt(two(11)?, two(14)?, two(17)?)?;
    date.with_time(time)
}

fn parse(s: &str) -> Result<DateCreated, String> {
    match fixed(s.as_bytes()) {
        Some(date) => Ok(date),
        None => general(s),
    }
}

/// Every accepted form, and the errors.
fn general(s: &str) -> Result<DateCreated, String> {
    if s.is_empty() {
        return Err("empty date".into());
    }
    let mut c = Cursor {
        s: s.as_bytes(),
        at: 0,
    };
    let year = c.digits::<4>().ok_or(AMBIGUOUS)?;
    let year = i32::try_from(year).map_err(|_| AMBIGUOUS.to_owned())?;
    // IIM form: YYYYMMDD.
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        let month = c.digits::<2>().ok_or(AMBIGUOUS)?;
        let day = c.digits::<2>().ok_or(AMBIGUOUS)?;
        if !c.done() {
            return Err(AMBIGUOUS.into());
        }
        return full_date(year, month, day);
    }
    if c.done() {
        return DateCreated::from_year(year).ok_or_else(|| "year out of range".into());
    }
    let sep = c.eat(b"-:").ok_or(AMBIGUOUS)?;
    let month = c.digits::<2>().ok_or(AMBIGUOUS)?;
    if c.done() {
        return DateCreated::from_year_month(year, month)
            .ok_or_else(|| format!("month {month} out of range"));
    }
    if c.eat(&[sep]).is_none() {
        return Err(AMBIGUOUS.into());
    }
    let day = c.digits::<2>().ok_or(AMBIGUOUS)?;
    let date = full_date(year, month, day)?;
    if c.done() {
        return Ok(date);
    }
    c.eat(b"T ").ok_or(AMBIGUOUS)?;
    let hour = c.digits::<2>().ok_or("bad time: expected hh:mm[:ss]")?;
    c.eat(b":").ok_or("bad time: expected hh:mm[:ss]")?;
    let minute = c.digits::<2>().ok_or("bad time: expected hh:mm[:ss]")?;
    let mut second = 0;
    let mut nanos = 0;
    if c.eat(b":").is_some() {
        second = c.digits::<2>().ok_or("bad time: expected hh:mm:ss")?;
        if c.eat(b".,").is_some() {
            let start = c.at;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.at += 1;
            }
            let frac = &s[start..c.at];
            if frac.is_empty() || frac.len() > 9 {
                return Err("bad fraction of a second".into());
            }
            let value: u32 = frac.parse().map_err(|_| "bad fraction of a second")?;
            // ok: frac.len() <= 9, so the exponent is in 0..=8.
            nanos = value * 10u32.pow(9 - u32::try_from(frac.len()).unwrap_or(9));
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .filter(|_| second < 60)
        .ok_or_else(|| format!("time {hour:02}:{minute:02}:{second:02} out of range"))?;
    let date = date.with_time(time).ok_or(AMBIGUOUS)?;
    if c.done() {
        return Ok(date);
    }
    let offset = if c.eat(b"Zz").is_some() {
        FixedOffset::east_opt(0)
    } else {
        let sign = c.eat(b"+-").ok_or("bad UTC offset: expected Z or ±hh:mm")?;
        let oh = c.digits::<2>().ok_or("bad UTC offset: expected ±hh:mm")?;
        c.eat(b":");
        let om = if c.done() {
            0
        } else {
            c.digits::<2>().ok_or("bad UTC offset: expected ±hh:mm")?
        };
        if oh > 23 || om > 59 {
            return Err("UTC offset out of range".into());
        }
        let secs = i32::try_from(oh * 3600 + om * 60).map_err(|_| "UTC offset out of range")?;
        FixedOffset::east_opt(if sign == b'-' { -secs } else { secs })
    };
    if !c.done() {
        return Err(AMBIGUOUS.into());
    }
    offset
        .and_then(|o| date.with_offset(o))
        .ok_or_else(|| "UTC offset out of range".into())
}

/// A date known to the day, checked against the proleptic Gregorian calendar (as chrono's
/// `NaiveDate`, without building one: this runs for every row of a manifest).
fn full_date(year: i32, month: u32, day: u32) -> Result<DateCreated, String> {
    if !(0..=9999).contains(&year) {
        return Err("year out of range".into());
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    if day == 0 || day > days {
        return Err(format!("no such date {year:04}-{month:02}-{day:02}"));
    }
    Ok(DateCreated {
        year,
        month: Some(month),
        day: Some(day),
        time: None,
        offset: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        s.parse::<DateCreated>().map(|d| d.to_string()).unwrap()
    }

    #[test]
    fn parses_every_common_form() {
        assert_eq!(p("1952"), "1952");
        assert_eq!(p("1952-07"), "1952-07");
        assert_eq!(p("2023-05-01"), "2023-05-01");
        assert_eq!(p("20230501"), "2023-05-01");
        assert_eq!(p("2023:05:01"), "2023-05-01");
        assert_eq!(p("2023:05:01 10:30:15"), "2023-05-01T10:30:15");
        assert_eq!(p("2023-05-01T10:30"), "2023-05-01T10:30:00");
        assert_eq!(p("2023-05-01T10:30:15Z"), "2023-05-01T10:30:15Z");
        assert_eq!(p("2023-05-01T10:30:15+00:00"), "2023-05-01T10:30:15Z");
        assert_eq!(
            p("2023-05-01T10:30:15.250-05:30"),
            "2023-05-01T10:30:15.25-05:30"
        );
        assert_eq!(p("2023:05:01 10:30:15+0200"), "2023-05-01T10:30:15+02:00");
        assert_eq!(p(" 2023-05-01 "), "2023-05-01");
    }

    #[test]
    fn refuses_bad_and_ambiguous_dates() {
        for bad in [
            "",
            "2023-13-01",
            "2023-02-30",
            "01/05/2023",
            "2023-05-01T25:00",
            "2023-05-01T10:61",
            "2023-05-01T10:30:60",
            "2023-05-01X",
            "2023-05-01T10:30+24:00",
            "yesterday",
            "2023-5-1",
            "2023-05:01",
        ] {
            let err = bad.parse::<DateCreated>().unwrap_err();
            assert!(err.to_string().contains("invalid value"), "{bad}: {err}");
        }
    }

    #[test]
    fn day_checks_agree_with_chrono() {
        for year in [0, 1, 4, 100, 400, 1900, 2000, 2023, 2024, 9999] {
            for month in 0..=13 {
                for day in 0..=32 {
                    let ours = full_date(year, month, day).ok().and_then(|d| d.date());
                    let chrono = NaiveDate::from_ymd_opt(year, month, day);
                    assert_eq!(ours, chrono, "{year}-{month}-{day}");
                }
            }
        }
    }

    #[test]
    fn the_fixed_width_shortcut_agrees_with_the_general_parser() {
        for s in [
            "2023-05-01",
            "2023:05:01",
            "2024-02-29",
            "2023:05:01 06:12:00",
            "2023-05-01T23:59:59",
            "0000-01-01",
            "9999-12-31 00:00:00",
        ] {
            let fast = fixed(s.as_bytes());
            assert!(fast.is_some(), "{s}");
            assert_eq!(fast, general(s).ok(), "{s}");
        }
        for s in [
            "2023-02-29",
            "2023-13-01",
            "2023-05:01",
            "2023/05/01",
            "2023-05-01X10:00:00",
            "2023-05-01 24:00:00",
            "2023-05-01 10:60:00",
            "2023-05-01 10:30:60",
            "2023-05-01 10-30-00",
            "2023-0a-01",
            "20230501",
            "2023-05-01T10:30",
        ] {
            assert!(fixed(s.as_bytes()).is_none(), "{s}");
            assert_eq!(parse(s), general(s), "{s}");
        }
    }

    #[test]
    fn precision_rules_hold() {
        let y = DateCreated::from_year(2000).unwrap();
        assert!(y.with_time(NaiveTime::MIN).is_none());
        let d = DateCreated::from_date(NaiveDate::from_ymd_opt(2000, 1, 2).unwrap());
        assert!(d.with_offset(FixedOffset::east_opt(0).unwrap()).is_none());
        assert_eq!(d.date_string(), "2000-01-02");
    }
}
