//! XMP sidecars (`.xmp`, RDF/XML): read and write IPTC metadata.
//!
//! Reads `dc:`, `photoshop:`, `Iptc4xmpCore:`, `Iptc4xmpExt:`, `xmpRights:`, `xmp:` and
//! `plus:` properties in attribute and element form, `rdf:Bag`/`rdf:Seq`/`rdf:Alt` (the
//! `x-default` language preferred), structures, with or without the `x:xmpmeta` wrapper and
//! `<?xpacket?>`: what exiftool, Lightroom and Bridge write. Properties that are not
//! built-in fields become custom fields named by their path (`Iptc4xmpExt:PersonInImage`,
//! `Iptc4xmpCore:CreatorContactInfo/Iptc4xmpCore:CiEmailWork`,
//! `Iptc4xmpExt:LocationShown[1]/Iptc4xmpExt:City`, `dc:title@de`), and [`write_xmp`] writes
//! them back, so a sidecar read and written again keeps Lightroom's develop settings and
//! everything else in a namespace it can declare.
//!
//! The reader refuses DTDs and entity references and enforces size, depth and attribute
//! limits ([`XmpReader`]).
//!
//! ```
//! use asset_metadata::xmp::{read_xmp, write_xmp};
//!
//! let sidecar = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/">
//!  <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
//!   <rdf:Description rdf:about=""
//!     xmlns:dc="http://purl.org/dc/elements/1.1/"
//!     xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
//!     photoshop:City="Porto">
//!    <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Harbour</rdf:li></rdf:Alt></dc:title>
//!    <dc:subject><rdf:Bag><rdf:li>sea</rdf:li><rdf:li>boat</rdf:li></rdf:Bag></dc:subject>
//!   </rdf:Description>
//!  </rdf:RDF>
//! </x:xmpmeta>"#;
//! let meta = read_xmp(sidecar.as_bytes())?;
//! assert_eq!(meta.title.as_deref(), Some("Harbour"));
//! assert_eq!(meta.city.as_deref(), Some("Porto"));
//! assert_eq!(meta.keywords.join(","), "sea,boat");
//!
//! let written = write_xmp(&meta)?;
//! assert_eq!(read_xmp(written.as_bytes())?, meta);
//! # Ok::<(), asset_metadata::Error>(())
//! ```

mod map;
mod ns;
mod rdf;
mod write;

use std::fs::File;
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Position, Result, open_file};
use crate::model::AssetMetadata;
use crate::xmlsafe::{Limits, SafeReader};

/// Reads an XMP sidecar from memory with the default limits.
pub fn read_xmp(bytes: &[u8]) -> Result<AssetMetadata> {
    XmpReader::new().read(bytes)
}

/// Writes an XMP sidecar (with the `<?xpacket?>` wrapper, as exiftool writes them).
///
/// Built-in fields are written in element form; custom fields whose names are XMP
/// property paths in a namespace with a known URI are written too; other custom fields
/// (a CSV column such as `Client Code`) are not XMP properties and are left out. A
/// character that XML cannot hold (a control character) is an error naming the field.
pub fn write_xmp(meta: &AssetMetadata) -> Result<String> {
    write::write(meta, true)
}

