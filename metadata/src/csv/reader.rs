//! [`ManifestReader`]: streams a CSV manifest as [`ManifestRecord`]s.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::Arc;

use super::builder::{MappingBuilder, UnknownColumns};
use super::field_map::Column;
use super::formula::unguard;
use super::raw::{RawError, RawReader, RawRecord};
use super::seen::{Seen, SeenKeys};
use super::text::{Encoding, Rewound, Source, decode, open, read_error, sniff};
use crate::error::{Error, Position, Result, clip};
use crate::field::Field;
use crate::model::{AssetMetadata, ManifestRecord, assign, normalize_key_into};
use crate::values::trim;

/// The bytes the CSV parser reads: the header line read ahead for sniffing, then the rest
/// of a source that put back the bytes it looked at for a byte-order mark.
type Input<R> = Rewound<Source<Rewound<R>>>;

/// What the per-row loop does with a column, decided once from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Skip,
    Key,
    Keywords,
    /// A plain text field, copied into its buffer; the field's bit in the row's set.
    Text(Field, u32),
    /// A field parsed from text (date, rating, statuses), and its bit.
    Parsed(Field, u32),
    Time,
    /// A custom field, by its index in [`Columns::custom`].
    Custom(usize),
}

/// The header: what each column is used for, and what the per-row loop needs to know.
#[derive(Debug)]
struct Columns {
    /// How fields are decoded: UTF-8 once UTF-16 has been turned into it.
    encoding: Encoding,
    opts: MappingBuilder,
    headers: Vec<String>,
    plan: Vec<Column>,
    slots: Vec<Slot>,
    /// The names of the custom columns, shared by every record that holds them.
    custom: Vec<Arc<str>>,
    key_idx: usize,
    seen: SeenKeys,
    /// Records read so far.
    records: u64,
}

/// A streaming reader of manifest rows: an iterator of [`ManifestRecord`]s.
///
/// Built by [`MappingBuilder`]. Rows are parsed one at a time; only the keys seen so far are
/// kept (for duplicate detection). After an error in one row's values (a bad date…) the
/// iterator goes on with the next row; after a malformed file or an I/O error it ends.
#[derive(Debug)]
pub struct ManifestReader<R> {
    csv: RawReader<Input<R>>,
    /// The raw row, its buffers reused from row to row.
    raw: RawRecord,
    cols: Columns,
    /// The record the iterator fills before handing out a copy.
    scratch: ManifestRecord,
    done: bool,
}

impl<R: Read> ManifestReader<R> {
    pub(super) fn new(opts: MappingBuilder, reader: R) -> Result<Self> {
        let file = opts.file_name.clone();
        let base = Position::new().with_file(file.as_deref());
        if opts.max_field_bytes == 0 || opts.max_record_bytes == 0 {
            return Err(Error::InvalidConfig {
                key: "max_field_bytes",
                message: "limits must be above zero".into(),
            });
        }
        let (mut source, utf8) =
            open(reader, opts.encoding).map_err(|e| e.at(&base.clone().with_line(1)))?;
        let sniffed = sniff(&mut source, opts.quote, opts.max_record_bytes)
            .map_err(|e| e.at(&base.clone().with_line(1)))?;
        let delimiter = opts.delimiter.unwrap_or(sniffed.delimiter);
        let csv = RawReader::new(
            io::Cursor::new(sniffed.prefix).chain(source),
            delimiter,
            opts.quote,
            opts.max_record_bytes,
        );
        let encoding = if utf8 { Encoding::Utf8 } else { opts.encoding };
        let mut this = Self {
            csv,
            raw: RawRecord::default(),
            cols: Columns {
                encoding,
                opts,
                headers: Vec::new(),
                plan: Vec::new(),
                slots: Vec::new(),
                custom: Vec::new(),
                key_idx: 0,
                seen: SeenKeys::default(),
                records: 0,
            },
            scratch: ManifestRecord::default(),
            done: false,
        };
        this.read_header()?;
        Ok(this)
    }

