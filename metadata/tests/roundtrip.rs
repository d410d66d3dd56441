//! Property tests: any record survives metadata → CSV → metadata, → XMP → metadata and
//! → XML manifest → metadata.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use asset_metadata::csv::{MappingBuilder, WriteColumn, WriterBuilder};
use asset_metadata::xml::XmlManifestConfig;
use asset_metadata::xmp::{read_xmp, write_xmp};
use asset_metadata::{
    AssetMetadata, CopyrightStatus, DateCreated, FieldValue, Rating, ReleaseStatus, photoshelter,
};
use chrono::{FixedOffset, NaiveDate, NaiveTime};
use proptest::prelude::*;

/// Text as people type it: letters of several scripts, punctuation that matters to CSV and
/// XML (quotes, commas, semicolons, `&`, `<`), inner spaces and newlines; trimmed and not
/// empty, since every reader trims.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9éüß漢字ñ€ ,;:|'\"&<>\n\r\t/@#*=+-]{1,40}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("not empty", |s| !s.is_empty())
}

fn keyword() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9éü漢 ,|&<>'\"-]{1,20}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("not empty", |s| !s.is_empty())
}

fn date() -> impl Strategy<Value = DateCreated> {
    (
        1800i32..2100,
        1u32..=12,
        1u32..=28,
        prop::option::of((
            0u32..24,
            0u32..60,
            0u32..60,
            prop::option::of(-14i32 * 4..=14 * 4),
        )),
        0u8..3,
    )
        .prop_map(|(y, m, d, time, precision)| match precision {
            0 => DateCreated::from_year(y).unwrap(),
            1 => DateCreated::from_year_month(y, m).unwrap(),
            _ => {
                let mut date = DateCreated::from_date(NaiveDate::from_ymd_opt(y, m, d).unwrap());
                if let Some((h, mi, s, off)) = time {
                    date = date
                        .with_time(NaiveTime::from_hms_opt(h, mi, s).unwrap())
                        .unwrap();
                    if let Some(q) = off {
                        date = date
                            .with_offset(FixedOffset::east_opt(q * 900).unwrap())
                            .unwrap();
                    }
                }
                date
            }
        })
}

fn release() -> impl Strategy<Value = ReleaseStatus> {
    prop_oneof![
        Just(ReleaseStatus::None),
        Just(ReleaseStatus::NotApplicable),
        Just(ReleaseStatus::Unlimited),
        Just(ReleaseStatus::Limited),
    ]
}

prop_compose! {
    fn metadata()(
        texts in prop::collection::vec(prop::option::of(text()), 17),
        keywords in prop::collection::vec(keyword(), 0..8),
        status in prop::option::of(prop_oneof![Just(CopyrightStatus::Copyrighted), Just(CopyrightStatus::PublicDomain)]),
        date in prop::option::of(date()),
        rating in prop::option::of(-1i8..=5),
        model in prop::option::of(release()),
        property in prop::option::of(release()),
    ) -> AssetMetadata {
        let mut m = AssetMetadata::default();
        let mut t = texts.into_iter();
        let mut next = || t.next().flatten();
        m.title = next();
        m.headline = next();
        m.description = next();
        m.caption_writer = next();
        m.creator = next();
        m.creator_job_title = next();
        m.credit_line = next();
        m.source = next();
        m.copyright_notice = next();
        m.rights_usage_terms = next();
        m.special_instructions = next();
        m.job_id = next();
        m.sublocation = next();
        m.city = next();
        m.state = next();
        m.country = next();
        m.country_code = next();
        m.keywords.extend(keywords);
        m.copyright_status = status;
        m.date_created = date;
        m.rating = rating.and_then(Rating::new);
        m.model_release = model;
        m.property_release = property;
        m
    }
}

/// Custom fields that each format can carry: XMP property names, CSV column names.
fn with_custom(mut m: AssetMetadata, values: &[String], xmp_names: bool) -> AssetMetadata {
    for (i, v) in values.iter().enumerate() {
        let name = if xmp_names {
            format!("Iptc4xmpExt:Extra{i}")
        } else {
            format!("Extra {i}")
        };
        m.custom.insert(name, v.as_str());
    }
    m
}

