//! Uploads: the multipart shape, and what happens when the outcome is unknown.

use std::sync::Arc;
use std::time::Duration;

use photoshelter_client::{Client, ErrorKind, UploadSource};
use wiremock::matchers::method;
use wiremock::{MockServer, Request};

use crate::common::*;

/// The parts of a multipart body: (headers, content).
fn multipart_parts(req: &Request) -> Vec<(String, Vec<u8>)> {
    let ctype = req
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = ctype.strip_prefix("multipart/form-data; boundary=") else {
        return Vec::new();
    };
    let delim = format!("--{boundary}");
    let body = &req.body;
    let mut parts = Vec::new();
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(pos) = body[i..]
        .windows(delim.len())
        .position(|w| w == delim.as_bytes())
    {
        starts.push(i + pos);
        i += pos + delim.len();
    }
    for w in starts.windows(2) {
        let part = &body[w[0] + delim.len() + 2..w[1] - 2];
        let split = part.windows(4).position(|x| x == b"\r\n\r\n").unwrap();
        parts.push((
            String::from_utf8_lossy(&part[..split]).into_owned(),
            part[split + 4..].to_vec(),
        ));
    }
    parts
}

#[tokio::test]
async fn upload_streams_a_multipart_with_the_documented_fields() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    let content: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let expected = content.clone();
    authed("mem/image/upload")
        .and(method("POST"))
        .and(move |req: &Request| {
            let parts = multipart_parts(req);
            let names: Vec<_> = parts
                .iter()
                .map(|(h, _)| h.lines().next().unwrap_or("").to_owned())
                .collect();
            names
                == [
                    r#"Content-Disposition: form-data; name="gallery_id""#,
                    r#"Content-Disposition: form-data; name="f_searchable""#,
                    r#"Content-Disposition: form-data; name="file"; filename="quay.jpg""#,
                ]
                && parts[0].1 == G1.as_bytes()
                && parts[1].1 == b"t"
                && parts[2].0.contains("Content-Type: image/jpeg")
                && parts[2].1 == expected
                // A body of known length is announced, not sent chunked (proxies and
                // upload endpoints often refuse chunked request bodies).
                && req.headers.get("transfer-encoding").is_none()
                && req
                    .headers
                    .get("content-length")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<usize>().ok())
                    == Some(req.body.len())
        })
        .respond_with(ok_json(fx!("upload.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "one multipart upload with gallery_id, f_searchable and file",
    )
    .await;

    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = content
        .chunks(1000)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    let source = UploadSource::stream(
        "quay.jpg",
        content.len() as u64,
        futures::stream::iter(chunks),
    )
    .unwrap();
    let image = client(&server)
        .images()
        .upload(&g1(), source)
        .searchable(true)
        .send()
        .await
        .unwrap();
    assert_eq!(image.id.as_str(), I3);
}

#[tokio::test]
async fn upload_to_a_collection_sends_parent_id() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/image/upload")
        .and(|req: &Request| {
            let parts = multipart_parts(req);
            parts.len() == 2
                && parts[0].0.contains(r#"name="parent_id""#)
                && parts[0].1 == C1.as_bytes()
        })
        .respond_with(ok_json(fx!("upload.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "upload with parent_id").await;
    let source = UploadSource::bytes("quay.jpg", vec![1u8; 10]).unwrap();
    client(&server)
        .images()
        .upload_to_collection(&C1.parse().unwrap(), source)
        .send()
        .await
        .unwrap();
}

fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn listing_with(name: &str, size: u64, uploaded_at: &str) -> String {
    serde_json::json!({"status": "ok", "data": {"GalleryImage": [{
        "image_id": I3, "f_visible": "t",
        "Image": {"image_id": I3, "file_name": name, "file_size": size.to_string(), "uploaded_at": uploaded_at}
    }]}})
    .to_string()
}

#[tokio::test]
async fn an_upload_with_unknown_outcome_is_found_not_repeated() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/user/session")
        .respond_with(ok_json(fx!("session.json")))
        .mount(&server)
        .await;
    authed("mem/image/upload")
        .respond_with(status_json(502, "<html>Bad gateway</html>"))
        .expect(1)
        .mount(&server)
        .await;
    // The gateway failed, but the image arrived. The lookup asks for what it compares only.
    let listing = listing_with("quay.jpg", 10, &now_utc());
    authed(&format!("mem/gallery/{G1}/images"))
        .and(ExtendIs(serde_json::json!({
            "Image": {"fields": "image_id,file_name,file_size,uploaded_at"}
        })))
        .respond_with(move |_: &Request| ok_json(&listing))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "one upload, then a look at the gallery").await;

    let client = retrying_client(&server, 3);
    let source = UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap();
    let image = client.images().upload(&g1(), source).send().await.unwrap();
    assert_eq!(image.id.as_str(), I3);
}

#[tokio::test]
async fn an_upload_with_unknown_outcome_is_looked_for_even_with_no_retry_left() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/user/session")
        .respond_with(ok_json(fx!("session.json")))
        .mount(&server)
        .await;
    authed("mem/image/upload")
        .respond_with(status_json(504, ""))
        .expect(1)
        .mount(&server)
        .await;
    let listing = listing_with("quay.jpg", 10, &now_utc());
    authed(&format!("mem/gallery/{G1}/images"))
        .respond_with(move |_: &Request| ok_json(&listing))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "one upload, then a look at the gallery").await;

    // No retries at all (and the same once a long upload has spent the time budget): the
    // image arrived, so this is a success, not an error the caller would upload again after.
    let source = UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap();
    let image = client(&server)
        .images()
        .upload(&g1(), source)
        .send()
        .await
        .unwrap();
    assert_eq!(image.id.as_str(), I3);
}

