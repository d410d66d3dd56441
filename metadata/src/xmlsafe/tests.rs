//! Tests of the hardened reader.

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
    let got = drain(r#"<a xmlns="u" xmlns:p="v" p:x="1 &amp; 2"><p:b/>x &lt; &#x41;</a>"#).unwrap();
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
