//! CSV manifests as real exports shape them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;

use asset_metadata::csv::{
    Encoding, FieldMap, MappingBuilder, UnknownColumns, WriteColumn, WriterBuilder,
};
use asset_metadata::{AssetMetadata, Field, FieldValue, ManifestRecord, ReleaseStatus};

fn read(data: &[u8]) -> Vec<ManifestRecord> {
    MappingBuilder::new()
        .from_reader(data)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn header_styles_of_common_exports_map_to_the_same_fields() {
    let exports: [&[u8]; 4] = [
        // exiftool -csv -G
        b"SourceFile,IPTC:ObjectName,IPTC:Caption-Abstract,IPTC:Keywords,IPTC:By-line,IPTC:City,IPTC:Country-PrimaryLocationCode,XMP-plus:ModelReleaseStatus\n\
          ./a.jpg,Harbour,Boats,\"sea, boat\",Ana Lima,Porto,PT,Unlimited Model Releases\n",
        // Bridge / Lightroom labels, semicolons
        b"Filename;Document Title;Description;Keywords;Creator;City;ISO Country Code;Model Release Status\n\
          a.jpg;Harbour;Boats;sea, boat;Ana Lima;Porto;PT;Unlimited\n",
        // PhotoShelter names, tabs
        b"file\ttitle\tcaption\tkeyword\tauthor\tcity\tcountry_code\tmodel_released\n\
          a.jpg\tHarbour\tBoats\tsea, boat\tAna Lima\tPorto\tPT\ttrue\n",
        // Plain English
        b"Image,Title,Caption,Tags,Photographer,City,Country Code,Model Release\n\
          a.jpg,Harbour,Boats,sea|boat,Ana Lima,Porto,PT,yes\n",
    ];
    for data in exports {
        let rows = read(data);
        let m = &rows[0].metadata;
        let header = String::from_utf8_lossy(&data[..40]);
        assert_eq!(rows[0].key, "a.jpg", "{header}");
        assert_eq!(m.title.as_deref(), Some("Harbour"), "{header}");
        assert_eq!(m.description.as_deref(), Some("Boats"), "{header}");
        assert_eq!(
            m.keywords.iter().collect::<Vec<_>>(),
            ["sea", "boat"],
            "{header}"
        );
        assert_eq!(m.creator.as_deref(), Some("Ana Lima"), "{header}");
        assert_eq!(m.city.as_deref(), Some("Porto"), "{header}");
        assert_eq!(m.country_code.as_deref(), Some("PT"), "{header}");
        assert_eq!(m.model_release, Some(ReleaseStatus::Unlimited), "{header}");
        assert!(m.custom.is_empty(), "{header}: {:?}", m.custom);
    }
}

#[test]
fn bom_quotes_multiline_fields_and_iptc_time_column() {
    let data = "\u{feff}SourceFile,FileName,IPTC:Caption-Abstract,IPTC:DateCreated,IPTC:TimeCreated,XMP-dc:Subject,IPTC:Keywords\n\
                a.jpg,a.jpg,\"Line one, with comma\nline \"\"two\"\"\",2023:05:01,06:12:00+02:00,sea,\"boat, sea\"\n";
    let rows = read(data.as_bytes());
    let m = &rows[0].metadata;
    assert_eq!(
        m.description.as_deref(),
        Some("Line one, with comma\nline \"two\"")
    );
    assert_eq!(
        m.date_created.unwrap().to_string(),
        "2023-05-01T06:12:00+02:00"
    );
    assert_eq!(m.keywords.join("|"), "sea|boat", "keyword columns add up");
    assert_eq!(
        m.custom.get("FileName"),
        Some(&FieldValue::Text("a.jpg".into()))
    );
    assert_eq!(rows[0].line, 2);
}

#[test]
fn windows_1252_on_request() {
    let data = b"file;Caption;City\r\nf\xeate.jpg;Caf\xe9 \x93cr\xe8me\x94 \x80 2;Z\xfcrich\r\n";
    let mut b = MappingBuilder::new();
    b.encoding(Encoding::Windows1252);
    let row = b.from_reader(&data[..]).unwrap().next().unwrap().unwrap();
    assert_eq!(row.key, "fête.jpg");
    assert_eq!(
        row.metadata.description.as_deref(),
        Some("Café “crème” € 2")
    );
    assert_eq!(row.metadata.city.as_deref(), Some("Zürich"));
}

#[test]
fn unknown_columns_policies() {
    let data = b"file,title,Client Code,Shoe Size\na.jpg,T,ACME,42\n";
    let m = &read(data)[0].metadata;
    assert_eq!(
        m.custom.iter().map(|(k, _)| k).collect::<Vec<_>>(),
        ["Client Code", "Shoe Size"]
    );
    let mut b = MappingBuilder::new();
    b.unknown_columns(UnknownColumns::Ignore)
        .field_map(FieldMap::new().custom("Client Code", "client"));
    let row = b.from_reader(&data[..]).unwrap().next().unwrap().unwrap();
    assert_eq!(
        row.metadata
            .custom
            .iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>(),
        ["client"]
    );
}

#[test]
fn bad_values_fail_their_row_and_the_rest_goes_on() {
    let data = b"file,Rating,Date Created\na.jpg,3,2023\nb.jpg,11,2023\nc.jpg,4,1999-12-31\n";
    let rows: Vec<_> = MappingBuilder::new()
        .from_reader(&data[..])
        .unwrap()
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0].is_ok() && rows[2].is_ok());
    let err = rows[1].as_ref().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("line 3, record 2, column \"Rating\""),
        "{err}"
    );
    assert_eq!(err.position().unwrap().record, Some(2));
}

