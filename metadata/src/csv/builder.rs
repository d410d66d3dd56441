//! [`MappingBuilder`]: the options for reading CSV manifests.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::field_map::FieldMap;
use super::reader::ManifestReader;
use super::text::Encoding;
use crate::error::{Result, open_file};
use crate::keywords::KeywordSeparator;

/// What to do with a column the [`FieldMap`] does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownColumns {
    /// Keep it as a custom field named after the header (nothing read is dropped).
    #[default]
    Custom,
    /// Skip it.
    Ignore,
    /// Refuse the manifest ("strict mode").
    Error,
}

/// Options for reading CSV manifests; reusable, `&mut self` setters as in `csv::ReaderBuilder`.
///
/// ```
/// use asset_metadata::csv::MappingBuilder;
///
/// let data = "file;title;keywords\na.jpg;Harbour;sea|boat\n";
/// let mut rows = MappingBuilder::new()
///     .delimiter(b';')
///     .file_name("upload.csv")
///     .from_reader(data.as_bytes())?;
/// let row = rows.next().unwrap()?;
/// assert_eq!(row.key, "a.jpg");
/// assert_eq!(row.metadata.keywords.join(","), "sea,boat");
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct MappingBuilder {
    pub(super) delimiter: Option<u8>,
    pub(super) quote: u8,
    pub(super) encoding: Encoding,
    pub(super) map: FieldMap,
    pub(super) unknown: UnknownColumns,
    pub(super) keyword_separator: KeywordSeparator,
    pub(super) max_field_bytes: usize,
    pub(super) max_record_bytes: usize,
    pub(super) trim: bool,
    pub(super) check_duplicates: bool,
    pub(super) formula_guard: bool,
    pub(super) file_name: Option<String>,
}

impl Default for MappingBuilder {
    fn default() -> Self {
        Self {
            delimiter: None,
            quote: b'"',
            encoding: Encoding::Utf8,
            map: FieldMap::new(),
            unknown: UnknownColumns::Custom,
            keyword_separator: KeywordSeparator::Auto,
            max_field_bytes: 1024 * 1024,
            max_record_bytes: 64 * 1024 * 1024,
            trim: true,
            check_duplicates: true,
            formula_guard: false,
            file_name: None,
        }
    }
}

