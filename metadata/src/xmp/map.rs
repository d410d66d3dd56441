//! From the RDF tree to [`AssetMetadata`]: built-in fields by their XMP properties,
//! everything else flattened into custom fields.
//!
//! Custom field names are paths: `prefix:Name` for a property, `…/prefix:Field` for a
//! structure field, `…[2]` for the second item of an array of structures, `…@de` for a
//! language other than `x-default`. Known namespaces use their usual prefix whatever prefix
//! the document used; a namespace this crate does not know keeps the document's prefix and
//! its URI is kept as the custom field `xmlns:prefix`, so that writing it back declares it.

use std::collections::HashSet;

use super::ns::{self, DC, IPTC_CORE, PHOTOSHOP, PLUS, XMP, XMP_RIGHTS};
use super::rdf::{Node, Prop};
use crate::custom::{CustomFields, FieldValue};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::keywords::KeywordSeparator;
use crate::model::AssetMetadata;
use crate::xmlsafe::Name;

/// The XMP property of each built-in field: `(namespace, local name, prefixed name)`.
pub(crate) fn property(field: Field) -> (&'static str, &'static str, &'static str) {
    match field {
        Field::Title => (DC, "title", "dc:title"),
        Field::Headline => (PHOTOSHOP, "Headline", "photoshop:Headline"),
        Field::Description => (DC, "description", "dc:description"),
        Field::CaptionWriter => (PHOTOSHOP, "CaptionWriter", "photoshop:CaptionWriter"),
        Field::Keywords => (DC, "subject", "dc:subject"),
        Field::Creator => (DC, "creator", "dc:creator"),
        Field::CreatorJobTitle => (PHOTOSHOP, "AuthorsPosition", "photoshop:AuthorsPosition"),
        Field::CreditLine => (PHOTOSHOP, "Credit", "photoshop:Credit"),
        Field::Source => (PHOTOSHOP, "Source", "photoshop:Source"),
        Field::CopyrightNotice => (DC, "rights", "dc:rights"),
        Field::CopyrightStatus => (XMP_RIGHTS, "Marked", "xmpRights:Marked"),
        Field::RightsUsageTerms => (XMP_RIGHTS, "UsageTerms", "xmpRights:UsageTerms"),
        Field::SpecialInstructions => (PHOTOSHOP, "Instructions", "photoshop:Instructions"),
        Field::JobId => (
            PHOTOSHOP,
            "TransmissionReference",
            "photoshop:TransmissionReference",
        ),
        Field::DateCreated => (PHOTOSHOP, "DateCreated", "photoshop:DateCreated"),
        Field::Sublocation => (IPTC_CORE, "Location", "Iptc4xmpCore:Location"),
        Field::City => (PHOTOSHOP, "City", "photoshop:City"),
        Field::State => (PHOTOSHOP, "State", "photoshop:State"),
        Field::Country => (PHOTOSHOP, "Country", "photoshop:Country"),
        Field::CountryCode => (IPTC_CORE, "CountryCode", "Iptc4xmpCore:CountryCode"),
        Field::Rating => (XMP, "Rating", "xmp:Rating"),
        Field::ModelReleaseStatus => (PLUS, "ModelReleaseStatus", "plus:ModelReleaseStatus"),
        Field::PropertyReleaseStatus => {
            (PLUS, "PropertyReleaseStatus", "plus:PropertyReleaseStatus")
        }
    }
}

fn field_of(name: &Name) -> Option<Field> {
    let ns = name.ns.as_deref()?;
    Field::ALL.into_iter().find(|f| {
        let (fns, local, _) = property(*f);
        fns == ns && local == name.local
    })
}

