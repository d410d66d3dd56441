//! [`WriterBuilder`] and [`ManifestWriter`]: reconciliation exports that the reader reads back.

use std::borrow::Cow;
use std::io::Write;

use super::column::{Source, WriteColumn};
use super::field_map::{Column, FieldMap};
use super::formula::guard;
use crate::error::{Error, Position, Result};
use crate::field::Field;
use crate::model::AssetMetadata;

/// Options for writing manifests; reusable, `&mut self` setters.
///
/// ```
/// use asset_metadata::csv::{MappingBuilder, WriteColumn, WriterBuilder};
/// use asset_metadata::{AssetMetadata, Field};
///
/// let mut meta = AssetMetadata::default();
/// meta.title = Some("Harbour, dawn".into());
/// meta.keywords.extend(["sea", "boat"]);
///
/// let mut out = Vec::new();
/// let mut w = WriterBuilder::new()
///     .columns(vec![
///         WriteColumn::key("File"),
///         WriteColumn::extra("Asset ID"),
///         WriteColumn::field(Field::Title),
///         WriteColumn::field(Field::Keywords),
///     ])
///     .from_writer(&mut out)?;
/// w.write_with("a.jpg", &meta, &[("Asset ID", "I0000abcdEFG")])?;
/// w.flush()?;
/// drop(w);
/// assert_eq!(String::from_utf8(out.clone()).unwrap(),
///     "File,Asset ID,Title,Keywords\na.jpg,I0000abcdEFG,\"Harbour, dawn\",sea; boat\n");
///
/// let row = MappingBuilder::new().from_reader(&out[..])?.next().unwrap()?;
/// assert_eq!(row.metadata.title, meta.title);
/// assert_eq!(row.metadata.keywords, meta.keywords);
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct WriterBuilder {
    delimiter: u8,
    columns: Vec<WriteColumn>,
    keyword_separator: String,
    bom: bool,
    formula_guard: bool,
    file_name: Option<String>,
}

impl Default for WriterBuilder {
    fn default() -> Self {
        Self {
            delimiter: b',',
            columns: WriteColumn::default_columns(),
            keyword_separator: "; ".into(),
            bom: false,
            formula_guard: false,
            file_name: None,
        }
    }
}

impl WriterBuilder {
    /// Defaults: comma, [`WriteColumn::default_columns`], keywords joined with `"; "`, no BOM.
    pub fn new() -> Self {
        Self::default()
    }

    /// The delimiter.
    ///
    /// ```
    /// # use asset_metadata::csv::{WriteColumn, WriterBuilder};
    /// let mut out = Vec::new();
    /// WriterBuilder::new().delimiter(b';').columns(vec![WriteColumn::key("File"), WriteColumn::extra("Status")])
    ///     .from_writer(&mut out)?;
    /// assert_eq!(out, b"File;Status\n");
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn delimiter(&mut self, delimiter: u8) -> &mut Self {
        self.delimiter = delimiter;
        self
    }

    /// The columns, in order. There must be exactly one key column.
    ///
    /// ```
    /// # use asset_metadata::csv::{WriteColumn, WriterBuilder};
    /// let err = WriterBuilder::new().columns(vec![WriteColumn::extra("Status")]).from_writer(Vec::new()).unwrap_err();
    /// assert!(err.to_string().contains("exactly one key column"));
    /// ```
    pub fn columns(&mut self, columns: Vec<WriteColumn>) -> &mut Self {
        self.columns = columns;
        self
    }

    /// Adds a column at the end.
    ///
    /// ```
    /// # use asset_metadata::csv::{WriteColumn, WriterBuilder};
    /// let mut out = Vec::new();
    /// WriterBuilder::new().columns(vec![WriteColumn::key("File")]).column(WriteColumn::custom("Client"))
    ///     .from_writer(&mut out)?;
    /// assert_eq!(out, b"File,Client\n");
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn column(&mut self, column: WriteColumn) -> &mut Self {
        self.columns.push(column);
        self
    }

    /// How keywords are joined (default `"; "`): `;`, `|` or `,`, with spaces around it if
    /// wished, the characters the reader splits keyword cells on (anything else is refused
    /// by [`from_writer`](Self::from_writer)). A keyword that holds the separator, or one
    /// the reader prefers (`;` over `|` over `,`), is refused when written.
    ///
    /// ```
    /// # use asset_metadata::csv::{WriteColumn, WriterBuilder};
    /// # use asset_metadata::{AssetMetadata, Field};
    /// let mut m = AssetMetadata::default();
    /// m.keywords.extend(["a", "b"]);
    /// let mut out = Vec::new();
    /// let mut w = WriterBuilder::new().keyword_separator("|")
    ///     .columns(vec![WriteColumn::key("File"), WriteColumn::field(Field::Keywords)]).from_writer(&mut out)?;
    /// w.write("x.jpg", &m)?;
    /// drop(w);
    /// assert_eq!(out, b"File,Keywords\nx.jpg,a|b\n");
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn keyword_separator(&mut self, sep: &str) -> &mut Self {
        self.keyword_separator = sep.to_owned();
        self
    }

