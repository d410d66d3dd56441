//! A bounded scan of a JPEG's header segments: dimensions (SOFn), the Photoshop APP13 block
//! (IPTC-IIM) and the XMP APP1 packet. Reads segment by segment from any `Read`, so an
//! original is never loaded whole; stops at the first scan (SOS) or at EOI.

use std::io::{self, Read};

const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const PHOTOSHOP_SIGNATURE: &[u8] = b"Photoshop 3.0\0";
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
/// Header segments looked at before giving up (a real file has a handful).
const MAX_SEGMENTS: usize = 1024;
/// Bytes of APP13 data kept across segments (IIM blocks are small; this bounds garbage).
const MAX_APP13: usize = 4 * 1024 * 1024;

/// What the header scan found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    pub width: u32,
    pub height: u32,
    /// The concatenated Photoshop image-resource data of all APP13 segments.
    pub photoshop: Option<Vec<u8>>,
    /// The first standard XMP packet.
    pub xmp: Option<Vec<u8>>,
}

fn read_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// Scans `r`. Garbage or a truncated file yields whatever was found before the problem.
pub(crate) fn scan(mut r: impl Read) -> Scan {
    let mut out = Scan::default();
    let mut head = [0u8; 8];
    if r.read_exact(&mut head[..2]).is_err() {
        return out;
    }
    if head[..2] == [0xFF, 0xD8] {
        // Errors end the scan; what was collected so far is kept.
        let _ = scan_jpeg(&mut r, &mut out);
    } else if head[..2] == PNG_SIGNATURE[..2] {
        let _ = scan_png(&mut r, &mut head, &mut out);
    }
    out
}

fn scan_png(r: &mut impl Read, head: &mut [u8; 8], out: &mut Scan) -> io::Result<()> {
    r.read_exact(&mut head[2..])?;
    if &head[..] != PNG_SIGNATURE {
        return Ok(());
    }
    // The first chunk must be IHDR: length(4) "IHDR" width(4) height(4).
    let mut ihdr = [0u8; 16];
    r.read_exact(&mut ihdr)?;
    if &ihdr[4..8] == b"IHDR" {
        out.width = u32::from_be_bytes([ihdr[8], ihdr[9], ihdr[10], ihdr[11]]);
        out.height = u32::from_be_bytes([ihdr[12], ihdr[13], ihdr[14], ihdr[15]]);
    }
    Ok(())
}

fn scan_jpeg(r: &mut impl Read, out: &mut Scan) -> io::Result<()> {
    let mut photoshop: Vec<u8> = Vec::new();
    let mut seen_photoshop = false;
    for _ in 0..MAX_SEGMENTS {
        // Find the next marker: 0xFF, possibly repeated (fill bytes), then the marker code.
        let mut b = read_u8(r)?;
        if b != 0xFF {
            break; // not at a marker: the header is malformed
        }
        while b == 0xFF {
            b = read_u8(r)?;
        }
        let marker = b;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue, // markers without a length
            0xD9 | 0xDA => break,                  // EOI, or image data begins
            _ => {}
        }
        let mut len = [0u8; 2];
        r.read_exact(&mut len)?;
        let len = usize::from(u16::from_be_bytes(len));
        if len < 2 {
            break;
        }
        let payload_len = len - 2;
        let wanted =
            matches!(marker, 0xE1 | 0xED | 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF);
        if !wanted {
            io::copy(&mut r.by_ref().take(payload_len as u64), &mut io::sink())?;
            continue;
        }
        let mut payload = vec![0u8; payload_len];
        r.read_exact(&mut payload)?;
        match marker {
            0xE1 => {
                if out.xmp.is_none()
                    && let Some(rest) = payload.strip_prefix(XMP_SIGNATURE)
                {
                    out.xmp = Some(rest.to_vec());
                }
            }
            0xED => {
                if let Some(rest) = payload.strip_prefix(PHOTOSHOP_SIGNATURE)
                    && photoshop.len() + rest.len() <= MAX_APP13
                {
                    photoshop.extend_from_slice(rest);
                    seen_photoshop = true;
                }
            }
            _ => {
                // SOFn: precision(1) height(2) width(2) …
                if payload.len() >= 5 {
                    out.height = u32::from(u16::from_be_bytes([payload[1], payload[2]]));
                    out.width = u32::from(u16::from_be_bytes([payload[3], payload[4]]));
                }
            }
        }
    }
    if seen_photoshop {
        out.photoshop = Some(photoshop);
    }
    Ok(())
}