/// The custom-field key of a property name; registers unknown namespaces as `xmlns:prefix`.
fn key_of(name: &Name, custom: &mut CustomFields) -> String {
    let uri = name.ns.as_deref().unwrap_or_default();
    if uri == ns::RDF {
        return format!("rdf:{}", name.local);
    }
    if let Some(prefix) = ns::prefix_of(uri) {
        return format!("{prefix}:{}", name.local);
    }
    let written = name.qname.split_once(':').map_or("ns", |(p, _)| p);
    // The document's prefix, unless it is a known one or already taken by another URI:
    // then `prefix2`, `prefix3`…
    let mut prefix = written.to_owned();
    let mut n = 1;
    loop {
        let taken = match custom.get(&format!("xmlns:{prefix}")) {
            Some(v) => v.as_text() != Some(uri),
            None => false,
        };
        if !taken && ns::uri_of(&prefix).is_none() && prefix != "rdf" && prefix != "xml" {
            break;
        }
        n += 1;
        prefix = format!("{written}{n}");
    }
    let decl = format!("xmlns:{prefix}");
    if !custom.contains(&decl) {
        custom.insert(decl, uri);
    }
    format!("{prefix}:{}", name.local)
}

/// A usable language tag other than `x-default` (BCP 47 letters, digits and hyphens; `_`
/// is tolerated). Items with any other `xml:lang`, or a second `x-default`, are skipped.
fn is_lang_tag(lang: &str) -> bool {
    !lang.is_empty()
        && !is_default_lang(lang)
        && lang
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_default_lang(lang: &str) -> bool {
    lang.eq_ignore_ascii_case("x-default")
}

/// The text of a value: a simple value, the default of an alternative, the items of an
/// array joined with `"; "`, or a structure's `rdf:value`.
fn node_text(node: &Node) -> Option<String> {
    match node {
        Node::Text(t) => Some(t.clone()),
        Node::Alt(items) => items
            .iter()
            .find(|(l, _)| is_default_lang(l))
            .or_else(|| items.first())
            .and_then(|(_, n)| node_text(n)),
        Node::Array(items) => {
            let texts: Option<Vec<String>> = items.iter().map(node_text).collect();
            texts.map(|t| t.join("; "))
        }
        Node::Struct(fields) => fields
            .iter()
            .find(|p| p.name.is(ns::RDF, "value"))
            .and_then(|p| node_text(&p.node)),
    }
}

/// Builds the record from the properties.
pub(crate) fn to_metadata(props: &[Prop]) -> Result<AssetMetadata> {
    let mut meta = AssetMetadata::default();
    // A property may occur once; a repeated one (two descriptions both setting it) is
    // ignored after the first, as XMP toolkits do.
    let mut seen: HashSet<(Option<&str>, &str)> = HashSet::new();
    for prop in props {
        if !seen.insert((prop.name.ns.as_deref(), prop.name.local.as_str())) {
            continue;
        }
        match field_of(&prop.name) {
            Some(field) if !matches!(prop.node, Node::Struct(_)) => {
                apply(&mut meta, field, prop)?;
            }
            // Anything else, including a field in an unexpected shape, is kept as custom.
            _ => {
                let key = key_of(&prop.name, &mut meta.custom);
                flatten(&mut meta.custom, key, &prop.node);
            }
        }
    }
    drop_unused_namespaces(&mut meta.custom);
    Ok(meta)
}

/// Removes `xmlns:p` entries that no custom field uses (a property that held nothing).
fn drop_unused_namespaces(custom: &mut CustomFields) {
    let mut used: HashSet<&str> = HashSet::new();
    for (k, _) in custom.iter().filter(|(k, _)| !k.starts_with("xmlns:")) {
        used.extend(
            k.split('/')
                .filter_map(|seg| seg.split_once(':').map(|(p, _)| p)),
        );
    }
    let unused: Vec<String> = custom
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("xmlns:"))
        .filter(|p| !used.contains(p))
        .map(|p| format!("xmlns:{p}"))
        .collect();
    for k in unused {
        custom.remove(&k);
    }
}

