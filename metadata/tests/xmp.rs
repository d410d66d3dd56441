//! XMP sidecars in the shapes Lightroom, Bridge and exiftool write (hand-written samples in
//! `tests/data/`), read field by field and written back without loss.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use asset_metadata::xmp::{XmpReader, read_xmp, write_xmp, write_xmp_file};
use asset_metadata::{AssetMetadata, CopyrightStatus, FieldValue, ReleaseStatus};

fn sample(name: &str) -> AssetMetadata {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    XmpReader::new().read_path(path).unwrap()
}

fn text<'a>(m: &'a AssetMetadata, key: &str) -> &'a str {
    m.custom
        .get(key)
        .and_then(FieldValue::as_text)
        .unwrap_or_else(|| panic!("no custom text {key}: {:?}", m.custom))
}

fn list(m: &AssetMetadata, key: &str) -> Vec<String> {
    match m.custom.get(key) {
        Some(FieldValue::List(items)) => items.clone(),
        other => panic!("no custom list {key}: {other:?}"),
    }
}

/// Written and read again, the record is the same; written again, the text is the same.
fn assert_round_trip(m: &AssetMetadata) {
    let written = write_xmp(m).unwrap();
    let back = read_xmp(written.as_bytes()).unwrap();
    assert_eq!(&back, m, "sidecar:\n{written}");
    assert_eq!(write_xmp(&back).unwrap(), written);
}

#[test]
fn lightroom_attribute_form() {
    let m = sample("lightroom_attributes.xmp");
    assert_eq!(m.title.as_deref(), Some("Harbour at dawn"));
    assert_eq!(m.headline.as_deref(), Some("Fishing boats return at dawn"));
    assert_eq!(
        m.description.as_deref(),
        Some("Boats & nets on the Douro,\nearly morning.")
    );
    assert_eq!(m.caption_writer.as_deref(), Some("J. Editor"));
    assert_eq!(
        m.keywords.iter().collect::<Vec<_>>(),
        ["boats", "Douro", "dawn"]
    );
    assert_eq!(m.creator.as_deref(), Some("Ana Lima"));
    assert_eq!(m.creator_job_title.as_deref(), Some("Staff Photographer"));
    assert_eq!(m.credit_line.as_deref(), Some("Lima Photo Agency"));
    assert_eq!(m.source.as_deref(), Some("Lima archive"));
    assert_eq!(m.copyright_notice.as_deref(), Some("© 2023 Ana Lima"));
    assert_eq!(m.copyright_status, Some(CopyrightStatus::Copyrighted));
    assert_eq!(m.rights_usage_terms.as_deref(), Some("Editorial use only"));
    assert_eq!(
        m.special_instructions.as_deref(),
        Some("No use before 2023-06-01")
    );
    assert_eq!(m.job_id.as_deref(), Some("JOB-2023-117"));
    assert_eq!(
        m.date_created.unwrap().to_string(),
        "2023-05-01T06:12:00.35+01:00"
    );
    assert_eq!(m.sublocation.as_deref(), Some("Ribeira"));
    assert_eq!(m.city.as_deref(), Some("Porto"));
    assert_eq!(m.state.as_deref(), Some("Porto District"));
    assert_eq!(m.country.as_deref(), Some("Portugal"));
    assert_eq!(m.country_code.as_deref(), Some("PT"));
    assert_eq!(m.rating.unwrap().get(), 4);
    // Everything else is kept: develop settings, hierarchical keywords, history, contact.
    assert_eq!(text(&m, "xmp:Label"), "Green");
    assert_eq!(text(&m, "crs:Exposure2012"), "+0.35");
    assert_eq!(list(&m, "crs:ToneCurvePV2012"), ["0, 0", "255, 255"]);
    assert_eq!(
        list(&m, "lr:hierarchicalSubject"),
        ["Places|Portugal|Porto", "Subjects|boats"]
    );
    assert_eq!(
        text(
            &m,
            "Iptc4xmpCore:CreatorContactInfo/Iptc4xmpCore:CiEmailWork"
        ),
        "ana@example.com"
    );
    assert_eq!(text(&m, "xmpMM:History[1]/stEvt:action"), "saved");
    assert_round_trip(&m);
    // The develop settings survive a rewrite in the form Lightroom reads.
    let written = write_xmp(&m).unwrap();
    assert!(
        written.contains("<crs:ToneCurvePV2012>\n    <rdf:Seq>"),
        "{written}"
    );
    assert!(written.contains("xmlns:crs=\"http://ns.adobe.com/camera-raw-settings/1.0/\""));
}

