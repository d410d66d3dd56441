//! From [`AssetMetadata`] to an XMP sidecar.

use std::fmt::Write as _;

use super::map::property;
use super::ns;
use crate::custom::FieldValue;
use crate::error::{Position, Result};
use crate::field::Field;
use crate::model::AssetMetadata;
use crate::xmlsafe::escape;

/// A value to write.
#[derive(Debug, Clone)]
enum W {
    /// A placeholder while a path is being built.
    Empty,
    Text(String),
    List(Vec<String>),
    Alt(Vec<(String, String)>),
    Struct(Vec<(String, W)>),
    Items(Vec<W>),
}

/// One step of a custom-field path.
#[derive(Debug, PartialEq, Eq)]
enum Seg<'a> {
    Name(&'a str),
    Index(usize),
    Lang(&'a str),
}

/// Splits `p:A[2]/p:B@de` into steps; `None` if it is not a property path.
fn parse_path(key: &str) -> Option<Vec<Seg<'_>>> {
    let mut segs = Vec::new();
    let mut rest = key;
    let mut expect_name = true;
    while !rest.is_empty() {
        if expect_name {
            let end = rest.find(['/', '[', '@']).unwrap_or(rest.len());
            let name = &rest[..end];
            let (prefix, local) = name.split_once(':')?;
            if !is_xml_name(prefix) || !is_xml_name(local) {
                return None;
            }
            segs.push(Seg::Name(name));
            rest = &rest[end..];
            expect_name = false;
        } else if let Some(r) = rest.strip_prefix('/') {
            rest = r;
            expect_name = true;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let index: usize = r[..end].parse().ok().filter(|i| *i >= 1)?;
            segs.push(Seg::Index(index));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('@') {
            let end = r.find(['/', '[', '@']).unwrap_or(r.len());
            let lang = &r[..end];
            if lang.is_empty()
                || !lang
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return None;
            }
            segs.push(Seg::Lang(lang));
            rest = &r[end..];
        } else {
            return None;
        }
    }
    (!expect_name).then_some(segs)
}

/// A name part that can be written as it is: what the reader accepts as an XML name part.
fn is_xml_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| {
            c.is_alphanumeric()
                || matches!(c, '_' | '-' | '.' | '\u{B7}')
                || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
        })
}

fn set_value(node: &mut W, value: &FieldValue) {
    match (node, value) {
        (W::Alt(items), FieldValue::Text(t)) => {
            items.retain(|(l, _)| l != "x-default");
            items.insert(0, ("x-default".into(), t.clone()));
        }
        (n @ W::Empty, FieldValue::Text(t)) => *n = W::Text(t.clone()),
        (n @ W::Empty, FieldValue::List(items)) => *n = W::List(items.clone()),
        _ => {}
    }
}

