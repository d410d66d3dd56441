//! XML manifests: batch files of record elements, mapped to fields by paths.
//!
//! A [`XmlManifestConfig`] names the record element, where the file key is and which path
//! feeds which field. Paths are relative to the record element: `title` (a child element's
//! text), `location/city` (deeper), `keywords/k` (each `<k>` is one item), `keywords/*` (any
//! child), `@rating` (an attribute of the record), `meta/@lang` (an attribute of a child).
//! Elements and attributes no path covers become custom fields named by their path, and
//! `<custom name="…">` elements (what [`XmlManifestWriter`] writes for custom fields) read
//! back as custom fields of that name, so nothing read is dropped.
//!
//! The reader uses the same hardened XML reader as XMP sidecars: no DTD, no entity, and
//! limits on size, depth and attributes.
//!
//! ```
//! use asset_metadata::xml::XmlManifestConfig;
//! use asset_metadata::Field;
//!
//! let doc = r#"<assets>
//!   <asset file="a.jpg"><title>Harbour</title><keywords><k>sea</k><k>boat</k></keywords></asset>
//!   <asset file="b.jpg" stars="3"><title>Nets</title><notes>dry</notes></asset>
//! </assets>"#;
//! let config = XmlManifestConfig::new("asset", "@file")
//!     .field("title", Field::Title)
//!     .field("keywords/k", Field::Keywords)
//!     .field("@stars", Field::Rating);
//! let rows: Vec<_> = config.reader(doc.as_bytes())?.collect::<Result<_, _>>()?;
//! assert_eq!(rows[0].metadata.keywords.join(","), "sea,boat");
//! assert_eq!(rows[1].metadata.rating.map(|r| r.get()), Some(3));
//! assert_eq!(rows[1].metadata.custom.get("notes").and_then(|v| v.as_text()), Some("dry"));
//! # Ok::<(), asset_metadata::Error>(())
//! ```

mod reader;
mod writer;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use reader::XmlManifestReader;
pub use writer::XmlManifestWriter;

use crate::error::{Error, Result, open_file};
use crate::field::Field;

/// What a path feeds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum XmlTarget {
    /// A built-in field.
    Field(Field),
    /// A custom field of this name.
    Custom(String),
}

/// One mapping: a path below the record element and what it feeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct XmlFieldPath {
    /// `title`, `keywords/k`, `@rating`, `location/@city`…
    pub path: String,
    /// What it feeds.
    pub target: XmlTarget,
}

/// What to do with elements and attributes that no path covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnknownElements {
    /// Keep them as custom fields named by their path.
    #[default]
    Custom,
    /// Skip them.
    Ignore,
    /// Refuse the record (strict mode).
    Error,
}

/// How an XML manifest is laid out. Plain data (serde), so it can live in a job file.
///
/// The default is the layout [`XmlManifestWriter`] writes: `<assets>` of `<asset file="…">`
/// with one child element per field named by [`Field::key`] (`<title>`, `<date_created>`…),
/// keywords as `<keywords><keyword>…</keyword></keywords>`, custom fields as
/// `<custom name="…">`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct XmlManifestConfig {
    /// The root element the writer writes (the reader finds records at any depth).
    pub root: String,
    /// The record element's name (matched on its local name or its prefixed name).
    pub record: String,
    /// The path of the file key (`@file`, `file`, `meta/@path`).
    pub key: String,
    /// The field paths.
    pub fields: Vec<XmlFieldPath>,
    /// The element holding a named custom field (`<custom name="Client">ACME</custom>`).
    pub custom_element: String,
    /// Whether each keyword match is split further on `;`, `|` or `,` (for
    /// `<keywords>sea; boat</keywords>`). Off by default: each match is one keyword.
    pub split_keywords: bool,
    /// What to do with elements no path covers.
    pub unknown: UnknownElements,
    /// Whether a key seen twice is an error.
    pub check_duplicates: bool,
    /// The largest document read, in bytes.
    pub max_bytes: u64,
    /// The deepest nesting read.
    pub max_depth: usize,
    /// The most attributes on one element.
    pub max_attributes: usize,
    /// The longest text of one element or attribute, in bytes.
    pub max_text_bytes: usize,
    /// The most elements in one record.
    pub max_record_elements: usize,
    /// The most bytes of input one record may take (it is held in memory while it is
    /// mapped).
    pub max_record_bytes: u64,
}

impl Default for XmlManifestConfig {
    fn default() -> Self {
        let fields = Field::ALL
            .into_iter()
            .map(|f| XmlFieldPath {
                path: if f == Field::Keywords {
                    "keywords/keyword".into()
                } else {
                    f.key().into()
                },
                target: XmlTarget::Field(f),
            })
            .collect();
        Self {
            root: "assets".into(),
            record: "asset".into(),
            key: "@file".into(),
            fields,
            custom_element: "custom".into(),
            split_keywords: false,
            unknown: UnknownElements::Custom,
            check_duplicates: true,
            max_bytes: 4 * 1024 * 1024 * 1024,
            max_depth: 64,
            max_attributes: 256,
            max_text_bytes: 1024 * 1024,
            max_record_elements: 100_000,
            max_record_bytes: 64 * 1024 * 1024,
        }
    }
}

