//! The 100,000-row manifest that `benches/manifest.rs` and `examples/manifest_ratio.rs`
//! both time: ten columns in exiftool/Bridge style, quoted cells with commas, five
//! keywords, a date to parse, a custom column.

/// Rows in the manifest.
pub(crate) const ROWS: usize = 100_000;

/// The manifest's bytes (about 17 MB).
pub(crate) fn manifest() -> Vec<u8> {
    let mut out = String::from(
        "SourceFile,Title,Description,Keywords,Creator,City,Country,Date Created,Rating,Client Code\n",
    );
    for i in 0..ROWS {
        out.push_str(&format!(
            "shoot/{:03}/IMG_{i:06}.jpg,Harbour {i},\"Boats and nets on the river, morning {i}\",\
             \"sea; boat; dawn; Porto; tag{}\",Ana Lima,Porto,Portugal,2023:05:01 06:{:02}:00,{},ACME-{}\n",
            i / 1000,
            i % 50,
            i % 60,
            i % 6,
            i % 97
        ));
    }
    out.into_bytes()
}