    /// Whether to start with a UTF-8 byte-order mark, which Excel needs to open UTF-8 CSV
    /// correctly (default `false`; the reader skips it).
    ///
    /// ```
    /// # use asset_metadata::csv::{WriteColumn, WriterBuilder};
    /// let mut out = Vec::new();
    /// WriterBuilder::new().bom(true).columns(vec![WriteColumn::key("File")]).from_writer(&mut out)?;
    /// assert_eq!(out, b"\xEF\xBB\xBFFile\n");
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn bom(&mut self, yes: bool) -> &mut Self {
        self.bom = yes;
        self
    }

    /// Guards against formula injection, for exports that people open in a spreadsheet
    /// (default `false`, so that round trips stay exact for every reader).
    ///
    /// Spreadsheets run a cell starting with `=`, `+`, `-` or `@` (and some, one starting
    /// with a tab or carriage return) as a formula, so a caption like
    /// `=HYPERLINK("http://evil.example","Click")` would become a live link. With the guard,
    /// such a cell is written with a leading `'`, which spreadsheets show as plain text; a
    /// cell that already starts with apostrophes followed by one of these characters gets
    /// one more, so nothing is ambiguous. A reader given
    /// [`MappingBuilder::formula_guard`](super::MappingBuilder::formula_guard) removes them
    /// again; other readers see the `'`.
    ///
    /// ```
    /// # use asset_metadata::csv::{MappingBuilder, WriteColumn, WriterBuilder};
    /// # use asset_metadata::{AssetMetadata, Field};
    /// let mut m = AssetMetadata::default();
    /// m.title = Some("=HYPERLINK(\"http://evil.example\")".into());
    /// m.rating = asset_metadata::Rating::new(-1);
    /// let mut out = Vec::new();
    /// let mut w = WriterBuilder::new().formula_guard(true)
    ///     .columns(vec![WriteColumn::key("File"), WriteColumn::field(Field::Title), WriteColumn::field(Field::Rating)])
    ///     .from_writer(&mut out)?;
    /// w.write("a.jpg", &m)?;
    /// drop(w);
    /// assert_eq!(String::from_utf8_lossy(&out), "File,Title,Rating\na.jpg,\"'=HYPERLINK(\"\"http://evil.example\"\")\",'-1\n");
    ///
    /// let row = MappingBuilder::new().formula_guard(true).from_reader(&out[..])?.next().unwrap()?;
    /// assert_eq!(row.metadata, m);
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn formula_guard(&mut self, yes: bool) -> &mut Self {
        self.formula_guard = yes;
        self
    }

    /// The file name used in error positions.
    ///
    /// ```
    /// # use asset_metadata::csv::WriterBuilder;
    /// let w = WriterBuilder::new().file_name("report.csv").from_writer(Vec::new())?;
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn file_name(&mut self, name: &str) -> &mut Self {
        self.file_name = Some(name.to_owned());
        self
    }

    /// Checks the columns, writes the header and returns the writer.
    ///
    /// Refused: no key column or several; a header that the reader would map elsewhere
    /// (a custom column named `Caption` would read back as the description); a keyword
    /// separator other than `;`, `|` or `,`.
    pub fn from_writer<W: Write>(&self, mut writer: W) -> Result<ManifestWriter<W>> {
        self.check()?;
        let pos = Position::new().with_file(self.file_name.as_deref());
        if self.bom {
            writer
                .write_all(b"\xEF\xBB\xBF")
                .map_err(|e| Error::io(pos.clone(), "write", e))?;
        }
        let mut csv = csv::WriterBuilder::new()
            .delimiter(self.delimiter)
            .from_writer(writer);
        let headers: Vec<Cow<'_, str>> =
            self.columns.iter().map(|c| self.cell(&c.header)).collect();
        csv.write_record(headers.iter().map(|h| h.as_bytes()))
            .map_err(|e| write_error(pos.clone().with_line(1), e))?;
        Ok(ManifestWriter {
            csv,
            opts: self.clone(),
            rows: 0,
        })
    }

    /// A cell as written: guarded if asked.
    fn cell<'a>(&self, value: &'a str) -> Cow<'a, str> {
        if self.formula_guard {
            guard(value)
        } else {
            Cow::Borrowed(value)
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |message: String| Error::InvalidConfig {
            key: "columns",
            message,
        };
        let keys = self
            .columns
            .iter()
            .filter(|c| c.source == Source::Key)
            .count();
        if keys != 1 {
            return Err(bad(format!(
                "exactly one key column is needed, found {keys}"
            )));
        }
        let map = FieldMap::new();
        for c in &self.columns {
            let reads_as = map.resolve(&c.header);
            let ok = match &c.source {
                Source::Key => reads_as == Column::Key,
                Source::Field(f) => reads_as == Column::Field(*f),
                Source::Custom(_) | Source::Extra => matches!(reads_as, Column::Custom(_)),
            };
            if !ok || c.header.trim() != c.header || c.header.is_empty() {
                return Err(bad(format!(
                    "header {:?} would read back as {reads_as:?}, not as what it holds",
                    c.header
                )));
            }
        }
        // The reader splits keyword cells on the first of `;` `|` `,` it finds, so only
        // those read back as separators.
        match self.keyword_separator.trim().chars().next() {
            Some(';' | '|' | ',') => Ok(()),
            _ => Err(Error::InvalidConfig {
                key: "keyword_separator",
                message: format!(
                    "{:?} cannot separate keywords: the reader splits on `;`, `|` or `,`",
                    self.keyword_separator
                ),
            }),
        }
    }
}

