//! Workflow 1: a drop folder of approved deliverables is ingested into a PhotoShelter gallery,
//! with their metadata.
//!
//! A photographer (or a newsroom system) drops JPEGs on an FTP, FTPS or SFTP server, with a
//! `manifest.csv` (title, caption, keywords…) and optional `.xmp` sidecars. This program:
//!
//! 1. lists the drop folder and waits until each file is stable (same size and time twice),
//!    so a file still being written is left for the next run;
//! 2. reads the manifest and the sidecars (`asset-metadata`);
//! 3. uploads each new image to the gallery, streaming it from the file server to
//!    PhotoShelter without a local copy (`ftp-connector` → `photoshelter-client`);
//! 4. merges the manifest and sidecar metadata into what PhotoShelter read from the file
//!    (keywords appended, other fields overwritten) and writes back only what changed;
//! 5. moves each ingested file (and its sidecar) to `done/` on the server, and prints a
//!    reconciliation report (optionally as CSV).
//!
//! Running it again ingests nothing twice: an image already in the gallery under the same
//! name and size is not uploaded again.
//!
//! With no settings it runs on embedded defaults: an in-process FTPS server holding the
//! sample drop folder in `examples/data/drop`, and a local PhotoShelter emulator:
//!
//! ```text
//! cargo run --example 01_drop_folder_ingest
//! ```
//!
//! Against real servers (see `--help`):
//!
//! ```text
//! DROP_PASSWORD=… PHOTOSHELTER_API_KEY=… PHOTOSHELTER_EMAIL=… PHOTOSHELTER_PASSWORD=… \
//!   cargo run --example 01_drop_folder_ingest -- \
//!   --drop-url ftps://photographer@ftp.example.com/incoming --gallery "Deliveries 2026-11"
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use asset_metadata::csv::{MappingBuilder, WriteColumn, WriterBuilder};
use asset_metadata::{AssetMetadata, Field, Merge, MergePolicy, photoshelter, xmp};
use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use photoshelter_client::{Client, GalleryId, IptcPatch, Mode, UploadSource};
use photoshelter_ftp::remote::{
    self, Entry, RemoteFs, RemoteFsExt, RemoteOptions, RemotePath, WalkOptions,
};

type BoxError = Box<dyn Error + Send + Sync>;

/// Ingest a drop folder into a PhotoShelter gallery, with its metadata.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The drop folder: ftp://, ftps://, ftps+implicit://, sftp://, file:// URL. Without
    /// it, an in-process FTPS server holding examples/data/drop is used.
    #[arg(long, env = "DROP_URL")]
    drop_url: Option<String>,
    /// Options for the drop folder's connection (a JSON file of `RemoteOptions`: CA
    /// certificates, SSH host key, private key…). The password comes from DROP_PASSWORD.
    #[arg(long, env = "DROP_OPTIONS")]
    drop_options: Option<PathBuf>,
    /// The target gallery's name; created (private) when absent.
    #[arg(long, default_value = "Drop folder deliveries")]
    gallery: String,
    /// How long a file must stay unchanged before it is ingested.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    settle: Duration,
    /// Uploads in flight.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Leave ingested files in place instead of moving them to `done/`.
    #[arg(long)]
    keep: bool,
    /// Write the reconciliation report to this CSV file.
    #[arg(long)]
    report: Option<PathBuf>,
}

/// What happened to one file.
#[derive(Debug)]
struct Outcome {
    file: RemotePath,
    status: &'static str,
    image_id: Option<String>,
    bytes: u64,
    fields_written: usize,
    metadata: AssetMetadata,
    error: Option<String>,
}

