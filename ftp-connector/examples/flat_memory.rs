//! Shows that memory stays flat whatever the file size: streams a generated file of
//! `SIZE_MIB` (default 1024) through `LocalFs` — write, read back, `copy_to` into a second
//! `LocalFs` — and prints the process's peak resident memory (Linux `VmHWM`) after each step.
//!
//! ```text
//! cargo run -p ftp-connector --example flat_memory -- 1024 [scratch-dir]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::error::Error;

use ftp_connector::{
    ChecksumAlgorithm, CopyOptions, LocalFs, RemoteFs, RemoteFsExt, RemotePath, WriteOptions,
    stream,
};
use futures::TryStreamExt;

/// Peak resident set size in MiB, from `/proc/self/status` (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn report(step: &str) {
    match peak_rss_mib() {
        Some(m) => println!("{step:<40} peak RSS {m:>7.1} MiB"),
        None => println!("{step:<40} peak RSS unknown (no /proc/self/status)"),
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let size_mib: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1024);
    let scratch = match args.next() {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let size = size_mib * 1024 * 1024;
    std::fs::create_dir(scratch.path().join("a"))?;
    std::fs::create_dir(scratch.path().join("b"))?;
    let a = LocalFs::new(scratch.path().join("a")).await?;
    let b = LocalFs::new(scratch.path().join("b")).await?;
    let file = RemotePath::parse("big.bin")?;
    report("start");

    let (data, sent) = stream::hashing(stream::generated(42, size));
    a.write(&file, data, &WriteOptions::new().expected_len(size))
        .await?;
    let sent = sent
        .sha256_hex()
        .ok_or("the upload was not read to its end")?;
    report(&format!("write {size_mib} MiB to LocalFs"));

    let read = a
        .read(&file, 0)
        .await?
        .try_fold(0u64, |n, c| async move { Ok(n + c.len() as u64) })
        .await?;
    assert_eq!(read, size);
    report(&format!("read {size_mib} MiB back"));

    let out = a.copy_to(&file, &b, &file, &CopyOptions::new()).await?;
    assert_eq!(out.bytes, size);
    report(&format!("copy_to a second LocalFs ({size_mib} MiB)"));

    let copied = b.checksum(&file, ChecksumAlgorithm::Sha256).await?;
    assert_eq!(copied.hex, sent, "the copy differs from what was written");
    report("SHA-256 of the copy matches");
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
