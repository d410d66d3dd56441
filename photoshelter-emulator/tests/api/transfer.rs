//! Upload (multipart, streamed) and download (streamed, Range).

use std::sync::Arc;

use futures::StreamExt;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};

use crate::common::{Api, assert_v3_error, send};

/// Deterministic pseudo-random bytes, generated in chunks (never one big buffer).
fn chunk(seed: u64, i: u64, len: usize) -> Vec<u8> {
    let mut x = seed ^ (i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn upload_stores_the_original_and_returns_the_image() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("Uploads here", None).unwrap();
    let bytes = chunk(1, 0, 300_000);
    let (s, b) = api.upload(&g, "IMG_0001.JPG", bytes.clone()).await;
    assert_eq!(s, 200, "{b}");
    let img = &b["data"]["Image"];
    let id = img["image_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("I0000") && id.len() == 16);
    assert_eq!(img["file_name"], "IMG_0001.JPG");
    assert_eq!(img["file_size"], "300000");
    assert_eq!(img["f_searchable"], "t");
    assert_eq!(api.emu.gallery_images(&g).unwrap(), vec![id.clone()]);
    assert_eq!(api.emu.image_bytes(&id).await.unwrap(), bytes);

    // The same name again is a second image (the API does not de-duplicate).
    let (s, b) = api.upload(&g, "IMG_0001.JPG", vec![1, 2, 3]).await;
    assert_eq!(s, 200);
    assert_ne!(b["data"]["Image"]["image_id"], id.as_str());
    assert_eq!(api.emu.gallery_images(&g).unwrap().len(), 2);

    // Fields after the file, a path in the file name, and f_searchable=f.
    let form = Form::new()
        .part(
            "file",
            Part::bytes(vec![9; 10]).file_name("C:\\shots\\late.jpg"),
        )
        .text("f_searchable", "f")
        .text("gallery_id", g.clone());
    let (s, b) = send(
        api.req(Method::POST, api.url("mem/image/upload"))
            .multipart(form),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["Image"]["file_name"], "late.jpg");
    assert_eq!(b["data"]["Image"]["f_searchable"], "f");
}

#[tokio::test]
async fn upload_into_a_collection_uses_its_uploads_gallery() {
    let api = Api::logged_in().await;
    let col = api.emu.seed_collection("Incoming", None).unwrap();
    let up = |name: &'static str| {
        let form = Form::new()
            .text("parent_id", col.clone())
            .part("file", Part::bytes(vec![1; 5]).file_name(name));
        send(
            api.req(Method::POST, api.url("mem/image/upload"))
                .multipart(form),
        )
    };
    let (s, b) = up("a.jpg").await;
    assert_eq!(s, 200, "{b}");
    let (s, _) = up("b.jpg").await;
    assert_eq!(s, 200);
    let (_, b) = api.get(&format!("mem/collection/{col}/children")).await;
    let gals = b["data"]["Children"]["Gallery"].as_array().unwrap();
    assert_eq!(gals.len(), 1, "{b}");
    assert_eq!(gals[0]["name"], "Uploads");
    let gid = gals[0]["gallery_id"].as_str().unwrap();
    assert_eq!(api.emu.gallery_images(gid).unwrap().len(), 2);
}

#[tokio::test]
async fn upload_errors_leave_nothing_behind() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    let col = api.emu.seed_collection("C", None).unwrap();
    let cases: Vec<(Form, u16, &str)> = vec![
        (
            Form::new().text("gallery_id", g.clone()),
            400,
            "InvalidInputErr",
        ),
        (
            Form::new().part("file", Part::bytes(vec![1]).file_name("x.jpg")),
            400,
            "InvalidInputErr",
        ),
        (
            Form::new()
                .text("gallery_id", g.clone())
                .text("parent_id", col.clone())
                .part("file", Part::bytes(vec![1]).file_name("x.jpg")),
            400,
            "InvalidInputErr",
        ),
        (
            Form::new()
                .text("gallery_id", "G0000abcdefghijk")
                .part("file", Part::bytes(vec![1; 1000]).file_name("x.jpg")),
            404,
            "NotFoundErr",
        ),
        (
            Form::new()
                .text("gallery_id", "nope")
                .part("file", Part::bytes(vec![1]).file_name("x.jpg")),
            400,
            "InvalidInputErr",
        ),
        (
            Form::new()
                .text("gallery_id", g.clone())
                .part("file", Part::bytes(vec![1]).file_name("..")),
            400,
            "InvalidInputErr",
        ),
        (
            Form::new()
                .text("gallery_id", g.clone())
                .part("file", Part::bytes(vec![1]).file_name("a.jpg"))
                .part("file", Part::bytes(vec![2]).file_name("b.jpg")),
            400,
            "InvalidInputErr",
        ),
    ];
    for (form, status, class) in cases {
        let (s, b) = send(
            api.req(Method::POST, api.url("mem/image/upload"))
                .multipart(form),
        )
        .await;
        assert_v3_error(s, &b, status, class);
    }
    let (s, b) = api
        .post_form("mem/image/upload", &[("gallery_id", &g)])
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    assert_eq!(api.emu.image_count(), 0);
    let leftovers = std::fs::read_dir(api.emu.data_dir().join("tmp"))
        .unwrap()
        .count()
        + std::fs::read_dir(api.emu.data_dir().join("originals"))
            .unwrap()
            .count();
    assert_eq!(leftovers, 0, "no temp files or originals remain");
}

