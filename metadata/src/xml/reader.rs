//! [`XmlManifestReader`]: streams records of an XML manifest.

use std::collections::HashMap;
use std::io::BufRead;

use super::{Parsed, UnknownElements, XPath, XmlManifestConfig, XmlTarget};
use crate::custom::FieldValue;
use crate::error::{Error, Position, Result, clip};
use crate::field::Field;
use crate::keywords::KeywordSeparator;
use crate::model::{AssetMetadata, ManifestRecord, normalize_key};
use crate::xmlsafe::{Ev, Limits, SafeReader};

/// One element of a record, held only while the record is mapped.
#[derive(Debug, Default)]
struct El {
    qname: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<El>,
    line: u64,
}

/// Streams the records of an XML manifest as [`ManifestRecord`]s.
///
/// Built by [`XmlManifestConfig::reader`]. One record element is held in memory at a time;
/// only the keys seen so far are kept. After a bad value in one record the iterator goes on
/// with the next; after malformed XML it ends.
#[derive(Debug)]
pub struct XmlManifestReader<R> {
    xml: SafeReader<R>,
    config: XmlManifestConfig,
    parsed: Parsed,
    file: Option<String>,
    seen: HashMap<String, u64>,
    records: u64,
    done: bool,
}

impl<R: BufRead> XmlManifestReader<R> {
    pub(crate) fn new(config: &XmlManifestConfig, reader: R, file: Option<String>) -> Result<Self> {
        let parsed = config.parsed()?;
        let limits = Limits {
            max_bytes: config.max_bytes,
            max_depth: config.max_depth,
            max_attributes: config.max_attributes,
            max_text_bytes: config.max_text_bytes,
        };
        Ok(Self {
            xml: SafeReader::new(reader, limits, file.clone()),
            config: config.clone(),
            parsed,
            file,
            seen: HashMap::new(),
            records: 0,
            done: false,
        })
    }

    /// Sets the file name used in error positions.
    ///
    /// ```
    /// # use asset_metadata::xml::XmlManifestConfig;
    /// let mut rows = XmlManifestConfig::default().reader(&b"<assets><asset/></assets>"[..])?.file_name("batch.xml");
    /// assert!(rows.next().unwrap().unwrap_err().to_string().starts_with("batch.xml, line 1"));
    /// # Ok::<(), asset_metadata::Error>(())
    /// ```
    pub fn file_name(mut self, name: &str) -> Self {
        self.file = Some(name.to_owned());
        self.xml.set_file(Some(name.to_owned()));
        self
    }

    fn is_record(&self, qname: &str) -> bool {
        qname == self.config.record || local(qname) == self.config.record
    }

