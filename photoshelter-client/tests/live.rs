//! The live suite: the SDK against a real PhotoShelter account.
//!
//! Runs only with `PHOTOSHELTER_API_KEY`, `PHOTOSHELTER_EMAIL` and `PHOTOSHELTER_PASSWORD`
//! set (optionally `PHOTOSHELTER_ORG_ID`, `PHOTOSHELTER_BASE_URL`). Read-only unless
//! `PHOTOSHELTER_LIVE_WRITE=1`, which also creates a private gallery, uploads one small
//! image into it and exercises the provisional v4 writes on that image. Without the
//! variables each test prints one `skipped: …` line and passes.
//!
//! ```sh
//! PHOTOSHELTER_API_KEY=… PHOTOSHELTER_EMAIL=… PHOTOSHELTER_PASSWORD=… \
//!   cargo test -p photoshelter-client --test live -- --nocapture --test-threads 1
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;

use futures::{StreamExt, TryStreamExt};
use photoshelter_client::{
    Child, Client, CollectionId, ErrorKind, IptcPatch, Mode, RetryPolicy, UploadSource,
};

const VARS: [&str; 3] = [
    "PHOTOSHELTER_API_KEY",
    "PHOTOSHELTER_EMAIL",
    "PHOTOSHELTER_PASSWORD",
];

/// Writes straight to stderr: `cargo test` captures `eprintln!`, and a skip must be seen.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn live(test: &str) -> Option<Client> {
    let missing: Vec<_> = VARS
        .iter()
        .filter(|v| std::env::var(v).map_or(true, |s| s.trim().is_empty()))
        .collect();
    if !missing.is_empty() {
        say(&format!(
            "skipped: live::{test}: {} not set",
            missing
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        return None;
    }
    Some(
        Client::builder()
            .from_env()
            .retry(RetryPolicy::default())
            .build()
            .unwrap(),
    )
}

fn live_write(test: &str) -> Option<Client> {
    let client = live(test)?;
    if std::env::var("PHOTOSHELTER_LIVE_WRITE").as_deref() != Ok("1") {
        say(&format!(
            "skipped: live::{test}: writes to the account need PHOTOSHELTER_LIVE_WRITE=1"
        ));
        return None;
    }
    Some(client)
}

#[tokio::test]
async fn session_and_organisations() {
    let Some(client) = live("session_and_organisations") else {
        return;
    };
    let orgs = client.login().await.unwrap();
    let session = client.session().await.unwrap();
    say(&format!(
        "live: user {:?}, tz {:?}, org {:?}, orgs listed {}",
        session.user_id,
        session.tz,
        session.organization_id,
        orgs.len()
    ));
    assert!(
        session.user_id.is_some() || session.email.is_some(),
        "{session:?}"
    );
}

#[tokio::test]
async fn browse_the_library_read_only() {
    let Some(client) = live("browse_the_library_read_only") else {
        return;
    };
    let top: Vec<Child> = client
        .collections()
        .children(&CollectionId::root())
        .per_page(50)
        .pages()
        .take(1)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|p| p.items)
        .collect();
    say(&format!("live: {} top-level children", top.len()));

    let galleries: Vec<_> = client
        .galleries()
        .list()
        .per_page(20)
        .pages()
        .take(1)
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .flat_map(|p| p.items)
        .collect();
    say(&format!(
        "live: first page has {} galleries",
        galleries.len()
    ));
    let Some(gallery) = galleries.first() else {
        return;
    };
    assert_eq!(
        client.galleries().get(&gallery.id).await.unwrap().id,
        gallery.id
    );

    let page = client
        .galleries()
        .images(&gallery.id)
        .per_page(5)
        .extend_iptc()
        .extend_link("300x300")
        .pages()
        .next()
        .await;
    let Some(page) = page.transpose().unwrap() else {
        return;
    };
    let Some(first) = page.items.first() else {
        return;
    };
    say(&format!(
        "live: gallery {} image {} iptc fields {:?}",
        gallery.id,
        first.image_id,
        first
            .iptc()
            .map(|i| i.named_fields().iter().filter(|(_, v)| v.is_some()).count())
    ));

    let image = client.images().get(&first.image_id).await.unwrap();
    let iptc = client.images().iptc(&first.image_id).await.unwrap();
    say(&format!(
        "live: image {:?} {:?} bytes; iptc other keys {:?}",
        image.file_name,
        image.file_size,
        iptc.other.keys().collect::<Vec<_>>()
    ));
    assert!(
        !client
            .images()
            .galleries(&first.image_id)
            .await
            .unwrap()
            .is_empty()
    );
    let link = client
        .images()
        .link(&first.image_id)
        .size("500x500")
        .send()
        .await
        .unwrap();
    assert!(link.link.is_some(), "{link:?}");

    if let Some(name) = image.file_name.as_deref() {
        let hits: Vec<_> = client
            .images()
            .search(name)
            .per_page(10)
            .pages()
            .take(1)
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        say(&format!(
            "live: search `{name}`: {} results on page 1",
            hits.first().map_or(0, |p| p.items.len())
        ));
    }

    // The first bytes of the original, then stop.
    match client.images().download(&first.image_id).send().await {
        Ok(mut download) => {
            let chunk = download.next().await.transpose().unwrap();
            say(&format!(
                "live: download {:?}, total {:?}, first chunk {:?} bytes",
                download.file_name(),
                download.total_size(),
                chunk.map(|c| c.len())
            ));
        }
        Err(err) if err.kind() == ErrorKind::PermissionDenied => {
            say(&format!("live: download refused: {err}"))
        }
        Err(err) => panic!("{err}"),
    }
}