/// An endless source: rows are generated as they are read.
struct Endless {
    next: u64,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for Endless {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            self.buf = if self.next == 0 {
                b"file,title,keywords\n".to_vec()
            } else {
                format!("img{:07}.jpg,Title {},a;b;c\n", self.next, self.next).into_bytes()
            };
            self.next += 1;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn rows_stream_without_reading_the_whole_input() {
    let src = Endless {
        next: 0,
        buf: Vec::new(),
        pos: 0,
    };
    let rows: Vec<_> = MappingBuilder::new()
        .from_reader(src)
        .unwrap()
        .take(5_000)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 5_000);
    assert_eq!(rows[4_999].key, "img0005000.jpg");
    assert_eq!(rows[4_999].line, 5_001);
}

#[test]
fn reconciliation_export_reads_back() {
    let mut m = AssetMetadata::default();
    m.title = Some("Harbour".into());
    m.keywords.extend(["Paris, France"]);
    m.custom.insert("Client Code", "ACME");
    let mut out = Vec::new();
    let mut w = WriterBuilder::new()
        .delimiter(b';')
        .bom(true)
        .columns(vec![
            WriteColumn::key("File"),
            WriteColumn::extra("Asset ID"),
            WriteColumn::extra("Gallery"),
            WriteColumn::extra("Status"),
            WriteColumn::extra("URL"),
            WriteColumn::field(Field::Title),
            WriteColumn::field(Field::Keywords),
            WriteColumn::custom("Client Code"),
        ])
        .from_writer(&mut out)
        .unwrap();
    w.write_with(
        "shoot/a.jpg",
        &m,
        &[
            ("Asset ID", "I0000abcdEFG"),
            ("Status", "uploaded"),
            ("URL", "https://example.com/a;b"),
        ],
    )
    .unwrap();
    w.flush().unwrap();
    drop(w);
    let text = String::from_utf8(out.clone()).unwrap();
    assert_eq!(
        text,
        "\u{feff}File;Asset ID;Gallery;Status;URL;Title;Keywords;Client Code\n\
         shoot/a.jpg;I0000abcdEFG;;uploaded;\"https://example.com/a;b\";Harbour;\"Paris, France;\";ACME\n"
    );
    let row = read(&out).remove(0);
    assert_eq!(row.key, "shoot/a.jpg");
    assert_eq!(
        row.metadata.keywords.iter().collect::<Vec<_>>(),
        ["Paris, France"]
    );
    assert_eq!(
        row.metadata
            .custom
            .get("Asset ID")
            .and_then(|v| v.as_text()),
        Some("I0000abcdEFG")
    );
    assert_eq!(
        row.metadata.custom.get("Status").and_then(|v| v.as_text()),
        Some("uploaded")
    );
    assert!(
        !row.metadata.custom.contains("Gallery"),
        "empty cells are unset"
    );
}

/// Reads `data` one row per reader (header + that row), so every record starts fresh.
fn each_row_alone(header: &str, rows: &[&str]) -> Vec<ManifestRecord> {
    rows.iter()
        .map(|row| {
            let data = format!("{header}\n{row}\n");
            let mut b = MappingBuilder::new();
            b.field_map(FieldMap::new().custom("Client", "Client Code"))
                .check_duplicates(false);
            b.from_reader(data.as_bytes())
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
        })
        .collect()
}

#[test]
fn a_reused_record_holds_exactly_each_rows_values() {
    // Rows that set different fields, custom columns (two of them named alike through the
    // field map), keyword columns that add up, a time column, blank cells.
    let header = "file,Title,Description,Keywords,Subject,Date Created,Time Created,Rating,Client Code,Client,Notes";
    let rows = [
        "a.jpg,Harbour,Boats,sea;boat,dawn,2023-05-01,06:12:00,3,ACME,ZED,first",
        "b.jpg,,,,,,,,,,",
        "c.jpg,T,,x,,2023,07:00,,,ONLY-ALIAS,",
        "d.jpg,,Desc,,\"y, z\",,,5,ACME-2,,note",
        "e.jpg,Long title with Ünïcödé,Ω,k1;k2;k3;k4;k5;k6,,1999-12-31,,,,,",
        "f.jpg,,,,,,,,,,",
    ];
    let want = each_row_alone(header, &rows);
    let data = format!("{header}\n{}\n", rows.join("\n"));

    // Start from a record full of values that no row has.
    let mut rec = ManifestRecord::default();
    for f in Field::ALL {
        let text = match f {
            Field::CopyrightStatus => "Copyrighted",
            Field::DateCreated => "2001-01-01T01:01:01Z",
            Field::Rating => "1",
            Field::ModelReleaseStatus | Field::PropertyReleaseStatus => "None",
            _ => "stale",
        };
        rec.metadata.set(f, text).unwrap();
    }
    rec.metadata.custom.insert("Stale", vec!["x".to_string()]);
    rec.metadata
        .custom
        .insert("Client Code", vec!["y".to_string()]);

    let mut b = MappingBuilder::new();
    b.field_map(FieldMap::new().custom("Client", "Client Code"));
    let mut reader = b.from_reader(data.as_bytes()).unwrap();
    for (i, want) in want.iter().enumerate() {
        assert!(reader.read_record(&mut rec).unwrap(), "row {i}");
        assert_eq!(rec.key, want.key, "row {i}");
        assert_eq!(rec.metadata, want.metadata, "row {i}");
        assert_eq!(rec.line, i as u64 + 2);
        assert_eq!(rec.record, i as u64 + 1);
    }
    assert!(!reader.read_record(&mut rec).unwrap());
    assert_eq!(
        want[0]
            .metadata
            .custom
            .get("Client Code")
            .and_then(|v| v.as_text()),
        Some("ACME"),
        "the first of two columns named alike wins"
    );
    assert_eq!(want[0].metadata.keywords.join("|"), "sea|boat|dawn");
    assert_eq!(
        want[0].metadata.date_created.unwrap().to_string(),
        "2023-05-01T06:12:00"
    );
}

#[test]
fn a_character_split_across_two_fields_is_an_error_in_its_column() {
    // "\xC3" ends one field and "\xA9" starts the next: the row's bytes are valid UTF-8 as a
    // whole ("é"), but neither field is.
    let data = b"file,title,city\na.jpg,caf\xC3,\xA9t\xC3\xA9\n";
    let mut b = MappingBuilder::new();
    b.file_name("split.csv");
    let err = b
        .from_reader(&data[..])
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "split.csv, line 2, record 1, column \"title\" (Title): invalid UTF-8 at byte 3 of the \
         field; if the file was saved as Windows-1252 or Latin-1, read it with that encoding"
    );
}

