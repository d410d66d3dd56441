//! What FTP servers send, parsed: `MLSD`/`MLST` fact lines, Unix and DOS `LIST` lines,
//! `FEAT` replies and the `YYYYMMDDHHMMSS` times of `MDTM`/`MFMT`.
//!
//! Nothing here checks names: the lister does that with `RemotePath::check_name`, so that
//! a hostile name is reported against the directory it came from.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use crate::entry::{EntryKind, Modified, TimePrecision};

/// One entry of a listing, its name not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    /// The name as listed (for `MLST`, possibly a whole path).
    pub(super) name: String,
    pub(super) kind: EntryKind,
    pub(super) size: Option<u64>,
    pub(super) modified: Option<Modified>,
    pub(super) permissions: Option<u32>,
}

/// What one line of a listing holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Line {
    /// A file, directory or link.
    Entry(Listed),
    /// Nothing to report: a blank line, `total 12`, `.` and `..` directories.
    Skip,
}

/// Why a line could not be parsed.
pub(super) type ParseError = &'static str;

/// Parses one `MLSD` line or the fact line of an `MLST` reply (RFC 3659 §7):
/// `fact=value;fact=value; name`.
pub(super) fn parse_mlsx(line: &str) -> Result<Line, ParseError> {
    if line.trim().is_empty() {
        return Ok(Line::Skip);
    }
    let (facts, name) = line
        .split_once(' ')
        .ok_or("no space between the facts and the name")?;
    if name.is_empty() {
        return Err("no name after the facts");
    }
    let mut kind = None;
    let mut skip = false;
    let mut size = None;
    let mut modified = None;
    let mut permissions = None;
    for fact in facts.split(';').filter(|f| !f.is_empty()) {
        let (key, value) = fact.split_once('=').ok_or("a fact without `=`")?;
        match key.to_ascii_lowercase().as_str() {
            "type" => match value.to_ascii_lowercase().as_str() {
                "file" => kind = Some(EntryKind::File),
                "dir" => kind = Some(EntryKind::Dir),
                "cdir" | "pdir" => skip = true,
                v if v == "os.unix=symlink" || v.starts_with("os.unix=slink") => {
                    kind = Some(EntryKind::Symlink);
                }
                _ => return Err("not a file, directory or link"),
            },
            "size" => size = Some(value.parse::<u64>().map_err(|_| "unreadable size fact")?),
            "modify" => modified = Some(parse_fact_time(value).ok_or("unreadable modify fact")?),
            "unix.mode" => {
                permissions =
                    Some(u32::from_str_radix(value, 8).map_err(|_| "unreadable UNIX.mode fact")?);
            }
            _ => {}
        }
    }
    if skip {
        return Ok(Line::Skip);
    }
    let kind = kind.ok_or("no type fact")?;
    if kind == EntryKind::Dir && (name == "." || name == "..") {
        return Ok(Line::Skip);
    }
    Ok(Line::Entry(Listed {
        name: name.to_owned(),
        kind,
        size: if kind == EntryKind::File { size } else { None },
        modified,
        permissions: permissions.map(|p| p & 0o7777),
    }))
}

/// `YYYYMMDDHHMMSS[.sss]` in UTC (MLSD `modify`, `MDTM`), with its precision.
pub(super) fn parse_fact_time(value: &str) -> Option<Modified> {
    let (whole, fraction) = match value.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (value, None),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").ok()?;
    let mut time = naive.and_utc();
    let precision = match fraction {
        Some(f) if !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()) => {
            // Keep milliseconds; finer digits are rare and not promised by RFC 3659.
            let ms: String = f.chars().chain(std::iter::repeat('0')).take(3).collect();
            time += TimeDelta::milliseconds(ms.parse::<i64>().ok()?);
            TimePrecision::Millisecond
        }
        Some(_) => return None,
        None => TimePrecision::Second,
    };
    Some(Modified::new(time, precision))
}

/// A time as `MFMT` wants it: `YYYYMMDDHHMMSS`, UTC, whole seconds.
pub(super) fn format_fact_time(time: DateTime<Utc>) -> String {
    time.format("%Y%m%d%H%M%S").to_string()
}

/// Parses one `LIST` line, Unix (`ls -l`) or DOS/IIS style. `now` places year-less Unix dates.
pub(super) fn parse_list(line: &str, now: DateTime<Utc>) -> Result<Line, ParseError> {
    let trimmed = line.trim_end();
    if trimmed.is_empty() || is_total_line(trimmed) {
        return Ok(Line::Skip);
    }
    if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        parse_dos(line)
    } else {
        parse_unix(line, now)
    }
}

fn is_total_line(line: &str) -> bool {
    let mut words = line.split_whitespace();
    matches!(
        (words.next(), words.next(), words.next()),
        (Some(t), Some(n), None) if t.eq_ignore_ascii_case("total") && n.bytes().all(|b| b.is_ascii_digit())
    )
}

