//! RDF/XML as XMP uses it, read into a small tree of properties.
//!
//! Covers what exiftool, Lightroom and Bridge write: one or several `rdf:Description`
//! elements (typed nodes are read the same way), properties as attributes or elements,
//! `rdf:resource` values, `rdf:Bag`/`rdf:Seq`/`rdf:Alt` arrays with `xml:lang`, structures
//! written with `rdf:parseType="Resource"`, a nested `rdf:Description` or shorthand
//! attributes, and `rdf:parseType="Literal"` text.

use std::io::BufRead;
use std::rc::Rc;

use super::ns::{RDF, XML};
use crate::error::{Error, Position, Result};
use crate::xmlsafe::{Attr, Ev, Name, SafeReader};

/// One property: its name, its value and where it was read.
#[derive(Debug, Clone)]
pub(crate) struct Prop {
    pub(crate) name: Name,
    pub(crate) node: Node,
    pub(crate) at: Where,
}

/// Where a property was read, kept cheap (the element path is shared by siblings and the
/// [`Position`] is only built for an error).
#[derive(Debug, Clone)]
pub(crate) struct Where {
    line: u64,
    parent: Rc<str>,
    attribute: bool,
}

impl Where {
    /// The position of the property `qname` (an attribute names its element and itself).
    pub(crate) fn position(&self, qname: &str) -> Position {
        let p = Position::new().with_line(self.line);
        if self.attribute {
            p.with_element(&*self.parent).with_field(qname)
        } else {
            p.with_element(format!("{}/{qname}", self.parent))
        }
    }
}

/// A property value.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// A simple value.
    Text(String),
    /// `rdf:Bag` or `rdf:Seq`.
    Array(Vec<Node>),
    /// `rdf:Alt`: `(xml:lang, value)`, the language empty when not given.
    Alt(Vec<(String, Node)>),
    /// A structure: named fields.
    Struct(Vec<Prop>),
}

/// Reads the whole document and returns the properties of every top-level description, in
/// document order. A document without `rdf:RDF` is an error.
pub(crate) fn parse<R: BufRead>(r: &mut SafeReader<R>) -> Result<Vec<Prop>> {
    let mut props = None;
    loop {
        match r.next()? {
            Ev::Start(name, _) if name.is(RDF, "RDF") => {
                let found = parse_rdf(r)?;
                props.get_or_insert_with(Vec::new).extend(found);
            }
            Ev::Start(..) | Ev::End | Ev::Text(_) => {}
            Ev::Eof => break,
        }
    }
    props.ok_or_else(|| Error::Structure {
        pos: Box::new(r.pos()),
        message: "no rdf:RDF element: this is not an XMP packet".into(),
    })
}

fn parse_rdf<R: BufRead>(r: &mut SafeReader<R>) -> Result<Vec<Prop>> {
    let mut props = Vec::new();
    loop {
        match r.next()? {
            Ev::Start(_, attrs) => props.extend(parse_node(r, attrs)?),
            Ev::Text(_) => {}
            Ev::End | Ev::Eof => return Ok(props),
        }
    }
}

/// A node element (`rdf:Description` or a typed node): attributes are properties, child
/// elements are properties. Consumes up to the node's end.
fn parse_node<R: BufRead>(r: &mut SafeReader<R>, attrs: Vec<Attr>) -> Result<Vec<Prop>> {
    let parent: Rc<str> = r.element_path().into();
    let at = Where {
        line: r.line(),
        parent: parent.clone(),
        attribute: true,
    };
    let mut props = attr_props(attrs, &at);
    loop {
        match r.next()? {
            Ev::Start(name, attrs) => {
                let at = Where {
                    line: r.line(),
                    parent: parent.clone(),
                    attribute: false,
                };
                props.push(parse_property(r, name, attrs, at)?);
            }
            Ev::Text(_) => {}
            Ev::End | Ev::Eof => return Ok(props),
        }
    }
}

/// Attributes that are properties: not `rdf:`, not `xml:`, not unqualified.
fn attr_props(attrs: Vec<Attr>, at: &Where) -> Vec<Prop> {
    attrs
        .into_iter()
        .filter(|a| is_property_name(&a.name))
        .map(|a| Prop {
            at: at.clone(),
            name: a.name,
            node: Node::Text(a.value),
        })
        .collect()
}

