//! [`ManifestReader`]: streams a CSV manifest as [`ManifestRecord`]s.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, Read};

use csv::ByteRecord;

use super::builder::{MappingBuilder, UnknownColumns};
use super::field_map::Column;
use super::text::{decode, sniff};
use crate::error::{Error, Position, Result, clip};
use crate::field::Field;
use crate::keywords::split_keywords;
use crate::model::{AssetMetadata, ManifestRecord, normalize_key};

/// Counts the bytes handed to the CSV parser since the start of the current record, and
/// stops at the record limit so that one endless field cannot exhaust memory.
#[derive(Debug)]
struct Guard<R> {
    inner: R,
    since_record: usize,
    limit: usize,
    tripped: bool,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.since_record > self.limit {
            self.tripped = true;
            return Err(io::Error::other("record size limit"));
        }
        let n = self.inner.read(buf)?;
        self.since_record += n;
        Ok(n)
    }
}

type Source<R> = Guard<io::Chain<io::Cursor<Vec<u8>>, R>>;

/// A streaming reader of manifest rows: an iterator of [`ManifestRecord`]s.
///
/// Built by [`MappingBuilder`]. Rows are parsed one at a time; only the keys seen so far are
/// kept (for duplicate detection). After an error in one row's values (a bad date…) the
/// iterator goes on with the next row; after a malformed file or an I/O error it ends.
#[derive(Debug)]
pub struct ManifestReader<R> {
    csv: csv::Reader<Source<R>>,
    opts: MappingBuilder,
    headers: Vec<String>,
    plan: Vec<Column>,
    key_idx: usize,
    seen: HashMap<String, u64>,
    raw: ByteRecord,
    records: u64,
    done: bool,
}

impl<R: Read> ManifestReader<R> {
    pub(super) fn new(opts: MappingBuilder, mut reader: R) -> Result<Self> {
        let file = opts.file_name.clone();
        let base = Position::new().with_file(file.as_deref());
        if opts.max_field_bytes == 0 || opts.max_record_bytes == 0 {
            return Err(Error::InvalidConfig {
                key: "max_field_bytes",
                message: "limits must be above zero".into(),
            });
        }
        let sniffed = sniff(&mut reader, opts.quote, opts.max_record_bytes)
            .map_err(|e| e.at(&base.clone().with_line(1)))?;
        let delimiter = opts.delimiter.unwrap_or(sniffed.delimiter);
        let source = Guard {
            inner: io::Cursor::new(sniffed.prefix).chain(reader),
            since_record: 0,
            limit: opts.max_record_bytes,
            tripped: false,
        };
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .quote(opts.quote)
            .from_reader(source);
        let mut this = Self {
            csv,
            opts,
            headers: Vec::new(),
            plan: Vec::new(),
            key_idx: 0,
            seen: HashMap::new(),
            raw: ByteRecord::new(),
            records: 0,
            done: false,
        };
        this.read_header()?;
        Ok(this)
    }

    fn base(&self) -> Position {
        Position::new().with_file(self.opts.file_name.as_deref())
    }

    fn read_header(&mut self) -> Result<()> {
        let pos = self.base().with_line(1);
        let mut raw = ByteRecord::new();
        let got = self.read_raw(&mut raw, &pos)?;
        if !got {
            return Err(Error::Structure {
                pos: Box::new(pos),
                message: "empty manifest: no header line".into(),
            });
        }
        let mut key_idx = None;
        for (i, cell) in raw.iter().enumerate() {
            let col_pos = pos.clone().with_column(format!("#{}", i + 1));
            self.check_size(cell, &col_pos)?;
            let text = decode(cell, self.opts.encoding).map_err(|e| e.at(&col_pos))?;
            let header = text.trim().to_owned();
            let header = if header.is_empty() {
                format!("column {}", i + 1)
            } else {
                header
            };
            let mut column = match self.opts.map.known(&header) {
                Some(c) => c,
                None => match self.opts.unknown {
                    UnknownColumns::Custom => Column::Custom(header.clone()),
                    UnknownColumns::Ignore => Column::Ignore,
                    UnknownColumns::Error => {
                        return Err(Error::UnknownColumn {
                            pos: Box::new(pos.clone().with_column(header)),
                        });
                    }
                },
            };
            if column == Column::Key {
                if key_idx.is_none() {
                    key_idx = Some(i);
                } else {
                    // A second file-name-like column (exiftool's FileName beside SourceFile)
                    // is kept as data.
                    column = Column::Custom(header.clone());
                }
            }
            self.headers.push(header);
            self.plan.push(column);
        }
        self.key_idx = key_idx.ok_or_else(|| Error::MissingKeyColumn {
            pos: Box::new(pos.clone()),
            looked_for: self.opts.map.key_names(),
            found: self.headers.join(", "),
        })?;
        Ok(())
    }

