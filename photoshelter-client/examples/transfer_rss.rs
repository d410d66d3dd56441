//! Streams one large file up to `photoshelter-emulator` and back down with the SDK, and
//! reports throughput and this process's peak memory (`VmHWM`); then does the same
//! multipart upload and download with curl against the same emulator, alternating, and
//! prints the SDK/curl throughput ratios. Each SDK round also downloads the same image
//! through a bare `reqwest` client, which tells the SDK's own cost from the HTTP stack's.
//! Every upload but the last is deleted after its round, so the store does not grow.
//!
//! The emulator runs in a child process (this program started with `--serve`), so the
//! peak memory measured here is the SDK's alone. The file and the emulator's data live on
//! tmpfs (`/dev/shm`) where there is one, so that disk writeback does not add noise.
//!
//! ```sh
//! cargo run --release -p photoshelter-client --example transfer_rss -- 1024 3   # MiB, rounds
//! ```
//!
//! With `many`, it measures many small uploads instead: `count` files of `kib` KiB with
//! `in_flight` uploads at once through the SDK, then the same uploads as bare multipart
//! POSTs from a minimal `reqwest` loop (no retries, no login handling, no checks): the
//! emulator's own ceiling as a client sees it. Both print uploads per second.
//!
//! ```sh
//! cargo run --release -p photoshelter-client --example transfer_rss -- many 2000 50 8
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::error::Error;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use futures::TryStreamExt;
use photoshelter_client::{Client, RetryPolicy, UploadSource};
use sha2::{Digest, Sha256};

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--serve") {
        return serve(&args[2]).await;
    }
    if args.get(1).map(String::as_str) == Some("many") {
        let arg = |i: usize, default: usize| args.get(i).map_or(Ok(default), |s| s.parse());
        return many_uploads(arg(2, 2000)?, arg(3, 50)?, arg(4, 8)?).await;
    }
    let mib: u64 = args.get(1).map_or(Ok(1024), |s| s.parse())?;
    let rounds: usize = args.get(2).map_or(Ok(1), |s| s.parse())?;
    let size = mib * 1024 * 1024;

    let work = scratch()?;
    let (mut child, base_url, key, email, password) =
        spawn_emulator(&work.path().join("emulator"))?;

    let file = work.path().join("big.jpg");
    let digest = write_file(&file, size)?;
    println!("file: {mib} MiB, sha256 {}", &digest[..16]);

    let client = Client::builder()
        .base_url(&base_url)
        .api_key(&key)
        .credentials(&email, &password)
        .retry(RetryPolicy::none())
        .build()?;
    let gallery = client.galleries().create("transfer bench").send().await?;
    let token = login_token(&base_url, &key, &email, &password).await?;
    let upload_url = format!("{base_url}/psapi/v3/mem/image/upload");

    let (mut sdk_up, mut sdk_down, mut curl_up, mut curl_down) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // CPU seconds of each side (this process; curl's as waited-for children).
    let (mut cpu_sdk_up, mut cpu_sdk_down, mut cpu_curl_up, mut cpu_curl_down) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The same download through a bare `reqwest` client (no SDK), to tell the SDK's own cost
    // from the HTTP stack's.
    let bare = reqwest::Client::new();
    let (mut bare_down, mut cpu_bare_down) = (Vec::new(), Vec::new());
    let mut last_image = None;
    for round in 0..rounds {
        // Alternate who goes first, so neither always meets a warmer page cache.
        let sdk_first = round % 2 == 0;
        for turn in 0..2 {
            if (turn == 0) == sdk_first {
                let (t, c) = (Instant::now(), cpu_secs(false));
                let image = client
                    .images()
                    .upload(&gallery.id, UploadSource::path(&file).await?)
                    .send()
                    .await?;
                sdk_up.push(t.elapsed().as_secs_f64());
                cpu_sdk_up.push(cpu_secs(false) - c);
                let (t, c) = (Instant::now(), cpu_secs(false));
                let mut download = client.images().download(&image.id).send().await?;
                let mut n = 0u64;
                while let Some(chunk) = download.try_next().await? {
                    n += chunk.len() as u64;
                }
                sdk_down.push(t.elapsed().as_secs_f64());
                cpu_sdk_down.push(cpu_secs(false) - c);
                assert_eq!(n, size, "SDK download length");
                let (t, c) = (Instant::now(), cpu_secs(false));
                let mut body = bare
                    .get(format!(
                        "{base_url}/psapi/v3/mem/image/{}/download",
                        image.id
                    ))
                    .header("X-PS-Api-Key", &key)
                    .header("X-PS-Auth-Token", &token)
                    .send()
                    .await?
                    .error_for_status()?
                    .bytes_stream();
                let mut n = 0u64;
                while let Some(chunk) = body.try_next().await? {
                    n += chunk.len() as u64;
                }
                bare_down.push(t.elapsed().as_secs_f64());
                cpu_bare_down.push(cpu_secs(false) - c);
                assert_eq!(n, size, "bare reqwest download length");
                // Only the last upload is kept (for the check below): a store that keeps
                // filling tmpfs makes later rounds wait on memory reclaim.
                if let Some(earlier) = last_image.replace(image.id) {
                    client.provisional().delete_image(&earlier).await?;
                }
            } else if let Some(curl) = curl_round(
                &upload_url,
                &base_url,
                &key,
                &token,
                gallery.id.as_str(),
                &file,
            )? {
                curl_up.push(curl.up.0);
                curl_down.push(curl.down.0);
                cpu_curl_up.push(curl.up.1);
                cpu_curl_down.push(curl.down.1);
                client
                    .provisional()
                    .delete_image(&curl.image.parse()?)
                    .await?;
            }
        }
    }

    // Integrity, outside the timed runs: the SDK's download hashes to the file's digest.
    let id = last_image.ok_or("no round ran")?;
    let mut hasher = Sha256::new();
    let mut download = client.images().download(&id).send().await?;
    while let Some(chunk) = download.try_next().await? {
        hasher.update(&chunk);
    }
    let back = hex::encode(hasher.finalize());
    println!(
        "round trip: sha256 {} ({})",
        &back[..16],
        if back == digest {
            "identical"
        } else {
            "DIFFERENT"
        }
    );

    let mbps = |secs: &[f64]| median(secs).map(|s| mib as f64 / s);
    println!(
        "SDK  upload   median {:>8.1} MiB/s over {} runs",
        mbps(&sdk_up).unwrap_or(0.0),
        sdk_up.len()
    );
    println!(
        "SDK  download median {:>8.1} MiB/s",
        mbps(&sdk_down).unwrap_or(0.0)
    );
    if let (Some(cu), Some(cd)) = (mbps(&curl_up), mbps(&curl_down)) {
        println!("curl upload   median {cu:>8.1} MiB/s");
        println!("curl download median {cd:>8.1} MiB/s");
        println!(
            "ratio SDK/curl: upload {:.2}, download {:.2}",
            mbps(&sdk_up).unwrap_or(0.0) / cu,
            mbps(&sdk_down).unwrap_or(0.0) / cd
        );
        println!(
            "bare reqwest download median {:>8.1} MiB/s (SDK/bare {:.2})",
            mbps(&bare_down).unwrap_or(0.0),
            mbps(&sdk_down).unwrap_or(0.0) / mbps(&bare_down).unwrap_or(f64::NAN)
        );
        let gib = mib as f64 / 1024.0;
        let per_gib = |cpu: &[f64]| median(cpu).unwrap_or(0.0) / gib;
        println!(
            "CPU s per GiB (client side, median): SDK up {:.2} down {:.2}; bare reqwest down {:.2}; curl up {:.2} down {:.2}",
            per_gib(&cpu_sdk_up),
            per_gib(&cpu_sdk_down),
            per_gib(&cpu_bare_down),
            per_gib(&cpu_curl_up),
            per_gib(&cpu_curl_down)
        );
    } else {
        println!("curl not found: no comparison");
    }
    println!(
        "peak RSS (VmHWM) of the SDK process: {} MiB",
        status_kib("self", "VmHWM:").unwrap_or(0) / 1024
    );
    println!(
        "peak RSS (VmHWM) of the emulator process: {} MiB",
        status_kib(&child.id().to_string(), "VmHWM:").unwrap_or(0) / 1024
    );

    drop(child.stdin.take()); // the emulator stops when its stdin closes
    child.wait()?;
    if back != digest {
        return Err("the downloaded bytes differ from the uploaded file".into());
    }
    Ok(())
}

