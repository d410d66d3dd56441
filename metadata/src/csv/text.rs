//! Encodings, the byte-order mark and delimiter sniffing.

use std::borrow::Cow;
use std::io::Read;

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
}

/// Decodes one field.
pub(crate) fn decode(bytes: &[u8], encoding: Encoding) -> Result<Cow<'_, str>> {
    match encoding {
        Encoding::Utf8 => {
            std::str::from_utf8(bytes)
                .map(Cow::Borrowed)
                .map_err(|e| Error::Encoding {
                    pos: Box::default(),
                    message: format!(
                        "invalid UTF-8 at byte {} of the field; if the file was saved as \
                     Windows-1252 or Latin-1, read it with that encoding",
                        e.valid_up_to()
                    ),
                })
        }
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

/// Reads the header line (up to `limit` bytes), skips a UTF-8 BOM, refuses UTF-16 and
/// counts candidate delimiters outside quotes.
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
                Err(e) => return Err(Error::io(Position::new(), "read", e)),
            }
        };
        if n == 0 {
            break;
        }
        prefix.extend_from_slice(&chunk[..n]);
        if prefix.starts_with(&[0xFF, 0xFE]) || prefix.starts_with(&[0xFE, 0xFF]) {
            return Err(Error::Encoding {
                pos: Box::default(),
                message: "the file is UTF-16 (it starts with a UTF-16 byte-order mark); \
                          save it as UTF-8 CSV"
                    .into(),
            });
        }
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
    fn strips_bom_and_refuses_utf16() {
        let s = sniff(&mut &b"\xEF\xBB\xBFfile\na\n"[..], b'"', 100).unwrap();
        assert_eq!(s.prefix, b"file\na\n");
        let err = sniff(&mut &b"\xFF\xFEf\x00"[..], b'"', 100).unwrap_err();
        assert!(err.to_string().contains("UTF-16"), "{err}");
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