/// Writes manifest rows; built by [`WriterBuilder`].
///
/// Each row is written as it comes; nothing is buffered beyond the CSV writer's buffer.
/// Call [`flush`](Self::flush) (or drop the writer) at the end.
#[derive(Debug)]
pub struct ManifestWriter<W: Write> {
    csv: csv::Writer<W>,
    opts: WriterBuilder,
    rows: u64,
}

impl<W: Write> ManifestWriter<W> {
    /// Writes one row.
    pub fn write(&mut self, key: &str, meta: &AssetMetadata) -> Result<()> {
        self.write_with(key, meta, &[])
    }

    /// Writes one row, filling [`WriteColumn::extra`] columns from `extra`
    /// (`(header, value)` pairs; missing ones are left empty).
    ///
    /// A keyword that the reader would split differently (one that contains the separator)
    /// or an empty key is refused. Values with surrounding whitespace read back trimmed
    /// unless the reader is told [`trim(false)`](super::MappingBuilder::trim).
    pub fn write_with(
        &mut self,
        key: &str,
        meta: &AssetMetadata,
        extra: &[(&str, &str)],
    ) -> Result<()> {
        self.rows += 1;
        let pos = Position::new()
            .with_file(self.opts.file_name.as_deref())
            .with_record(self.rows);
        let sep = &self.opts.keyword_separator;
        let sep_char = sep.trim().chars().next().unwrap_or(';');
        let mut row: Vec<String> = Vec::with_capacity(self.opts.columns.len());
        for c in &self.opts.columns {
            let col_pos = || pos.clone().with_column(c.header.as_str());
            let value = match &c.source {
                Source::Key => {
                    if key.trim().is_empty() || key.trim() != key {
                        return Err(Error::invalid_value(
                            key,
                            "a file key must be non-empty and trimmed",
                        )
                        .at(&col_pos()));
                    }
                    key.to_owned()
                }
                Source::Field(Field::Keywords) => keyword_cell(meta, sep, sep_char)
                    .map_err(|e| e.at(&col_pos().with_field(Field::Keywords.name())))?,
                Source::Field(f) => meta.get(*f).map(|v| v.to_text()).unwrap_or_default(),
                Source::Custom(name) => meta
                    .custom
                    .get(name)
                    .map(|v| v.to_text())
                    .unwrap_or_default(),
                Source::Extra => extra
                    .iter()
                    .find(|(h, _)| *h == c.header)
                    .map(|(_, v)| (*v).to_owned())
                    .unwrap_or_default(),
            };
            row.push(match self.opts.cell(&value) {
                Cow::Borrowed(_) => value,
                Cow::Owned(guarded) => guarded,
            });
        }
        self.csv.write_record(&row).map_err(|e| write_error(pos, e))
    }

    /// Flushes buffered rows to the underlying writer.
    pub fn flush(&mut self) -> Result<()> {
        let pos = Position::new().with_file(self.opts.file_name.as_deref());
        self.csv.flush().map_err(|e| Error::io(pos, "write", e))
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W> {
        let pos = Position::new().with_file(self.opts.file_name.as_deref());
        self.csv
            .into_inner()
            .map_err(|e| Error::io(pos, "write", std::io::Error::other(e.error().to_string())))
    }
}

/// The keyword cell, written so that the reader's automatic splitting (the first of `;` `|`
/// `,` found) gives the same keywords back.
fn keyword_cell(meta: &AssetMetadata, sep: &str, sep_char: char) -> Result<String> {
    const PRIORITY: [char; 3] = [';', '|', ','];
    let rank = PRIORITY.iter().position(|c| *c == sep_char);
    let stronger = rank.map_or(&[][..], |r| &PRIORITY[..r]);
    for k in meta.keywords.iter() {
        if k.contains(sep_char) || k.contains(stronger) {
            return Err(Error::invalid_value(
                k,
                format!(
                    "keyword contains {:?}, which would split it on reading",
                    k.chars()
                        .find(|c| *c == sep_char || stronger.contains(c))
                        .unwrap_or(sep_char)
                ),
            ));
        }
    }
    let mut cell = meta.keywords.join(sep);
    // A lone keyword such as "Paris, France" gets a trailing separator, so the reader splits
    // on that instead of on the comma.
    if let (1, Some(r)) = (meta.keywords.len(), rank)
        && cell.contains(&PRIORITY[r + 1..])
    {
        cell.push(sep_char);
    }
    Ok(cell)
}

fn write_error(pos: Position, e: csv::Error) -> Error {
    let message = e.to_string();
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(pos, "write", io),
        _ => Error::Csv {
            pos: Box::new(pos),
            message,
        },
    }
}