    fn read_record(&mut self, qname: String, attrs: Vec<(String, String)>) -> Result<El> {
        let mut count = 1usize;
        let start = self.xml.consumed();
        let mut stack = vec![El {
            qname,
            attrs,
            line: self.xml.pos().line.unwrap_or(0),
            ..El::default()
        }];
        loop {
            let event = self.xml.next()?;
            if self.xml.consumed() - start > self.config.max_record_bytes {
                return Err(Error::Limit {
                    pos: Box::new(self.xml.pos()),
                    what: "a record".into(),
                    limit: usize::try_from(self.config.max_record_bytes).unwrap_or(usize::MAX),
                });
            }
            match event {
                Ev::Start(name, attrs) => {
                    count += 1;
                    if count > self.config.max_record_elements {
                        return Err(Error::Limit {
                            pos: Box::new(self.xml.pos()),
                            what: "the elements of one record".into(),
                            limit: self.config.max_record_elements,
                        });
                    }
                    stack.push(El {
                        qname: name.qname,
                        attrs: attrs.into_iter().map(|a| (a.name.qname, a.value)).collect(),
                        line: self.xml.pos().line.unwrap_or(0),
                        ..El::default()
                    });
                }
                Ev::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&t);
                    }
                }
                Ev::End => {
                    let Some(done) = stack.pop() else { continue };
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Ev::Eof => {
                    return Err(Error::Xml {
                        pos: Box::new(self.xml.pos()),
                        message: "unexpected end of document inside a record".into(),
                    });
                }
            }
        }
    }

    fn map(&mut self, el: &El, record_path: &str) -> Result<ManifestRecord> {
        let pos = Position::new()
            .with_file(self.file.as_deref())
            .with_line(el.line)
            .with_record(self.records)
            .with_element(record_path);
        let mut meta = AssetMetadata::default();
        for (path, target) in &self.parsed.fields {
            let mut values = Vec::new();
            select(el, &path.steps, path.attr.as_deref(), &mut values);
            let at = |line: u64| {
                let mut p = pos
                    .clone()
                    .with_element(format!("{record_path}/{}", show(path)));
                if line > 0 {
                    p.line = Some(line);
                }
                p
            };
            match target {
                XmlTarget::Field(Field::Keywords) => {
                    for (v, _) in &values {
                        if self.config.split_keywords {
                            let mut extra = AssetMetadata::default();
                            extra.set_trimmed(Field::Keywords, v.trim(), KeywordSeparator::Auto)?;
                            meta.keywords.extend(extra.keywords.iter());
                        } else {
                            meta.keywords.push(v);
                        }
                    }
                }
                XmlTarget::Field(f) => {
                    if meta.is_set(*f) {
                        continue;
                    }
                    if let Some((v, line)) = values.iter().find(|(v, _)| !v.trim().is_empty()) {
                        meta.set_trimmed(*f, v.trim(), KeywordSeparator::Auto)
                            .map_err(|e| e.at(&at(*line).with_field(f.name())))?;
                    }
                }
                XmlTarget::Custom(name) => {
                    let items: Vec<String> = values
                        .into_iter()
                        .map(|(v, _)| v.trim().to_owned())
                        .filter(|v| !v.is_empty())
                        .collect();
                    insert_custom(&mut meta, name, items);
                }
            }
        }
        // Named custom fields.
        for child in &el.children {
            if local(&child.qname) != self.config.custom_element {
                continue;
            }
            let Some((_, name)) = child.attrs.iter().find(|(k, _)| local(k) == "name") else {
                continue;
            };
            if child.children.is_empty() {
                if !meta.custom.contains(name) {
                    meta.custom.insert(name.as_str(), child.text.trim());
                }
            } else if !meta.custom.contains(name) {
                let items = child
                    .children
                    .iter()
                    .map(|c| c.text.trim().to_owned())
                    .collect();
                meta.custom.insert(name.as_str(), FieldValue::List(items));
            }
        }
        self.unknowns(el, &mut meta, &pos)?;
        let mut keys = Vec::new();
        select(
            el,
            &self.parsed.key.steps,
            self.parsed.key.attr.as_deref(),
            &mut keys,
        );
        let key = keys
            .first()
            .map(|(k, _)| normalize_key(k))
            .filter(|k| !k.is_empty());
        let key_pos = || {
            pos.clone()
                .with_element(format!("{record_path}/{}", show(&self.parsed.key)))
        };
        let Some(key) = key else {
            return Err(Error::EmptyKey {
                pos: Box::new(key_pos()),
            });
        };
        if self.config.check_duplicates {
            if let Some(first) = self.seen.get(&key) {
                return Err(Error::DuplicateKey {
                    pos: Box::new(key_pos()),
                    key: clip(&key),
                    first: format!("line {first}"),
                });
            }
            self.seen.insert(key.clone(), el.line);
        }
        Ok(ManifestRecord {
            key,
            metadata: meta,
            line: el.line,
            record: self.records,
        })
    }

    /// Leaves (attributes, text elements) that no path covers.
    fn unknowns(&self, el: &El, meta: &mut AssetMetadata, pos: &Position) -> Result<()> {
        if self.config.unknown == UnknownElements::Ignore {
            return Ok(());
        }
        let mut leaves: Vec<(String, String)> = Vec::new();
        let mut steps: Vec<&str> = Vec::new();
        self.collect(el, &mut steps, &mut leaves);
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        for (path, value) in leaves {
            if self.config.unknown == UnknownElements::Error {
                return Err(Error::Structure {
                    pos: Box::new(pos.clone()),
                    message: format!("unknown element {path} (strict mode)"),
                });
            }
            match found.iter_mut().find(|(p, _)| *p == path) {
                Some((_, items)) => items.push(value),
                None => found.push((path, vec![value])),
            }
        }
        for (path, items) in found {
            insert_custom(meta, &path, items);
        }
        Ok(())
    }

    fn collect<'a>(&self, el: &'a El, steps: &mut Vec<&'a str>, out: &mut Vec<(String, String)>) {
        for (k, v) in &el.attrs {
            if !self.covered(steps, Some(k)) {
                let mut path: Vec<&str> = steps.clone();
                let attr = format!("@{k}");
                path.push(&attr);
                out.push((path.join("/"), v.trim().to_owned()));
            }
        }
        for child in &el.children {
            if steps.is_empty() && local(&child.qname) == self.config.custom_element {
                continue;
            }
            steps.push(&child.qname);
            if child.children.is_empty() {
                let text = child.text.trim();
                if !self.covered(steps, None)
                    && (!text.is_empty() || self.config.unknown == UnknownElements::Error)
                {
                    out.push((steps.join("/"), text.to_owned()));
                }
            }
            self.collect(child, steps, out);
            steps.pop();
        }
    }

    fn covered(&self, steps: &[&str], attr: Option<&str>) -> bool {
        self.parsed.key.covers(steps, attr)
            || self
                .parsed
                .fields
                .iter()
                .any(|(p, _)| p.covers(steps, attr))
    }

    fn next_record(&mut self) -> Result<Option<ManifestRecord>> {
        loop {
            match self.xml.next()? {
                Ev::Start(name, attrs) if self.is_record(&name.qname) => {
                    let record_path = self.xml.element_path();
                    let attrs = attrs.into_iter().map(|a| (a.name.qname, a.value)).collect();
                    let el = self.read_record(name.qname, attrs)?;
                    self.records += 1;
                    return self.map(&el, &record_path).map(Some);
                }
                Ev::Eof => return Ok(None),
                _ => {}
            }
        }
    }
}

