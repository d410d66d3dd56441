//! [`RawReader`]: raw CSV records straight from `csv_core`, the parser under the `csv`
//! crate, with what a manifest needs on top: a record-size limit, the line each record
//! starts on, and the detection of a quoted field left open at the end of the file (which
//! the parser would otherwise take as one last field holding the rest of the file).

use std::io::{self, BufRead, BufReader, Read};

use csv_core::ReadRecordResult;

/// The input buffer (as the `csv` crate's default).
const BUFFER: usize = 8 * 1024;

/// One raw record: the fields' bytes back to back, and where each field ends.
#[derive(Debug, Clone, Default)]
pub(super) struct RawRecord {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    line: u64,
}

impl RawRecord {
    /// How many fields.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Every field's bytes, back to back.
    pub(super) fn as_slice(&self) -> &[u8] {
        let end = self.ends().last().copied().unwrap_or(0);
        &self.bytes[..end]
    }

    /// Where each field ends in [`as_slice`](Self::as_slice).
    pub(super) fn ends(&self) -> &[usize] {
        &self.ends[..self.len]
    }

    /// The fields.
    pub(super) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut start = 0;
        self.ends().iter().map(move |&end| {
            let field = &self.bytes[start..end];
            start = end;
            field
        })
    }

    /// The line the record starts on, counted as the `csv` crate counts (the line after
    /// the previous record's terminator).
    pub(super) fn line(&self) -> u64 {
        self.line
    }
}

/// Why [`RawReader::read`] stopped.
#[derive(Debug)]
pub(super) enum RawError {
    /// Reading the source failed.
    Io(io::Error),
    /// A record is longer than the limit (in bytes of input).
    TooLong,
    /// The last record's last field opened a quote that no quote closes; `line` is where
    /// that field starts.
    UnclosedQuote { line: u64, field: usize },
}

/// Reads raw records; after an error it reads nothing more.
#[derive(Debug)]
pub(super) struct RawReader<R> {
    src: BufReader<R>,
    core: csv_core::Reader,
    limit: usize,
    done: bool,
}

impl<R: Read> RawReader<R> {
    /// `limit`: the most bytes of input one record may take.
    pub(super) fn new(src: R, delimiter: u8, quote: u8, limit: usize) -> Self {
        let core = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .quote(quote)
            .build();
        Self {
            src: BufReader::with_capacity(BUFFER, src),
            core,
            limit,
            done: false,
        }
    }

    /// The line the parser has reached.
    pub(super) fn line(&self) -> u64 {
        self.core.line()
    }

    /// Reads the next record into `rec`, reusing its buffers; `Ok(false)` at the end.
    pub(super) fn read(&mut self, rec: &mut RawRecord) -> Result<bool, RawError> {
        rec.len = 0;
        rec.line = self.core.line();
        if self.done {
            return Ok(false);
        }
        let out = self.read_inner(rec);
        if !matches!(out, Ok(true)) {
            self.done = true;
        }
        out
    }