impl XmlManifestConfig {
    /// A layout with this record element and key path, and no field paths yet (the other
    /// settings as in [`Default`]).
    ///
    /// ```
    /// # use asset_metadata::xml::XmlManifestConfig;
    /// let c = XmlManifestConfig::new("photo", "filename");
    /// assert!(c.fields.is_empty());
    /// ```
    pub fn new(record: &str, key: &str) -> Self {
        Self {
            record: record.into(),
            key: key.into(),
            fields: Vec::new(),
            ..Self::default()
        }
    }

    /// Sets the root element name the writer uses.
    ///
    /// ```
    /// # use asset_metadata::xml::XmlManifestConfig;
    /// assert_eq!(XmlManifestConfig::default().root("batch").root, "batch");
    /// ```
    pub fn root(mut self, root: &str) -> Self {
        self.root = root.into();
        self
    }

    /// Maps a path to a built-in field.
    ///
    /// ```
    /// # use asset_metadata::xml::XmlManifestConfig;
    /// # use asset_metadata::Field;
    /// let c = XmlManifestConfig::new("asset", "@file").field("location/city", Field::City);
    /// assert_eq!(c.fields.len(), 1);
    /// ```
    pub fn field(mut self, path: &str, field: Field) -> Self {
        self.fields.push(XmlFieldPath {
            path: path.into(),
            target: XmlTarget::Field(field),
        });
        self
    }

    /// Maps a path to a custom field.
    ///
    /// ```
    /// # use asset_metadata::xml::XmlManifestConfig;
    /// let c = XmlManifestConfig::new("asset", "@file").custom("@po", "Purchase Order");
    /// assert_eq!(c.fields.len(), 1);
    /// ```
    pub fn custom(mut self, path: &str, name: &str) -> Self {
        self.fields.push(XmlFieldPath {
            path: path.into(),
            target: XmlTarget::Custom(name.into()),
        });
        self
    }

    /// Sets what happens to elements no path covers.
    ///
    /// ```
    /// # use asset_metadata::xml::{UnknownElements, XmlManifestConfig};
    /// let c = XmlManifestConfig::default().unknown(UnknownElements::Error);
    /// let err = c.reader(&b"<assets><asset file='a'><odd/></asset></assets>"[..])?.next().unwrap().unwrap_err();
    /// assert!(err.to_string().contains("unknown element odd"), "{err}");
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn unknown(mut self, unknown: UnknownElements) -> Self {
        self.unknown = unknown;
        self
    }

    /// Starts reading records from `reader`.
    pub fn reader<R: BufRead>(&self, reader: R) -> Result<XmlManifestReader<R>> {
        XmlManifestReader::new(self, reader, None)
    }

    /// Starts reading records from a file.
    pub fn reader_from_path(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<XmlManifestReader<BufReader<File>>> {
        let (file, name) = open_file(path.as_ref(), None)?;
        XmlManifestReader::new(self, BufReader::new(file), Some(name))
    }

    /// Starts writing a manifest to `writer` (writes the XML declaration and the root).
    pub fn writer<W: Write>(&self, writer: W) -> Result<XmlManifestWriter<W>> {
        XmlManifestWriter::new(self, writer)
    }

    /// Checks every path; returns them parsed.
    pub(crate) fn parsed(&self) -> Result<Parsed> {
        let bad = |key: &'static str, message: String| Error::InvalidConfig { key, message };
        if !is_name(&self.record) {
            return Err(bad(
                "record",
                format!("{:?} is not an element name", self.record),
            ));
        }
        if !is_name(&self.root) {
            return Err(bad(
                "root",
                format!("{:?} is not an element name", self.root),
            ));
        }
        if !is_name(&self.custom_element) {
            return Err(bad(
                "custom_element",
                format!("{:?} is not an element name", self.custom_element),
            ));
        }
        let key = XPath::parse(&self.key)
            .ok_or_else(|| bad("key", format!("bad path {:?}", self.key)))?;
        let mut fields = Vec::new();
        for f in &self.fields {
            let p = XPath::parse(&f.path)
                .ok_or_else(|| bad("fields", format!("bad path {:?}", f.path)))?;
            fields.push((p, f.target.clone()));
        }
        Ok(Parsed { key, fields })
    }
}

/// Paths checked and split.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub(crate) key: XPath,
    pub(crate) fields: Vec<(XPath, XmlTarget)>,
}

/// A path: element steps (`*` matches any) and maybe a final attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XPath {
    pub(crate) steps: Vec<String>,
    pub(crate) attr: Option<String>,
}

impl XPath {
    fn parse(path: &str) -> Option<Self> {
        let mut steps: Vec<String> = Vec::new();
        let mut attr = None;
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            if let Some(a) = part.strip_prefix('@') {
                if i + 1 != parts.len() || !is_name(a) {
                    return None;
                }
                attr = Some(a.to_owned());
            } else if *part == "*" || is_name(part) {
                steps.push((*part).to_owned());
            } else {
                return None;
            }
        }
        (!steps.is_empty() || attr.is_some()).then_some(Self { steps, attr })
    }

    /// Whether `path` (element steps of a leaf, plus maybe an attribute) is this path or
    /// lies below it.
    pub(crate) fn covers(&self, steps: &[&str], attr: Option<&str>) -> bool {
        if steps.len() < self.steps.len() {
            return false;
        }
        let prefix_ok = self
            .steps
            .iter()
            .zip(steps)
            .all(|(want, got)| want == "*" || local(want) == local(got));
        if !prefix_ok {
            return false;
        }
        match &self.attr {
            Some(a) => {
                steps.len() == self.steps.len() && attr.is_some_and(|x| local(x) == local(a))
            }
            None => true,
        }
    }
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}