/// `count` uploads of `kib` KiB with `in_flight` at once: through the SDK, then as bare
/// multipart POSTs (the emulator's ceiling for a minimal client).
async fn many_uploads(count: usize, kib: usize, in_flight: usize) -> Result<(), BoxError> {
    use futures::StreamExt;

    let work = scratch()?;
    let (mut child, base_url, key, email, password) =
        spawn_emulator(&work.path().join("emulator"))?;
    let body = bytes::Bytes::from(vec![0x5Au8; kib * 1024]);
    let client = Client::builder()
        .base_url(&base_url)
        .api_key(&key)
        .credentials(&email, &password)
        .max_in_flight(in_flight)
        .build()?;
    let sdk_gallery = client.galleries().create("many sdk").send().await?.id;
    let raw_gallery = client.galleries().create("many raw").send().await?.id;

    let t = Instant::now();
    let sdk: Vec<Result<_, _>> = futures::stream::iter(0..count)
        .map(|i| {
            let (client, gallery, body) = (client.clone(), sdk_gallery.clone(), body.clone());
            async move {
                let source = UploadSource::bytes(format!("sdk-{i:05}.jpg"), body)?;
                client.images().upload(&gallery, source).send().await
            }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let sdk_secs = t.elapsed().as_secs_f64();
    let sdk_ok = sdk.iter().filter(|r| r.is_ok()).count();

    let token = login_token(&base_url, &key, &email, &password).await?;
    let http = reqwest::Client::new();
    let url = format!("{base_url}/psapi/v3/mem/image/upload");
    let t = Instant::now();
    let raw: Vec<bool> = futures::stream::iter(0..count)
        .map(|i| {
            let part =
                reqwest::multipart::Part::bytes(body.to_vec()).file_name(format!("raw-{i:05}.jpg"));
            let form = reqwest::multipart::Form::new()
                .text("gallery_id", raw_gallery.to_string())
                .part("file", part);
            let request = http
                .post(&url)
                .header("X-PS-Api-Key", &key)
                .header("X-PS-Auth-Token", &token)
                .multipart(form);
            async move { request.send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .buffer_unordered(in_flight)
        .collect()
        .await;
    let raw_secs = t.elapsed().as_secs_f64();
    let raw_ok = raw.iter().filter(|ok| **ok).count();

    println!("{count} uploads of {kib} KiB, {in_flight} in flight");
    println!(
        "SDK:             {:>8.0} uploads/s ({sdk_ok} ok, {sdk_secs:.2} s)",
        count as f64 / sdk_secs
    );
    println!(
        "bare multipart:  {:>8.0} uploads/s ({raw_ok} ok, {raw_secs:.2} s)",
        count as f64 / raw_secs
    );
    println!("ratio SDK/bare:  {:.2}", raw_secs / sdk_secs);
    println!(
        "peak RSS (VmHWM): SDK process {} MiB, emulator {} MiB",
        status_kib("self", "VmHWM:").unwrap_or(0) / 1024,
        status_kib(&child.id().to_string(), "VmHWM:").unwrap_or(0) / 1024
    );
    drop(child.stdin.take());
    child.wait()?;
    if sdk_ok != count || raw_ok != count {
        return Err("some uploads failed".into());
    }
    Ok(())
}

/// The child: an emulator on a free port; prints its coordinates, runs until stdin closes.
async fn serve(data_dir: &str) -> Result<(), BoxError> {
    let emu = photoshelter_emulator::Emulator::builder()
        .data_dir(data_dir)
        .start()
        .await?;
    println!(
        "READY {} {} {} {}",
        emu.base_url(),
        emu.api_key(),
        emu.email(),
        emu.password()
    );
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin()
            .read_line(&mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    })
    .await?;
    emu.shutdown().await?;
    Ok(())
}

fn spawn_emulator(
    data_dir: &Path,
) -> Result<(std::process::Child, String, String, String, String), BoxError> {
    std::fs::create_dir_all(data_dir)?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--serve")
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let parts: Vec<&str> = line.split_whitespace().collect();
    match parts.as_slice() {
        ["READY", url, key, email, password] => Ok((
            child,
            url.to_string(),
            key.to_string(),
            email.to_string(),
            password.to_string(),
        )),
        _ => Err(format!("emulator did not start: {line:?}").into()),
    }
}

/// Writes `size` pseudo-random bytes in 1 MiB chunks; returns their SHA-256.
fn write_file(path: &Path, size: u64) -> Result<String, BoxError> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut hasher = Sha256::new();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        for word in chunk.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes()[..word.len()]);
        }
        let n = left.min(chunk.len() as u64) as usize;
        out.write_all(&chunk[..n])?;
        hasher.update(&chunk[..n]);
        left -= n as u64;
    }
    out.flush()?;
    Ok(hex::encode(hasher.finalize()))
}