async fn run() -> Result<(), BoxError> {
    let args = Args::parse();

    // The drop folder: a real server, or an in-process FTPS server with the sample files.
    let (folder, _server) = match &args.drop_url {
        Some(url) => {
            let mut options = match &args.drop_options {
                Some(path) => serde_json::from_slice(&std::fs::read(path)?)?,
                None => RemoteOptions::new(),
            };
            if let Ok(pw) = std::env::var("DROP_PASSWORD") {
                options = options.password(pw);
            }
            (remote::open(url, options).await?, None)
        }
        None => {
            let server = testbed::FtpServer::start_ftps().await?;
            let drop_dir = server.root().join("drop");
            std::fs::create_dir_all(&drop_dir)?;
            let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/drop");
            for entry in std::fs::read_dir(samples)? {
                let entry = entry?;
                std::fs::copy(entry.path(), drop_dir.join(entry.file_name()))?;
            }
            let mut options = RemoteOptions::new().password(server.password());
            if let Some(ca) = server.ca_cert_path() {
                options = options.ca_certificate(ca);
            }
            let url = format!("{}drop", server.url());
            println!("drop folder: {url} (in-process FTPS server)");
            (remote::open(&url, options).await?, Some(server))
        }
    };

    // PhotoShelter: a real account from PHOTOSHELTER_*, or the local emulator.
    let (client, _emulator) = if std::env::var_os("PHOTOSHELTER_API_KEY").is_some() {
        (Client::builder().from_env().build()?, None)
    } else {
        let emu = photoshelter_emulator::Emulator::start().await?;
        println!("PhotoShelter: {} (local emulator)", emu.base_url());
        let client = Client::builder()
            .base_url(emu.base_url())
            .api_key(emu.api_key())
            .credentials(emu.email(), emu.password())
            .build()?;
        (client, Some(emu))
    };

    let gallery = find_or_create_gallery(&client, &args.gallery).await?;
    println!("gallery: {} ({gallery})", args.gallery);

    // What is already there: (file name, size) of every image in the gallery.
    let already: HashSet<(String, u64)> = client
        .galleries()
        .images(&gallery)
        .extend_image()
        .items()
        .try_filter_map(|gi| async move {
            let image = gi.image;
            Ok(image.and_then(|i| Some((i.file_name?, i.file_size?))))
        })
        .try_collect()
        .await?;

    // The drop folder's contents, outside `done/`.
    let listing: Vec<Entry> = folder
        .walk(&RemotePath::ROOT, WalkOptions::new().exclude("done/**"))
        .try_collect()
        .await?;
    let manifest = read_manifest(folder.as_ref(), &listing).await?;
    let sidecars: HashMap<RemotePath, &Entry> = listing
        .iter()
        .filter(|e| e.is_file() && has_extension(&e.path, "xmp"))
        .map(|e| (e.path.clone(), e))
        .collect();
    let images: Vec<&Entry> = listing
        .iter()
        .filter(|e| {
            e.is_file()
                && ["jpg", "jpeg", "tif", "tiff", "png"]
                    .iter()
                    .any(|x| has_extension(&e.path, x))
        })
        .collect();

    // A file is ready when it has not changed during the settle time.
    tokio::time::sleep(args.settle).await;
    let mut ready = Vec::new();
    let mut outcomes = Vec::new();
    for entry in images {
        let now = folder.stat(&entry.path).await?;
        if now.size == entry.size && now.modified == entry.modified {
            ready.push(now);
        } else {
            outcomes.push(Outcome::new(&entry.path, "still being written", entry.size));
        }
    }
    if !args.keep {
        folder.create_dir_all(&RemotePath::parse("done")?).await?;
    }

    let folder = &folder;
    let (client, gallery, manifest, sidecars, already) =
        (&client, &gallery, &manifest, &sidecars, &already);
    let keep = args.keep;
    let mut done: Vec<Outcome> = futures::stream::iter(ready)
        .map(|entry| async move {
            let mut out = Outcome::new(&entry.path, "uploaded", entry.size);
            if let Err(e) = ingest(
                folder, client, gallery, manifest, sidecars, already, &entry, keep, &mut out,
            )
            .await
            {
                out.status = "failed";
                out.error = Some(e.to_string());
            }
            out
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    outcomes.append(&mut done);
    outcomes.sort_by(|a, b| a.file.cmp(&b.file));

    print_report(&outcomes);
    if let Some(path) = &args.report {
        write_report(path, &outcomes, gallery)?;
        println!("report written to {}", path.display());
    }
    if outcomes.iter().any(|o| o.status == "failed") {
        return Err("some files failed; run again to retry them".into());
    }
    Ok(())
}

/// Uploads one file (unless already present), writes its metadata, moves it to `done/`.
#[allow(clippy::too_many_arguments)]
async fn ingest(
    folder: &Arc<dyn RemoteFs>,
    client: &Client,
    gallery: &GalleryId,
    manifest: &HashMap<String, AssetMetadata>,
    sidecars: &HashMap<RemotePath, &Entry>,
    already: &HashSet<(String, u64)>,
    entry: &Entry,
    keep: bool,
    out: &mut Outcome,
) -> Result<(), BoxError> {
    let name = entry.name().to_owned();
    let size = entry.size.unwrap_or(0);

    // Metadata from the sidecar, then the manifest row over it (keywords added up).
    let sidecar_path = entry.path.parent().and_then(|dir| {
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        dir.join(&format!("{stem}.xmp")).ok()
    });
    let sidecar = sidecar_path.as_ref().filter(|p| sidecars.contains_key(*p));
    let mut incoming = match sidecar {
        Some(p) => xmp::read_xmp(&folder.read_to_bytes(p).await?)?,
        None => AssetMetadata::default(),
    };
    let row = manifest
        .get(entry.path.as_str())
        .or_else(|| manifest.get(name.as_str()));
    if let Some(row) = row {
        Merge::new(MergePolicy::Overwrite)
            .policy(Field::Keywords, MergePolicy::Append)
            .apply(&mut incoming, row);
    }

    if already.contains(&(name.clone(), size)) {
        out.status = "already in PhotoShelter";
    } else {
        // Stream from the file server straight into the upload; replayable for retries.
        let (fs, path) = (Arc::clone(folder), entry.path.clone());
        let source = UploadSource::from_fn(name.clone(), size, move || {
            let (fs, path) = (Arc::clone(&fs), path.clone());
            futures::stream::once(async move { fs.read(&path, 0).await }).try_flatten()
        })?;
        let image = client.images().upload(gallery, source).send().await?;
        out.image_id = Some(image.id.to_string());

        // PhotoShelter has read the metadata embedded in the file; merge ours into it and
        // write back only the fields that changed.
        let extracted = client.images().iptc(&image.id).await?;
        let mut current = photoshelter::from_photoshelter_fields(
            extracted
                .named_fields()
                .into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v))),
        )?;
        let diff = Merge::new(MergePolicy::Overwrite)
            .policy(Field::Keywords, MergePolicy::Append)
            .apply(&mut current, &incoming);
        if !diff.is_empty() {
            let values: HashMap<String, String> = photoshelter::to_photoshelter_fields(&current)
                .into_iter()
                .collect();
            let mut patch = IptcPatch::new();
            for field in diff.fields() {
                let name = photoshelter::name(field);
                patch = match values.get(name) {
                    Some(v) => patch.set(name, v.clone()),
                    None => patch.clear(name),
                };
            }
            out.fields_written = diff.fields().len();
            client.provisional().update_iptc(&image.id, &patch).await?;
        }
        incoming = current;
    }
    out.metadata = incoming;

    if !keep {
        let done = RemotePath::parse("done")?;
        folder.rename(&entry.path, &done.join(&name)?).await?;
        if let Some(p) = sidecar
            && let Some(sidecar_name) = p.file_name()
        {
            folder.rename(p, &done.join(sidecar_name)?).await?;
        }
    }
    Ok(())
}

