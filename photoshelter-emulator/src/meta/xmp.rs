//! XMP packet fields mapped to the API's IPTC field names (wire-format.md § 8).
//!
//! Namespaces are matched by URI, not by prefix. Language alternatives (`rdf:Alt`) give the
//! `x-default` entry, or the first; bags and sequences (`dc:subject`, `dc:creator`) are
//! joined with `", "`. Simple properties may also be written as attributes of
//! `rdf:Description`. quick-xml expands no custom entities, so entity bombs cannot grow.

use std::collections::BTreeMap;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const XML: &str = "http://www.w3.org/XML/1998/namespace";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const PHOTOSHOP: &str = "http://ns.adobe.com/photoshop/1.0/";
const IPTC_CORE: &str = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/";
const XMP_RIGHTS: &str = "http://ns.adobe.com/xap/1.0/rights/";

/// How a property holds its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Text,
    Alt,
    List,
}

/// (namespace, local name) → (API field, shape).
const PROPS: &[(&str, &str, &str, Shape)] = &[
    (DC, "title", "title", Shape::Alt),
    (DC, "description", "caption", Shape::Alt),
    (DC, "subject", "keyword", Shape::List),
    (DC, "creator", "author", Shape::List),
    (DC, "rights", "copyright", Shape::Alt),
    (PHOTOSHOP, "Headline", "headline", Shape::Text),
    (PHOTOSHOP, "Credit", "credit", Shape::Text),
    (PHOTOSHOP, "Source", "source", Shape::Text),
    (PHOTOSHOP, "City", "city", Shape::Text),
    (PHOTOSHOP, "State", "state", Shape::Text),
    (PHOTOSHOP, "Country", "country", Shape::Text),
    (
        PHOTOSHOP,
        "Instructions",
        "special_instructions",
        Shape::Text,
    ),
    (
        PHOTOSHOP,
        "TransmissionReference",
        "transmission_reference",
        Shape::Text,
    ),
    (PHOTOSHOP, "DateCreated", "date_created", Shape::Text),
    (PHOTOSHOP, "AuthorsPosition", "author_title", Shape::Text),
    (PHOTOSHOP, "CaptionWriter", "caption_writer", Shape::Text),
    (IPTC_CORE, "CountryCode", "country_code", Shape::Text),
    (IPTC_CORE, "Location", "sublocation", Shape::Text),
    (XMP_RIGHTS, "UsageTerms", "usage_terms", Shape::Alt),
];

fn lookup(ns: &str, local: &str) -> Option<(&'static str, Shape)> {
    PROPS
        .iter()
        .find(|(n, l, _, _)| *n == ns && *l == local)
        .map(|(_, _, field, shape)| (*field, *shape))
}

fn namespace(r: &ResolveResult<'_>) -> String {
    match r {
        ResolveResult::Bound(ns) => ns.0.to_owned(),
        _ => String::new(),
    }
}

/// The property being read.
struct Open {
    field: &'static str,
    shape: Shape,
    depth: usize,
    text: String,
    items: Vec<(Option<String>, String)>,
    li: Option<(Option<String>, String)>,
}

fn finish(open: Open, out: &mut BTreeMap<String, String>) {
    let value = match open.shape {
        Shape::Text => open.text.trim().to_owned(),
        Shape::Alt => open
            .items
            .iter()
            .find(|(lang, _)| lang.as_deref() == Some("x-default"))
            .or_else(|| open.items.first())
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default(),
        Shape::List => open
            .items
            .iter()
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
    };
    if value.is_empty() {
        return;
    }
    let value = if open.field == "date_created" {
        date_part(&value)
    } else {
        value
    };
    out.insert(open.field.to_owned(), value);
}

/// `2024-01-31T10:00:00+01:00` → `2024-01-31`.
fn date_part(v: &str) -> String {
    match v.get(..10) {
        Some(d) if d.as_bytes().get(4) == Some(&b'-') => d.to_owned(),
        _ => v.to_owned(),
    }
}

fn push_text(open: &mut Option<Open>, t: &str) {
    if let Some(o) = open.as_mut() {
        if let Some((_, s)) = o.li.as_mut() {
            s.push_str(t);
        } else if o.shape == Shape::Text {
            o.text.push_str(t);
        }
    }
}

fn on_start(
    reader: &NsReader<&[u8]>,
    e: &BytesStart<'_>,
    ns: &str,
    depth: usize,
    open: &mut Option<Open>,
    out: &mut BTreeMap<String, String>,
) {
    let local = e.local_name();
    let local = local.as_ref();
    // Attribute form: <rdf:Description photoshop:City="Paris" …/>.
    for attr in e.attributes().with_checks(false).flatten() {
        let (ans, alocal) = reader.resolver().resolve_attribute(attr.key);
        let ans = namespace(&ans);
        if let Some((field, Shape::Text)) = lookup(&ans, alocal.as_ref())
            && let Ok(v) = attr.normalized_value(XmlVersion::Implicit1_0)
        {
            let v = v.trim();
            if !v.is_empty() {
                let v = if field == "date_created" {
                    date_part(v)
                } else {
                    v.to_owned()
                };
                out.insert(field.to_owned(), v);
            }
        }
    }
    match open.as_mut() {
        None => {
            if let Some((field, shape)) = lookup(ns, local) {
                *open = Some(Open {
                    field,
                    shape,
                    depth,
                    text: String::new(),
                    items: Vec::new(),
                    li: None,
                });
            }
        }
        Some(o) if ns == RDF && local == "li" => {
            let lang = e.attributes().with_checks(false).flatten().find_map(|a| {
                let (ans, alocal) = reader.resolver().resolve_attribute(a.key);
                if namespace(&ans) == XML && alocal.as_ref() == "lang" {
                    a.normalized_value(XmlVersion::Implicit1_0)
                        .ok()
                        .map(|v| v.into_owned())
                } else {
                    None
                }
            });
            o.li = Some((lang, String::new()));
        }
        Some(_) => {}
    }
}