/// Finds the IPTC-IIM block (image resource 0x0404) in Photoshop image-resource data.
pub(crate) fn iim_block(resources: &[u8]) -> Option<&[u8]> {
    let mut pos = 0usize;
    while let Some(rest) = resources.get(pos..) {
        if rest.len() < 12 || &rest[..4] != b"8BIM" {
            return None;
        }
        let id = u16::from_be_bytes([rest[4], rest[5]]);
        // Pascal name: length byte + name, padded so that the whole is even.
        let name_len = usize::from(rest[6]);
        let mut off = 6 + 1 + name_len;
        if off % 2 == 1 {
            off += 1;
        }
        let size_bytes = rest.get(off..off + 4)?;
        let size = u32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]])
            as usize;
        let data_start = off + 4;
        let data = rest.get(data_start..data_start.checked_add(size)?)?;
        if id == 0x0404 {
            return Some(data);
        }
        let padded = size + (size % 2);
        pos = pos.checked_add(data_start)?.checked_add(padded)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0xFF, marker];
        v.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn finds_dimensions_xmp_and_photoshop() {
        let mut f = vec![0xFF, 0xD8];
        f.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let mut xmp = XMP_SIGNATURE.to_vec();
        xmp.extend_from_slice(b"<x/>");
        f.extend(segment(0xE1, &xmp));
        let mut ps = PHOTOSHOP_SIGNATURE.to_vec();
        ps.extend_from_slice(b"8BIM\x04\x04\0\0\0\0\0\x02\x1c\x02");
        f.extend(segment(0xED, &ps));
        f.extend(segment(0xC0, &[8, 0x01, 0x90, 0x02, 0x58, 3]));
        f.extend([0xFF, 0xDA, 0, 2, 0xAA, 0xBB]);
        let s = scan(&f[..]);
        assert_eq!((s.width, s.height), (600, 400));
        assert_eq!(s.xmp.as_deref(), Some(&b"<x/>"[..]));
        let ps = s.photoshop.expect("photoshop block");
        assert_eq!(iim_block(&ps), Some(&b"\x1c\x02"[..]));
    }

    #[test]
    fn png_dimensions() {
        let mut f = PNG_SIGNATURE.to_vec();
        f.extend_from_slice(&[0, 0, 0, 13]);
        f.extend_from_slice(b"IHDR");
        f.extend_from_slice(&640u32.to_be_bytes());
        f.extend_from_slice(&480u32.to_be_bytes());
        let s = scan(&f[..]);
        assert_eq!((s.width, s.height), (640, 480));
    }

    #[test]
    fn truncated_and_lying_lengths_do_not_panic() {
        // APP1 claims 60 KB but the file ends.
        let f = [0xFF, 0xD8, 0xFF, 0xE1, 0xEA, 0x60, b'h', b't'];
        assert_eq!(scan(&f[..]), Scan::default());
        // Length below 2.
        let f = [0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x01];
        assert_eq!(scan(&f[..]), Scan::default());
        // 8BIM resource with a size past the end.
        assert_eq!(iim_block(b"8BIM\x04\x04\0\0\xFF\xFF\xFF\xFFab"), None);
        assert_eq!(iim_block(b"8BIM\x04\x04\x05ab"), None);
    }

    proptest::proptest! {
        #[test]
        fn scan_never_panics(mut bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = scan(&bytes[..]);
            bytes.splice(0..0, [0xFF, 0xD8]);
            let s = scan(&bytes[..]);
            if let Some(p) = s.photoshop { let _ = iim_block(&p); }
            let _ = iim_block(&bytes);
        }
    }
}