/// The words of a line with the byte offset just past each.
fn words(line: &str) -> impl Iterator<Item = (&str, usize)> + '_ {
    line.split(' ')
        .scan(0usize, |pos, w| {
            let start = *pos;
            *pos += w.len() + 1;
            Some((w, start + w.len()))
        })
        .filter(|(w, _)| !w.is_empty())
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `-rw-r--r--   1 user  group  1234 Nov 27 15:05 name with spaces`, also without the link
/// count or the group, with a year instead of a time, and `name -> target` for links.
fn parse_unix(line: &str, now: DateTime<Utc>) -> Result<Line, ParseError> {
    let tokens: Vec<(&str, usize)> = words(line).take(12).collect();
    let (mode, _) = *tokens.first().ok_or("empty line")?;
    let (kind, permissions) = parse_mode(mode).ok_or("not a Unix or DOS listing line")?;
    // Find `<size> <month> <day> <time|year>`: the link count, owner and group in front
    // vary between servers, so anchor on the date.
    let found = (2..tokens.len().saturating_sub(2)).find_map(|i| {
        let month = month_number(tokens[i].0)?;
        let day: u32 = tokens[i + 1]
            .0
            .parse()
            .ok()
            .filter(|d| (1..=31).contains(d))?;
        let size: u64 = tokens[i - 1].0.parse().ok()?;
        let (when, end) = tokens[i + 2];
        let modified = unix_time(month, day, when, now)?;
        Some((size, modified, end))
    });
    let (size, modified, end) = found.ok_or("no `size month day time` columns")?;
    // Exactly one space separates the date from the name; further spaces are the name's.
    let name = line
        .get(end + 1..)
        .map(|n| n.strip_suffix('\r').unwrap_or(n))
        .filter(|n| !n.is_empty())
        .ok_or("no name")?;
    let name = match kind {
        EntryKind::Symlink => name.split_once(" -> ").map_or(name, |(n, _)| n),
        _ => name,
    };
    if kind == EntryKind::Dir && (name == "." || name == "..") {
        return Ok(Line::Skip);
    }
    Ok(Line::Entry(Listed {
        name: name.to_owned(),
        kind,
        size: (kind == EntryKind::File).then_some(size),
        modified: Some(modified),
        permissions: Some(permissions),
    }))
}

/// `drwxr-sr-x` → kind and mode bits. Other file types (devices, pipes) are refused.
fn parse_mode(mode: &str) -> Option<(EntryKind, u32)> {
    let bytes = mode.as_bytes();
    if bytes.len() < 10 {
        return None;
    }
    let kind = match bytes[0] {
        b'-' => EntryKind::File,
        b'd' => EntryKind::Dir,
        b'l' => EntryKind::Symlink,
        _ => return None,
    };
    // Anything after the ten columns must be an ACL or xattr marker.
    if !bytes[10..].iter().all(|b| matches!(b, b'+' | b'@' | b'.')) {
        return None;
    }
    let mut bits = 0u32;
    for (group, chunk) in bytes[1..10].chunks(3).enumerate() {
        let shift = 6 - 3 * group as u32;
        let special = 0o4000 >> group;
        match chunk[0] {
            b'r' => bits |= 4 << shift,
            b'-' => {}
            _ => return None,
        }
        match chunk[1] {
            b'w' => bits |= 2 << shift,
            b'-' => {}
            _ => return None,
        }
        match (group, chunk[2]) {
            (_, b'x') => bits |= 1 << shift,
            (_, b'-') => {}
            (0 | 1, b's') | (2, b't') => bits |= (1 << shift) | special,
            (0 | 1, b'S') | (2, b'T') => bits |= special,
            _ => return None,
        }
    }
    Some((kind, bits))
}

fn month_number(word: &str) -> Option<u32> {
    let lower = word.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == lower)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// `15:05` (this year or last, whichever is not in the future; minute precision) or
/// `2024` (day precision). LIST times carry no zone: they are taken as UTC.
fn unix_time(month: u32, day: u32, when: &str, now: DateTime<Utc>) -> Option<Modified> {
    if let Some((h, m)) = when.split_once(':') {
        let time = NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)?;
        // A year-less date is the latest one not after tomorrow (clock skew): `ls` prints
        // times only for recent files. Feb 29 may need to go back more than one year.
        let limit = now + TimeDelta::days(1);
        (0..8).find_map(|back| {
            let date = NaiveDate::from_ymd_opt(now.year() - back, month, day)?;
            let at = date.and_time(time).and_utc();
            (at <= limit).then(|| Modified::new(at, TimePrecision::Minute))
        })
    } else {
        let year: i32 = when.parse().ok().filter(|y| (1900..=9999).contains(y))?;
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        Some(Modified::new(
            date.and_time(NaiveTime::MIN).and_utc(),
            TimePrecision::Day,
        ))
    }
}