impl MappingBuilder {
    /// Defaults: delimiter sniffed from the header (comma, semicolon or tab), UTF-8 (a BOM is
    /// skipped), built-in aliases, unknown columns kept as custom fields, keywords split on
    /// the first of `;` `|` `,` found, fields up to 1 MiB, values trimmed, duplicate keys
    /// refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses this delimiter instead of sniffing one.
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let mut rows = MappingBuilder::new().delimiter(b'\t').from_reader("file\ttitle\na.jpg\tT\n".as_bytes())?;
    /// assert_eq!(rows.next().unwrap()?.metadata.title.as_deref(), Some("T"));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn delimiter(&mut self, delimiter: u8) -> &mut Self {
        self.delimiter = Some(delimiter);
        self
    }

    /// The quote character (default `"`).
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let mut rows = MappingBuilder::new().quote(b'\'').from_reader("file,title\na.jpg,'a, b'\n".as_bytes())?;
    /// assert_eq!(rows.next().unwrap()?.metadata.title.as_deref(), Some("a, b"));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn quote(&mut self, quote: u8) -> &mut Self {
        self.quote = quote;
        self
    }

    /// The text encoding of the file (default UTF-8).
    ///
    /// ```
    /// # use asset_metadata::csv::{Encoding, MappingBuilder};
    /// let bytes = b"file,city\na.jpg,Z\xfcrich\n";
    /// let mut rows = MappingBuilder::new().encoding(Encoding::Windows1252).from_reader(&bytes[..])?;
    /// assert_eq!(rows.next().unwrap()?.metadata.city.as_deref(), Some("Zürich"));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn encoding(&mut self, encoding: Encoding) -> &mut Self {
        self.encoding = encoding;
        self
    }

    /// The column mapping (default [`FieldMap::new`]).
    ///
    /// ```
    /// # use asset_metadata::csv::{FieldMap, MappingBuilder};
    /// # use asset_metadata::Field;
    /// let map = FieldMap::new().key("Asset Name").field("Blurb", Field::Description);
    /// let mut rows = MappingBuilder::new().field_map(map).from_reader("Asset Name,Blurb\na.jpg,Hi\n".as_bytes())?;
    /// let row = rows.next().unwrap()?;
    /// assert_eq!((row.key.as_str(), row.metadata.description.as_deref()), ("a.jpg", Some("Hi")));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn field_map(&mut self, map: FieldMap) -> &mut Self {
        self.map = map;
        self
    }

    /// What to do with unknown columns (default: keep as custom fields).
    ///
    /// ```
    /// # use asset_metadata::csv::{MappingBuilder, UnknownColumns};
    /// let mut rows = MappingBuilder::new().unknown_columns(UnknownColumns::Ignore)
    ///     .from_reader("file,Shoe Size\na.jpg,42\n".as_bytes())?;
    /// assert!(rows.next().unwrap()?.metadata.custom.is_empty());
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn unknown_columns(&mut self, unknown: UnknownColumns) -> &mut Self {
        self.unknown = unknown;
        self
    }

    /// Strict mode: an unknown column is an error (`strict(false)` restores the default).
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let err = MappingBuilder::new().strict(true).from_reader("file,Shoe Size\n".as_bytes()).unwrap_err();
    /// assert_eq!(err.to_string(), r#"line 1, column "Shoe Size": unknown column (strict mode)"#);
    /// ```
    pub fn strict(&mut self, yes: bool) -> &mut Self {
        self.unknown = if yes {
            UnknownColumns::Error
        } else {
            UnknownColumns::Custom
        };
        self
    }

    /// How keyword cells are split (default: the first of `;` `|` `,` found in the cell).
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// # use asset_metadata::KeywordSeparator;
    /// let mut rows = MappingBuilder::new().keyword_separator(KeywordSeparator::Char(','))
    ///     .from_reader("file\tkeywords\na.jpg\tsea, boat; dawn\n".as_bytes())?;
    /// assert_eq!(rows.next().unwrap()?.metadata.keywords.len(), 2);
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn keyword_separator(&mut self, sep: KeywordSeparator) -> &mut Self {
        self.keyword_separator = sep;
        self
    }

    /// The largest field accepted, in bytes (default 1 MiB). A longer field is an error
    /// naming its record and column.
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let mut rows = MappingBuilder::new().max_field_bytes(6).from_reader("file,title\na.jpg,Harbour\n".as_bytes())?;
    /// assert!(rows.next().unwrap().is_err());
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn max_field_bytes(&mut self, bytes: usize) -> &mut Self {
        self.max_field_bytes = bytes;
        self
    }

    /// The largest record (row) read into memory, in bytes (default 64 MiB). Past it,
    /// reading stops with an error, so an endless quoted field cannot exhaust memory.
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let data = format!("file,title\na.jpg,\"{}", "x".repeat(100_000));
    /// let mut rows = MappingBuilder::new().max_record_bytes(10_000).from_reader(data.as_bytes())?;
    /// assert!(rows.next().unwrap().unwrap_err().to_string().contains("exceeds the limit"));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn max_record_bytes(&mut self, bytes: usize) -> &mut Self {
        self.max_record_bytes = bytes;
        self
    }

    /// Whether surrounding whitespace is trimmed from every value (default `true`).
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let mut rows = MappingBuilder::new().trim(false).from_reader("file,title\na.jpg, T \n".as_bytes())?;
    /// assert_eq!(rows.next().unwrap()?.metadata.title.as_deref(), Some(" T "));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn trim(&mut self, yes: bool) -> &mut Self {
        self.trim = yes;
        self
    }

    /// Whether a key seen twice is an error (default `true`). The reader keeps only the keys
    /// it has seen, not the records.
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let data = "file\na.jpg\na.jpg\n";
    /// assert!(MappingBuilder::new().from_reader(data.as_bytes())?.any(|r| r.is_err()));
    /// assert!(MappingBuilder::new().check_duplicates(false).from_reader(data.as_bytes())?.all(|r| r.is_ok()));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn check_duplicates(&mut self, yes: bool) -> &mut Self {
        self.check_duplicates = yes;
        self
    }

    /// Undoes [`WriterBuilder::formula_guard`](super::WriterBuilder::formula_guard): a
    /// cell that starts with `'` followed by `=`, `+`, `-`, `@`, a tab or a carriage return
    /// (or by more apostrophes and then one of these) loses its first `'` (default `false`:
    /// cells are read as they are).
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let data = "File,Title,Rating\na.jpg,'=1+2,'-1\n";
    /// let row = MappingBuilder::new().formula_guard(true).from_reader(data.as_bytes())?.next().unwrap()?;
    /// assert_eq!(row.metadata.title.as_deref(), Some("=1+2"));
    /// assert_eq!(row.metadata.rating.map(|r| r.get()), Some(-1));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn formula_guard(&mut self, yes: bool) -> &mut Self {
        self.formula_guard = yes;
        self
    }

    /// The file name used in error positions (set by [`from_path`](Self::from_path)).
    ///
    /// ```
    /// # use asset_metadata::csv::MappingBuilder;
    /// let err = MappingBuilder::new().file_name("in.csv").from_reader("title\nT\n".as_bytes()).unwrap_err();
    /// assert!(err.to_string().starts_with("in.csv, line 1: no file key column"));
    /// ```
    pub fn file_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.file_name = Some(name.into());
        self
    }

    /// Opens a file and reads its header.
    pub fn from_path(&self, path: impl AsRef<Path>) -> Result<ManifestReader<File>> {
        let (file, name) = open_file(path.as_ref(), self.file_name.as_deref())?;
        let mut this = self.clone();
        this.file_name = Some(name);
        ManifestReader::new(this, file)
    }

    /// Reads the header from `reader` and returns the record iterator.
    pub fn from_reader<R: Read>(&self, reader: R) -> Result<ManifestReader<R>> {
        ManifestReader::new(self.clone(), reader)
    }
}
