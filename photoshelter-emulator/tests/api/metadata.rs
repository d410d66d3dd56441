//! IPTC-IIM and XMP extraction from uploaded JPEGs, seen through the API.

use serde_json::Value;

use crate::common::{Api, iim, jpeg, xmp};

async fn upload_and_read_iptc(api: &Api, bytes: Vec<u8>) -> (Value, Value) {
    let g = api
        .emu
        .seed_gallery(&format!("g{}", api.emu.image_count()), None)
        .unwrap();
    let (s, b) = api.upload(&g, "meta.jpg", bytes).await;
    assert_eq!(s, 200, "{b}");
    let id = b["data"]["Image"]["image_id"].as_str().unwrap().to_owned();
    let (_, iptc) = api.get(&format!("mem/image/{id}/iptc")).await;
    (b["data"]["Image"].clone(), iptc["data"]["Iptc"].clone())
}

#[tokio::test]
async fn iim_fields_latin1_and_utf8() {
    let api = Api::logged_in().await;
    let latin1 = [
        iim(1, 0, &[0, 4]),
        iim(2, 5, b"Object name"),
        iim(2, 25, b"K\xf6ln"),
        iim(2, 25, b"Dom"),
        iim(2, 80, b"Ann Photographer"),
        iim(2, 85, b"Staff"),
        iim(2, 90, b"K\xf6ln"),
        iim(2, 92, b"Altstadt"),
        iim(2, 95, b"NRW"),
        iim(2, 100, b"DEU"),
        iim(2, 101, b"Germany"),
        iim(2, 103, b"JOB-42"),
        iim(2, 105, b"Headline"),
        iim(2, 110, b"Agency"),
        iim(2, 115, b"Source"),
        iim(2, 116, b"(c) 2024 Ann"),
        iim(2, 120, b"A caption"),
        iim(2, 122, b"Ed"),
        iim(2, 40, b"Embargo"),
        iim(2, 55, b"20240131"),
    ]
    .concat();
    let (img, iptc) = upload_and_read_iptc(&api, jpeg(1200, 800, Some(&latin1), None)).await;
    assert_eq!(
        (img["width"].as_str(), img["height"].as_str()),
        (Some("1200"), Some("800"))
    );
    for (field, want) in [
        ("title", "Object name"),
        ("keyword", "Köln, Dom"),
        ("author", "Ann Photographer"),
        ("author_title", "Staff"),
        ("city", "Köln"),
        ("sublocation", "Altstadt"),
        ("state", "NRW"),
        ("country_code", "DEU"),
        ("country", "Germany"),
        ("transmission_reference", "JOB-42"),
        ("headline", "Headline"),
        ("credit", "Agency"),
        ("source", "Source"),
        ("copyright", "(c) 2024 Ann"),
        ("caption", "A caption"),
        ("caption_writer", "Ed"),
        ("special_instructions", "Embargo"),
        ("date_created", "2024-01-31"),
    ] {
        assert_eq!(iptc[field], want, "{field}: {iptc}");
    }

    let utf8 = [iim(1, 90, b"\x1b%G"), iim(2, 120, "Zürich – Ω".as_bytes())].concat();
    let (_, iptc) = upload_and_read_iptc(&api, jpeg(10, 10, Some(&utf8), None)).await;
    assert_eq!(iptc["caption"], "Zürich – Ω");
}

#[tokio::test]
async fn xmp_fields_and_precedence_over_iim() {
    let api = Api::logged_in().await;
    let packet = xmp(
        r#"<dc:title><rdf:Alt><rdf:li xml:lang="x-default">XMP title</rdf:li></rdf:Alt></dc:title>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">XMP caption</rdf:li></rdf:Alt></dc:description>
<dc:subject><rdf:Bag><rdf:li>one</rdf:li><rdf:li>two</rdf:li></rdf:Bag></dc:subject>
<dc:creator><rdf:Seq><rdf:li>Bo Creator</rdf:li></rdf:Seq></dc:creator>
<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">© Bo</rdf:li></rdf:Alt></dc:rights>
<photoshop:Credit>XMP credit</photoshop:Credit><photoshop:City>Lyon</photoshop:City>
<photoshop:State>ARA</photoshop:State><photoshop:Country>France</photoshop:Country>
<photoshop:Headline>XMP headline</photoshop:Headline>
<Iptc4xmpCore:CountryCode>FR</Iptc4xmpCore:CountryCode>"#,
    );
    let (_, iptc) = upload_and_read_iptc(&api, jpeg(10, 10, None, Some(&packet))).await;
    for (field, want) in [
        ("title", "XMP title"),
        ("caption", "XMP caption"),
        ("keyword", "one, two"),
        ("author", "Bo Creator"),
        ("copyright", "© Bo"),
        ("credit", "XMP credit"),
        ("city", "Lyon"),
        ("state", "ARA"),
        ("country", "France"),
        ("headline", "XMP headline"),
        ("country_code", "FR"),
    ] {
        assert_eq!(iptc[field], want, "{field}: {iptc}");
    }

    // Both present: XMP wins field by field; IIM-only fields are kept.
    let block = [
        iim(2, 5, b"IIM title"),
        iim(2, 116, b"IIM copyright"),
        iim(2, 115, b"IIM source"),
    ]
    .concat();
    let packet = xmp(
        r#"<dc:title><rdf:Alt><rdf:li xml:lang="x-default">XMP title</rdf:li></rdf:Alt></dc:title>"#,
    );
    let (_, iptc) = upload_and_read_iptc(&api, jpeg(10, 10, Some(&block), Some(&packet))).await;
    assert_eq!(iptc["title"], "XMP title");
    assert_eq!(iptc["copyright"], "IIM copyright");
    assert_eq!(iptc["source"], "IIM source");
}

#[tokio::test]
async fn garbage_and_truncated_files_upload_without_metadata() {
    let api = Api::logged_in().await;
    // An APP13 whose length runs past the end of the file.
    let truncated = vec![0xFF, 0xD8, 0xFF, 0xED, 0xFF, 0xF0, b'P', b'h', b'o'];
    let (img, iptc) = upload_and_read_iptc(&api, truncated).await;
    assert_eq!(img["width"], "0");
    assert!(iptc["title"].is_null());
    // An 8BIM block with a lying size, and an IIM dataset longer than its block.
    let mut lying = b"Photoshop 3.0\x008BIM\x04\x04\0\0\x7F\xFF\xFF\xFF".to_vec();
    lying.extend([0x1C, 2, 5, 0x7F, 0xFF, b'x']);
    let mut f = vec![0xFF, 0xD8, 0xFF, 0xED];
    f.extend(u16::try_from(lying.len() + 2).unwrap().to_be_bytes());
    f.extend(lying);
    f.extend([0xFF, 0xD9]);
    let (_, iptc) = upload_and_read_iptc(&api, f).await;
    assert!(iptc["title"].is_null());
    // Malformed XMP.
    let (_, iptc) = upload_and_read_iptc(&api, jpeg(5, 5, None, Some("<x:xmpmeta><<<&&&"))).await;
    assert!(iptc["caption"].is_null());
    // Not an image at all.
    let (img, _) = upload_and_read_iptc(&api, b"%PDF-1.7 definitely not a jpeg".to_vec()).await;
    assert_eq!(img["height"], "0");
}