fn on_end(
    ns: &str,
    local: &str,
    depth: &mut usize,
    open: &mut Option<Open>,
    out: &mut BTreeMap<String, String>,
) {
    *depth = depth.saturating_sub(1);
    if let Some(o) = open.as_mut() {
        if ns == RDF
            && local == "li"
            && let Some(item) = o.li.take()
        {
            o.items.push(item);
        }
        if *depth == o.depth
            && let Some(o) = open.take()
        {
            finish(o, out);
        }
    }
}

/// Reads the API IPTC fields out of an XMP packet. Malformed XML yields what was read so far.
pub(crate) fn parse(packet: &[u8]) -> BTreeMap<String, String> {
    let text = String::from_utf8_lossy(packet);
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = NsReader::from_reader(text.as_bytes());
    let mut out = BTreeMap::new();
    let mut depth = 0usize;
    let mut open: Option<Open> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let Ok((resolved, event)) = reader.read_resolved_event_into(&mut buf) else {
            break;
        };
        let ns = namespace(&resolved);
        match event {
            Event::Start(e) => {
                on_start(&reader, &e, &ns, depth, &mut open, &mut out);
                depth += 1;
            }
            Event::Empty(e) => {
                on_start(&reader, &e, &ns, depth, &mut open, &mut out);
                depth += 1;
                on_end(
                    &ns,
                    e.local_name().as_ref(),
                    &mut depth,
                    &mut open,
                    &mut out,
                );
            }
            Event::End(e) => on_end(
                &ns,
                e.local_name().as_ref(),
                &mut depth,
                &mut open,
                &mut out,
            ),
            Event::Text(t) => push_text(&mut open, &t.xml10_content()),
            Event::CData(t) => push_text(&mut open, &t),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => match &*r {
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "amp" => Some('&'),
                        "apos" => Some('\''),
                        "quot" => Some('"'),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    push_text(&mut open, c.encode_utf8(&mut [0u8; 4]));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if let Some(o) = open.take() {
        finish(o, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKET: &str = r#"<?xpacket begin="\u{feff}" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:ps="http://ns.adobe.com/photoshop/1.0/"
    xmlns:Iptc4xmpCore="http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
    ps:City="Paris" ps:DateCreated="2024-05-06T10:00:00+02:00">
   <dc:title><rdf:Alt><rdf:li xml:lang="fr">Titre</rdf:li><rdf:li xml:lang="x-default">Title &amp; more</rdf:li></rdf:Alt></dc:title>
   <dc:subject><rdf:Bag><rdf:li>alpha</rdf:li><rdf:li>beta &#233;</rdf:li><rdf:li/></rdf:Bag></dc:subject>
   <dc:creator><rdf:Seq><rdf:li>Ann Lee</rdf:li></rdf:Seq></dc:creator>
   <ps:Credit>Agency</ps:Credit>
   <Iptc4xmpCore:CountryCode>FR</Iptc4xmpCore:CountryCode>
   <dc:description><rdf:Alt><rdf:li xml:lang="de">Nur deutsch</rdf:li></rdf:Alt></dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#;

    #[test]
    fn reads_properties_by_namespace_uri() {
        let m = parse(PACKET.as_bytes());
        assert_eq!(m["title"], "Title & more");
        assert_eq!(m["keyword"], "alpha, beta é");
        assert_eq!(m["author"], "Ann Lee");
        assert_eq!(m["credit"], "Agency");
        assert_eq!(m["city"], "Paris");
        assert_eq!(m["date_created"], "2024-05-06");
        assert_eq!(m["country_code"], "FR");
        assert_eq!(m["caption"], "Nur deutsch");
        assert!(!m.contains_key("copyright"));
    }

    #[test]
    fn wrong_namespace_is_ignored_and_garbage_is_safe() {
        let m = parse(br#"<r xmlns:dc="urn:other"><dc:title>x</dc:title></r>"#);
        assert!(m.is_empty());
        assert!(parse(b"<<<>>>&&&\xff\xfe").is_empty());
        let bomb = br#"<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>
            <r xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:rights>&b;</dc:rights></r>"#;
        assert!(parse(bomb).is_empty(), "custom entities are not expanded");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse(s.as_bytes());
            let wrapped = format!("<r xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{s}</dc:title></r>");
            let _ = parse(wrapped.as_bytes());
        }
    }
}
