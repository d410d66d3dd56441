//! Persistence: the JSON snapshot and the data directory survive a restart.

use photoshelter_emulator::{Emulator, ErrorKind};

use crate::common::{Api, iim, jpeg};

#[tokio::test]
async fn snapshot_round_trip_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (key, password, gallery, image, bytes) = {
        let mut api = Api::with(Emulator::builder().data_dir(dir.path())).await;
        api.login().await;
        let (_, b) = api
            .post_form("mem/collection/insert", &[("name", "Kept")])
            .await;
        let col = b["data"]["Collection"]["collection_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, b) = api
            .post_form(
                "mem/gallery/insert",
                &[("name", "Kept too"), ("parent", &col)],
            )
            .await;
        let g = b["data"]["Gallery"]["gallery_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let bytes = jpeg(30, 20, Some(&iim(2, 5, b"Persisted")), None);
        let (_, b) = api.upload(&g, "p.jpg", bytes.clone()).await;
        let id = b["data"]["Image"]["image_id"].as_str().unwrap().to_owned();
        let out = (
            api.emu.api_key().to_owned(),
            api.emu.password().to_owned(),
            g,
            id,
            bytes,
        );
        api.emu.shutdown().await.unwrap();
        out
    };
    let mut api = Api::with(Emulator::builder().data_dir(dir.path())).await;
    assert_eq!(api.emu.api_key(), key, "credentials persist");
    assert_eq!(api.emu.password(), password);
    api.login().await;
    let (_, b) = api.get(&format!("mem/gallery/{gallery}/images")).await;
    assert_eq!(b["data"]["GalleryImage"][0]["image_id"], image.as_str());
    let (_, b) = api.get(&format!("mem/image/{image}/iptc")).await;
    assert_eq!(b["data"]["Iptc"]["title"], "Persisted");
    let resp = api
        .req(
            reqwest::Method::GET,
            api.url(&format!("mem/image/{image}/download")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());
    // Ids keep their order after a reload.
    let (_, b) = api.get("mem/collection/root/children").await;
    assert_eq!(b["data"]["Children"]["Collection"][0]["name"], "Kept");
}

#[tokio::test]
async fn changes_are_written_without_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("state.json");
    let gallery = {
        let emu = Emulator::builder()
            .data_dir(dir.path())
            .snapshot(&snap)
            .start()
            .await
            .unwrap();
        let g = emu.seed_gallery("Survives drop", None).unwrap();
        drop(emu);
        g
    };
    let text = std::fs::read_to_string(&snap).unwrap();
    assert!(text.contains(&gallery), "{text}");
    assert!(
        !dir.path().join("emulator-snapshot.json").exists(),
        "explicit path wins"
    );
    let emu = Emulator::builder()
        .data_dir(dir.path())
        .snapshot(&snap)
        .start()
        .await
        .unwrap();
    assert!(emu.gallery_images(&gallery).unwrap().is_empty());
}

#[tokio::test]
async fn corrupt_snapshot_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("bad.json");
    std::fs::write(
        &snap,
        "{\n  \"format\": \"photoshelter-emulator/1\",\n  \"account\": 42\n}",
    )
    .unwrap();
    let err = Emulator::builder()
        .snapshot(&snap)
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Snapshot);
    let msg = err.to_string();
    assert!(msg.contains("bad.json") && msg.contains("line 3"), "{msg}");
}

#[tokio::test]
async fn builder_rejects_a_malformed_api_key() {
    let err = Emulator::builder()
        .api_key("short")
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let builder = Emulator::builder()
        .api_key("Fixed.Key_1")
        .password("builder-secret");
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains("Fixed.Key_1") && !debug.contains("builder-secret"),
        "{debug}"
    );
    let emu = builder.start().await.unwrap();
    assert_eq!(
        (emu.api_key(), emu.password()),
        ("Fixed.Key_1", "builder-secret")
    );
}