#[test]
fn duplicates_are_found_among_many_keys() {
    let mut data = String::from("file,title\n");
    for i in 0..50_000 {
        data.push_str(&format!("dir/{}/img{i}.jpg,T\n", i % 7));
    }
    data.push_str("./dir/3/img3.jpg,again\n");
    data.push_str("dir/3/img50000.jpg,new\n");
    let mut b = MappingBuilder::new();
    b.file_name("many.csv");
    let mut rows = b.from_reader(data.as_bytes()).unwrap();
    let mut rec = ManifestRecord::default();
    for _ in 0..50_000 {
        assert!(rows.read_record(&mut rec).unwrap());
    }
    let err = rows.read_record(&mut rec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "many.csv, line 50002, record 50001, column \"file\": duplicate file key \"dir/3/img3.jpg\" \
         (first seen at line 5)"
    );
    assert!(rows.read_record(&mut rec).unwrap(), "the reader goes on");
    assert_eq!(rec.key, "dir/3/img50000.jpg");
}

#[test]
fn duplicates_are_found_in_a_manifest_in_path_order() {
    // Keys in ascending order (a multi-line cell shifts the lines), then the last key again,
    // then an early one: both are reported with the line they were first seen on.
    let mut data = String::from("file,title\n");
    for i in 0..20_000 {
        data.push_str(&format!("shoot/{:03}/IMG_{i:05}.jpg,T\n", i / 1000));
        if i == 10 {
            data.push_str("shoot/000/IMG_00010b.jpg,\"two\nlines\"\n");
        }
    }
    data.push_str("shoot/019/IMG_19999.jpg,last again\n");
    data.push_str("shoot/000/IMG_00011.jpg,early again\n");
    data.push_str("shoot/000/IMG_00011.jpeg,new\n");
    let mut rows = MappingBuilder::new().from_reader(data.as_bytes()).unwrap();
    let mut rec = ManifestRecord::default();
    for _ in 0..20_001 {
        assert!(rows.read_record(&mut rec).unwrap());
    }
    let err = rows.read_record(&mut rec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 20004, record 20002, column \"file\": duplicate file key \"shoot/019/IMG_19999.jpg\" \
         (first seen at line 20003)"
    );
    let err = rows.read_record(&mut rec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 20005, record 20003, column \"file\": duplicate file key \"shoot/000/IMG_00011.jpg\" \
         (first seen at line 15)"
    );
    assert!(rows.read_record(&mut rec).unwrap());
    assert_eq!(rec.key, "shoot/000/IMG_00011.jpeg");
}