#[test]
fn bridge_packet_with_languages_and_structures() {
    let m = sample("bridge_packet.xmp");
    assert_eq!(
        m.title.as_deref(),
        Some("Harbour"),
        "x-default wins over the first item"
    );
    assert_eq!(text(&m, "dc:title@de"), "Hafen");
    assert_eq!(text(&m, "dc:title@pt-PT"), "Porto de pesca");
    assert_eq!(m.creator.as_deref(), Some("Ana Lima; Bo Berg"));
    assert_eq!(m.keywords.iter().collect::<Vec<_>>(), ["sea", "boat"]);
    assert_eq!(m.date_created.unwrap().to_string(), "2023-05-01");
    assert_eq!(m.copyright_status, Some(CopyrightStatus::PublicDomain));
    assert_eq!(m.model_release, Some(ReleaseStatus::Limited));
    assert_eq!(m.property_release, Some(ReleaseStatus::NotApplicable));
    assert_eq!(list(&m, "Iptc4xmpExt:PersonInImage"), ["Bo Berg"]);
    assert_eq!(text(&m, "Iptc4xmpExt:Event"), "Harbour festival");
    assert_eq!(
        text(&m, "Iptc4xmpExt:LocationCreated[1]/Iptc4xmpExt:City"),
        "Porto"
    );
    assert_eq!(
        text(&m, "Iptc4xmpExt:LocationCreated[2]/Iptc4xmpExt:City"),
        "Gaia"
    );
    assert_round_trip(&m);
    let written = write_xmp(&m).unwrap();
    assert!(
        written.contains("<rdf:li xml:lang=\"de\">Hafen</rdf:li>"),
        "{written}"
    );
    assert!(
        written.contains("<Iptc4xmpExt:Event>\n    <rdf:Alt>"),
        "{written}"
    );
}

#[test]
fn exiftool_one_description_per_namespace() {
    let m = sample("exiftool_split.xmp");
    assert_eq!(
        m.description.as_deref(),
        Some("Wharf <Bryggen> at night — \"lit\"")
    );
    assert_eq!(m.keywords.join(","), "Bergen,night");
    assert_eq!(m.city.as_deref(), Some("Bergen"));
    assert_eq!(m.country_code.as_deref(), Some("NO"));
    assert_eq!(m.sublocation.as_deref(), Some("Bryggen"));
    assert_eq!(
        m.date_created.unwrap().to_string(),
        "2022-12-24T22:05:00-01:00"
    );
    assert_eq!(m.rating.unwrap().get(), -1);
    assert!(m.custom.is_empty(), "{:?}", m.custom);
    assert_round_trip(&m);
}

#[test]
fn bare_rdf_nested_description_and_unknown_namespace() {
    let m = sample("nested_and_unknown.xmp");
    assert_eq!(
        m.title.as_deref(),
        Some("Lighthouse"),
        "a lone language is the value"
    );
    assert_eq!(m.headline.as_deref(), Some("Storm <front> arrives"));
    assert_eq!(m.credit_line.as_deref(), Some("ACME Wire"));
    assert_eq!(
        m.rights_usage_terms.as_deref(),
        Some("Licensed for one print run")
    );
    assert_eq!(
        text(&m, "xmpRights:UsageTerms@fr"),
        "Licence pour un tirage"
    );
    assert_eq!(
        text(&m, "Iptc4xmpCore:CreatorContactInfo/Iptc4xmpCore:CiUrlWork"),
        "https://example.com"
    );
    assert_eq!(
        text(&m, "Iptc4xmpCore:CreatorContactInfo/Iptc4xmpCore:CiTelWork"),
        "+47 555 0100"
    );
    assert_eq!(text(&m, "acme:JobCode"), "ACME-4411");
    assert_eq!(list(&m, "acme:Approvals"), ["legal", "desk"]);
    assert_eq!(text(&m, "xmlns:acme"), "http://ns.example.com/acme/2.0/");
    assert_round_trip(&m);
    let written = write_xmp(&m).unwrap();
    assert!(
        written.contains("xmlns:acme=\"http://ns.example.com/acme/2.0/\""),
        "{written}"
    );
}

#[test]
fn csv_only_custom_fields_are_not_written() {
    let mut m = AssetMetadata::default();
    m.title = Some("T".into());
    m.custom.insert("Client Code", "ACME");
    m.custom
        .insert("nsless:Thing", "no namespace for this prefix");
    let written = write_xmp(&m).unwrap();
    assert!(!written.contains("ACME"), "{written}");
    assert!(!written.contains("nsless"), "{written}");
    let back = read_xmp(written.as_bytes()).unwrap();
    assert_eq!(back.title.as_deref(), Some("T"));
    assert!(back.custom.is_empty());
}

#[test]
fn file_writes_are_atomic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.xmp");
    let mut m = AssetMetadata::default();
    m.title = Some("first".into());
    write_xmp_file(&path, &m).unwrap();
    // A value XML cannot hold fails the write and leaves the old file as it was.
    m.title = Some("bad \u{7} bell".into());
    let err = write_xmp_file(&path, &m).unwrap_err();
    assert!(err.to_string().contains("U+0007"), "{err}");
    assert_eq!(
        XmpReader::new().read_path(&path).unwrap().title.as_deref(),
        Some("first")
    );
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["a.xmp"]);
}

