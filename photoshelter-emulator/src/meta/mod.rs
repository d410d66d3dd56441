//! Metadata read from uploaded originals, as the service does on upload: pixel dimensions
//! and the IPTC fields embedded as IPTC-IIM (APP13) and XMP (APP1).
//!
//! When a field is present in both, the XMP value wins (Adobe's tools write XMP as the
//! primary copy and IIM as the legacy mirror, and read XMP first).

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;

mod iim;
mod jpeg;
mod xmp;

/// What an upload's header tells.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Extracted {
    pub width: u32,
    pub height: u32,
    pub iptc: BTreeMap<String, String>,
}

/// Extracts from any reader (only the header segments are read).
pub(crate) fn extract(r: impl Read) -> Extracted {
    let scan = jpeg::scan(r);
    let mut iptc = scan
        .photoshop
        .as_deref()
        .and_then(jpeg::iim_block)
        .map(iim::parse)
        .unwrap_or_default();
    if let Some(packet) = scan.xmp.as_deref() {
        iptc.extend(xmp::parse(packet));
    }
    Extracted {
        width: scan.width,
        height: scan.height,
        iptc,
    }
}

/// Extracts from a file on disk; an unreadable file yields nothing.
pub(crate) fn extract_file(path: &Path) -> Extracted {
    match std::fs::File::open(path) {
        Ok(f) => extract(BufReader::with_capacity(64 * 1024, f)),
        Err(_) => Extracted::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_wins_over_iim_field_by_field() {
        let mut f = vec![0xFF, 0xD8];
        let mut app13 = b"Photoshop 3.0\0".to_vec();
        let mut iimb = Vec::new();
        for (n, v) in [(5u8, &b"IIM title"[..]), (110, b"IIM credit")] {
            iimb.extend([0x1C, 2, n]);
            iimb.extend((v.len() as u16).to_be_bytes());
            iimb.extend_from_slice(v);
        }
        app13.extend_from_slice(b"8BIM\x04\x04\0\0");
        app13.extend((iimb.len() as u32).to_be_bytes());
        app13.extend(&iimb);
        f.extend([0xFF, 0xED]);
        f.extend(((app13.len() + 2) as u16).to_be_bytes());
        f.extend(&app13);
        let mut app1 = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
        app1.extend_from_slice(
            br#"<x xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><r:Alt xmlns:r="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><r:li>XMP title</r:li></r:Alt></dc:title></x>"#,
        );
        f.extend([0xFF, 0xE1]);
        f.extend(((app1.len() + 2) as u16).to_be_bytes());
        f.extend(&app1);
        f.extend([0xFF, 0xD9]);
        let e = extract(&f[..]);
        assert_eq!(e.iptc["title"], "XMP title");
        assert_eq!(e.iptc["credit"], "IIM credit");
    }
}
