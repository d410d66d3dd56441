//! [`XmlManifestWriter`]: writes XML manifests that [`XmlManifestReader`](super::XmlManifestReader)
//! reads back.

use std::fmt::Write as _;
use std::io::Write;

use super::{Parsed, XmlManifestConfig, XmlTarget};
use crate::custom::FieldValue;
use crate::error::{Error, Position, Result};
use crate::field::Field;
use crate::model::AssetMetadata;
use crate::xmlsafe::escape;

#[derive(Debug, Default)]
struct WEl {
    name: String,
    attrs: Vec<(String, String)>,
    text: Option<String>,
    children: Vec<WEl>,
}

impl WEl {
    fn named(name: &str) -> Self {
        Self {
            name: if name == "*" {
                "item".into()
            } else {
                name.into()
            },
            ..Self::default()
        }
    }

    /// The child `name`, created if absent.
    fn child(&mut self, name: &str) -> &mut WEl {
        let want = if name == "*" { "item" } else { name };
        let at = match self.children.iter().position(|c| c.name == want) {
            Some(at) => at,
            None => {
                self.children.push(WEl::named(name));
                self.children.len() - 1
            }
        };
        &mut self.children[at]
    }
}

/// Writes records as XML; built by [`XmlManifestConfig::writer`].
///
/// Each record is written as it comes. Call [`finish`](Self::finish) at the end to close
/// the root element; a writer dropped without it leaves the document unclosed (and the
/// reader reports it as such).
///
/// ```
/// use asset_metadata::xml::XmlManifestConfig;
/// use asset_metadata::AssetMetadata;
///
/// let mut meta = AssetMetadata::default();
/// meta.title = Some("Harbour & nets".into());
/// meta.keywords.extend(["sea", "boat"]);
/// meta.custom.insert("Client Code", "ACME-7");
///
/// let config = XmlManifestConfig::default();
/// let mut w = config.writer(Vec::new())?;
/// w.write("a.jpg", &meta)?;
/// let out = w.finish()?;
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.contains(r#"<asset file="a.jpg">"#));
/// assert!(text.contains("<title>Harbour &amp; nets</title>"));
/// assert!(text.contains(r#"<custom name="Client Code">ACME-7</custom>"#));
///
/// let back = config.reader(text.as_bytes())?.next().unwrap()?;
/// assert_eq!(back.metadata, meta);
/// # Ok::<(), asset_metadata::Error>(())
/// ```
#[derive(Debug)]
pub struct XmlManifestWriter<W: Write> {
    out: W,
    config: XmlManifestConfig,
    parsed: Parsed,
    records: u64,
}

impl<W: Write> XmlManifestWriter<W> {
    pub(crate) fn new(config: &XmlManifestConfig, mut out: W) -> Result<Self> {
        let parsed = config.parsed()?;
        let head = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{}>\n",
            config.root
        );
        out.write_all(head.as_bytes())
            .map_err(|e| Error::io(Position::new().with_line(1), "write", e))?;
        Ok(Self {
            out,
            config: config.clone(),
            parsed,
            records: 0,
        })
    }

    /// Writes one record.
    pub fn write(&mut self, key: &str, meta: &AssetMetadata) -> Result<()> {
        self.write_with(key, meta, &[])
    }

    /// Writes one record with extra named values (asset id, status…), written as custom
    /// fields.
    ///
    /// A key that is empty or has surrounding whitespace is refused (the reader would
    /// refuse or trim it), and nothing of the record is written.
    pub fn write_with(
        &mut self,
        key: &str,
        meta: &AssetMetadata,
        extra: &[(&str, &str)],
    ) -> Result<()> {
        self.records += 1;
        let pos = Position::new().with_record(self.records);
        if key.trim().is_empty() || key.trim() != key {
            return Err(
                Error::invalid_value(key, "a file key must be non-empty and trimmed").at(&pos
                    .clone()
                    .with_element(format!("{}/{}", self.config.record, self.config.key))),
            );
        }
        let mut rec = WEl::named(&self.config.record);
        put(
            &mut rec,
            &self.parsed.key.steps,
            self.parsed.key.attr.as_deref(),
            &[key.to_owned()],
        );
        let mut written_custom: Vec<&str> = Vec::new();
        for (path, target) in &self.parsed.fields {
            let values: Vec<String> = match target {
                XmlTarget::Field(Field::Keywords) => {
                    meta.keywords.iter().map(str::to_owned).collect()
                }
                XmlTarget::Field(f) => meta.get(*f).map(|v| v.to_text()).into_iter().collect(),
                XmlTarget::Custom(name) => {
                    written_custom.push(name);
                    meta.custom
                        .get(name)
                        .map(|v| v.items().to_vec())
                        .unwrap_or_default()
                }
            };
            if !values.is_empty() {
                put(&mut rec, &path.steps, path.attr.as_deref(), &values);
            }
        }
        let customs = meta
            .custom
            .iter()
            .filter(|(k, _)| !written_custom.contains(k))
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .chain(
                extra
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), FieldValue::Text((*v).to_owned()))),
            );
        for (name, value) in customs {
            let mut el = WEl::named(&self.config.custom_element);
            el.attrs.push(("name".into(), name));
            match value {
                FieldValue::List(items) => {
                    for item in items {
                        let mut i = WEl::named("item");
                        i.text = Some(item);
                        el.children.push(i);
                    }
                }
                other => el.text = Some(other.to_text()),
            }
            rec.children.push(el);
        }
        let mut text = String::new();
        serialize(&mut text, 1, &rec, &pos)?;
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| Error::io(pos, "write", e))
    }

    /// Closes the root element, flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W> {
        let tail = format!("</{}>\n", self.config.root);
        let pos = Position::new();
        self.out
            .write_all(tail.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(pos, "write", e))?;
        Ok(self.out)
    }
}

/// Puts values at a path: the leading steps are shared with other paths, the last step is
/// repeated once per value; an attribute takes the values joined with `"; "`.
fn put(rec: &mut WEl, steps: &[String], attr: Option<&str>, values: &[String]) {
    match attr {
        Some(a) => {
            let mut el = rec;
            for s in steps {
                el = el.child(s);
            }
            el.attrs.push((a.to_owned(), values.join("; ")));
        }
        None => {
            let Some((last, parents)) = steps.split_last() else {
                return;
            };
            let mut el = rec;
            for s in parents {
                el = el.child(s);
            }
            for v in values {
                let mut leaf = WEl::named(last);
                leaf.text = Some(v.clone());
                el.children.push(leaf);
            }
        }
    }
}

fn serialize(out: &mut String, depth: usize, el: &WEl, pos: &Position) -> Result<()> {
    out.extend(std::iter::repeat_n(' ', depth * 2));
    let _ = write!(out, "<{}", el.name);
    for (k, v) in &el.attrs {
        let _ = write!(out, " {k}=\"{}\"", escape(v, pos)?);
    }
    if el.children.is_empty() {
        match &el.text {
            Some(t) => {
                let _ = writeln!(out, ">{}</{}>", escape(t, pos)?, el.name);
            }
            None => out.push_str("/>\n"),
        }
        return Ok(());
    }
    out.push_str(">\n");
    for c in &el.children {
        serialize(out, depth + 1, c, pos)?;
    }
    out.extend(std::iter::repeat_n(' ', depth * 2));
    let _ = writeln!(out, "</{}>", el.name);
    Ok(())
}
