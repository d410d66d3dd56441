//! Any bytes as an XMP sidecar: no panic; what reads must write, and what is written must
//! read back to the same record.
#![no_main]

use asset_metadata::xmp::{read_xmp, write_xmp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(meta) = read_xmp(data) else { return };
    let Ok(written) = write_xmp(&meta) else { return };
    let back = read_xmp(written.as_bytes())
        .unwrap_or_else(|e| panic!("written sidecar does not read: {e}\n{written}"));
    assert_eq!(back, meta, "round trip changed the record\n{written}");
});
