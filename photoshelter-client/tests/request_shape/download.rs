//! Downloads: streaming, offsets, servers that ignore `Range`, resumption.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use photoshelter_client::{Client, ErrorKind, ImageId};
use wiremock::matchers::{header, header_exists};
use wiremock::{MockServer, Request, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn download_streams_the_original_and_resumes_from_an_offset() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    let original: Vec<u8> = (0..10u8).collect();
    let dl = format!("mem/image/{I1}/download");
    authed(&dl)
        .and(header("Range", "bytes=4-"))
        .respond_with(
            ResponseTemplate::new(206)
                .insert_header("Content-Range", "bytes 4-9/10")
                .insert_header(
                    "Content-Disposition",
                    r#"attachment; filename="harbour.jpg""#,
                )
                .set_body_bytes(original[4..].to_vec()),
        )
        .expect(1)
        .mount(&server)
        .await;
    authed(&dl)
        .and(|req: &Request| !req.headers.contains_key("range"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Content-Disposition",
                    r#"attachment; filename="harbour.jpg""#,
                )
                .set_body_bytes(original.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "a full and a ranged download").await;

    let client = client(&server);
    let id: ImageId = I1.parse().unwrap();
    let full = client.images().download(&id).send().await.unwrap();
    assert_eq!(
        (full.file_name(), full.total_size()),
        (Some("harbour.jpg"), Some(10))
    );
    let bytes: Vec<u8> = full.try_collect::<Vec<_>>().await.unwrap().concat();
    assert_eq!(bytes, original);

    let rest = client
        .images()
        .download(&id)
        .offset(4)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (rest.offset(), rest.total_size(), rest.remaining()),
        (4, Some(10), Some(6))
    );
    let mut out = Vec::new();
    assert_eq!(rest.copy_to(&mut out).await.unwrap(), 6);
    assert_eq!(out, &original[4..]);
}

#[tokio::test]
async fn a_server_ignoring_range_still_yields_the_right_bytes() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    let original: Vec<u8> = (0..100u8).collect();
    authed(&format!("mem/image/{I1}/download"))
        .and(header_exists("Range"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(original.clone()))
        .mount(&server)
        .await;
    catch_all(&server, "a ranged download").await;
    let dl = client(&server)
        .images()
        .download(&I1.parse().unwrap())
        .offset(60)
        .send()
        .await
        .unwrap();
    let bytes: Vec<u8> = dl.try_collect::<Vec<_>>().await.unwrap().concat();
    assert_eq!(bytes, &original[60..]);
}

/// A server that cuts its first download after `cut` bytes and answers the `Range`
/// request that follows. wiremock cannot break a body halfway.
async fn cutting_server(
    original: Arc<Vec<u8>>,
    cut: usize,
    seen: Arc<Mutex<Vec<String>>>,
) -> String {
    scripted_server(move |head: &str| {
        seen.lock()
            .unwrap()
            .push(head.lines().next().unwrap_or("").to_owned());
        let range = head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("range: bytes=")
                .map(|r| r.trim_end_matches('-').parse::<usize>().unwrap())
        });
        let total = original.len();
        if head.contains("/mem/authenticate") {
            reply_json(fx!("login_no_org.json"))
        } else if let Some(from) = range {
            let mut reply = format!(
                "HTTP/1.1 206 Partial Content\r\ncontent-length: {}\r\ncontent-range: bytes {from}-{}/{total}\r\netag: \"v1\"\r\nconnection: close\r\n\r\n",
                total - from,
                total - 1
            )
            .into_bytes();
            reply.extend_from_slice(&original[from..]);
            reply
        } else {
            // The connection drops halfway through the body.
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {total}\r\netag: \"v1\"\r\nconnection: close\r\n\r\n"
            )
            .into_bytes();
            reply.extend_from_slice(&original[..cut]);
            reply
        }
    })
    .await
}

#[tokio::test]
async fn a_download_cut_halfway_resumes_with_range_and_if_range() {
    let original: Arc<Vec<u8>> = Arc::new((0..200_000u32).map(|i| (i % 253) as u8).collect());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = cutting_server(original.clone(), 70_000, seen.clone()).await;
    let client = Client::builder()
        .base_url(base)
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let dl = client
        .images()
        .download(&I1.parse().unwrap())
        .send()
        .await
        .unwrap();
    let bytes: Vec<u8> = dl.try_collect::<Vec<_>>().await.unwrap().concat();
    assert_eq!(bytes.len(), original.len());
    assert!(bytes == *original, "resumed bytes differ");
    assert_eq!(
        seen.lock().unwrap().len(),
        3,
        "login, the cut download, the resumed one"
    );

    // Without resumption the cut is an error, not a short file.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base = cutting_server(original.clone(), 70_000, seen).await;
    let client = Client::builder()
        .base_url(base)
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let dl = client
        .images()
        .download(&I1.parse().unwrap())
        .resume(false)
        .send()
        .await
        .unwrap();
    let err = dl.try_collect::<Vec<_>>().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
}

#[tokio::test]
async fn a_download_is_resumed_however_long_it_has_been_running() {
    let original: Arc<Vec<u8>> = Arc::new((0..200_000u32).map(|i| (i % 251) as u8).collect());
    let base = cutting_server(original.clone(), 70_000, Arc::default()).await;
    let client = Client::builder()
        .base_url(base)
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(3).max_elapsed(Duration::from_millis(300)))
        .build()
        .unwrap();
    let mut dl = client
        .images()
        .download(&I1.parse().unwrap())
        .send()
        .await
        .unwrap();
    let mut bytes = dl.try_next().await.unwrap().unwrap().to_vec();
    // A slow reader: the cut shows after the policy's whole time budget has passed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    while let Some(chunk) = dl.try_next().await.unwrap() {
        bytes.extend_from_slice(&chunk);
    }
    assert!(bytes == *original, "resumed bytes differ");
}