#[tokio::test]
async fn an_upload_whose_reply_breaks_off_is_looked_up_even_with_one_slot_in_flight() {
    let listing = listing_with("quay.jpg", 10, &now_utc());
    let base = scripted_server(move |head: &str| {
        let line = head.lines().next().unwrap_or("");
        if line.starts_with("POST /psapi/v3/mem/authenticate ") {
            reply_json(fx!("login_no_org.json"))
        } else if line.starts_with("GET /psapi/v3/mem/user/session ") {
            reply_json(fx!("session.json"))
        } else if line.starts_with("POST /psapi/v3/mem/image/upload ") {
            // Accepted, but the reply breaks off after a few of its announced bytes.
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n{\"status\":\"ok\",".to_vec()
        } else if line.starts_with(&format!("GET /psapi/v3/mem/gallery/{G1}/images?")) {
            reply_json(&listing)
        } else {
            format!("HTTP/1.1 500 Unexpected\r\ncontent-length: 0\r\nconnection: close\r\n\r\n{line}").into_bytes()
        }
    })
    .await;
    let client = Client::builder()
        .base_url(base)
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .max_in_flight(1)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let source = UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap();
    let upload = client.images().upload(&g1(), source).send();
    let image = tokio::time::timeout(Duration::from_secs(20), upload)
        .await
        .expect("the lookup does not wait for the slot the upload still holds")
        .unwrap();
    assert_eq!(image.id.as_str(), I3);
}

/// An upload whose outcome is unknown (504), in an account whose clock reads in `tz`; the
/// gallery holds an image of the same name and size uploaded an hour before the attempt.
async fn an_hour_old_namesake_is_not_taken_for_the_upload(tz: &str, now_in_tz: String) {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    let session = serde_json::json!({"status": "ok", "data": {"Session": {
        "user_id": "U0000user_me.001", "email": EMAIL, "tz": tz, "organization_id": null
    }}});
    authed("mem/user/session")
        .respond_with(ok_json(&session.to_string()))
        .mount(&server)
        .await;
    authed("mem/image/upload")
        .respond_with(status_json(504, ""))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    authed("mem/image/upload")
        .respond_with(ok_json(fx!("upload.json")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let listing = listing_with("quay.jpg", 10, &now_in_tz);
    authed(&format!("mem/gallery/{G1}/images"))
        .respond_with(move |_: &Request| ok_json(&listing))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "upload, look, upload again").await;

    let image = retrying_client(&server, 3)
        .images()
        .upload(
            &g1(),
            UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        image.uploaded_at.as_deref(),
        Some("2026-03-04 12:00:00"),
        "the second upload's reply, in {tz}"
    );
}

#[tokio::test]
async fn an_upload_with_unknown_outcome_is_repeated_when_absent() {
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    an_hour_old_namesake_is_not_taken_for_the_upload(
        "UTC",
        an_hour_ago.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
    .await;
}

#[tokio::test]
async fn the_lookup_reads_upload_times_in_the_accounts_named_time_zone() {
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let in_new_york = an_hour_ago.with_timezone(&chrono_tz::America::New_York);
    an_hour_old_namesake_is_not_taken_for_the_upload(
        "America/New_York",
        in_new_york.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
    .await;
}

#[tokio::test]
async fn an_upload_refused_with_500_is_neither_repeated_nor_looked_for() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/image/upload")
        .respond_with(status_json(500, fx!("error_server.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "exactly one upload").await;
    let client = retrying_client(&server, 3);
    let err = client
        .images()
        .upload(
            &g1(),
            UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
}

#[tokio::test]
async fn a_failed_time_zone_lookup_is_asked_again_next_time() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    // The first session look-up fails; the next ones tell the account's zone.
    authed("mem/user/session")
        .respond_with(status_json(404, fx!("error_not_found.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let session = serde_json::json!({"status": "ok", "data": {"Session": {
        "user_id": "U0000user_me.001", "email": EMAIL, "tz": "America/New_York"
    }}});
    authed("mem/user/session")
        .respond_with(ok_json(&session.to_string()))
        .with_priority(2)
        .mount(&server)
        .await;
    // Both uploads' first attempts end in 504; the third attempt overall is stored.
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = attempts.clone();
    authed("mem/image/upload")
        .respond_with(move |_: &Request| {
            match seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) {
                0 | 1 => status_json(504, ""),
                _ => ok_json(fx!("upload.json")),
            }
        })
        .mount(&server)
        .await;
    // The gallery holds a namesake uploaded an hour ago (New York time).
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    let old = an_hour_ago.with_timezone(&chrono_tz::America::New_York);
    let listing = listing_with("quay.jpg", 10, &old.format("%Y-%m-%d %H:%M:%S").to_string());
    authed(&format!("mem/gallery/{G1}/images"))
        .respond_with(move |_: &Request| ok_json(&listing))
        .mount(&server)
        .await;
    catch_all(&server, "uploads, session look-ups and gallery listings").await;

    let client = retrying_client(&server, 3);
    let upload = || {
        client
            .images()
            .upload(
                &g1(),
                UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap(),
            )
            .send()
    };
    // Zone unknown: the window widens to 12 hours and the namesake is taken.
    assert_eq!(upload().await.unwrap().id.as_str(), I3);
    // Zone known now: the hour-old namesake is not this upload, which is sent again.
    let second = upload().await.unwrap();
    assert_eq!(second.uploaded_at.as_deref(), Some("2026-03-04 12:00:00"));
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 3);
}
