//! Fault injection, from Rust and through the admin API.

use std::time::{Duration, Instant};

use futures::StreamExt;
use photoshelter_emulator::FaultRule;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::common::{Api, assert_v3_error, assert_v4_error, send};

#[tokio::test]
async fn rate_limit_every_nth_call_with_retry_after() {
    let api = Api::logged_in().await;
    api.emu.faults().rate_limit_every(3, 7).unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let resp = api
            .req(Method::GET, api.url("mem/user/session"))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
        if resp.status() == 429 {
            assert_eq!(resp.headers()["retry-after"], "7");
            let b: Value = resp.json().await.unwrap();
            assert_eq!(b["error"]["class"], "RateLimitErr");
        }
    }
    assert_eq!(statuses, [200, 200, 429, 200, 200, 429]);
}

#[tokio::test]
async fn error_burst_is_scoped_by_path_and_counted() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    api.emu
        .faults()
        .add(
            FaultRule::status(503)
                .count(2)
                .path_prefix("/psapi/v3/mem/image/upload"),
        )
        .unwrap();
    assert_eq!(
        api.get("mem/user/session").await.0,
        200,
        "other paths are untouched"
    );
    for _ in 0..2 {
        let (s, b) = api.upload(&g, "x.jpg", vec![1; 100_000]).await;
        assert_v3_error(s, &b, 503, "ServerErr");
    }
    let (s, b) = api.upload(&g, "x.jpg", vec![1; 100]).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(api.emu.image_count(), 1, "failed calls stored nothing");
    let list = api.emu.faults().list();
    assert_eq!(
        (list[0].matched, list[0].fired, list[0].active),
        (2, 2, false)
    );

    // v4 paths answer in the v4 envelope.
    api.emu.faults().fail_next(500, 1).unwrap();
    let (s, b) = send(api.req(Method::DELETE, api.v4_url("media/I0000abcdefghijk"))).await;
    assert_v4_error(s, &b, 500, "ServerErr");
}

#[tokio::test]
async fn an_injected_error_answers_before_a_large_upload_has_arrived() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    api.emu
        .faults()
        .add(FaultRule::rate_limit(2).path_prefix("/psapi/v3/mem/image/upload"))
        .unwrap();
    // A 2 GiB upload whose first 256 KiB arrive at once and the rest much later.
    let start = futures::stream::iter([Ok::<_, std::io::Error>(vec![0u8; 256 * 1024])]);
    let body = reqwest::Body::wrap_stream(start.chain(futures::stream::pending()));
    let request = api
        .req(Method::POST, api.url("mem/image/upload"))
        .header("content-type", "multipart/form-data; boundary=x")
        .header("content-length", (2u64 << 30).to_string())
        .body(body)
        .send();
    let reply = tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("answered without waiting for the body")
        .unwrap();
    assert_eq!(reply.status(), 429);
    assert_eq!(reply.headers()["retry-after"], "2");
    let (s, b) = api.get(&format!("mem/gallery/{g}/images")).await;
    assert_eq!(
        (
            s.as_u16(),
            b["data"]["GalleryImage"].as_array().map(Vec::len)
        ),
        (200, Some(0))
    );
}

#[tokio::test]
async fn latency_delays_calls() {
    let api = Api::logged_in().await;
    api.emu
        .faults()
        .add(FaultRule::latency(300).path_prefix("/psapi/v3/mem/user/session"))
        .unwrap();
    let t = Instant::now();
    assert_eq!(api.get("mem/user/session").await.0, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(
        api.emu.request_log().last().unwrap().fault.as_deref(),
        Some("latency")
    );
}

#[tokio::test]
async fn dropped_upload_is_stored_but_gets_no_response() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    api.emu.faults().drop_next_uploads(1).unwrap();
    let form = Form::new()
        .text("gallery_id", g.clone())
        .part("file", Part::bytes(vec![5; 200_000]).file_name("lost.jpg"));
    let err = api
        .req(Method::POST, api.url("mem/image/upload"))
        .multipart(form)
        .send()
        .await
        .expect_err("the connection is closed without a response");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    // Reset (RST) the way a crashed server or a load balancer cuts a connection, not
    // closed in order.
    let chain = format!("{err:?}");
    assert!(chain.contains("ConnectionReset"), "{chain}");
    // The image IS stored: a client must look before uploading again.
    let stored = api.emu.gallery_images(&g).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(api.emu.image(&stored[0]).unwrap().file_name, "lost.jpg");
    let last = api.emu.request_log().last().cloned().unwrap();
    assert!(last.dropped && last.status.is_none(), "{last:?}");
    // The next call (on a new connection) works.
    let (s, b) = api.get(&format!("mem/gallery/{g}/images")).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["GalleryImage"][0]["image_id"], stored[0].as_str());
}