fn insert_custom(meta: &mut AssetMetadata, name: &str, mut items: Vec<String>) {
    if items.is_empty() || meta.custom.contains(name) {
        return;
    }
    let value = if items.len() == 1 {
        FieldValue::Text(items.remove(0))
    } else {
        FieldValue::List(items)
    };
    meta.custom.insert(name, value);
}

fn show(p: &XPath) -> String {
    let mut parts = p.steps.clone();
    if let Some(a) = &p.attr {
        parts.push(format!("@{a}"));
    }
    parts.join("/")
}

fn local(name: &str) -> &str {
    name.rsplit_once(':').map_or(name, |(_, l)| l)
}

/// The texts at `steps` (and `attr`) below `el`, with their lines.
fn select(el: &El, steps: &[String], attr: Option<&str>, out: &mut Vec<(String, u64)>) {
    match steps.split_first() {
        None => match attr {
            Some(a) => {
                if let Some((_, v)) = el.attrs.iter().find(|(k, _)| local(k) == local(a)) {
                    out.push((v.clone(), el.line));
                }
            }
            None => out.push((el.text.clone(), el.line)),
        },
        Some((step, rest)) => {
            for child in &el.children {
                if step == "*" || local(step) == local(&child.qname) {
                    select(child, rest, attr, out);
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for XmlManifestReader<R> {
    type Item = Result<ManifestRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(r)) => Some(Ok(r)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                // Malformed XML ends the stream; a bad value only fails its record.
                if !matches!(
                    e,
                    Error::InvalidValue { .. }
                        | Error::DuplicateKey { .. }
                        | Error::EmptyKey { .. }
                ) {
                    self.done = true;
                }
                Some(Err(e))
            }
        }
    }
}
