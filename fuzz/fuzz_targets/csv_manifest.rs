//! Any bytes as a CSV manifest: no panic, every record either maps or fails with a position,
//! and every mapped record can be written as an XMP sidecar or a CSV row (or refused cleanly).
#![no_main]

use asset_metadata::csv::{Encoding, MappingBuilder, WriterBuilder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (first, rest) = data.split_first().unwrap_or((&0, data));
    let mut b = MappingBuilder::new();
    b.max_field_bytes(4096).max_record_bytes(16 * 1024);
    if first & 1 == 1 {
        b.encoding(Encoding::Windows1252);
    }
    if first & 2 == 2 {
        b.strict(true);
    }
    if first & 4 == 4 {
        b.encoding(Encoding::Utf16Le);
    }
    let guard = first & 8 == 8;
    b.formula_guard(guard);
    let Ok(rows) = b.from_reader(rest) else { return };
    for row in rows.take(1000) {
        match row {
            Ok(r) => {
                let _ = asset_metadata::xmp::write_xmp(&r.metadata);
                if let Ok(mut w) = WriterBuilder::new()
                    .formula_guard(guard)
                    .from_writer(Vec::new())
                {
                    let _ = w.write(&r.key, &r.metadata);
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