#[tokio::test]
async fn drop_before_handler_stores_nothing() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    api.emu
        .faults()
        .add(FaultRule::drop_before_handler().count(1))
        .unwrap();
    let form = Form::new()
        .text("gallery_id", g.clone())
        .part("file", Part::bytes(vec![5; 1000]).file_name("a.jpg"));
    let r = api
        .req(Method::POST, api.url("mem/image/upload"))
        .multipart(form)
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(api.emu.image_count(), 0);
    assert_eq!(api.upload(&g, "a.jpg", vec![1]).await.0, 200);
}

#[tokio::test]
async fn expire_session_rule_invalidates_the_callers_token() {
    let mut api = Api::logged_in().await;
    api.emu
        .faults()
        .add(FaultRule::expire_session().every(2).count(1))
        .unwrap();
    assert_eq!(api.get("mem/user/session").await.0, 200);
    let (s, b) = api.get("mem/user/session").await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");
    let (s, _) = api.get("mem/user/session").await;
    assert_eq!(s, 401, "the token stays invalid");
    api.login().await;
    assert_eq!(api.get("mem/user/session").await.0, 200);
}

#[tokio::test]
async fn admin_api_manages_faults_log_sessions_and_reset() {
    let api = Api::logged_in().await;
    let admin = |p: &str| format!("{}/_emulator{p}", api.emu.base_url());
    let g = api.emu.seed_gallery("G", None).unwrap();

    let rule =
        json!({"kind":"status","status":503,"count":3,"path_prefix":"/psapi/v3/mem/image/upload"});
    let (s, b) = send(api.http.post(admin("/faults")).json(&rule)).await;
    assert_eq!(s, 201, "{b}");
    let id = b["ids"][0].as_u64().unwrap();
    let (s, b) = send(api.http.post(admin("/faults")).json(
        &json!([{"kind":"rate_limit","every":100,"retry_after":3}, {"kind":"latency","ms":1}]),
    ))
    .await;
    assert_eq!((s.as_u16(), b["ids"].as_array().unwrap().len()), (201, 2));
    let (s, b) = api.upload(&g, "x.jpg", vec![1]).await;
    assert_v3_error(s, &b, 503, "ServerErr");
    let (_, b) = send(api.http.get(admin("/faults"))).await;
    assert_eq!(b["faults"][0]["id"], id);
    assert_eq!(b["faults"][0]["fired"], 1);
    assert_eq!(b["faults"][0]["rule"]["kind"], "status");

    for bad in [
        json!({"kind":"status","status":200}),
        json!({"kind":"nope"}),
        json!({"kind":"latency","ms":5,"every":0}),
    ] {
        let (s, b) = send(api.http.post(admin("/faults")).json(&bad)).await;
        assert_eq!(s, 400, "{bad} -> {b}");
        assert!(b["error"].as_str().is_some());
    }
    assert_eq!(
        api.http
            .delete(admin(&format!("/faults/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        api.http
            .delete(admin(&format!("/faults/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        api.http
            .delete(admin("/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(api.upload(&g, "x.jpg", vec![1]).await.0, 200);

    let (_, b) = send(api.http.get(admin("/requests"))).await;
    let reqs = b["requests"].as_array().unwrap();
    assert!(
        reqs.iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/_emulator")),
        "admin calls are not logged"
    );
    let last = reqs.last().unwrap();
    assert_eq!(
        (
            last["method"].as_str(),
            last["path"].as_str(),
            last["status"].as_u64()
        ),
        (Some("POST"), Some("/psapi/v3/mem/image/upload"), Some(200))
    );

    let (_, b) = send(api.http.get(admin(""))).await;
    assert_eq!(b["api_key"], api.emu.api_key());
    assert_eq!(b["base_url"], api.emu.base_url());

    let (_, b) = send(api.http.post(admin("/sessions/expire"))).await;
    assert_eq!(b["expired"], 1);
    assert_eq!(api.get("mem/user/session").await.0, 401);

    let (s, _) = send(api.http.post(admin("/reset")).json(&json!({"data": true}))).await;
    assert_eq!(s, 200);
    assert_eq!(api.emu.image_count(), 0);
    assert!(api.emu.request_log().is_empty());
    assert!(api.emu.gallery_images(&g).is_err(), "library wiped");
    let (s, _) = send(api.http.post(admin("/snapshot"))).await;
    assert_eq!(s, 400, "no snapshot configured");
}