    fn read_inner(&mut self, rec: &mut RawRecord) -> Result<bool, RawError> {
        if rec.bytes.is_empty() {
            rec.bytes.resize(256, 0);
        }
        if rec.ends.is_empty() {
            rec.ends.resize(16, 0);
        }
        let (mut out, mut ends) = (0, 0);
        // Input taken by this record so far, and whether any of it was more than line
        // terminators (then the parser is inside a record).
        let mut taken = 0usize;
        let mut inside = false;
        // At the end of the input, a parser inside a record is given one line terminator
        // first: a record whose quotes are closed ends there (as with a final newline);
        // one inside an open quote takes it as data and asks for more.
        let mut probed = false;
        loop {
            let input = loop {
                match self.src.fill_buf() {
                    Ok(input) => break input,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(RawError::Io(e)),
                }
            };
            let at_end = input.is_empty();
            let input: &[u8] = if at_end && inside && !probed {
                b"\n"
            } else {
                input
            };
            let (res, nin, nout, nend) =
                self.core
                    .read_record(input, &mut rec.bytes[out..], &mut rec.ends[ends..]);
            if !at_end {
                if res != ReadRecordResult::Record {
                    inside |= input[..nin].iter().any(|&b| b != b'\n' && b != b'\r');
                }
                self.src.consume(nin);
            } else if nin > 0 {
                probed = true;
            }
            taken += nin;
            out += nout;
            ends += nend;
            if taken > self.limit {
                return Err(RawError::TooLong);
            }
            match res {
                ReadRecordResult::InputEmpty if probed && at_end => {
                    return Err(self.unclosed(rec, out, ends));
                }
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let len = rec.bytes.len().max(1) * 2;
                    rec.bytes.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = rec.ends.len().max(1) * 2;
                    rec.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    rec.len = ends;
                    return Ok(true);
                }
                ReadRecordResult::End => return Ok(false),
            }
        }
    }

    /// The error for a quote left open: the parser is given the end of the input to get
    /// the record's fields, and the open field's line is counted from the record's start
    /// through the line breaks in the fields before it (each was read inside quotes).
    fn unclosed(&mut self, rec: &mut RawRecord, mut out: usize, mut ends: usize) -> RawError {
        loop {
            let (res, _, nout, nend) =
                self.core
                    .read_record(&[], &mut rec.bytes[out..], &mut rec.ends[ends..]);
            out += nout;
            ends += nend;
            match res {
                ReadRecordResult::OutputEndsFull => {
                    let len = rec.ends.len().max(1) * 2;
                    rec.ends.resize(len, 0);
                }
                ReadRecordResult::OutputFull => {
                    let len = rec.bytes.len().max(1) * 2;
                    rec.bytes.resize(len, 0);
                }
                _ => break,
            }
        }
        rec.len = ends;
        let field = ends.saturating_sub(1);
        let start = if field == 0 { 0 } else { rec.ends[field - 1] };
        let breaks = rec.bytes[..start].iter().filter(|&&b| b == b'\n').count();
        RawError::UnclosedQuote {
            line: rec.line + breaks as u64,
            field,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record as strings, with its line, or the error.
    fn records(data: &[u8], limit: usize) -> (Vec<(u64, Vec<String>)>, Option<RawError>) {
        let mut r = RawReader::new(data, b',', b'"', limit);
        let mut rec = RawRecord::default();
        let mut out = Vec::new();
        loop {
            match r.read(&mut rec) {
                Ok(true) => out.push((
                    rec.line(),
                    rec.iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect(),
                )),
                Ok(false) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// The same through the `csv` crate, as the reference.
    fn reference(data: &[u8]) -> Vec<(u64, Vec<String>)> {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while r.read_byte_record(&mut rec).unwrap() {
            out.push((
                rec.position().unwrap().line(),
                rec.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ));
        }
        out
    }

    #[test]
    fn records_and_lines_match_the_csv_crate() {
        for data in [
            &b"a,b\nc,d\n"[..],
            b"a,b\r\nc,d",
            b"a,b\r\n\r\n\nc,\"d\ne\"\r\nf,",
            b"\"x\"\"y\",z\n\"\"\n",
            b"a,\"b\"c,d\n",
            b"",
            b"\n\n",
            b"a,b,",
            b"a\rb\rc",
        ] {
            let (got, err) = records(data, 1 << 20);
            assert!(err.is_none(), "{data:?}: {err:?}");
            assert_eq!(got, reference(data), "{}", String::from_utf8_lossy(data));
        }
    }

    #[test]
    fn an_open_quote_at_the_end_is_reported_where_it_opened() {
        let (got, err) = records(
            b"file,title\na.jpg,\"ok\nstill ok\",\"open\nmore\n",
            1 << 20,
        );
        assert_eq!(got.len(), 1);
        match err {
            Some(RawError::UnclosedQuote { line, field }) => assert_eq!((line, field), (3, 2)),
            other => panic!("{other:?}"),
        }
        let (_, err) = records(b"a\n\"", 1 << 20);
        assert!(
            matches!(err, Some(RawError::UnclosedQuote { line: 2, field: 0 })),
            "{err:?}"
        );
        // A closed quote at the very end, with or without a final line break, is fine.
        for data in [
            &b"a,\"b\""[..],
            b"a,\"b\"\n",
            b"a,\"b\"\"\"",
            b"a,\"b\"\r\n",
        ] {
            let (got, err) = records(data, 1 << 20);
            assert!(err.is_none(), "{data:?}");
            assert_eq!(got, reference(data));
        }
    }

    #[test]
    fn small_buffers_grow_and_long_records_stop_at_the_limit() {
        let long = format!("{},{}\nz\n", "x".repeat(5000), "y,".repeat(3000));
        let (got, err) = records(long.as_bytes(), 1 << 20);
        assert!(err.is_none());
        assert_eq!(got, reference(long.as_bytes()));
        let (got, err) = records(long.as_bytes(), 4000);
        assert!(got.is_empty());
        assert!(matches!(err, Some(RawError::TooLong)), "{err:?}");
    }

    proptest::proptest! {
        #[test]
        fn any_input_parses_as_the_csv_crate_does(
            data in proptest::collection::vec(
                proptest::sample::select(&b"a,\"\n\r "[..]), 0..48),
        ) {
            let want = reference(&data);
            let (got, err) = records(&data, 1 << 20);
            match err {
                None => proptest::prop_assert_eq!(got, want),
                Some(RawError::UnclosedQuote { .. }) => {
                    // The records before the open one are the same; the csv crate takes
                    // the rest of the input as one last record.
                    proptest::prop_assert!(data.contains(&b'"'));
                    proptest::prop_assert_eq!(want.len(), got.len() + 1);
                    proptest::prop_assert_eq!(&want[..got.len()], &got[..]);
                }
                Some(e) => proptest::prop_assert!(false, "{:?}", e),
            }
        }
    }
}