#[test]
fn concurrent_file_writes_each_land_whole() {
    // Several writers of one sidecar at once (two jobs touching the same asset): every write
    // succeeds, the file holds one of them whole, and no temporary file is left.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.xmp");
    let titles: Vec<String> = (0..16)
        .map(|i| format!("title {i} {}", "x".repeat(i * 500)))
        .collect();
    std::thread::scope(|s| {
        for title in &titles {
            let path = &path;
            s.spawn(move || {
                let mut m = AssetMetadata::default();
                m.title = Some(title.clone());
                for _ in 0..20 {
                    write_xmp_file(path, &m).unwrap();
                }
            });
        }
    });
    let back = XmpReader::new().read_path(&path).unwrap();
    assert!(titles.contains(back.title.as_ref().unwrap()));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["a.xmp"]);
}

#[test]
fn a_familiar_prefix_on_a_foreign_namespace_keeps_its_namespace() {
    // Found by fuzzing: `stEvt` bound to another URI must not be rewritten as the real one,
    // and a second `dc` namespace must not collide with Dublin Core.
    let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/jpeg">
        <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Real</rdf:li></rdf:Alt></dc:title>
      </rdf:Description>
      <rdf:Description xmlns:dc="urn:not-dublin-core" xmlns:stEvt="urn:not-stevt"
          dc:title="Other" stEvt:action="kept"/>
    </rdf:RDF>"#;
    let m = read_xmp(doc.as_bytes()).unwrap();
    assert_eq!(m.title.as_deref(), Some("Real"));
    assert_eq!(text(&m, "dc2:title"), "Other");
    assert_eq!(text(&m, "xmlns:dc2"), "urn:not-dublin-core");
    assert_eq!(text(&m, "stEvt2:action"), "kept");
    assert_round_trip(&m);
}

#[test]
fn odd_but_valid_shapes_survive_a_rewrite() {
    // Found by fuzzing: repeated properties, a built-in property holding a structure, an
    // empty x-default beside other languages, languages outside the ASCII letter set.
    let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
        xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">
      <rdf:Description photoshop:City="First">
        <photoshop:Headline rdf:parseType="Resource"><photoshop:Odd>1</photoshop:Odd></photoshop:Headline>
        <dc:description><rdf:Alt>
          <rdf:li xml:lang="x-default"></rdf:li><rdf:li xml:lang="de_CH">Hafen</rdf:li>
        </rdf:Alt></dc:description>
        <Iptc4xmpExt:Event><rdf:Alt><rdf:li xml:lang="fr">Fête</rdf:li></rdf:Alt></Iptc4xmpExt:Event>
      </rdf:Description>
      <rdf:Description photoshop:City="Second"/>
    </rdf:RDF>"#;
    let m = read_xmp(doc.as_bytes()).unwrap();
    assert_eq!(m.city.as_deref(), Some("First"));
    assert_eq!(m.headline, None);
    assert_eq!(text(&m, "photoshop:Headline/photoshop:Odd"), "1");
    assert_eq!(m.description, None);
    assert_eq!(text(&m, "dc:description@de_CH"), "Hafen");
    assert_eq!(text(&m, "Iptc4xmpExt:Event"), "Fête");
    assert_round_trip(&m);
}

#[test]
fn fuzz_regressions_round_trip() {
    // Inputs the fuzzer once broke (`fuzz/fuzz_targets/xmp.rs`): each reads, or fails
    // cleanly, and what reads survives a rewrite.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("xmp") {
            continue;
        }
        n += 1;
        let Ok(m) = read_xmp(&std::fs::read(&path).unwrap()) else {
            continue;
        };
        if write_xmp(&m).is_ok() {
            assert_round_trip(&m);
        }
    }
    assert!(n > 0);
}

#[test]
fn qualified_values_are_read() {
    let doc = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
        xmlns:xmpidq="http://ns.adobe.com/xmp/Identifier/qual/1.0/">
      <rdf:Description>
        <dc:creator><rdf:Seq><rdf:li rdf:parseType="Resource">
          <rdf:value>Ana Lima</rdf:value><xmpidq:Scheme>staff</xmpidq:Scheme>
        </rdf:li></rdf:Seq></dc:creator>
        <xmp:Identifier><rdf:Bag><rdf:li rdf:parseType="Resource">
          <rdf:value>ISBN 0-00-000000-0</rdf:value><xmpidq:Scheme>ISBN</xmpidq:Scheme>
        </rdf:li></rdf:Bag></xmp:Identifier>
      </rdf:Description>
    </rdf:RDF>"#;
    let m = read_xmp(doc.as_bytes()).unwrap();
    assert_eq!(
        m.creator.as_deref(),
        Some("Ana Lima"),
        "the qualifier is dropped"
    );
    assert_eq!(
        text(&m, "xmp:Identifier[1]/rdf:value"),
        "ISBN 0-00-000000-0"
    );
    assert_eq!(text(&m, "xmp:Identifier[1]/xmpidq:Scheme"), "ISBN");
    assert_round_trip(&m);
}