/// `11-27-26  03:05PM       <DIR>          name` or `… 1234 name` (IIS, Windows servers).
fn parse_dos(line: &str) -> Result<Line, ParseError> {
    let mut tokens = words(line);
    let (date, _) = tokens.next().ok_or("empty line")?;
    let (time, _) = tokens.next().ok_or("no time")?;
    let date = parse_dos_date(date).ok_or("unreadable date")?;
    let mut time = time.to_ascii_uppercase();
    let (mut size_word, mut size_end) = tokens.next().ok_or("no size")?;
    if size_word.eq_ignore_ascii_case("AM") || size_word.eq_ignore_ascii_case("PM") {
        time.push_str(&size_word.to_ascii_uppercase());
        (size_word, size_end) = tokens.next().ok_or("no size")?;
    }
    let time = parse_dos_time(&time).ok_or("unreadable time")?;
    let (kind, size) = if size_word.eq_ignore_ascii_case("<DIR>") {
        (EntryKind::Dir, None)
    } else {
        let digits: String = size_word.chars().filter(|c| *c != ',').collect();
        let size = digits.parse::<u64>().map_err(|_| "unreadable size")?;
        (EntryKind::File, Some(size))
    };
    // DOS listings pad the columns with runs of spaces; the name starts at the next word.
    let rest = line.get(size_end..).ok_or("no name")?;
    let name = rest.trim_start_matches(' ');
    let name = name.strip_suffix('\r').unwrap_or(name);
    if name.is_empty() {
        return Err("no name");
    }
    if kind == EntryKind::Dir && (name == "." || name == "..") {
        return Ok(Line::Skip);
    }
    Ok(Line::Entry(Listed {
        name: name.to_owned(),
        kind,
        size,
        modified: Some(Modified::new(
            date.and_time(time).and_utc(),
            TimePrecision::Minute,
        )),
        permissions: None,
    }))
}

/// `MM-DD-YY` (70–99 → 19xx) or `MM-DD-YYYY`.
fn parse_dos_date(word: &str) -> Option<NaiveDate> {
    let mut parts = word.split('-');
    let (m, d, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let year: i32 = match y.len() {
        2 => match y.parse::<i32>().ok()? {
            y @ 70..=99 => 1900 + y,
            y => 2000 + y,
        },
        4 => y.parse().ok()?,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)
}

/// `03:05PM`, `12:00AM` or 24-hour `15:05`.
fn parse_dos_time(word: &str) -> Option<NaiveTime> {
    let (clock, pm) = if let Some(c) = word.strip_suffix("PM") {
        (c, Some(true))
    } else if let Some(c) = word.strip_suffix("AM") {
        (c, Some(false))
    } else {
        (word, None)
    };
    let (h, m) = clock.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    let h = match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) => h % 12 + 12,
        Some(false) => h % 12,
        None => h,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

/// What `FEAT` says the server can do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Features {
    pub(super) mlst: bool,
    /// `MLST` facts include `UNIX.mode`.
    pub(super) unix_mode: bool,
    pub(super) mdtm: bool,
    pub(super) mfmt: bool,
    pub(super) size: bool,
    /// `REST STREAM`: restarted `RETR` and `STOR`.
    pub(super) rest_stream: bool,
    pub(super) utf8: bool,
    /// `EPSV` is listed, or `FEAT` was not answered (then `EPSV` is tried once).
    pub(super) epsv: bool,
}

impl Features {
    /// From the `FEAT` reply as suppaftp splits it (feature → parameters).
    pub(super) fn from_feat<'a>(
        lines: impl IntoIterator<Item = (&'a String, &'a Option<String>)>,
    ) -> Self {
        let mut f = Features::default();
        for (name, params) in lines {
            let params = params.as_deref().unwrap_or("").to_ascii_lowercase();
            match name.to_ascii_uppercase().as_str() {
                "MLST" => {
                    f.mlst = true;
                    f.unix_mode = params.contains("unix.mode");
                }
                "MDTM" => f.mdtm = true,
                "MFMT" => f.mfmt = true,
                "SIZE" => f.size = true,
                "REST" => f.rest_stream = params.contains("stream"),
                "UTF8" => f.utf8 = true,
                "EPSV" => f.epsv = true,
                _ => {}
            }
        }
        f
    }

    /// What a server that does not answer `FEAT` is assumed to do: RFC 959 plus `SIZE`,
    /// `MDTM` and `EPSV`, each tried and given up when refused.
    pub(super) fn assumed() -> Self {
        Features {
            mdtm: true,
            size: true,
            epsv: true,
            ..Features::default()
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