#[test]
fn an_unclosed_quote_is_an_error_at_the_line_it_opens() {
    // The second row's description is quoted over two lines and closed; its keywords open a
    // quote on line 4 that nothing closes, which would swallow the rest of the file.
    let data = "file,Description,Keywords\n\
                a.jpg,One,sea\n\
                b.jpg,\"Two\nlines\",\"boat;\n\
                c.jpg,Three,dawn\n";
    let mut b = MappingBuilder::new();
    b.file_name("open.csv");
    let mut rows = b.from_reader(data.as_bytes()).unwrap();
    assert_eq!(rows.next().unwrap().unwrap().key, "a.jpg");
    let err = rows.next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "open.csv, line 4, record 2, column \"Keywords\": malformed CSV: a quoted field opens \
         here and is never closed (it runs to the end of the file)"
    );
    assert!(rows.next().is_none());

    // Quotes closed at the very end of the file, with or without a final line break, are fine.
    for end in ["\"c\"", "\"c\"\n", "\"c\"\r\n", "\"c \"\"quoted\"\"\""] {
        let data = format!("file,title\na.jpg,{end}");
        assert_eq!(read(data.as_bytes()).len(), 1, "{end:?}");
    }
}

#[test]
fn the_formula_guard_keeps_spreadsheets_from_running_cells() {
    let mut m = AssetMetadata::default();
    m.title = Some("=HYPERLINK(\"http://evil.example\",\"Click\")".into());
    m.description = Some("+cmd|' /C calc'!A0".into());
    m.credit_line = Some("@SUM(1+1)".into());
    m.keywords.extend(["-2", "sea"]);
    m.custom.insert("Note", "'=already quoted");
    m.custom.insert("Plain", "a=b");
    let columns = vec![
        WriteColumn::key("File"),
        WriteColumn::field(Field::Title),
        WriteColumn::field(Field::Description),
        WriteColumn::field(Field::CreditLine),
        WriteColumn::field(Field::Keywords),
        WriteColumn::custom("Note"),
        WriteColumn::custom("Plain"),
    ];
    let write = |guard: bool| {
        let mut out = Vec::new();
        let mut w = WriterBuilder::new()
            .columns(columns.clone())
            .formula_guard(guard)
            .from_writer(&mut out)
            .unwrap();
        w.write("-draft.jpg", &m).unwrap();
        drop(w);
        String::from_utf8(out).unwrap()
    };

    // Off by default: cells are written as they are.
    let plain = write(false);
    assert_eq!(
        plain.lines().nth(1).unwrap(),
        "-draft.jpg,\"=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",+cmd|' /C calc'!A0,\
         @SUM(1+1),-2; sea,'=already quoted,a=b"
    );

    let guarded = write(true);
    assert_eq!(
        guarded.lines().nth(1).unwrap(),
        "'-draft.jpg,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"Click\"\")\",'+cmd|' /C calc'!A0,\
         '@SUM(1+1),'-2; sea,''=already quoted,a=b"
    );
    let mut b = MappingBuilder::new();
    b.formula_guard(true);
    let row = b
        .from_reader(guarded.as_bytes())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(row.key, "-draft.jpg");
    assert_eq!(row.metadata, m);

    // A reader without the option sees the apostrophes.
    let row = read(guarded.as_bytes()).remove(0);
    assert_eq!(row.key, "'-draft.jpg");
    assert_eq!(row.metadata.credit_line.as_deref(), Some("'@SUM(1+1)"));
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if bom {
        out.extend_from_slice(if big_endian {
            &[0xFE, 0xFF]
        } else {
            &[0xFF, 0xFE]
        });
    }
    for unit in text.encode_utf16() {
        out.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    out
}

#[test]
fn excel_unicode_text_utf16_manifests_are_read() {
    // Excel's "Unicode text": UTF-16LE with a byte-order mark, tabs, CRLF, quoted
    // multi-line cells; characters outside the BMP take surrogate pairs.
    let text = "File\tTitle\tCaption\tKeywords\r\n\
                café.jpg\tZürich 📷\t\"Two\r\nlines\"\t漢字; sea\r\n\
                b.jpg\tB\t\t\r\n";
    let want = read(text.as_bytes());
    assert_eq!(want.len(), 2);
    assert_eq!(want[0].metadata.title.as_deref(), Some("Zürich 📷"));
    for (big_endian, bom, encoding) in [
        (false, true, Encoding::Utf8),
        (true, true, Encoding::Windows1252),
        (false, false, Encoding::Utf16Le),
        (true, false, Encoding::Utf16Be),
    ] {
        let bytes = utf16(text, big_endian, bom);
        let mut b = MappingBuilder::new();
        b.encoding(encoding);
        let got: Vec<_> = b
            .from_reader(&bytes[..])
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got, want, "big endian {big_endian}, BOM {bom}");
    }
}

