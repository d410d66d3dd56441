//! The emulator's own ceiling: 2,000 uploads of 50 KB with 8 in flight (and the same number
//! of downloads and of trivial session calls, for scale), from an in-process reqwest client.
//! Client and server share the machine, so the figures are a floor of the true ceiling.
//!
//! `cargo bench -p photoshelter-emulator --bench upload_ceiling`
//! Options (env): `UPLOADS` (default 2000), `IN_FLIGHT` (8), `ROUNDS` (3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use photoshelter_emulator::Emulator;
use reqwest::multipart::{Form, Part};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Ctx {
    http: reqwest::Client,
    base: String,
    key: String,
    token: String,
}

impl Ctx {
    async fn upload(&self, gallery: &str, i: usize, body: Vec<u8>) -> String {
        let form = Form::new().text("gallery_id", gallery.to_owned()).part(
            "file",
            Part::bytes(body).file_name(format!("img{i:05}.jpg")),
        );
        let resp = self
            .http
            .post(format!("{}/psapi/v3/mem/image/upload", self.base))
            .header("X-PS-Api-Key", &self.key)
            .header("X-PS-Auth-Token", &self.token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: serde_json::Value = resp.json().await.unwrap();
        v["data"]["Image"]["image_id"].as_str().unwrap().to_owned()
    }

    async fn get_bytes_owned(&self, path: String) -> usize {
        let resp = self
            .http
            .get(format!("{}/psapi/v3/{path}", self.base))
            .header("X-PS-Api-Key", &self.key)
            .header("X-PS-Auth-Token", &self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap().len()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn run() {
    let n = env("UPLOADS", 2000);
    let in_flight = env("IN_FLIGHT", 8);
    let rounds = env("ROUNDS", 3);
    let emu = Emulator::start().await.unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(in_flight)
        .build()
        .unwrap();
    let login: serde_json::Value = http
        .post(format!("{}/psapi/v3/mem/authenticate", emu.base_url()))
        .header("X-PS-Api-Key", emu.api_key())
        .form(&[
            ("email", emu.email()),
            ("password", emu.password()),
            ("mode", "token"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ctx = Ctx {
        http,
        base: emu.base_url().to_owned(),
        key: emu.api_key().to_owned(),
        token: login["data"]["token"].as_str().unwrap().to_owned(),
    };
    let body: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();

    let (mut up, mut down, mut sess) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let gallery = emu.seed_gallery(&format!("round {round}"), None).unwrap();
        let t = Instant::now();
        let ids: Vec<String> = futures::stream::iter(0..n)
            .map(|i| ctx.upload(&gallery, i, body.clone()))
            .buffer_unordered(in_flight)
            .collect()
            .await;
        up.push(t.elapsed());
        assert_eq!(emu.gallery_images(&gallery).unwrap().len(), n);

        let t = Instant::now();
        let total: usize = futures::stream::iter(ids.iter())
            .map(|id| ctx.get_bytes_owned(format!("mem/image/{id}/download")))
            .buffer_unordered(in_flight)
            .fold(0, |a, b| async move { a + b })
            .await;
        down.push(t.elapsed());
        assert_eq!(total, n * body.len());

        let t = Instant::now();
        futures::stream::iter(0..n)
            .map(|_| ctx.get_bytes_owned("mem/user/session".to_owned()))
            .buffer_unordered(in_flight)
            .for_each(|_| async {})
            .await;
        sess.push(t.elapsed());
    }
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let (u, d, s) = (median(up), median(down), median(sess));
    println!(
        "{n} x 50 KB, {in_flight} in flight, median of {rounds} rounds (in-process reqwest client):"
    );
    println!(
        "  uploads      {:>8.0}/s  ({:.2} s)",
        rate(u),
        u.as_secs_f64()
    );
    println!(
        "  downloads    {:>8.0}/s  ({:.2} s)",
        rate(d),
        d.as_secs_f64()
    );
    println!(
        "  session GETs {:>8.0}/s  ({:.2} s)",
        rate(s),
        s.as_secs_f64()
    );
    println!(
        "  upload/session ratio {:.2}, download/session ratio {:.2}",
        rate(u) / rate(s),
        rate(d) / rate(s)
    );
    println!(
        "  peak RSS of client + emulator: {} MiB",
        peak_rss_kib() / 1024
    );
    emu.shutdown().await.unwrap();
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    // Two workers: the machine class this project targets has two cores.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}