/// Puts `value` at `segs` below `node`; a path that clashes with what is already there is
/// skipped.
fn insert(node: &mut W, segs: &[Seg<'_>], value: &FieldValue) {
    let Some((first, rest)) = segs.split_first() else {
        set_value(node, value);
        return;
    };
    match first {
        Seg::Lang(lang) => {
            if let W::Text(t) = node {
                *node = W::Alt(vec![("x-default".into(), std::mem::take(t))]);
            }
            if let W::Empty = node {
                *node = W::Alt(Vec::new());
            }
            if let (W::Alt(items), FieldValue::Text(t), true) = (&mut *node, value, rest.is_empty())
                && !items.iter().any(|(l, _)| l == lang)
            {
                items.push(((*lang).to_owned(), t.clone()));
            }
        }
        Seg::Index(i) => {
            if let W::Empty = node {
                *node = W::Items(Vec::new());
            }
            // Items are filled in order; an index past the next free one is skipped.
            if let W::Items(items) = node
                && *i <= items.len() + 1
            {
                if items.len() < *i {
                    items.push(W::Empty);
                }
                insert(&mut items[*i - 1], rest, value);
            }
        }
        Seg::Name(name) => {
            if let W::Empty = node {
                *node = W::Struct(Vec::new());
            }
            if let W::Struct(fields) = node {
                let at = match fields.iter().position(|(n, _)| n == name) {
                    Some(at) => at,
                    None => {
                        fields.push(((*name).to_owned(), W::Empty));
                        fields.len() - 1
                    }
                };
                insert(&mut fields[at].1, rest, value);
            }
        }
    }
}

/// The built-in fields as XMP values.
fn builtin(meta: &AssetMetadata) -> Vec<(String, W)> {
    let mut out = Vec::new();
    for field in Field::ALL {
        let key = property(field).2;
        let text = |t: &Option<String>| t.as_ref().filter(|t| !t.is_empty()).cloned();
        let w = match field {
            Field::Keywords if !meta.keywords.is_empty() => {
                Some(W::List(meta.keywords.iter().map(str::to_owned).collect()))
            }
            Field::Creator => text(&meta.creator).map(|c| W::List(vec![c])),
            Field::Title
            | Field::Description
            | Field::CopyrightNotice
            | Field::RightsUsageTerms => meta
                .text(field)
                .and_then(text)
                .map(|v| W::Alt(vec![("x-default".into(), v)])),
            Field::CopyrightStatus => meta.copyright_status.map(|s| W::Text(s.as_xmp().into())),
            Field::ModelReleaseStatus => meta.model_release.map(|s| W::Text(s.plus_uri(true))),
            Field::PropertyReleaseStatus => {
                meta.property_release.map(|s| W::Text(s.plus_uri(false)))
            }
            f => match meta.get(f) {
                Some(FieldValue::Text(t)) if !t.is_empty() => Some(W::Text(t)),
                _ => None,
            },
        };
        if let Some(w) = w {
            out.push((key.to_owned(), w));
        }
    }
    out
}

/// Writes the sidecar text.
pub(crate) fn write(meta: &AssetMetadata, packet: bool) -> Result<String> {
    let mut props = builtin(meta);
    // The built-in properties that are set (custom entries added below do not count).
    let builtin_keys: Vec<String> = props.iter().map(|(k, _)| k.clone()).collect();
    for (name, value) in meta.custom.iter() {
        if name.starts_with("xmlns:") {
            continue;
        }
        let Some(segs) = parse_path(name) else {
            continue;
        };
        let Some(Seg::Name(top)) = segs.first() else {
            continue;
        };
        let builtin_set = builtin_keys.iter().any(|k| k == top);
        // A custom value never replaces a built-in one that is set; it may only add
        // languages to it. (A built-in property read in an unexpected shape is custom.)
        if builtin_set && !matches!(segs.get(1), Some(Seg::Lang(_))) {
            continue;
        }
        let at = match props.iter().position(|(k, _)| k == top) {
            Some(at) => at,
            None => {
                let initial = if ns::is_lang_alt(top) && segs.len() == 1 {
                    W::Alt(Vec::new())
                } else {
                    W::Empty
                };
                props.push(((*top).to_owned(), initial));
                props.len() - 1
            }
        };
        insert(&mut props[at].1, &segs[1..], value);
    }

    let mut prefixes: Vec<String> = Vec::new();
    for (k, w) in &props {
        collect_prefixes(k, w, &mut prefixes);
    }
    let mut decls = String::new();
    for p in &prefixes {
        // A namespace read from a document wins over the usual URI of its prefix, so that
        // a property in an unknown namespace keeps it even if its prefix looks familiar.
        let declared = meta
            .custom
            .get(&format!("xmlns:{p}"))
            .and_then(FieldValue::as_text);
        let uri = match declared.or_else(|| ns::uri_of(p)) {
            Some(u) => u.to_owned(),
            None => continue,
        };
        let _ = write!(
            decls,
            "\n    xmlns:{p}=\"{}\"",
            escape(&uri, &Position::new())?
        );
    }

    let mut out = String::new();
    if packet {
        out.push_str("<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n");
    }
    out.push_str("<x:xmpmeta xmlns:x=\"adobe:ns:meta/\" x:xmptk=\"asset-metadata\">\n");
    out.push_str(" <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n");
    let _ = writeln!(out, "  <rdf:Description rdf:about=\"\"{decls}>");
    for (k, w) in &props {
        if !declared(k, w, meta) {
            continue;
        }
        write_prop(&mut out, 3, k, w, &Position::new().with_field(k.as_str()))?;
    }
    out.push_str("  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n");
    if packet {
        out.push_str("<?xpacket end=\"w\"?>\n");
    }
    Ok(out)
}

/// Every prefix used by a property and its structure fields must have a URI.
fn declared(key: &str, w: &W, meta: &AssetMetadata) -> bool {
    let p = key.split_once(':').map_or("", |(p, _)| p);
    let ok = key.is_empty()
        || p == "rdf"
        || ns::uri_of(p).is_some()
        || meta.custom.contains(&format!("xmlns:{p}"));
    ok && match w {
        W::Struct(fields) => fields.iter().all(|(k, w)| declared(k, w, meta)),
        W::Items(items) => items.iter().all(|w| declared("", w, meta)),
        _ => true,
    }
}

fn collect_prefixes(key: &str, w: &W, out: &mut Vec<String>) {
    if let Some((p, _)) = key.split_once(':')
        && p != "rdf"
        && !out.iter().any(|x| x == p)
    {
        out.push(p.to_owned());
    }
    match w {
        W::Struct(fields) => fields.iter().for_each(|(k, w)| collect_prefixes(k, w, out)),
        W::Items(items) => items.iter().for_each(|w| collect_prefixes("", w, out)),
        _ => {}
    }
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_prop(out: &mut String, depth: usize, tag: &str, w: &W, pos: &Position) -> Result<()> {
    indent(out, depth);
    match w {
        W::Empty => {
            let _ = writeln!(out, "<{tag}/>");
        }
        W::Text(t) => {
            let _ = writeln!(out, "<{tag}>{}</{tag}>", escape(t, pos)?);
        }
        W::Struct(fields) => {
            let _ = writeln!(out, "<{tag} rdf:parseType=\"Resource\">");
            for (k, f) in fields {
                write_prop(out, depth + 1, k, f, pos)?;
            }
            indent(out, depth);
            let _ = writeln!(out, "</{tag}>");
        }
        W::List(_) | W::Alt(_) | W::Items(_) => {
            let _ = writeln!(out, "<{tag}>");
            write_array(out, depth + 1, tag, w, pos)?;
            indent(out, depth);
            let _ = writeln!(out, "</{tag}>");
        }
    }
    Ok(())
}

fn write_array(out: &mut String, depth: usize, key: &str, w: &W, pos: &Position) -> Result<()> {
    let kind = match w {
        W::Alt(_) => "rdf:Alt",
        _ if ns::is_ordered(key) => "rdf:Seq",
        _ => "rdf:Bag",
    };
    indent(out, depth);
    let _ = writeln!(out, "<{kind}>");
    match w {
        W::List(items) => {
            for t in items {
                indent(out, depth + 1);
                let _ = writeln!(out, "<rdf:li>{}</rdf:li>", escape(t, pos)?);
            }
        }
        W::Alt(items) => {
            // Without an x-default, a reader would take the first language as the value.
            if !items.iter().any(|(l, _)| l == "x-default") {
                indent(out, depth + 1);
                out.push_str("<rdf:li xml:lang=\"x-default\"></rdf:li>\n");
            }
            for (lang, t) in items {
                indent(out, depth + 1);
                let _ = writeln!(
                    out,
                    "<rdf:li xml:lang=\"{}\">{}</rdf:li>",
                    escape(lang, pos)?,
                    escape(t, pos)?
                );
            }
        }
        W::Items(items) => {
            for item in items {
                write_prop(out, depth + 1, "rdf:li", item, pos)?;
            }
        }
        _ => {}
    }
    indent(out, depth);
    let _ = writeln!(out, "</{kind}>");
    Ok(())
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("Iptc4xmpExt:LocationShown[2]/Iptc4xmpExt:City@de").unwrap(),
            [
                Seg::Name("Iptc4xmpExt:LocationShown"),
                Seg::Index(2),
                Seg::Name("Iptc4xmpExt:City"),
                Seg::Lang("de")
            ]
        );
        for bad in [
            "Client Code",
            "a:b/",
            "a:b[0]",
            "a:b[x]",
            ":b",
            "a:",
            "a:b@",
            "a:b c",
        ] {
            assert!(parse_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused() {
        let mut m = AssetMetadata::default();
        m.title = Some("a\u{1}b".into());
        let err = write(&m, false).unwrap_err();
        assert!(err.to_string().contains("U+0001"), "{err}");
    }
}
