//! Guarding CSV cells against formula injection, for exports opened in spreadsheets.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and some
//! treat a leading tab or carriage return the same way), so a caption such as
//! `=HYPERLINK("http://evil.example","Click")` written as-is becomes a live link or worse
//! (OWASP "CSV Injection"). The guard writes such a cell with a leading `'`, which
//! spreadsheets show as text. To stay reversible, a cell that already starts with
//! apostrophes followed by one of these characters gets one more; the reader, told the same,
//! removes exactly one.

use std::borrow::Cow;

/// Whether a cell starting with `b` would be taken as a formula.
fn is_trigger(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
}

/// Whether `cell` is apostrophes (none or more) followed by a trigger.
fn needs_guard(cell: &str) -> bool {
    let rest = cell.trim_start_matches('\'');
    rest.as_bytes().first().is_some_and(|&b| is_trigger(b))
}

/// The cell as written with the guard on.
pub(crate) fn guard(cell: &str) -> Cow<'_, str> {
    if needs_guard(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The cell as read with the guard on: one leading `'` is removed where [`guard`] put one.
#[inline]
pub(crate) fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_cells_read_back_exactly() {
        for (value, written) in [
            ("=1+2", "'=1+2"),
            ("+33 1 23", "'+33 1 23"),
            ("-5", "'-5"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=x", "''=x"),
            ("''-", "'''-"),
            ("'quoted'", "'quoted'"),
            ("a=b", "a=b"),
            ("", ""),
            ("'", "'"),
        ] {
            assert_eq!(guard(value), written, "{value:?}");
            assert_eq!(unguard(&guard(value)), value, "{value:?}");
        }
    }
}