#[test]
fn a_long_utf16_manifest_streams_and_reads_as_its_utf8_twin() {
    let mut text = String::from("file\ttitle\tkeywords\n");
    for i in 0..20_000 {
        text.push_str(&format!("img{i}.jpg\tŁódź 🌅 {i}\tα; β; 📷{}\n", i % 13));
    }
    let want = read(text.as_bytes());
    let bytes = utf16(&text, false, true);
    let mut rows = MappingBuilder::new().from_reader(&bytes[..]).unwrap();
    let mut rec = ManifestRecord::default();
    for want in &want {
        assert!(rows.read_record(&mut rec).unwrap());
        assert_eq!(&rec, want);
    }
    assert!(!rows.read_record(&mut rec).unwrap());
}

#[test]
fn bad_utf16_fails_at_its_row_after_the_good_ones() {
    let mut bytes = utf16("file\ttitle\na.jpg\tA\nb.jpg\t", false, true);
    bytes.extend_from_slice(&[0x00, 0xDC]); // a low surrogate alone
    bytes.extend(utf16("B\n", false, false));
    let mut b = MappingBuilder::new();
    b.file_name("bad16.csv");
    let mut rows = b.from_reader(&bytes[..]).unwrap();
    assert_eq!(rows.next().unwrap().unwrap().key, "a.jpg");
    let err = rows.next().unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad16.csv, line 3: invalid UTF-16 at byte 52 of the file (an unpaired surrogate or a \
         cut-off last character)"
    );
    assert!(rows.next().is_none());
}