#[tokio::test]
async fn write_upload_edit_and_clean_up() {
    let Some(client) = live_write("write_upload_edit_and_clean_up") else {
        return;
    };
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let gallery = client
        .galleries()
        .create(format!("photoshelter-client live test {stamp}"))
        .mode(Mode::Private)
        .listed(false)
        .send()
        .await
        .unwrap();
    say(&format!("live: created private gallery {}", gallery.id));

    // A 1×1 white JPEG.
    const PIXEL: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x08, 0x06, 0x06, 0x07, 0x06, 0x05, 0x08, 0x07,
        0x07, 0x07, 0x09, 0x09, 0x08, 0x0A, 0x0C, 0x14, 0x0D, 0x0C, 0x0B, 0x0B, 0x0C, 0x19, 0x12,
        0x13, 0x0F, 0x14, 0x1D, 0x1A, 0x1F, 0x1E, 0x1D, 0x1A, 0x1C, 0x1C, 0x20, 0x24, 0x2E, 0x27,
        0x20, 0x22, 0x2C, 0x23, 0x1C, 0x1C, 0x28, 0x37, 0x29, 0x2C, 0x30, 0x31, 0x34, 0x34, 0x34,
        0x1F, 0x27, 0x39, 0x3D, 0x38, 0x32, 0x3C, 0x2E, 0x33, 0x34, 0x32, 0xFF, 0xC0, 0x00, 0x0B,
        0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x09, 0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01,
        0x00, 0x00, 0x3F, 0x00, 0x2A, 0x9F, 0xFF, 0xD9,
    ];
    let image = client
        .images()
        .upload(
            &gallery.id,
            UploadSource::bytes(format!("live-{stamp}.jpg"), PIXEL).unwrap(),
        )
        .send()
        .await
        .unwrap();
    say(&format!(
        "live: uploaded {} ({:?} bytes)",
        image.id, image.file_size
    ));
    let back: Vec<u8> = client
        .images()
        .download(&image.id)
        .send()
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .concat();
    assert_eq!(back.len(), PIXEL.len(), "the original comes back as sent");

    // The provisional v4 writes.
    let iptc = client
        .provisional()
        .update_iptc(
            &image.id,
            &IptcPatch::new()
                .title("photoshelter-client live test")
                .keywords(["live", "test"]),
        )
        .await
        .unwrap();
    assert_eq!(iptc.title.as_deref(), Some("photoshelter-client live test"));
    assert_eq!(
        client
            .images()
            .iptc(&image.id)
            .await
            .unwrap()
            .title
            .as_deref(),
        Some("photoshelter-client live test")
    );
    let renamed = client
        .provisional()
        .update_gallery(&gallery.id)
        .name(format!("photoshelter-client live test {stamp} (delete me)"))
        .send()
        .await
        .unwrap();
    say(&format!("live: renamed gallery to {:?}", renamed.name));
    client.provisional().delete_image(&image.id).await.unwrap();
    assert_eq!(
        client.images().get(&image.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    say(&format!(
        "live: deleted image {}; the empty private gallery {} stays (no API deletes galleries)",
        image.id, gallery.id
    ));
}
