//! Interleaved timing of the 100,000-row manifest benchmark: raw `csv::ByteRecord`s and
//! mapped `AssetMetadata` runs alternate, so a busy machine slows both alike. Prints the
//! medians and the median of each round's ratio raw / mapped (the target is at least 0.5).
//!
//!     cargo run --release -p asset-metadata --example manifest_ratio [rounds] [raw|iter|reuse|nodup]
//!
//! With a mode, only that reader runs (`rounds` times), for instruction counts (`nodup` is
//! `reuse` without duplicate-key detection, to see what that costs):
//!
//!     valgrind --tool=callgrind target/release/examples/manifest_ratio 1 reuse
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use asset_metadata::csv::MappingBuilder;

#[path = "../benches/support/manifest_data.rs"]
mod manifest_data;

use manifest_data::{ROWS, manifest};

fn raw(data: &[u8]) -> Result<usize, Box<dyn Error>> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(data);
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while rdr.read_byte_record(&mut rec)? {
        n += rec.len();
    }
    Ok(n)
}

fn mapped(data: &[u8]) -> Result<usize, Box<dyn Error>> {
    let mut n = 0;
    for row in MappingBuilder::new().from_reader(data)? {
        n += row?.metadata.keywords.len();
    }
    Ok(n)
}

fn mapped_reusing(data: &[u8]) -> Result<usize, Box<dyn Error>> {
    let mut rows = MappingBuilder::new().from_reader(data)?;
    let mut rec = asset_metadata::ManifestRecord::default();
    let mut n = 0;
    while rows.read_record(&mut rec)? {
        n += rec.metadata.keywords.len();
    }
    Ok(n)
}

fn mapped_without_duplicate_check(data: &[u8]) -> Result<usize, Box<dyn Error>> {
    let mut rows = MappingBuilder::new()
        .check_duplicates(false)
        .from_reader(data)?;
    let mut rec = asset_metadata::ManifestRecord::default();
    let mut n = 0;
    while rows.read_record(&mut rec)? {
        n += rec.metadata.keywords.len();
    }
    Ok(n)
}

/// One of the timed readers.
type Run = fn(&[u8]) -> Result<usize, Box<dyn Error>>;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run() -> Result<(), Box<dyn Error>> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(15);
    let data = manifest();
    if let Some(mode) = std::env::args().nth(2) {
        let run: Run = match mode.as_str() {
            "raw" => raw,
            "iter" => mapped,
            "reuse" => mapped_reusing,
            "nodup" => mapped_without_duplicate_check,
            other => {
                return Err(format!("unknown mode {other:?}: raw, iter, reuse or nodup").into());
            }
        };
        let t = Instant::now();
        for _ in 0..rounds {
            black_box(run(black_box(&data))?);
        }
        println!(
            "{mode}: {:.2?} per round",
            t.elapsed() / rounds.max(1) as u32
        );
        return Ok(());
    }
    let readers: [(&str, Run); 4] = [
        ("raw csv::ByteRecord", raw),
        ("mapped, iterator", mapped),
        ("mapped, read_record (reuse)", mapped_reusing),
        ("  same, no duplicate check", mapped_without_duplicate_check),
    ];
    let mut times = vec![Vec::new(); readers.len()];
    for _ in 0..rounds {
        for ((_, run), times) in readers.iter().zip(&mut times) {
            let t = Instant::now();
            black_box(run(black_box(&data))?);
            times.push(t.elapsed());
        }
    }
    // Ratios are taken within each round (neighbours share the machine's load), then the
    // median is printed.
    let raw_times = times[0].clone();
    println!(
        "{ROWS} rows, {} bytes, median of {rounds} interleaved rounds:",
        data.len()
    );
    for ((name, _), times) in readers.iter().zip(times) {
        let ratios: Vec<f64> = raw_times
            .iter()
            .zip(&times)
            .map(|(r, t)| r.as_secs_f64() / t.as_secs_f64())
            .collect();
        let t = median(times);
        let rate = ROWS as f64 / t.as_secs_f64();
        if *name == readers[0].0 {
            println!("  {name:<30} {t:>10.2?}  {rate:>9.0} rows/s");
        } else {
            println!(
                "  {name:<30} {t:>10.2?}  {rate:>9.0} rows/s  ratio raw/mapped {:.2}",
                median_f64(ratios)
            );
        }
    }
    Ok(())
}

fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