/// A session token for curl, from the documented login call.
async fn login_token(
    base: &str,
    key: &str,
    email: &str,
    password: &str,
) -> Result<String, BoxError> {
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/psapi/v3/mem/authenticate"))
        .header("X-PS-Api-Key", key)
        .form(&[("email", email), ("password", password), ("mode", "token")])
        .send()
        .await?
        .json()
        .await?;
    Ok(reply["data"]["token"]
        .as_str()
        .ok_or("no token")?
        .to_owned())
}

/// Wall seconds and CPU seconds of one run.
type Timed = (f64, f64);

/// What one curl round measured, and the image it uploaded.
struct CurlRound {
    up: Timed,
    down: Timed,
    image: String,
}

/// One curl upload (the same multipart) and one curl download; `None` without curl.
fn curl_round(
    upload_url: &str,
    base: &str,
    key: &str,
    token: &str,
    gallery: &str,
    file: &Path,
) -> Result<Option<CurlRound>, BoxError> {
    let headers = [
        format!("X-PS-Api-Key: {key}"),
        format!("X-PS-Auth-Token: {token}"),
        "Expect:".to_owned(),
    ];
    let mut up = Command::new("curl");
    up.args(["-sS", "--fail"]);
    for h in &headers {
        up.args(["-H", h]);
    }
    up.args([
        "-F",
        &format!("gallery_id={gallery}"),
        "-F",
        &format!("file=@{};filename=curl.jpg;type=image/jpeg", file.display()),
        upload_url,
    ]);
    let (t, c) = (Instant::now(), cpu_secs(true));
    let out = match up.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let up_time = (t.elapsed().as_secs_f64(), cpu_secs(true) - c);
    if !out.status.success() {
        return Err(format!(
            "curl upload failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let id = reply["data"]["Image"]["image_id"]
        .as_str()
        .ok_or("curl upload: no image id")?
        .to_owned();

    let mut down = Command::new("curl");
    down.args(["-sS", "--fail", "-o", "/dev/null"]);
    for h in &headers[..2] {
        down.args(["-H", h]);
    }
    down.arg(format!("{base}/psapi/v3/mem/image/{id}/download"));
    let (t, c) = (Instant::now(), cpu_secs(true));
    let status = down.status()?;
    let down_time = (t.elapsed().as_secs_f64(), cpu_secs(true) - c);
    if !status.success() {
        return Err("curl download failed".into());
    }
    Ok(Some(CurlRound {
        up: up_time,
        down: down_time,
        image: id,
    }))
}

/// A scratch folder on tmpfs (`/dev/shm`) where there is one, so that disk writeback of
/// the emulator's stored originals does not time the disk instead of the transfers.
fn scratch() -> std::io::Result<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
}

fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied()
}

/// User + system CPU seconds of this process, or of its children that have been waited for
/// (`/proc/self/stat`, in the kernel's fixed 100 ticks per second).
fn cpu_secs(children: bool) -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses and may hold spaces).
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime, stime, cutime, cstime are fields 14-17 of the line, 12-15 after the name.
    let at = if children { 13 } else { 11 };
    let ticks: u64 = fields[at..at + 2]
        .iter()
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks as f64 / 100.0
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}