    fn read_header(&mut self) -> Result<()> {
        let pos = self.cols.base().with_line(1);
        if !self.read_raw()? {
            return Err(Error::Structure {
                pos: Box::new(pos),
                message: "empty manifest: no header line".into(),
            });
        }
        let cols = &mut self.cols;
        let mut key_idx = None;
        for (i, cell) in self.raw.iter().enumerate() {
            let col_pos = pos.clone().with_column(format!("#{}", i + 1));
            cols.check_size(cell, &col_pos)?;
            let text = decode(cell, cols.encoding).map_err(|e| e.at(&col_pos))?;
            let text = if cols.opts.formula_guard {
                unguard(&text)
            } else {
                &text
            };
            let header = text.trim().to_owned();
            let header = if header.is_empty() {
                format!("column {}", i + 1)
            } else {
                header
            };
            let mut column = match cols.opts.map.known(&header) {
                Some(c) => c,
                None => match cols.opts.unknown {
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
            let slot = match &column {
                Column::Key => Slot::Key,
                Column::Field(Field::Keywords) => Slot::Keywords,
                Column::Field(f) if AssetMetadata::default().text(*f).is_some() => {
                    Slot::Text(*f, 1 << (*f as u32))
                }
                Column::Field(f) => Slot::Parsed(*f, 1 << (*f as u32)),
                Column::TimeCreated => Slot::Time,
                Column::Custom(name) => {
                    cols.custom.push(Arc::from(name.as_str()));
                    Slot::Custom(cols.custom.len() - 1)
                }
                Column::Ignore => Slot::Skip,
            };
            cols.slots.push(slot);
            cols.headers.push(header);
            cols.plan.push(column);
        }
        cols.key_idx = key_idx.ok_or_else(|| Error::MissingKeyColumn {
            pos: Box::new(pos.clone()),
            looked_for: cols.opts.map.key_names(),
            found: cols.headers.join(", "),
        })?;
        Ok(())
    }

    /// The header's columns, as written (trimmed; empty ones named `column N`).
    pub fn headers(&self) -> &[String] {
        &self.cols.headers
    }

    /// What each header column is used for, in header order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Column)> + '_ {
        self.cols
            .headers
            .iter()
            .map(String::as_str)
            .zip(self.cols.plan.iter())
    }

    /// Reads the next raw row into `self.raw`.
    fn read_raw(&mut self) -> Result<bool> {
        let err = match self.csv.read(&mut self.raw) {
            Ok(got) => return Ok(got),
            Err(e) => e,
        };
        self.done = true;
        let cols = &self.cols;
        Err(match err {
            RawError::Io(io) => read_error(cols.base().with_line(self.csv.line()), io),
            RawError::TooLong => Error::Limit {
                pos: Box::new(cols.base().with_line(self.raw.line())),
                what: "a record".into(),
                limit: cols.opts.max_record_bytes,
            },
            RawError::UnclosedQuote { line, field } => {
                let mut pos = cols.base().with_line(line);
                if !cols.headers.is_empty() {
                    pos = pos.with_record(cols.records + 1);
                }
                pos = match cols.headers.get(field) {
                    Some(header) => pos.with_column(header.as_str()),
                    None => pos.with_column(format!("#{}", field + 1)),
                };
                Error::Csv {
                    pos: Box::new(pos),
                    message: "a quoted field opens here and is never closed (it runs to the \
                              end of the file)"
                        .into(),
                }
            }
        })
    }

    /// Reads the next row into `record`, reusing its buffers (the fastest way to stream a
    /// large manifest, as `csv::Reader::read_byte_record` is for raw rows). Returns
    /// `Ok(false)` at the end. After an error in one row's values the next call goes on with
    /// the next row; after a malformed file or an I/O error it returns `Ok(false)`. After an
    /// error, `record` may hold part of that row; the next row read into it replaces all of it.
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
        loop {
            if self.done {
                return Ok(false);
            }
            if !self.read_raw()? {
                self.done = true;
                return Ok(false);
            }
            // Rows of nothing but delimiters are skipped, like blank lines.
            if !self.raw.as_slice().is_empty() {
                break;
            }
        }
        self.cols.records += 1;
        self.cols.map(&self.raw, record).map(|()| true)
    }
}