fn csv_round_trip(m: &AssetMetadata, columns: Vec<WriteColumn>, guard: bool) -> AssetMetadata {
    let mut out = Vec::new();
    let mut w = WriterBuilder::new()
        .columns(columns)
        .formula_guard(guard)
        .from_writer(&mut out)
        .unwrap();
    w.write("dir/a.jpg", m).unwrap();
    drop(w);
    if guard {
        // No cell reaches a spreadsheet as a formula.
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(&out[..]);
        for record in r.records() {
            for cell in record.unwrap().iter() {
                let first = cell.trim_start_matches('\'').bytes().next();
                assert!(
                    cell.starts_with('\'')
                        || !matches!(first, Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')),
                    "{cell:?}"
                );
            }
        }
    }
    let mut rows = MappingBuilder::new()
        .formula_guard(guard)
        .from_reader(&out[..])
        .unwrap();
    let row = rows
        .next()
        .unwrap()
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out)));
    assert!(rows.next().is_none());
    assert_eq!(row.key, "dir/a.jpg");
    row.metadata
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn csv_round_trip_keeps_every_field(m in metadata(), extra in prop::collection::vec(text(), 0..3)) {
        let m = with_custom(m, &extra, false);
        let mut columns = WriteColumn::default_columns();
        for (name, _) in m.custom.iter() {
            columns.push(WriteColumn::custom(name));
        }
        prop_assert_eq!(csv_round_trip(&m, columns, false), m);
    }

    #[test]
    fn csv_round_trip_with_the_formula_guard_keeps_every_field(
        m in metadata(),
        extra in prop::collection::vec(text(), 0..3),
    ) {
        let m = with_custom(m, &extra, false);
        let mut columns = WriteColumn::default_columns();
        for (name, _) in m.custom.iter() {
            columns.push(WriteColumn::custom(name));
        }
        prop_assert_eq!(csv_round_trip(&m, columns, true), m);
    }

    #[test]
    fn xmp_round_trip_keeps_every_field(m in metadata(), extra in prop::collection::vec(text(), 0..3)) {
        let m = with_custom(m, &extra, true);
        let written = write_xmp(&m).unwrap();
        let back = read_xmp(written.as_bytes()).unwrap();
        prop_assert_eq!(back, m, "{}", written);
    }

    #[test]
    fn xml_manifest_round_trip_keeps_every_field(m in metadata(), extra in prop::collection::vec(text(), 0..3)) {
        let mut m = with_custom(m, &extra, false);
        m.custom.insert("People", FieldValue::List(vec!["Ana".into(), "Bo".into()]));
        let config = XmlManifestConfig::default();
        let mut w = config.writer(Vec::new()).unwrap();
        w.write("a.jpg", &m).unwrap();
        w.write("b.jpg", &AssetMetadata::default()).unwrap();
        let out = w.finish().unwrap();
        let rows: Vec<_> = config.reader(&out[..]).unwrap().collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(rows.len(), 2);
        prop_assert_eq!(&rows[0].key, "a.jpg");
        prop_assert_eq!(&rows[0].metadata, &m, "{}", String::from_utf8_lossy(&out));
        prop_assert!(rows[1].metadata.is_empty());
    }

    #[test]
    fn photoshelter_round_trip_keeps_what_photoshelter_can_hold(m in metadata()) {
        let mut m = m;
        // PhotoShelter keeps the date only, flags for releases, keywords comma-separated.
        m.date_created = m.date_created.and_then(|d| d.date()).map(DateCreated::from_date);
        m.model_release = m.model_release.filter(|s| matches!(s, ReleaseStatus::None | ReleaseStatus::Unlimited));
        m.property_release = m.property_release.filter(|s| matches!(s, ReleaseStatus::None | ReleaseStatus::Unlimited));
        m.keywords = m.keywords.iter().filter(|k| !k.contains(',')).collect();
        let back = photoshelter::from_photoshelter_fields(photoshelter::to_photoshelter_fields(&m)).unwrap();
        prop_assert_eq!(back, m);
    }
}

#[test]
fn csv_writer_refuses_what_it_cannot_read_back() {
    let mut m = AssetMetadata::default();
    m.keywords.extend(["a;b"]);
    let mut w = WriterBuilder::new().from_writer(Vec::new()).unwrap();
    let err = w.write("x.jpg", &m).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"record 1, column "Keywords": invalid value "a;b": keyword contains ';', which would split it on reading"#
    );
    let err = WriterBuilder::new()
        .column(WriteColumn::custom("Caption"))
        .from_writer(Vec::new())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("\"Caption\" would read back as Field(Description)"),
        "{err}"
    );
    // The reader splits keyword cells on `;`, `|` or `,` only: "a/b" would come back as one
    // keyword, so another separator is refused up front.
    for sep in ["/", " ", " - "] {
        let Err(err) = WriterBuilder::new()
            .keyword_separator(sep)
            .from_writer(Vec::new())
        else {
            panic!("{sep:?} accepted");
        };
        assert!(
            err.to_string()
                .starts_with("invalid option `keyword_separator`"),
            "{sep:?}: {err}"
        );
    }
    for sep in [";", " | ", ", "] {
        let mut m = AssetMetadata::default();
        m.keywords.extend(["a", "b"]);
        let mut out = Vec::new();
        let mut w = WriterBuilder::new()
            .keyword_separator(sep)
            .from_writer(&mut out)
            .unwrap();
        w.write("x.jpg", &m).unwrap();
        drop(w);
        let back = MappingBuilder::new()
            .from_reader(&out[..])
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(back.metadata.keywords, m.keywords, "{sep:?}");
    }
}
