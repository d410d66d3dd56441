//! UTF-16 manifests (Excel's "Unicode text" export is UTF-16LE with a byte-order mark and
//! tabs), decoded to UTF-8 as they stream in, so the CSV parser and everything after it
//! see UTF-8.

use std::fmt;
use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult};

/// Raw bytes read at a time.
const CHUNK: usize = 8 * 1024;

/// Text that is not valid UTF-16: where it is, for the error.
#[derive(Debug)]
pub(crate) struct Utf16Error {
    /// The line of the bad character (counted in the decoded text).
    pub(crate) line: u64,
    /// The byte offset of the bad code unit in the file.
    pub(crate) offset: u64,
}

impl fmt::Display for Utf16Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid UTF-16 at byte {} of the file (an unpaired surrogate or a cut-off last \
             character)",
            self.offset
        )
    }
}

impl std::error::Error for Utf16Error {}

/// Reads UTF-16 from `inner` and yields it as UTF-8. A byte-order mark, if any, decides
/// the byte order and is dropped; without one, the order given is used. Text that is not
/// valid UTF-16 is an `InvalidData` error holding a [`Utf16Error`].
pub(crate) struct Utf16Reader<R> {
    inner: R,
    decoder: Decoder,
    raw: Box<[u8]>,
    raw_at: usize,
    raw_end: usize,
    out: Box<[u8]>,
    out_at: usize,
    out_end: usize,
    /// Bytes of `inner` decoded so far.
    offset: u64,
    /// Line breaks decoded so far.
    breaks: u64,
    eof: bool,
    finished: bool,
    /// Bad input found after the text now in `out`: reported once that is read.
    bad: Option<Utf16Error>,
}

impl<R> fmt::Debug for Utf16Reader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Utf16Reader")
            .field("encoding", &self.decoder.encoding().name())
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Utf16Reader<R> {
    /// `big_endian`: the byte order when there is no byte-order mark.
    pub(crate) fn new(inner: R, big_endian: bool) -> Self {
        let encoding = if big_endian {
            encoding_rs::UTF_16BE
        } else {
            encoding_rs::UTF_16LE
        };
        Self {
            inner,
            // BOM sniffing: a byte-order mark picks the order (and is removed).
            decoder: encoding.new_decoder(),
            raw: vec![0; CHUNK].into_boxed_slice(),
            raw_at: 0,
            raw_end: 0,
            // Each 2-byte unit becomes at most 3 bytes of UTF-8.
            out: vec![0; CHUNK * 3 / 2 + 16].into_boxed_slice(),
            out_at: 0,
            out_end: 0,
            offset: 0,
            breaks: 0,
            eof: false,
            finished: false,
            bad: None,
        }
    }

    /// Decodes more into `out`; false when nothing more will come (then `bad` may hold
    /// the reason).
    fn refill(&mut self) -> io::Result<bool> {
        while !self.finished {
            if self.raw_at == self.raw_end && !self.eof {
                let n = loop {
                    match self.inner.read(&mut self.raw) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                self.raw_at = 0;
                self.raw_end = n;
                self.eof = n == 0;
            }
            let input = &self.raw[self.raw_at..self.raw_end];
            let (result, read, written) =
                self.decoder
                    .decode_to_utf8_without_replacement(input, &mut self.out, self.eof);
            self.raw_at += read;
            self.offset += read as u64;
            let decoded = &self.out[..written];
            self.breaks += decoded.iter().filter(|&&b| b == b'\n').count() as u64;
            self.out_at = 0;
            self.out_end = written;
            match result {
                DecoderResult::InputEmpty => self.finished = self.eof,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(bad, after) => {
                    // What came before the bad character is still handed out.
                    let back = u64::from(bad) + u64::from(after);
                    self.bad = Some(Utf16Error {
                        line: self.breaks + 1,
                        offset: self.offset.saturating_sub(back),
                    });
                    self.finished = true;
                }
            }
            if written > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_at == self.out_end && !self.refill()? {
            return match self.bad.take() {
                Some(bad) => Err(io::Error::new(io::ErrorKind::InvalidData, bad)),
                None => Ok(0),
            };
        }
        let n = buf.len().min(self.out_end - self.out_at);
        buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
        self.out_at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if big_endian {
                &[0xFE, 0xFF]
            } else {
                &[0xFF, 0xFE]
            });
        }
        for unit in text.encode_utf16() {
            out.extend_from_slice(&if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    fn decode(bytes: &[u8], big_endian: bool) -> io::Result<String> {
        let mut s = String::new();
        Utf16Reader::new(bytes, big_endian).read_to_string(&mut s)?;
        Ok(s)
    }

    #[test]
    fn decodes_both_orders_with_and_without_a_bom_across_chunks() {
        // Long enough to cross chunk boundaries, with surrogate pairs everywhere.
        let text: String = (0..3000)
            .map(|i| format!("row {i}\tcafé 漢字 📷\r\n"))
            .collect();
        for big_endian in [false, true] {
            assert_eq!(
                decode(&utf16(&text, big_endian, true), !big_endian).unwrap(),
                text
            );
            assert_eq!(
                decode(&utf16(&text, big_endian, false), big_endian).unwrap(),
                text
            );
        }
    }

    #[test]
    fn bad_utf16_is_an_error_with_its_place() {
        let mut bytes = utf16("a\nb\nc", false, true);
        // An unpaired high surrogate before "c".
        bytes.splice(10..10, [0x3D, 0xD8]);
        let err = decode(&bytes, false).unwrap_err();
        let bad = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<Utf16Error>())
            .unwrap();
        assert_eq!((bad.line, bad.offset), (3, 10));

        let err = decode(&utf16("ab", false, true)[..5], false).unwrap_err();
        assert!(err.to_string().contains("byte 4"), "{err}");
    }
}
