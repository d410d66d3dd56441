//! IPTC-IIM datasets (record 2) mapped to the API's IPTC field names (wire-format.md § 8).
//!
//! Text is UTF-8 when record 1 dataset 90 (coded character set) is `ESC % G`, else Latin-1.
//! Repeatable datasets (keywords, by-line) are joined with `", "`.

use std::collections::BTreeMap;

/// Datasets of record 2 and the API field each one fills.
const FIELDS: &[(u8, &str)] = &[
    (5, "title"),
    (25, "keyword"),
    (40, "special_instructions"),
    (55, "date_created"),
    (80, "author"),
    (85, "author_title"),
    (90, "city"),
    (92, "sublocation"),
    (95, "state"),
    (100, "country_code"),
    (101, "country"),
    (103, "transmission_reference"),
    (105, "headline"),
    (110, "credit"),
    (115, "source"),
    (116, "copyright"),
    (120, "caption"),
    (122, "caption_writer"),
];

/// At most this many datasets are read; a real block has a few dozen.
const MAX_DATASETS: usize = 10_000;

/// One raw dataset.
struct DataSet<'a> {
    record: u8,
    number: u8,
    data: &'a [u8],
}

/// Splits an IIM block into datasets, stopping at the first malformed one.
fn datasets(mut buf: &[u8]) -> Vec<DataSet<'_>> {
    let mut out = Vec::new();
    while out.len() < MAX_DATASETS {
        let [0x1C, record, number, l0, l1, rest @ ..] = buf else {
            break;
        };
        let (len, rest) = if l0 & 0x80 == 0 {
            (usize::from(u16::from_be_bytes([*l0, *l1])), rest)
        } else {
            // Extended dataset: the low 15 bits give how many bytes hold the length.
            let n = usize::from(u16::from_be_bytes([l0 & 0x7F, *l1]));
            if n == 0 || n > 4 || rest.len() < n {
                break;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        let Some(data) = rest.get(..len) else { break };
        out.push(DataSet {
            record: *record,
            number: *number,
            data,
        });
        buf = &rest[len..];
    }
    out
}

fn decode(bytes: &[u8], utf8: bool) -> String {
    let text: String = if utf8 {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        bytes.iter().map(|b| char::from(*b)).collect()
    };
    text.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_owned()
}

/// `CCYYMMDD` → `YYYY-MM-DD`; anything else is kept as it is.
fn iso_date(s: &str) -> String {
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])
    } else {
        s.to_owned()
    }
}

/// Reads the API IPTC fields out of an IIM block.
pub(crate) fn parse(block: &[u8]) -> BTreeMap<String, String> {
    let sets = datasets(block);
    let utf8 = sets
        .iter()
        .any(|d| d.record == 1 && d.number == 90 && d.data.windows(3).any(|w| w == b"\x1b%G"));
    let mut lists: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for d in sets.iter().filter(|d| d.record == 2) {
        let Some((_, name)) = FIELDS.iter().find(|(n, _)| *n == d.number) else {
            continue;
        };
        let value = decode(d.data, utf8);
        if value.is_empty() {
            continue;
        }
        let entry = lists.entry(name).or_default();
        let repeatable = matches!(*name, "keyword" | "author");
        if repeatable || entry.is_empty() {
            entry.push(value);
        }
    }
    lists
        .into_iter()
        .map(|(name, values)| {
            let joined = values.join(", ");
            let value = if name == "date_created" {
                iso_date(&joined)
            } else {
                joined
            };
            (name.to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(record: u8, number: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![0x1C, record, number];
        v.extend_from_slice(&(data.len() as u16).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn utf8_when_declared() {
        let mut b = ds(1, 90, b"\x1b%G");
        b.extend(ds(2, 5, "Café".as_bytes()));
        b.extend(ds(2, 25, b"one"));
        b.extend(ds(2, 25, b"two"));
        b.extend(ds(2, 55, b"20240131"));
        let m = parse(&b);
        assert_eq!(m["title"], "Café");
        assert_eq!(m["keyword"], "one, two");
        assert_eq!(m["date_created"], "2024-01-31");
    }

    #[test]
    fn latin1_otherwise() {
        let b = ds(2, 90, b"K\xf6ln");
        assert_eq!(parse(&b)["city"], "Köln");
    }

    #[test]
    fn extended_length_and_garbage() {
        let mut b = vec![0x1C, 2, 120, 0x80, 0x02, 0x00, 0x03];
        b.extend_from_slice(b"abc");
        assert_eq!(parse(&b)["caption"], "abc");
        // A length that runs past the end stops parsing without a panic.
        assert!(parse(&[0x1C, 2, 120, 0x7F, 0xFF, b'a']).is_empty());
        assert!(parse(&[0x1C, 2, 120, 0x80, 0x09]).is_empty());
        assert!(parse(&[0x1C, 2, 120, 0x80, 0x04, 0xFF, 0xFF, 0xFF, 0xFF]).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = parse(&bytes);
            let mut tagged = vec![0x1C, 2, 5];
            tagged.extend_from_slice(&bytes);
            let _ = parse(&tagged);
        }
    }
}
