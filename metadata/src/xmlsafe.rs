//! A hardened XML event reader shared by the XMP and XML manifest readers.
//!
//! quick-xml never expands entities or fetches DTDs; on top of that this reader refuses any
//! `<!DOCTYPE` (so no internal subset can declare entities), refuses every entity reference
//! other than the five predefined ones and character references, and enforces limits on
//! document size, nesting depth, attribute count and text length. Every error carries the
//! file, line and element path.

use std::borrow::Cow;
use std::io::{self, BufRead};

use quick_xml::NsReader;
use quick_xml::XmlVersion;
use quick_xml::escape::{EscapeError, resolve_predefined_entity};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};

use crate::error::{Error, Position, Result};

/// Limits for untrusted XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) max_bytes: u64,
    pub(crate) max_depth: usize,
    pub(crate) max_attributes: usize,
    pub(crate) max_text_bytes: usize,
}

/// An element name: namespace URI (if bound), local name, and the name as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub(crate) ns: Option<String>,
    pub(crate) local: String,
    pub(crate) qname: String,
}

impl Name {
    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local == local
    }
}

/// An attribute, with its value unescaped and normalized.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub(crate) name: Name,
    pub(crate) value: String,
}

/// What the consumers see.
#[derive(Debug)]
pub(crate) enum Ev {
    /// An element starts (an empty element gives `Start` then `End`).
    Start(Name, Vec<Attr>),
    /// The innermost open element ends.
    End,
    /// A piece of text (adjacent pieces are not merged).
    Text(String),
    /// The document ended, every element closed.
    Eof,
}

/// Counts lines and bytes as quick-xml consumes them, and stops at the size limit.
#[derive(Debug)]
struct Counted<R> {
    inner: R,
    consumed: u64,
    lines: u64,
    max: u64,
    tripped: bool,
}

impl<R: BufRead> io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed > self.max {
            self.tripped = true;
            return Err(io::Error::other("document size limit"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amt = amt.min(buf.len());
            self.lines += buf[..amt].iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.consumed += amt as u64;
        self.inner.consume(amt);
    }
}

/// The hardened reader.
#[derive(Debug)]
pub(crate) struct SafeReader<R> {
    xml: NsReader<Counted<R>>,
    limits: Limits,
    file: Option<String>,
    path: Vec<String>,
    buf: Vec<u8>,
    pending_end: bool,
    text_len: usize,
    /// The line where the event being read started.
    event_line: u64,
}

impl<R: BufRead> SafeReader<R> {
    pub(crate) fn new(inner: R, limits: Limits, file: Option<String>) -> Self {
        let mut xml = NsReader::from_reader(Counted {
            inner,
            consumed: 0,
            lines: 0,
            max: limits.max_bytes,
            tripped: false,
        });
        let cfg = xml.config_mut();
        cfg.expand_empty_elements = false;
        cfg.check_end_names = true;
        cfg.trim_text(false);
        Self {
            xml,
            limits,
            file,
            path: Vec::new(),
            buf: Vec::new(),
            pending_end: false,
            text_len: 0,
            event_line: 1,
        }
    }

    /// Sets the file name used in positions.
    pub(crate) fn set_file(&mut self, file: Option<String>) {
        self.file = file;
    }

    /// The current position: file, line and element path.
    pub(crate) fn pos(&self) -> Position {
        let mut p = Position::new()
            .with_file(self.file.as_deref())
            .with_line(self.event_line);
        if !self.path.is_empty() {
            p = p.with_element(self.element_path());
        }
        p
    }

    /// The bytes of input read so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.xml.get_ref().consumed
    }

    /// The line where the last event started.
    pub(crate) fn line(&self) -> u64 {
        self.event_line
    }

    /// The path of open elements, `/a/b/c`.
    pub(crate) fn element_path(&self) -> String {
        let mut s = String::new();
        for p in &self.path {
            s.push('/');
            s.push_str(p);
        }
        s
    }

    /// How deep the reader is (0 outside the root element).
    pub(crate) fn depth(&self) -> usize {
        self.path.len()
    }

