//! Shared helpers: an emulator per test, clients pointed at it, small JPEGs with metadata.

use std::time::Duration;

use photoshelter_client::{Client, ClientBuilder, Gallery, RetryPolicy};
use photoshelter_emulator::Emulator;

pub(crate) async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

/// Retries quickly: the emulator's faults are bursts, not outages.
pub(crate) fn retry() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(5)
        .min_delay(Duration::from_millis(10))
        .max_delay(Duration::from_millis(200))
        .max_elapsed(Duration::from_secs(30))
}

pub(crate) fn builder(emu: &Emulator) -> ClientBuilder {
    Client::builder()
        .base_url(emu.base_url())
        .api_key(emu.api_key())
        .credentials(emu.email(), emu.password())
        .retry(retry())
}

pub(crate) fn client(emu: &Emulator) -> Client {
    builder(emu).build().unwrap()
}

pub(crate) async fn gallery(client: &Client, name: &str) -> Gallery {
    client.galleries().create(name).send().await.unwrap()
}

/// How many requests the emulator logged for this method and path.
pub(crate) fn count(emu: &Emulator, method: &str, path: &str) -> usize {
    emu.request_log()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .count()
}

/// A minimal JPEG (SOI, the given APP segments, EOI).
pub(crate) fn jpeg(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for (marker, payload) in segments {
        out.extend_from_slice(&[0xFF, *marker]);
        out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// An APP13 "Photoshop 3.0" segment holding IPTC-IIM records `(dataset, value)` of record 2.
pub(crate) fn app13_iptc(records: &[(u8, &str)]) -> (u8, Vec<u8>) {
    let mut iim = Vec::new();
    for (dataset, value) in records {
        iim.extend_from_slice(&[0x1C, 0x02, *dataset]);
        iim.extend_from_slice(&u16::try_from(value.len()).unwrap().to_be_bytes());
        iim.extend_from_slice(value.as_bytes());
    }
    let mut payload = b"Photoshop 3.0\0".to_vec();
    payload.extend_from_slice(b"8BIM");
    payload.extend_from_slice(&0x0404u16.to_be_bytes());
    payload.extend_from_slice(&[0, 0]); // empty Pascal name, padded to even
    payload.extend_from_slice(&u32::try_from(iim.len()).unwrap().to_be_bytes());
    payload.extend_from_slice(&iim);
    if iim.len() % 2 == 1 {
        payload.push(0);
    }
    (0xED, payload)
}

/// An APP1 XMP segment.
pub(crate) fn app1_xmp(xmp: &str) -> (u8, Vec<u8>) {
    let mut payload = b"http://ns.adobe.com/xap/1.0/\0".to_vec();
    payload.extend_from_slice(xmp.as_bytes());
    (0xE1, payload)
}

pub(crate) const XMP: &str = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
    photoshop:City="Lisbon" photoshop:State="Lisboa" photoshop:Country="Portugal"
    photoshop:Credit="Tram Desk">
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Tram 28</rdf:li></rdf:Alt></dc:title>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">A yellow tram climbs the hill</rdf:li></rdf:Alt></dc:description>
   <dc:subject><rdf:Bag><rdf:li>tram</rdf:li><rdf:li>lisbon</rdf:li><rdf:li>yellow</rdf:li></rdf:Bag></dc:subject>
   <dc:creator><rdf:Seq><rdf:li>Rita Lens</rdf:li></rdf:Seq></dc:creator>
   <dc:rights><rdf:Alt><rdf:li xml:lang="x-default">(c) 2026 Rita Lens</rdf:li></rdf:Alt></dc:rights>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"#;

/// Deterministic pseudo-random bytes.
pub(crate) fn data(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}