#[tokio::test]
async fn large_upload_streams_and_downloads_back_identical() {
    const CHUNK: usize = 256 * 1024;
    const CHUNKS: u64 = 96; // 24 MiB
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("Big", None).unwrap();
    let len = CHUNK as u64 * CHUNKS;
    let mut want = Sha256::new();
    for i in 0..CHUNKS {
        want.update(chunk(7, i, CHUNK));
    }
    let want = hex::encode(want.finalize());
    let stream =
        futures::stream::iter(0..CHUNKS).map(|i| Ok::<_, std::io::Error>(chunk(7, i, CHUNK)));
    let part =
        Part::stream_with_length(reqwest::Body::wrap_stream(stream), len).file_name("big.tif");
    let form = Form::new().text("gallery_id", g.clone()).part("file", part);
    let (s, b) = send(
        api.req(Method::POST, api.url("mem/image/upload"))
            .multipart(form),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let id = b["data"]["Image"]["image_id"].as_str().unwrap().to_owned();
    assert_eq!(b["data"]["Image"]["file_size"], len.to_string());

    let resp = api
        .req(Method::GET, api.url(&format!("mem/image/{id}/download")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(len));
    assert_eq!(resp.headers()["content-type"], "image/tiff");
    let mut got = Sha256::new();
    let mut body = resp.bytes_stream();
    while let Some(c) = body.next().await {
        got.update(c.unwrap());
    }
    assert_eq!(hex::encode(got.finalize()), want);
}

#[tokio::test]
async fn download_headers_and_ranges() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    let bytes: Vec<u8> = (0..1000u32).map(|i| (i % 256) as u8).collect();
    let id = api
        .emu
        .seed_image(&g, "Café 1.jpg", bytes.clone())
        .await
        .unwrap();
    let url = api.url(&format!("mem/image/{id}/download"));

    let resp = api.req(Method::GET, url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers().clone();
    assert_eq!(h["content-length"], "1000");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["content-type"], "image/jpeg");
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment; filename=\"Caf_ 1.jpg\""),
        "{cd}"
    );
    assert!(cd.contains("filename*=UTF-8''Caf%C3%A9%201.jpg"), "{cd}");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());

    for (range, start, end) in [
        ("bytes=100-199", 100, 199),
        ("bytes=900-", 900, 999),
        ("bytes=-10", 990, 999),
        ("bytes=990-5000", 990, 999),
    ] {
        let resp = api
            .req(Method::GET, url.clone())
            .header("Range", range)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 206, "{range}");
        assert_eq!(
            resp.headers()["content-range"],
            format!("bytes {start}-{end}/1000").as_str()
        );
        assert_eq!(
            resp.headers()["content-length"],
            (end - start + 1).to_string().as_str()
        );
        assert_eq!(
            resp.bytes().await.unwrap().as_ref(),
            &bytes[start..=end],
            "{range}"
        );
    }
    let resp = api
        .req(Method::GET, url.clone())
        .header("Range", "bytes=1000-")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 416);
    assert_eq!(resp.headers()["content-range"], "bytes */1000");
    let resp = api
        .req(Method::GET, url.clone())
        .header("Range", "bytes=0-1,5-6")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "multiple ranges: the whole file");

    let resp = api.req(Method::HEAD, url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-length"], "1000");
}

#[tokio::test]
async fn concurrent_uploads_all_land_once() {
    let api = Arc::new(Api::logged_in().await);
    let g = api.emu.seed_gallery("Many", None).unwrap();
    let results: Vec<String> = futures::stream::iter(0..200u32)
        .map(|i| {
            let api = Arc::clone(&api);
            let g = g.clone();
            async move {
                let (s, b) = api
                    .upload(&g, &format!("f{i:04}.jpg"), chunk(3, u64::from(i), 50_000))
                    .await;
                assert_eq!(s, 200, "{b}");
                b["data"]["Image"]["image_id"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut ids = results.clone();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 200);
    assert_eq!(api.emu.gallery_images(&g).unwrap().len(), 200);
    assert_eq!(api.emu.image_count(), 200);
}

/// Peak memory of this process while a large upload streams through the emulator.
/// Opt-in: `EMULATOR_BIG_UPLOAD_MB=512 cargo test -p photoshelter-emulator --test api big_upload -- --nocapture`.
#[tokio::test]
async fn big_upload_keeps_memory_flat() {
    let Some(mb) = std::env::var("EMULATOR_BIG_UPLOAD_MB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        eprintln!("skipped: set EMULATOR_BIG_UPLOAD_MB=512 to run");
        return;
    };
    const CHUNK: usize = 1024 * 1024;
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("Huge", None).unwrap();
    let before = peak_rss_kib();
    let stream =
        futures::stream::iter(0..mb).map(|i| Ok::<_, std::io::Error>(chunk(11, i % 8, CHUNK)));
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), mb * CHUNK as u64)
        .file_name("huge.bin");
    let form = Form::new().text("gallery_id", g.clone()).part("file", part);
    let (s, b) = send(
        api.req(Method::POST, api.url("mem/image/upload"))
            .multipart(form),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let id = b["data"]["Image"]["image_id"].as_str().unwrap().to_owned();
    let resp = api
        .req(Method::GET, api.url(&format!("mem/image/{id}/download")))
        .send()
        .await
        .unwrap();
    let mut n = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(c) = body.next().await {
        n += c.unwrap().len() as u64;
    }
    assert_eq!(n, mb * CHUNK as u64);
    let after = peak_rss_kib();
    let grew_mib = (after.saturating_sub(before)) / 1024;
    eprintln!("{mb} MiB up and down: peak RSS {before} KiB -> {after} KiB (+{grew_mib} MiB)");
    assert!(
        grew_mib < 64,
        "peak RSS grew by {grew_mib} MiB for a {mb} MiB transfer"
    );
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn upload_requires_multipart() {
    let api = Api::logged_in().await;
    let (s, b) = send(
        api.req(Method::POST, api.url("mem/image/upload"))
            .body("plain"),
    )
    .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
}