/// The manifest (`manifest.csv` anywhere in the drop folder), keyed by file name or path.
async fn read_manifest(
    folder: &dyn RemoteFs,
    listing: &[Entry],
) -> Result<HashMap<String, AssetMetadata>, BoxError> {
    let mut rows = HashMap::new();
    for entry in listing
        .iter()
        .filter(|e| e.is_file() && e.name() == "manifest.csv")
    {
        let bytes = folder.read_to_bytes(&entry.path).await?;
        let reader = MappingBuilder::new()
            .file_name(entry.path.to_string())
            .from_reader(&bytes[..])?;
        for row in reader {
            let row = row?;
            rows.insert(row.key, row.metadata);
        }
    }
    Ok(rows)
}

async fn find_or_create_gallery(client: &Client, name: &str) -> Result<GalleryId, BoxError> {
    let mut galleries = client.galleries().list().items();
    while let Some(g) = galleries.try_next().await? {
        if g.name.as_deref() == Some(name) {
            return Ok(g.id);
        }
    }
    Ok(client
        .galleries()
        .create(name)
        .mode(Mode::Private)
        .send()
        .await?
        .id)
}

fn has_extension(path: &RemotePath, ext: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

impl Outcome {
    fn new(file: &RemotePath, status: &'static str, size: Option<u64>) -> Self {
        Outcome {
            file: file.clone(),
            status,
            image_id: None,
            bytes: size.unwrap_or(0),
            fields_written: 0,
            metadata: AssetMetadata::default(),
            error: None,
        }
    }
}

fn print_report(outcomes: &[Outcome]) {
    println!();
    println!(
        "{:<32} {:<24} {:>8} {:>7}  {:<16}",
        "file", "status", "bytes", "fields", "image"
    );
    for o in outcomes {
        println!(
            "{:<32} {:<24} {:>8} {:>7}  {:<16}{}",
            o.file.as_str(),
            o.status,
            o.bytes,
            o.fields_written,
            o.image_id.as_deref().unwrap_or("-"),
            o.error
                .as_deref()
                .map(|e| format!("  {e}"))
                .unwrap_or_default(),
        );
    }
    let uploaded = outcomes.iter().filter(|o| o.status == "uploaded").count();
    println!("\n{uploaded} uploaded, {} files in all", outcomes.len());
}

fn write_report(path: &PathBuf, outcomes: &[Outcome], gallery: &GalleryId) -> Result<(), BoxError> {
    let mut columns = vec![
        WriteColumn::key("file"),
        WriteColumn::extra("status"),
        WriteColumn::extra("image_id"),
        WriteColumn::extra("gallery_id"),
        WriteColumn::extra("bytes"),
        WriteColumn::extra("error"),
    ];
    columns.extend(WriteColumn::default_columns().into_iter().skip(1));
    let mut writer = WriterBuilder::new()
        .columns(columns)
        .file_name(&path.display().to_string())
        .from_writer(std::fs::File::create(path)?)?;
    let gallery = gallery.to_string();
    for o in outcomes {
        let bytes = o.bytes.to_string();
        writer.write_with(
            o.file.as_str(),
            &o.metadata,
            &[
                ("status", o.status),
                ("image_id", o.image_id.as_deref().unwrap_or("")),
                ("gallery_id", &gallery),
                ("bytes", &bytes),
                ("error", o.error.as_deref().unwrap_or("")),
            ],
        )?;
    }
    writer.flush()?;
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
