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

mod counted;
mod escape;
#[cfg(test)]
mod tests;

use counted::Counted;
pub(crate) use escape::escape;

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
