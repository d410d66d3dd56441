//! Malformed inputs: every file in `tests/bad/` must fail with exactly the error in its
//! `.expected` file (the error's `Display`), and never panic. Large inputs are generated here.
//!
//! `BLESS=1 cargo test -p asset-metadata --test bad` rewrites the `.expected` files; review
//! the diff before committing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use asset_metadata::csv::MappingBuilder;
use asset_metadata::xml::XmlManifestConfig;
use asset_metadata::xmp::XmpReader;
use asset_metadata::{Error, ErrorKind};

/// The first error reading `name`, chosen by extension.
fn first_error(name: &str, bytes: &[u8]) -> Option<Error> {
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("csv") => {
            let mut b = MappingBuilder::new();
            b.file_name(name).strict(name.starts_with("strict_"));
            match b.from_reader(bytes) {
                Err(e) => Some(e),
                Ok(rows) => rows.filter_map(Result::err).next(),
            }
        }
        Some("xmp") => XmpReader::new().file_name(name).read(bytes).err(),
        Some("xml") => match XmlManifestConfig::default().reader(bytes) {
            Err(e) => Some(e),
            Ok(rows) => rows.file_name(name).filter_map(Result::err).next(),
        },
        _ => None,
    }
}

#[test]
fn every_bad_file_gives_its_expected_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let bless = std::env::var_os("BLESS").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.ends_with(".expected") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let err = first_error(&name, &bytes).unwrap_or_else(|| panic!("{name}: no error"));
        let got = err.to_string();
        assert_eq!(
            err.kind() == ErrorKind::Unsupported,
            got.contains("refused"),
            "{name}: {got}"
        );
        let expected_path = path.with_file_name(format!("{name}.expected"));
        if bless {
            std::fs::write(&expected_path, format!("{got}\n")).unwrap();
        }
        let want = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{name}: missing {name}.expected (got {got:?})"));
        if want.trim_end() != got {
            failures.push(format!("{name}:\n  want {}\n  got  {got}", want.trim_end()));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 20, "only {checked} bad inputs found");
}

#[test]
fn a_10_mb_csv_field_is_refused_with_its_column() {
    let mut data = b"file,title,Description\na.jpg,ok,\"".to_vec();
    data.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    data.extend_from_slice(b"\"\nb.jpg,fine,short\n");
    let mut rows = MappingBuilder::new()
        .file_name("big.csv")
        .from_reader(&data[..])
        .unwrap();
    let err = rows.next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"big.csv, line 2, record 1, column "Description": field of 10485760 bytes exceeds the limit of 1048576"#
    );
    // The next row is still read.
    assert_eq!(rows.next().unwrap().unwrap().key, "b.jpg");
}

#[test]
fn an_endless_csv_record_stops_at_the_record_limit() {
    let mut data = b"file,title\na.jpg,\"".to_vec();
    data.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    let mut b = MappingBuilder::new();
    b.file_name("endless.csv").max_record_bytes(1024 * 1024);
    let mut rows = b.from_reader(&data[..]).unwrap();
    let err = rows.next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "endless.csv, line 2: a record exceeds the limit of 1048576"
    );
    assert!(rows.next().is_none());
}

#[test]
fn a_10_mb_xml_text_is_refused() {
    let mut data = b"<assets><asset file=\"a.jpg\"><title>".to_vec();
    data.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    data.extend_from_slice(b"</title></asset></assets>");
    let err = XmlManifestConfig::default()
        .reader(&data[..])
        .unwrap()
        .file_name("big.xml")
        .next()
        .unwrap()
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("big.xml, line 1, element /assets/asset/title: text of"),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("exceeds the limit of 1048576"),
        "{err}"
    );
}

#[test]
fn an_xml_record_larger_than_the_record_limit_is_refused() {
    // Many small elements, each within every other limit: the record as a whole is too big
    // to hold in memory. Records below the limit read, however large the document.
    let small = "<asset file=\"s.jpg\"><title>fine</title></asset>";
    let mut doc = String::from("<assets>");
    for i in 0..50 {
        doc.push_str(&small.replace("s.jpg", &format!("s{i}.jpg")));
    }
    doc.push_str("<asset file=\"big.jpg\">");
    for i in 0..200 {
        doc.push_str(&format!("<note{i}>{}</note{i}>", "x".repeat(100)));
    }
    doc.push_str("</asset></assets>");
    let mut config = XmlManifestConfig::default();
    config.max_record_bytes = 10_000;
    let rows: Vec<_> = config
        .reader(doc.as_bytes())
        .unwrap()
        .file_name("big.xml")
        .collect();
    assert_eq!(rows.len(), 51);
    assert!(rows[..50].iter().all(Result::is_ok));
    let err = rows[50].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string()
            .starts_with("big.xml, line 1, element /assets/asset/note"),
        "{err}"
    );
    assert!(
        err.to_string()
            .ends_with("a record exceeds the limit of 10000"),
        "{err}"
    );
}

#[test]
fn an_oversized_xmp_is_refused() {
    let mut data = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>".to_vec();
    for _ in 0..20_000 {
        data.extend_from_slice(&[b' '; 1024]);
    }
    let err = XmpReader::new()
        .file_name("huge.xmp")
        .read(&data)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "huge.xmp, line 1, element /x:xmpmeta: the document size exceeds the limit of 16777216"
    );
}

#[test]
fn deep_nesting_and_attribute_floods_are_refused() {
    let deep = format!("{}{}", "<a>".repeat(1000), "</a>".repeat(1000));
    let err = XmpReader::new().read(deep.as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("the nesting depth exceeds the limit of 64"),
        "{err}"
    );

    let attrs: String = (0..5000).map(|i| format!(" a{i}='x'")).collect();
    let flood = format!("<x:xmpmeta xmlns:x='adobe:ns:meta/'{attrs}/>");
    let err = XmpReader::new().read(flood.as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("the attribute count exceeds the limit of 1024"),
        "{err}"
    );
}

#[test]
fn errors_never_panic_on_truncated_inputs() {
    // Every prefix of every bad and good sample either parses or fails cleanly.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for dir in ["bad", "data"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let bytes = std::fs::read(&path).unwrap();
            for cut in (0..bytes.len()).step_by(7) {
                let _ = first_error(&name, &bytes[..cut]);
            }
        }
    }
}

#[test]
fn a_missing_file_is_not_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.csv");
    let shown = path.display().to_string();
    let errors = [
        MappingBuilder::new().from_path(&path).err().unwrap(),
        XmpReader::new().read_path(&path).err().unwrap(),
        XmlManifestConfig::default()
            .reader_from_path(&path)
            .err()
            .unwrap(),
    ];
    for err in errors {
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(
            err.to_string()
                .starts_with(&format!("{shown}: open failed")),
            "{err}"
        );
    }
    // A name given to the reader wins over the path.
    let err = MappingBuilder::new()
        .file_name("upload.csv")
        .from_path(&path)
        .err()
        .unwrap();
    assert!(
        err.to_string().starts_with("upload.csv: open failed"),
        "{err}"
    );
}