    /// The header's columns, as written (trimmed; empty ones named `column N`).
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// What each header column is used for, in header order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Column)> + '_ {
        self.headers
            .iter()
            .map(String::as_str)
            .zip(self.plan.iter())
    }

    fn read_raw(&mut self, raw: &mut ByteRecord, pos: &Position) -> Result<bool> {
        self.csv.get_mut().since_record = 0;
        match self.csv.read_byte_record(raw) {
            Ok(got) => Ok(got),
            Err(e) => {
                self.done = true;
                let line = e
                    .position()
                    .map(csv::Position::line)
                    .or_else(|| Some(self.csv.position().line()).filter(|l| *l > 0));
                let mut pos = pos.clone();
                if let Some(line) = line {
                    pos.line = Some(line);
                }
                if self.csv.get_ref().tripped {
                    return Err(Error::Limit {
                        pos: Box::new(pos),
                        what: "a record".into(),
                        limit: self.opts.max_record_bytes,
                    });
                }
                let message = e.to_string();
                Err(match e.into_kind() {
                    csv::ErrorKind::Io(io) => Error::io(pos, "read", io),
                    _ => Error::Csv {
                        pos: Box::new(pos),
                        message,
                    },
                })
            }
        }
    }

    fn check_size(&self, cell: &[u8], pos: &Position) -> Result<()> {
        if cell.len() > self.opts.max_field_bytes {
            return Err(Error::Limit {
                pos: Box::new(pos.clone()),
                what: format!("field of {} bytes", cell.len()),
                limit: self.opts.max_field_bytes,
            });
        }
        Ok(())
    }

    /// Reads the next row into `record`, reusing its buffers (the fastest way to stream a
    /// large manifest, as `csv::Reader::read_byte_record` is for raw rows). Returns
    /// `Ok(false)` at the end. After an error in one row's values the next call goes on with
    /// the next row; after a malformed file or an I/O error it returns `Ok(false)`.
    ///
    /// ```
    /// use asset_metadata::csv::MappingBuilder;
    /// use asset_metadata::ManifestRecord;
    ///
    /// let mut rows = MappingBuilder::new().from_reader("file,title\na.jpg,A\nb.jpg,B\n".as_bytes())?;
    /// let mut rec = ManifestRecord::default();
    /// let mut titles = Vec::new();
    /// while rows.read_record(&mut rec)? {
    ///     titles.push(rec.metadata.title.clone().unwrap_or_default());
    /// }
    /// assert_eq!(titles, ["A", "B"]);
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn read_record(&mut self, record: &mut ManifestRecord) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let mut raw = std::mem::take(&mut self.raw);
        let out = loop {
            let pos = Position::new();
            match self.read_raw(&mut raw, &pos) {
                Err(e) => break Err(e.at(&self.base())),
                Ok(false) => {
                    self.done = true;
                    break Ok(false);
                }
                // Rows of nothing but delimiters are skipped, like blank lines.
                Ok(true) if raw.iter().all(<[u8]>::is_empty) => continue,
                Ok(true) => {
                    self.records += 1;
                    break self.map_record(&raw, record).map(|()| true);
                }
            }
        };
        self.raw = raw;
        out
    }

    /// Where a record is, built only when there is an error to report.
    fn record_pos(&self, line: u64) -> Position {
        self.base().with_line(line).with_record(self.records)
    }

    fn column_pos(&self, line: u64, i: usize) -> Position {
        let p = self.record_pos(line).with_column(self.headers[i].as_str());
        match &self.plan[i] {
            Column::Field(f) => p.with_field(f.name()),
            Column::TimeCreated => p.with_field(Field::DateCreated.name()),
            _ => p,
        }
    }

    fn map_record(&mut self, raw: &ByteRecord, out: &mut ManifestRecord) -> Result<()> {
        let line = raw.position().map_or(0, csv::Position::line);
        if raw.len() > self.plan.len() && raw.iter().skip(self.plan.len()).any(|c| !c.is_empty()) {
            return Err(Error::Csv {
                pos: Box::new(self.record_pos(line)),
                message: format!(
                    "record has {} fields but the header has {}",
                    raw.len(),
                    self.plan.len()
                ),
            });
        }
        let meta = &mut out.metadata;
        meta.keywords.clear();
        meta.custom.clear();
        // Fields set by this row; the rest are cleared at the end (buffers are reused).
        let mut set: u32 = 0;
        let mut key = None;
        let mut time: Option<(String, usize)> = None;
        for (i, cell) in raw.iter().enumerate().take(self.plan.len()) {
            let column = &self.plan[i];
            if *column == Column::Ignore || cell.is_empty() {
                continue;
            }
            if cell.len() > self.opts.max_field_bytes {
                return Err(Error::Limit {
                    pos: Box::new(self.column_pos(line, i)),
                    what: format!("field of {} bytes", cell.len()),
                    limit: self.opts.max_field_bytes,
                });
            }
            let text =
                decode(cell, self.opts.encoding).map_err(|e| e.at(&self.column_pos(line, i)))?;
            let value = if self.opts.trim { text.trim() } else { &text };
            if value.is_empty() {
                continue;
            }
            match column {
                Column::Key => key = Some(normalize_key(value)),
                // Keyword columns add up (exiftool exports both IPTC:Keywords and
                // XMP-dc:Subject).
                Column::Field(Field::Keywords) => {
                    for k in split_keywords(value, self.opts.keyword_separator) {
                        meta.keywords.push(k);
                    }
                }
                // Otherwise the first non-empty column of a field wins.
                Column::Field(f) => {
                    let bit = 1u32 << (*f as u32);
                    if set & bit == 0 {
                        meta.set_trimmed(*f, value, self.opts.keyword_separator)
                            .map_err(|e| e.at(&self.column_pos(line, i)))?;
                        set |= bit;
                    }
                }
                Column::TimeCreated => time = Some((value.to_owned(), i)),
                Column::Custom(name) => meta.custom.insert_if_absent(name, value),
                Column::Ignore => {}
            }
        }
        for f in Field::ALL {
            if f != Field::Keywords && set & (1u32 << (f as u32)) == 0 {
                meta.clear(f);
            }
        }
        if let Some((t, i)) = time {
            combine_time(meta, &t, &self.headers[i])
                .map_err(|e| e.at(&self.column_pos(line, i)))?;
        }
        let key = match key {
            Some(k) if !k.is_empty() => k,
            _ => {
                return Err(Error::EmptyKey {
                    pos: Box::new(self.column_pos(line, self.key_idx)),
                });
            }
        };
        if self.opts.check_duplicates {
            match self.seen.entry(key.clone()) {
                Entry::Occupied(first) => {
                    let first = *first.get();
                    return Err(Error::DuplicateKey {
                        pos: Box::new(self.column_pos(line, self.key_idx)),
                        key: clip(&key),
                        first: format!("line {first}"),
                    });
                }
                Entry::Vacant(slot) => {
                    slot.insert(line);
                }
            }
        }
        out.key = key;
        out.line = line;
        out.record = self.records;
        Ok(())
    }
}

/// Completes the date with a time column (exiftool `IPTC:DateCreated` + `IPTC:TimeCreated`).
/// Without a full date, the time is kept as a custom field.
fn combine_time(meta: &mut AssetMetadata, time: &str, header: &str) -> Result<()> {
    match meta.date_created {
        Some(d) if d.date().is_some() && d.time().is_none() => {
            let joined = format!("{}T{time}", d.date_string());
            meta.date_created =
                Some(joined.parse().map_err(|_| {
                    Error::invalid_value(time, "expected a time hh:mm[:ss][±hh:mm]")
                })?);
        }
        _ => {
            if !meta.custom.contains(header) {
                meta.custom.insert(header, time);
            }
        }
    }
    Ok(())
}

impl<R: Read> Iterator for ManifestReader<R> {
    type Item = Result<ManifestRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = ManifestRecord::default();
        match self.read_record(&mut record) {
            Ok(true) => Some(Ok(record)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}