fn is_property_name(name: &Name) -> bool {
    matches!(name.ns.as_deref(), Some(ns) if ns != RDF && ns != XML)
}

/// A property element just started: reads its value up to its end.
fn parse_property<R: BufRead>(
    r: &mut SafeReader<R>,
    name: Name,
    attrs: Vec<Attr>,
    at: Where,
) -> Result<Prop> {
    // `rdf:value` is the value of a qualified property (`xmp:Identifier` with
    // `xmpidq:Scheme`); it is read as a structure field.
    if !is_property_name(&name) && !name.is(RDF, "value") {
        return Err(Error::Structure {
            pos: Box::new(r.pos()),
            message: format!("<{}> cannot be a property", name.qname),
        });
    }
    let node = parse_value(r, attrs, &at)?;
    Ok(Prop { name, node, at })
}

/// The value of a property element or `rdf:li` whose start was just read.
fn parse_value<R: BufRead>(r: &mut SafeReader<R>, attrs: Vec<Attr>, at: &Where) -> Result<Node> {
    let mut resource = None;
    let mut parse_type = None;
    let mut fields = Vec::new();
    for a in attrs {
        if a.name.ns.as_deref() == Some(RDF) {
            match a.name.local.as_str() {
                "resource" => resource = Some(a.value),
                "parseType" => parse_type = Some(a.value),
                _ => {}
            }
        } else if is_property_name(&a.name) {
            fields.push(Prop {
                at: at.clone(),
                name: a.name,
                node: Node::Text(a.value),
            });
        }
    }
    if let Some(uri) = resource {
        r.skip_element()?;
        return Ok(Node::Text(uri));
    }
    match parse_type.as_deref() {
        Some("Resource") => {
            fields.extend(parse_node(r, Vec::new())?);
            return Ok(Node::Struct(fields));
        }
        Some("Literal") => return r.read_text().map(Node::Text),
        _ => {}
    }
    let mut text = String::new();
    let mut value: Option<Node> = None;
    loop {
        match r.next()? {
            Ev::Text(t) => text.push_str(&t),
            Ev::Start(child, child_attrs) => {
                if value.is_some() {
                    return Err(Error::Structure {
                        pos: Box::new(r.pos()),
                        message: "a property has more than one value".into(),
                    });
                }
                let v = if child.ns.as_deref() == Some(RDF) {
                    match child.local.as_str() {
                        "Bag" | "Seq" => {
                            Node::Array(parse_items(r, at)?.into_iter().map(|(_, n)| n).collect())
                        }
                        "Alt" => Node::Alt(parse_items(r, at)?),
                        _ => Node::Struct(parse_node(r, child_attrs)?),
                    }
                } else {
                    Node::Struct(parse_node(r, child_attrs)?)
                };
                value = Some(v);
            }
            Ev::End | Ev::Eof => break,
        }
    }
    match value {
        Some(_) if !text.trim().is_empty() => Err(Error::Structure {
            pos: Box::new(r.pos()),
            message: "a property mixes text and elements".into(),
        }),
        Some(Node::Struct(mut inner)) => {
            fields.append(&mut inner);
            Ok(Node::Struct(fields))
        }
        Some(v) => Ok(v),
        None if !fields.is_empty() => Ok(Node::Struct(fields)),
        None => Ok(Node::Text(text)),
    }
}

/// The `rdf:li` items of an array whose start was just read, with their `xml:lang`.
fn parse_items<R: BufRead>(r: &mut SafeReader<R>, at: &Where) -> Result<Vec<(String, Node)>> {
    let mut items = Vec::new();
    loop {
        match r.next()? {
            Ev::Start(name, attrs) => {
                if !name.is(RDF, "li") {
                    return Err(Error::Structure {
                        pos: Box::new(r.pos()),
                        message: format!("expected rdf:li in an array, found <{}>", name.qname),
                    });
                }
                let lang = attrs
                    .iter()
                    .find(|a| a.name.ns.as_deref() == Some(XML) && a.name.local == "lang")
                    .map(|a| a.value.clone())
                    .unwrap_or_default();
                items.push((lang, parse_value(r, attrs, at)?));
            }
            Ev::Text(_) => {}
            Ev::End | Ev::Eof => return Ok(items),
        }
    }
}
