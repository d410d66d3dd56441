//! Interleaved timing of the 100,000-row manifest benchmark: raw `csv::ByteRecord`s and
//! mapped `AssetMetadata` runs alternate, so a busy machine slows both alike. Prints the
//! medians and the median of each round's ratio raw / mapped (the target is at least 0.5).
//!
//!     cargo run --release -p asset-metadata --example manifest_ratio [rounds] [raw|iter|reuse|nodup|shuffled]
//!
//! The manifest lists its files in path order, which the duplicate-key check profits from;
//! `shuffled` is `reuse` on the same rows in a scrambled order, the check's general case.
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

/// The same manifest with its rows in a scrambled (but fixed) order: row `i` goes to
/// `i * 7919 % rows`, a permutation since 7919 is prime and does not divide the row count.
fn shuffled(data: &[u8]) -> Vec<u8> {
    let mut lines: Vec<&[u8]> = data.split_inclusive(|&b| b == b'\n').collect();
    let rows = lines.split_off(1);
    assert_ne!(rows.len() % 7919, 0, "not a permutation");
    let mut order = vec![0; rows.len()];
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i * 7919 % rows.len();
    }
    let mut out = lines.concat();
    for i in order {
        out.extend_from_slice(rows[i]);
    }
    out
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
    let mode = std::env::args().nth(2);
    // Built only when timed, so that a single reader's instruction count stays its own.
    let scrambled = match mode.as_deref() {
        None | Some("shuffled") => shuffled(&data),
        Some(_) => Vec::new(),
    };
    if let Some(mode) = mode {
        let data = if mode == "shuffled" {
            &scrambled
        } else {
            &data
        };
        let run: Run = match mode.as_str() {
            "shuffled" => mapped_reusing,
            "raw" => raw,
            "iter" => mapped,
            "reuse" => mapped_reusing,
            "nodup" => mapped_without_duplicate_check,
            other => {
                return Err(
                    format!("unknown mode {other:?}: raw, iter, reuse, nodup or shuffled").into(),
                );
            }
        };
        let t = Instant::now();
        for _ in 0..rounds {
            black_box(run(black_box(data))?);
        }
        println!(
            "{mode}: {:.2?} per round",
            t.elapsed() / rounds.max(1) as u32
        );
        return Ok(());
    }
    // The last reader reads the rows out of order (the raw reader's time does not depend
    // on their order: the same bytes, the same rows).
    let readers: [(&str, Run); 5] = [
        ("raw csv::ByteRecord", raw),
        ("mapped, iterator", mapped),
        ("mapped, read_record (reuse)", mapped_reusing),
        ("  same, no duplicate check", mapped_without_duplicate_check),
        ("  same, rows out of order", mapped_reusing),
    ];
    let mut times = vec![Vec::new(); readers.len()];
    for _ in 0..rounds {
        for (i, ((_, run), times)) in readers.iter().zip(&mut times).enumerate() {
            let input = if i == readers.len() - 1 {
                &scrambled
            } else {
                &data
            };
            let t = Instant::now();
            black_box(run(black_box(input))?);
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