    fn xml_error(&self, e: quick_xml::Error) -> Error {
        if self.xml.get_ref().tripped {
            return Error::Limit {
                pos: Box::new(self.pos()),
                what: "the document size".into(),
                limit: usize::try_from(self.limits.max_bytes).unwrap_or(usize::MAX),
            };
        }
        match e {
            quick_xml::Error::Io(io) => Error::io(
                self.pos(),
                "read",
                io::Error::new(io.kind(), io.to_string()),
            ),
            quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name)) => {
                self.forbidden_entity(&name)
            }
            other => Error::Xml {
                pos: Box::new(self.pos()),
                message: other.to_string(),
            },
        }
    }

    /// Names must be XML names and namespace-well-formed: at most one colon, each part
    /// starting with a letter or `_`, no markup or space characters.
    fn check_name(&self, qname: &str) -> Result<()> {
        let part_ok = |p: &str| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && p.chars().all(|c| {
                    c.is_alphanumeric()
                        || matches!(c, '_' | '-' | '.' | '\u{B7}')
                        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
                })
        };
        let mut parts = qname.split(':');
        let ok = parts.next().is_some_and(part_ok)
            && parts.next().is_none_or(part_ok)
            && parts.next().is_none();
        if !ok {
            return Err(Error::Xml {
                pos: Box::new(self.pos()),
                message: format!(
                    "name {:?} is not a valid qualified name",
                    crate::error::clip(qname)
                ),
            });
        }
        Ok(())
    }

    fn bad_namespace(&self, e: EscapeError) -> Error {
        match e {
            EscapeError::UnrecognizedEntity(_, name) => self.forbidden_entity(&name),
            other => Error::Xml {
                pos: Box::new(self.pos()),
                message: format!("bad namespace URI: {other}"),
            },
        }
    }

    fn forbidden_entity(&self, name: &str) -> Error {
        Error::Forbidden {
            pos: Box::new(self.pos()),
            what: format!("entity reference &{name}; (entities are never expanded)"),
        }
    }

    /// The next event.
    pub(crate) fn next(&mut self) -> Result<Ev> {
        if self.pending_end {
            self.pending_end = false;
            self.path.pop();
            return Ok(Ev::End);
        }
        loop {
            // The buffer is taken out so that the borrowed event does not borrow `self`.
            let mut buf = std::mem::take(&mut self.buf);
            buf.clear();
            self.event_line = self.xml.get_ref().lines + 1;
            let res = self.step(&mut buf);
            self.buf = buf;
            if let Some(ev) = res? {
                return Ok(ev);
            }
        }
    }

    /// Reads one event; `None` for the ones consumers never see (comments, declarations).
    fn step(&mut self, buf: &mut Vec<u8>) -> Result<Option<Ev>> {
        let event = match self.xml.read_event_into(buf) {
            Ok(ev) => ev,
            Err(e) => return Err(self.xml_error(e)),
        };
        let ev = match event {
            Event::Start(e) => self.start(&e, false)?,
            Event::Empty(e) => self.start(&e, true)?,
            Event::End(_) => {
                self.text_len = 0;
                self.path.pop();
                Ev::End
            }
            Event::Text(t) => self.text(t.xml_content(XmlVersion::Implicit1_0).into_owned())?,
            Event::CData(t) => self.text(t.xml_content(XmlVersion::Implicit1_0).into_owned())?,
            Event::GeneralRef(r) => {
                let ch = r.resolve_char_ref().map_err(|e| self.xml_error(e))?;
                let name = r.xml10_content();
                let text = match ch {
                    Some(c) => c.to_string(),
                    None => match resolve_predefined_entity(&name) {
                        Some(s) => s.to_owned(),
                        None => return Err(self.forbidden_entity(&name)),
                    },
                };
                self.text(text)?
            }
            Event::DocType(_) => {
                return Err(Error::Forbidden {
                    pos: Box::new(self.pos()),
                    what: "<!DOCTYPE> (DTDs and entity declarations are not accepted)".into(),
                });
            }
            Event::Eof => {
                if let Some(open) = self.path.last() {
                    return Err(Error::Xml {
                        pos: Box::new(self.pos()),
                        message: format!("unexpected end of document: <{open}> is not closed"),
                    });
                }
                Ev::Eof
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => return Ok(None),
        };
        Ok(Some(ev))
    }

    fn text(&mut self, text: String) -> Result<Ev> {
        self.text_len += text.len();
        if self.text_len > self.limits.max_text_bytes {
            return Err(Error::Limit {
                pos: Box::new(self.pos()),
                what: format!("text of {} bytes", self.text_len),
                limit: self.limits.max_text_bytes,
            });
        }
        Ok(Ev::Text(text))
    }

    fn start(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<Ev> {
        self.text_len = 0;
        let qname = e.name().into_inner().to_owned();
        if self.path.len() >= self.limits.max_depth {
            return Err(Error::Limit {
                pos: Box::new(
                    self.pos()
                        .with_element(format!("{}/{qname}", self.element_path())),
                ),
                what: "the nesting depth".into(),
                limit: self.limits.max_depth,
            });
        }
        self.check_name(&qname)?;
        let (res, local) = self.xml.resolver().resolve_element(e.name());
        let name = Name {
            ns: bound(res).map_err(|e| self.bad_namespace(e))?,
            local: local.into_inner().to_owned(),
            qname: qname.clone(),
        };
        self.path.push(qname);
        let mut attrs = Vec::new();
        for a in e.attributes() {
            let a = a.map_err(|err| self.xml_error(err.into()))?;
            if attrs.len() >= self.limits.max_attributes {
                return Err(Error::Limit {
                    pos: Box::new(self.pos()),
                    what: "the attribute count".into(),
                    limit: self.limits.max_attributes,
                });
            }
            let key: QName<'_> = a.key;
            if key.as_namespace_binding().is_some() {
                continue;
            }
            let value = match a.normalized_value(XmlVersion::Implicit1_0) {
                Ok(v) => v,
                Err(quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, name))) => {
                    return Err(self.forbidden_entity(&name));
                }
                Err(err) => {
                    return Err(Error::Xml {
                        pos: Box::new(self.pos()),
                        message: format!("attribute {}: {err}", key.into_inner()),
                    });
                }
            };
            if value.len() > self.limits.max_text_bytes {
                return Err(Error::Limit {
                    pos: Box::new(self.pos()),
                    what: format!("attribute value of {} bytes", value.len()),
                    limit: self.limits.max_text_bytes,
                });
            }
            self.check_name(key.into_inner())?;
            let (res, local) = self.xml.resolver().resolve_attribute(key);
            attrs.push(Attr {
                name: Name {
                    ns: bound(res).map_err(|e| self.bad_namespace(e))?,
                    local: local.into_inner().to_owned(),
                    qname: key.into_inner().to_owned(),
                },
                value: Cow::into_owned(value),
            });
        }
        self.pending_end = empty;
        Ok(Ev::Start(name, attrs))
    }

    /// Skips everything up to and including the end of the element just started.
    pub(crate) fn skip_element(&mut self) -> Result<()> {
        let depth = self.depth();
        loop {
            match self.next()? {
                Ev::End if self.depth() < depth => return Ok(()),
                Ev::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// Reads the text content of the element just started, up to its end. A child element
    /// is an error.
    pub(crate) fn read_text(&mut self) -> Result<String> {
        let depth = self.depth();
        let mut text = String::new();
        loop {
            match self.next()? {
                Ev::Text(t) => text.push_str(&t),
                Ev::End if self.depth() < depth => return Ok(text),
                Ev::Start(name, _) => {
                    return Err(Error::Structure {
                        pos: Box::new(self.pos()),
                        message: format!("unexpected element <{}> inside a text value", name.qname),
                    });
                }
                Ev::End | Ev::Eof => return Ok(text),
            }
        }
    }
}

/// Escapes text for element content and attribute values. `\r` is written as a character
/// reference so that it survives end-of-line normalization. Characters XML 1.0 cannot hold
/// are an error at `pos`.
pub(crate) fn escape(s: &str, pos: &Position) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#xD;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                return Err(Error::invalid_value(
                    s,
                    format!("character U+{:04X} cannot be written in XML", c as u32),
                )
                .at(pos));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The namespace URI an element or attribute is bound to, unescaped (quick-xml hands over
/// the declaration's raw text).
fn bound(res: ResolveResult<'_>) -> std::result::Result<Option<String>, EscapeError> {
    match res {
        ResolveResult::Bound(ns) => {
            quick_xml::escape::unescape(ns.into_inner()).map(|u| Some(u.into_owned()))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_bytes: 1 << 20,
        max_depth: 8,
        max_attributes: 4,
        max_text_bytes: 64,
    };

    fn drain(xml: &str) -> Result<Vec<String>> {
        let mut r = SafeReader::new(xml.as_bytes(), LIMITS, Some("t.xml".into()));
        let mut out = Vec::new();
        loop {
            match r.next()? {
                Ev::Start(n, a) => out.push(format!(
                    "<{}:{}#{}",
                    n.ns.unwrap_or_default(),
                    n.local,
                    a.len()
                )),
                Ev::End => out.push(">".into()),
                Ev::Text(t) => out.push(t),
                Ev::Eof => return Ok(out),
            }
        }
    }

    #[test]
    fn resolves_names_and_predefined_references() {
        let got =
            drain(r#"<a xmlns="u" xmlns:p="v" p:x="1 &amp; 2"><p:b/>x &lt; &#x41;</a>"#).unwrap();
        assert_eq!(got, ["<u:a#1", "<v:b#0", ">", "x ", "<", " ", "A", ">"]);
    }

    #[test]
    fn refuses_doctype_entities_and_excess() {
        let cases = [
            (
                "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
                "refused: <!DOCTYPE>",
            ),
            ("<a>&x;</a>", "refused: entity reference &x;"),
            ("<a b='&x;'/>", "refused: entity reference &x;"),
            (
                "<a><b><c><d><e><f><g><h><i/></h></g></f></e></d></c></b></a>",
                "nesting depth exceeds the limit of 8",
            ),
            (
                "<a p='1' q='2' r='3' s='4' t='5'/>",
                "attribute count exceeds the limit of 4",
            ),
            (
                &format!("<a>{}</a>", "x".repeat(100)),
                "text of 100 bytes exceeds the limit of 64",
            ),
            ("<a><b></a>", "malformed XML"),
            ("<a><b>", "<b> is not closed"),
        ];
        for (xml, want) in cases {
            let err = drain(xml).unwrap_err().to_string();
            assert!(err.contains(want), "{xml}: {err}");
            assert!(err.starts_with("t.xml, line 1"), "{err}");
        }
    }
}
