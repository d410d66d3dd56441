//! Encodings, the byte-order mark and delimiter sniffing.

use std::borrow::Cow;
use std::io::{Chain, Cursor, Read};

use super::utf16::{Utf16Error, Utf16Reader};

use crate::error::{Error, Position, Result};

/// The text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark. Invalid bytes are an error that suggests
    /// the other encodings.
    #[default]
    Utf8,
    /// Windows-1252 (what Excel on Windows writes as "CSV"; a superset of Latin-1's
    /// printable characters).
    Windows1252,
    /// ISO-8859-1, byte for code point (bytes 0x80–0x9F become C1 controls).
    Latin1,
    /// UTF-16, little-endian unless a byte-order mark says otherwise. A file that starts
    /// with a UTF-16 byte-order mark is read as UTF-16 whatever the encoding asked for
    /// (Excel's "Unicode text" export is UTF-16LE with a mark and tabs).
    Utf16Le,
    /// UTF-16, big-endian unless a byte-order mark says otherwise.
    Utf16Be,
}

/// Decodes one field. UTF-16 never gets here: it is turned into UTF-8 as it is read.
pub(crate) fn decode(bytes: &[u8], encoding: Encoding) -> Result<Cow<'_, str>> {
    match encoding {
        Encoding::Utf8 | Encoding::Utf16Le | Encoding::Utf16Be => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|e| Error::Encoding {
                pos: Box::default(),
                message: format!(
                    "invalid UTF-8 at byte {} of the field; if the file was saved as \
                     Windows-1252 or Latin-1, read it with that encoding",
                    e.valid_up_to()
                ),
            }),
        Encoding::Windows1252 => Ok(encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0),
        Encoding::Latin1 => Ok(if bytes.is_ascii() {
            // ok: ASCII is valid UTF-8; the branch only avoids an allocation.
            Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default())
        } else {
            Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
        }),
    }
}

/// The header line read ahead of the CSV parser, and the delimiter it suggests.
#[derive(Debug)]
pub(crate) struct Sniffed {
    /// Everything read so far (the header line and maybe more), without a UTF-8 BOM.
    pub(crate) prefix: Vec<u8>,
    /// `,`, `;` or `\t`: whichever occurs most often outside quotes in the header.
    pub(crate) delimiter: u8,
}

/// The source of a manifest: as it is, or UTF-16 decoded to UTF-8.
pub(crate) enum Source<R> {
    /// UTF-8 or a single-byte encoding, read as it is.
    Bytes(R),
    /// UTF-16, decoded as it streams.
    Utf16(Utf16Reader<R>),
}

impl<R> std::fmt::Debug for Source<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Bytes(_) => f.write_str("Bytes"),
            Source::Utf16(r) => r.fmt(f),
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Bytes(r) => r.read(buf),
            Source::Utf16(r) => r.read(buf),
        }
    }
}

/// A reader with the bytes already looked at put back in front.
pub(crate) type Rewound<R> = Chain<Cursor<Vec<u8>>, R>;

/// Looks at the first bytes for a UTF-16 byte-order mark and wraps the reader to match
/// `encoding`, or the mark when there is one. Returns the source and whether its bytes are
/// now UTF-8.
pub(crate) fn open<R: Read>(
    mut reader: R,
    encoding: Encoding,
) -> Result<(Source<Rewound<R>>, bool)> {
    let mut head = [0u8; 2];
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(Position::new(), e)),
        }
    }
    let bom = match head[..got] {
        [0xFF, 0xFE] => Some(false),
        [0xFE, 0xFF] => Some(true),
        _ => None,
    };
    let utf16 = match (bom, encoding) {
        (Some(big_endian), _) => Some(big_endian),
        (None, Encoding::Utf16Le) => Some(false),
        (None, Encoding::Utf16Be) => Some(true),
        (None, _) => None,
    };
    let inner = Cursor::new(head[..got].to_vec()).chain(reader);
    Ok(match utf16 {
        Some(big_endian) => (Source::Utf16(Utf16Reader::new(inner, big_endian)), true),
        None => (Source::Bytes(inner), encoding == Encoding::Utf8),
    })
}

