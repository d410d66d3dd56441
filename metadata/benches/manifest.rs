//! A 100,000-row CSV manifest mapped to `AssetMetadata`, against reading the same bytes as
//! raw `csv::ByteRecord`s (the floor: parsing alone). Report the ratio raw / mapped. On a
//! busy machine prefer `cargo run --release -p asset-metadata --example manifest_ratio`,
//! which interleaves the runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use asset_metadata::csv::MappingBuilder;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/manifest_data.rs"]
mod manifest_data;

use manifest_data::{ROWS, manifest};

fn bench(c: &mut Criterion) {
    let data = manifest();
    let mut group = c.benchmark_group("csv_manifest_100k");
    group.throughput(Throughput::Elements(ROWS as u64));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("raw_byte_records", |b| {
        b.iter(|| {
            let mut rdr = csv::ReaderBuilder::new().from_reader(black_box(&data[..]));
            let mut rec = csv::ByteRecord::new();
            let mut n = 0usize;
            while rdr.read_byte_record(&mut rec).unwrap() {
                n += rec.len();
            }
            n
        });
    });
    group.bench_function("mapped_asset_metadata", |b| {
        b.iter(|| {
            let rows = MappingBuilder::new()
                .from_reader(black_box(&data[..]))
                .unwrap();
            let mut n = 0usize;
            for row in rows {
                n += row.unwrap().metadata.keywords.len();
            }
            n
        });
    });
    group.bench_function("mapped_read_record_reuse", |b| {
        b.iter(|| {
            let mut rows = MappingBuilder::new()
                .from_reader(black_box(&data[..]))
                .unwrap();
            let mut rec = asset_metadata::ManifestRecord::default();
            let mut n = 0usize;
            while rows.read_record(&mut rec).unwrap() {
                n += rec.metadata.keywords.len();
            }
            n
        });
    });
    // The same without duplicate-key detection: what remembering 100,000 keys costs.
    group.bench_function("mapped_read_record_reuse_no_duplicate_check", |b| {
        b.iter(|| {
            let mut rows = MappingBuilder::new()
                .check_duplicates(false)
                .from_reader(black_box(&data[..]))
                .unwrap();
            let mut rec = asset_metadata::ManifestRecord::default();
            let mut n = 0usize;
            while rows.read_record(&mut rec).unwrap() {
                n += rec.metadata.keywords.len();
            }
            n
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