fn apply(meta: &mut AssetMetadata, field: Field, prop: &Prop) -> Result<()> {
    let key = property(field).2;
    if field == Field::Keywords {
        match &prop.node {
            Node::Array(items) => meta.keywords.extend(items.iter().filter_map(node_text)),
            other => meta.keywords.extend(node_text(other)),
        }
        return Ok(());
    }
    if let Node::Alt(items) = &prop.node {
        // Other languages than the default go to custom fields `key@lang`.
        let default = items
            .iter()
            .position(|(l, _)| is_default_lang(l))
            .unwrap_or(0);
        for (i, (lang, node)) in items.iter().enumerate() {
            if i != default && is_lang_tag(lang) && matches!(node, Node::Text(_)) {
                flatten(&mut meta.custom, format!("{key}@{lang}"), node);
            }
        }
    }
    let Some(text) = node_text(&prop.node) else {
        flatten(&mut meta.custom, key.to_owned(), &prop.node);
        return Ok(());
    };
    let value = text.as_str();
    if value.trim().is_empty() {
        return Ok(());
    }
    let res = match field {
        Field::CopyrightStatus
        | Field::DateCreated
        | Field::Rating
        | Field::ModelReleaseStatus
        | Field::PropertyReleaseStatus => {
            meta.set_trimmed(field, value.trim(), KeywordSeparator::Auto)
        }
        _ => {
            if let Some(slot) = meta.text_mut(field) {
                *slot = Some(value.to_owned());
            }
            Ok(())
        }
    };
    res.map_err(|e: Error| e.at(&prop.at.position(&prop.name.qname).with_field(field.name())))
}

/// Whether flattening `node` stores nothing at all.
fn is_void(node: &Node) -> bool {
    match node {
        Node::Text(_) | Node::Array(_) => false,
        Node::Alt(items) => {
            let default = items
                .iter()
                .position(|(l, _)| is_default_lang(l))
                .unwrap_or(0);
            !items.iter().enumerate().any(|(i, (lang, n))| match n {
                Node::Text(t) if i == default || lang.is_empty() => !t.is_empty(),
                Node::Text(_) => is_lang_tag(lang),
                _ => false,
            })
        }
        Node::Struct(fields) => fields.iter().all(|f| is_void(&f.node)),
    }
}

/// Stores a value that is not a built-in field under its path.
fn flatten(custom: &mut CustomFields, key: String, node: &Node) {
    match node {
        Node::Text(t) => {
            if !custom.contains(&key) {
                custom.insert(key, t.as_str());
            }
        }
        Node::Array(items) => {
            // Items that hold nothing (an empty structure) are dropped, so numbering and
            // the list-of-text shape are what a rewrite reproduces.
            let items: Vec<&Node> = items.iter().filter(|n| !is_void(n)).collect();
            if items.iter().all(|n| matches!(n, Node::Text(_))) {
                let texts: Vec<String> = items.iter().filter_map(|n| node_text(n)).collect();
                if !custom.contains(&key) {
                    custom.insert(key, FieldValue::List(texts));
                }
            } else {
                for (i, item) in items.iter().enumerate() {
                    flatten(custom, format!("{key}[{}]", i + 1), item);
                }
            }
        }
        Node::Alt(items) => {
            let default = items
                .iter()
                .position(|(l, _)| is_default_lang(l))
                .unwrap_or(0);
            // Only text alternatives; an empty default is no value.
            for (i, (lang, item)) in items.iter().enumerate() {
                let Node::Text(t) = item else { continue };
                if i == default || lang.is_empty() {
                    if !t.is_empty() {
                        flatten(custom, key.clone(), item);
                    }
                } else if is_lang_tag(lang) {
                    flatten(custom, format!("{key}@{lang}"), item);
                }
            }
        }
        Node::Struct(fields) => {
            // As for properties, a field occurs once; a repeated one is ignored.
            let mut seen = HashSet::new();
            for f in fields {
                if !seen.insert((f.name.ns.as_deref(), f.name.local.as_str())) {
                    continue;
                }
                let child = key_of(&f.name, custom);
                flatten(custom, format!("{key}/{child}"), &f.node);
            }
        }
    }
}