/// Writes a sidecar file atomically: to a temporary file beside it, then renamed over it,
/// so a reader never sees half a file. Each call has a temporary file of its own, so
/// concurrent writers of one sidecar each land whole (the last rename wins).
pub fn write_xmp_file(path: impl AsRef<Path>, meta: &AssetMetadata) -> Result<()> {
    /// Tells apart the temporary files of the writes in flight in this process.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let path = path.as_ref();
    let text = write_xmp(meta)?;
    let pos = Position::new().with_file(Some(&path.display().to_string()));
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(
        ".{}-{}.tmp",
        std::process::id(),
        WRITES.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = std::path::PathBuf::from(tmp_name);
    let res = (|| {
        let mut f = File::options().write(true).create_new(true).open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    res.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(pos, "write", e)
    })
}

/// Options for reading sidecars: limits and the file name used in errors. Reusable,
/// `&mut self` setters.
///
/// ```
/// use asset_metadata::xmp::XmpReader;
/// let err = XmpReader::new().max_depth(3).file_name("a.xmp")
///     .read(b"<a><b><c><d/></c></b></a>").unwrap_err();
/// assert_eq!(err.to_string(), "a.xmp, line 1, element /a/b/c/d: the nesting depth exceeds the limit of 3");
/// ```
#[derive(Debug, Clone)]
pub struct XmpReader {
    limits: Limits,
    file_name: Option<String>,
}

impl Default for XmpReader {
    fn default() -> Self {
        Self {
            limits: Limits {
                max_bytes: 16 * 1024 * 1024,
                max_depth: 64,
                max_attributes: 1024,
                max_text_bytes: 4 * 1024 * 1024,
            },
            file_name: None,
        }
    }
}

impl XmpReader {
    /// Defaults: 16 MiB per document, depth 64, 1024 attributes per element, 4 MiB per text.
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest document accepted, in bytes.
    ///
    /// ```
    /// # use asset_metadata::xmp::XmpReader;
    /// assert!(XmpReader::new().max_bytes(10).read(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>").is_err());
    /// ```
    pub fn max_bytes(&mut self, bytes: u64) -> &mut Self {
        self.limits.max_bytes = bytes;
        self
    }

    /// The deepest element nesting accepted.
    ///
    /// ```
    /// # use asset_metadata::xmp::XmpReader;
    /// assert!(XmpReader::new().max_depth(1).read(b"<a><b/></a>").is_err());
    /// ```
    pub fn max_depth(&mut self, depth: usize) -> &mut Self {
        self.limits.max_depth = depth;
        self
    }

    /// The most attributes accepted on one element.
    ///
    /// ```
    /// # use asset_metadata::xmp::XmpReader;
    /// assert!(XmpReader::new().max_attributes(1).read(b"<a b='1' c='2'/>").is_err());
    /// ```
    pub fn max_attributes(&mut self, count: usize) -> &mut Self {
        self.limits.max_attributes = count;
        self
    }

    /// The longest text (element content or attribute value) accepted, in bytes.
    ///
    /// ```
    /// # use asset_metadata::xmp::XmpReader;
    /// assert!(XmpReader::new().max_text_bytes(3).read(b"<a>long</a>").is_err());
    /// ```
    pub fn max_text_bytes(&mut self, bytes: usize) -> &mut Self {
        self.limits.max_text_bytes = bytes;
        self
    }

    /// The file name used in error positions (set by [`read_path`](Self::read_path)).
    ///
    /// ```
    /// # use asset_metadata::xmp::XmpReader;
    /// let err = XmpReader::new().file_name("a.xmp").read(b"<a/>").unwrap_err();
    /// assert!(err.to_string().starts_with("a.xmp, line 1: no rdf:RDF element"));
    /// ```
    pub fn file_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.file_name = Some(name.into());
        self
    }

    /// Reads a sidecar from memory.
    pub fn read(&self, bytes: &[u8]) -> Result<AssetMetadata> {
        self.read_from(bytes)
    }

    /// Reads a sidecar from a buffered reader.
    pub fn read_from<R: BufRead>(&self, reader: R) -> Result<AssetMetadata> {
        let mut r = SafeReader::new(reader, self.limits, self.file_name.clone());
        let props = rdf::parse(&mut r)?;
        map::to_metadata(&props)
            .map_err(|e| e.at(&Position::new().with_file(self.file_name.as_deref())))
    }

    /// Reads a sidecar file.
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<AssetMetadata> {
        let (file, name) = open_file(path.as_ref(), self.file_name.as_deref())?;
        let mut this = self.clone();
        this.file_name = Some(name);
        this.read_from(BufReader::new(file))
    }
}