/// The crate error for a failed read: bad UTF-16 is an encoding error at its line.
pub(crate) fn read_error(pos: Position, e: std::io::Error) -> Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Utf16Error>())
    {
        Some(bad) => Error::Encoding {
            pos: Box::new(pos.with_line(bad.line)),
            message: bad.to_string(),
        },
        None => Error::io(pos, "read", e),
    }
}

/// Reads the header line (up to `limit` bytes), skips a UTF-8 BOM and counts candidate
/// delimiters outside quotes.
pub(crate) fn sniff<R: Read>(reader: &mut R, quote: u8, limit: usize) -> Result<Sniffed> {
    let mut prefix = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut counts = [0usize; 3];
    let mut in_quotes = false;
    // Next byte of `prefix` to scan. BOM bytes are neither quotes nor delimiters, so the
    // scan does not need to skip them.
    let mut at = 0;
    'read: loop {
        let n = loop {
            match reader.read(&mut chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(Position::new(), e)),
            }
        };
        if n == 0 {
            break;
        }
        prefix.extend_from_slice(&chunk[..n]);
        while let Some(&b) = prefix.get(at) {
            at += 1;
            if b == quote {
                in_quotes = !in_quotes;
            } else if !in_quotes {
                match b {
                    b'\n' => break 'read,
                    b',' => counts[0] += 1,
                    b';' => counts[1] += 1,
                    b'\t' => counts[2] += 1,
                    _ => {}
                }
            }
        }
        if prefix.len() > limit {
            return Err(Error::Limit {
                pos: Box::default(),
                what: "the header line".into(),
                limit,
            });
        }
    }
    if prefix.starts_with(b"\xEF\xBB\xBF") {
        prefix.drain(..3);
    }
    let delimiter = match counts {
        [c, s, t] if s > c && s >= t => b';',
        [c, s, t] if t > c && t > s => b'\t',
        _ => b',',
    };
    Ok(Sniffed { prefix, delimiter })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delim(s: &[u8]) -> u8 {
        sniff(&mut &s[..], b'"', 1 << 20).unwrap().delimiter
    }

    #[test]
    fn sniffs_the_header_delimiter() {
        assert_eq!(delim(b"a,b,c\n1;2;3;4;5\n"), b',');
        assert_eq!(delim(b"a;b;\"c,d,e\"\n"), b';');
        assert_eq!(delim(b"a\tb\n"), b'\t');
        assert_eq!(delim(b"\xEF\xBB\xBFfile;title"), b';');
        assert_eq!(delim(b"file"), b',');
        assert_eq!(delim(b""), b',');
    }

    #[test]
    fn strips_a_utf8_bom() {
        let s = sniff(&mut &b"\xEF\xBB\xBFfile\na\n"[..], b'"', 100).unwrap();
        assert_eq!(s.prefix, b"file\na\n");
    }

    #[test]
    fn a_utf16_bom_wins_over_the_encoding_asked_for() {
        for (bytes, encoding, utf8) in [
            (&b"\xFF\xFEf\x00"[..], Encoding::Windows1252, true),
            (b"\xFE\xFF\x00f", Encoding::Utf8, true),
            (b"f\x00", Encoding::Utf16Le, true),
            (b"\x00f", Encoding::Utf16Be, true),
            (b"f", Encoding::Utf8, true),
            (b"", Encoding::Latin1, false),
        ] {
            let (mut src, is_utf8) = open(bytes, encoding).unwrap();
            let mut text = String::new();
            src.read_to_string(&mut text).unwrap();
            assert_eq!(
                (text.as_str(), is_utf8),
                (if bytes.is_empty() { "" } else { "f" }, utf8)
            );
        }
    }

    #[test]
    fn decodes_single_byte_encodings() {
        assert_eq!(
            decode(b"\x80 caf\xe9", Encoding::Windows1252).unwrap(),
            "€ café"
        );
        assert_eq!(decode(b"caf\xe9", Encoding::Latin1).unwrap(), "café");
        assert!(decode(b"caf\xe9", Encoding::Utf8).is_err());
    }
}