impl Columns {
    fn base(&self) -> Position {
        Position::new().with_file(self.opts.file_name.as_deref())
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

    /// Maps one raw row into `out`, reusing its buffers.
    fn map(&mut self, raw: &RawRecord, out: &mut ManifestRecord) -> Result<()> {
        let line = raw.line();
        let bytes = raw.as_slice();
        let ends = raw.ends();
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
        // One UTF-8 check for the whole record (its fields are stored back to back); a field
        // is then a slice of it, unless a character straddles two fields, in which case that
        // field is decoded alone and fails with its column. ASCII reads the same in every
        // encoding.
        let whole = match self.encoding {
            Encoding::Utf8 => std::str::from_utf8(bytes).ok(),
            _ if bytes.is_ascii() => std::str::from_utf8(bytes).ok(),
            _ => None,
        };
        // No field can be over the limit when the whole record is not.
        let check_size = bytes.len() > self.opts.max_field_bytes;
        let (trim_values, guard, separator) = (
            self.opts.trim,
            self.opts.formula_guard,
            self.opts.keyword_separator,
        );
        let meta = &mut out.metadata;
        meta.keywords.clear();
        // Fields set by this row; the rest are cleared at the end (buffers are reused).
        let mut set: u32 = 0;
        // Custom fields filled so far, in column order; each reuses the previous row's slot.
        let mut custom = 0;
        let mut has_key = false;
        let mut time: Option<(String, usize)> = None;
        let mut start = 0;
        for (i, (&slot, &end)) in self.slots.iter().zip(ends).enumerate() {
            let range = start..end;
            start = end;
            if slot == Slot::Skip || range.is_empty() {
                continue;
            }
            if check_size && range.len() > self.opts.max_field_bytes {
                return Err(Error::Limit {
                    pos: Box::new(self.column_pos(line, i)),
                    what: format!("field of {} bytes", range.len()),
                    limit: self.opts.max_field_bytes,
                });
            }
            // A field that ends inside a character is not a slice of `whole`: it is decoded
            // alone, which reports it.
            let text = match whole.and_then(|w| w.get(range.clone())) {
                Some(text) => Cow::Borrowed(text),
                None => decode(&bytes[range], self.encoding)
                    .map_err(|e| e.at(&self.column_pos(line, i)))?,
            };
            let text = if guard { unguard(&text) } else { &text };
            let value = if trim_values { trim(text) } else { text };
            if value.is_empty() {
                continue;
            }
            match slot {
                Slot::Key => {
                    normalize_key_into(value, &mut out.key);
                    has_key = true;
                }
                // Keyword columns add up (exiftool exports both IPTC:Keywords and
                // XMP-dc:Subject).
                Slot::Keywords => meta.keywords.push_split(value, separator),
                // Otherwise the first non-empty column of a field wins.
                Slot::Text(f, bit) => {
                    if set & bit == 0
                        && let Some(text) = meta.text_mut(f)
                    {
                        assign(text, value);
                        set |= bit;
                    }
                }
                Slot::Parsed(f, bit) => {
                    if set & bit == 0 {
                        meta.set_trimmed(f, value, separator)
                            .map_err(|e| e.at(&self.column_pos(line, i)))?;
                        set |= bit;
                    }
                }
                Slot::Time => time = Some((value.to_owned(), i)),
                Slot::Custom(name) => {
                    if meta.custom.fill_at(custom, &self.custom[name], value) {
                        custom += 1;
                    }
                }
                Slot::Skip => {}
            }
        }
        meta.custom.truncate(custom);
        meta.clear_unset(set);
        if let Some((t, i)) = time {
            combine_time(meta, &t, &self.headers[i])
                .map_err(|e| e.at(&self.column_pos(line, i)))?;
        }
        if !has_key || out.key.is_empty() {
            return Err(Error::EmptyKey {
                pos: Box::new(self.column_pos(line, self.key_idx)),
            });
        }
        if self.opts.check_duplicates {
            match self.seen.insert(&out.key, line) {
                Seen::New => {}
                Seen::Before(first) => {
                    return Err(Error::DuplicateKey {
                        pos: Box::new(self.column_pos(line, self.key_idx)),
                        key: clip(&out.key),
                        first: format!("line {first}"),
                    });
                }
                Seen::Full => {
                    return Err(Error::Limit {
                        pos: Box::new(self.column_pos(line, self.key_idx)),
                        what: "the number of distinct file keys".into(),
                        limit: u32::MAX as usize,
                    });
                }
            }
        }
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
        // Filling one record and copying it allocates each buffer once, at its final size.
        let mut record = std::mem::take(&mut self.scratch);
        let got = self.read_record(&mut record);
        let out = match got {
            Ok(true) => Some(Ok(record.clone())),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        };
        self.scratch = record;
        out
    }
}
