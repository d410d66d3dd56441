//! XML batch manifests with configurable layouts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use asset_metadata::xml::{UnknownElements, XmlManifestConfig};
use asset_metadata::{AssetMetadata, Field, FieldValue, ManifestRecord};

fn read(config: &XmlManifestConfig, doc: &str) -> Vec<ManifestRecord> {
    config
        .reader(doc.as_bytes())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn the_layout_from_the_issue() {
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<assets>
  <asset file="a.jpg">
    <title>Harbour &amp; boats</title>
    <keywords><k>sea</k><k>Paris, France</k></keywords>
  </asset>
  <asset file="sub\b.jpg"><title><![CDATA[<raw>]]></title></asset>
</assets>"#;
    let config = XmlManifestConfig::new("asset", "@file")
        .field("title", Field::Title)
        .field("keywords/k", Field::Keywords);
    let rows = read(&config, doc);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].metadata.title.as_deref(), Some("Harbour & boats"));
    assert_eq!(
        rows[0].metadata.keywords.iter().collect::<Vec<_>>(),
        ["sea", "Paris, France"]
    );
    assert_eq!((rows[0].line, rows[0].record), (3, 1));
    assert_eq!(rows[1].key, "sub/b.jpg");
    assert_eq!(rows[1].metadata.title.as_deref(), Some("<raw>"));
}

#[test]
fn nested_paths_attributes_namespaces_and_unknowns() {
    let doc = r#"<batch xmlns:m="urn:x-acme:manifest">
  <m:photo rating="4">
    <m:filename>./shots/c.jpg</m:filename>
    <where><city>Porto</city><country code="PT">Portugal</country></where>
    <tags>sea; boat | dawn</tags>
    <shot lens="35mm"><notes>windy</notes><notes>cold</notes></shot>
    <custom name="Client Code">ACME-7</custom>
  </m:photo>
</batch>"#;
    let config = XmlManifestConfig::new("photo", "filename")
        .field("@rating", Field::Rating)
        .field("where/city", Field::City)
        .field("where/country", Field::Country)
        .field("where/country/@code", Field::CountryCode)
        .field("tags", Field::Keywords);
    let mut split = config.clone();
    split.split_keywords = true;
    let rows = read(&split, doc);
    let m = &rows[0].metadata;
    assert_eq!(rows[0].key, "shots/c.jpg");
    assert_eq!(m.rating.unwrap().get(), 4);
    assert_eq!(m.city.as_deref(), Some("Porto"));
    assert_eq!(m.country.as_deref(), Some("Portugal"));
    assert_eq!(m.country_code.as_deref(), Some("PT"));
    assert_eq!(
        m.keywords.iter().collect::<Vec<_>>(),
        ["sea", "boat | dawn"]
    );
    assert_eq!(
        m.custom.get("Client Code"),
        Some(&FieldValue::Text("ACME-7".into()))
    );
    assert_eq!(
        m.custom.get("shot/@lens"),
        Some(&FieldValue::Text("35mm".into()))
    );
    assert_eq!(
        m.custom.get("shot/notes"),
        Some(&FieldValue::List(vec!["windy".into(), "cold".into()]))
    );
    assert_eq!(
        read(&config, doc)[0].metadata.keywords.len(),
        1,
        "no splitting by default"
    );

    let err = config
        .clone()
        .unknown(UnknownElements::Error)
        .reader(doc.as_bytes())
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, record 1, element /batch/m:photo: unknown element shot/@lens (strict mode)"
    );
    let ignored = read(&config.clone().unknown(UnknownElements::Ignore), doc);
    assert_eq!(
        ignored[0].metadata.custom.len(),
        1,
        "only the named custom field"
    );
}

#[test]
fn custom_layout_writes_and_reads_back() {
    let config = XmlManifestConfig::new("photo", "meta/@path")
        .root("delivery")
        .field("meta/title", Field::Title)
        .field("meta/@stars", Field::Rating)
        .field("tags/*", Field::Keywords)
        .custom("meta/@po", "Purchase Order");
    let mut m = AssetMetadata::default();
    m.title = Some("T".into());
    m.set(Field::Rating, "5").unwrap();
    m.keywords.extend(["x", "y"]);
    m.custom.insert("Purchase Order", "PO-1");
    m.custom.insert("Other", "kept");
    let mut w = config.writer(Vec::new()).unwrap();
    w.write_with("a.jpg", &m, &[("Asset ID", "I1")]).unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    assert_eq!(
        out,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<delivery>
  <photo>
    <meta path="a.jpg" stars="5" po="PO-1">
      <title>T</title>
    </meta>
    <tags>
      <item>x</item>
      <item>y</item>
    </tags>
    <custom name="Other">kept</custom>
    <custom name="Asset ID">I1</custom>
  </photo>
</delivery>
"#
    );
    let back = read(&config, &out).remove(0);
    let mut want = m.clone();
    want.custom.insert("Asset ID", "I1");
    assert_eq!(back.metadata, want);
}

#[test]
fn config_is_plain_data() {
    let config = XmlManifestConfig::new("photo", "@file").field("caption", Field::Description);
    let json = serde_json::to_string(&config).unwrap();
    assert!(
        json.contains(r#"{"path":"caption","target":{"field":"description"}}"#),
        "{json}"
    );
    let back: XmlManifestConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    let partial: XmlManifestConfig = serde_json::from_str(r#"{"record":"img"}"#).unwrap();
    assert_eq!(partial.key, "@file");
    let bad = XmlManifestConfig::new("photo", "a/@b/c");
    assert_eq!(
        bad.reader(&b"<x/>"[..]).unwrap_err().to_string(),
        "invalid option `key`: bad path \"a/@b/c\""
    );
}

#[test]
fn the_writer_refuses_keys_the_reader_would_refuse_or_change() {
    let config = XmlManifestConfig::default();
    let mut w = config.writer(Vec::new()).unwrap();
    for key in ["", "  ", " a.jpg", "a.jpg\n"] {
        let err = w.write(key, &AssetMetadata::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("a file key must be non-empty and trimmed"),
            "{key:?}: {err}"
        );
    }
    w.write("b.jpg", &AssetMetadata::default()).unwrap();
    let out = String::from_utf8(w.finish().unwrap()).unwrap();
    let rows = read(&config, &out);
    assert_eq!(rows.len(), 1, "nothing half-written:\n{out}");
    assert_eq!(rows[0].key, "b.jpg");
}
