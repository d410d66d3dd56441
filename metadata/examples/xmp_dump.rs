//! Prints what `read_xmp` reads from a sidecar, and what `write_xmp` writes back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::error::Error;

fn run() -> Result<(), Box<dyn Error>> {
    let path = std::env::args().nth(1).ok_or("usage: xmp_dump FILE.xmp")?;
    let meta = asset_metadata::xmp::XmpReader::new().read_path(&path)?;
    println!("{meta:#?}");
    println!("{}", asset_metadata::xmp::write_xmp(&meta)?);
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
