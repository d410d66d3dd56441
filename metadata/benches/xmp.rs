//! 10,000 XMP sidecars (Lightroom-shaped, about 3 KB each) parsed from memory; files per
//! second is the figure to report. Writing them is measured too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use asset_metadata::xmp::{read_xmp, write_xmp};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const FILES: usize = 10_000;

fn sidecars() -> Vec<Vec<u8>> {
    let template = include_str!("../tests/data/lightroom_attributes.xmp");
    (0..FILES)
        .map(|i| {
            template
                .replace("Harbour at dawn", &format!("Harbour at dawn {i}"))
                .replace(
                    "<rdf:li>dawn</rdf:li>",
                    &format!("<rdf:li>dawn</rdf:li><rdf:li>frame {i}</rdf:li>"),
                )
                .into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let files = sidecars();
    let parsed: Vec<_> = files.iter().map(|f| read_xmp(f).unwrap()).collect();
    let mut group = c.benchmark_group("xmp_10k_sidecars");
    group.throughput(Throughput::Elements(FILES as u64));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("read_xmp", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for f in &files {
                n += read_xmp(black_box(f)).unwrap().keywords.len();
            }
            n
        });
    });
    group.bench_function("write_xmp", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for m in &parsed {
                n += write_xmp(black_box(m)).unwrap().len();
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
