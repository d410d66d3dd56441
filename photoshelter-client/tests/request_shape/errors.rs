//! Errors, decoding, and retries (tokio's paused clock: no real waiting).

use std::time::Duration;

use photoshelter_client::{Client, Error, ErrorKind};
use wiremock::{MockServer, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn each_error_class_maps_to_its_kind() {
    let cases: [(&str, u16, ErrorKind, &str); 7] = [
        (
            fx!("error_not_found.json"),
            404,
            ErrorKind::NotFound,
            "NotFoundErr",
        ),
        (
            fx!("error_permission.json"),
            403,
            ErrorKind::PermissionDenied,
            "PermissionErr",
        ),
        (
            fx!("error_invalid_input.json"),
            400,
            ErrorKind::InvalidInput,
            "InvalidInputErr",
        ),
        (
            fx!("error_conflict.json"),
            409,
            ErrorKind::Conflict,
            "ConflictErr",
        ),
        (
            fx!("error_server.json"),
            500,
            ErrorKind::Server,
            "ServerErr",
        ),
        (fx!("error_api_key.json"), 401, ErrorKind::Auth, "ApiKeyErr"),
        (
            fx!("error_rate_limit.json"),
            429,
            ErrorKind::RateLimited {
                retry_after: Some(Duration::from_secs(30)),
            },
            "RateLimitErr",
        ),
    ];
    for (body, status, kind, class) in cases {
        let server = MockServer::start().await;
        mount_login(&server, 1).await;
        authed(&format!("mem/gallery/{G1}"))
            .respond_with(status_json(status, body).insert_header("Retry-After", "30"))
            .expect(1)
            .mount(&server)
            .await;
        catch_all(&server, "one gallery read").await;
        let err = client(&server).galleries().get(&g1()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{class}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.api().unwrap().class(), Some(class));
        assert!(!err.api().unwrap().message().is_empty());
        assert!(
            err.to_string().starts_with(&format!(
                "GET /psapi/v3/mem/gallery/{G1}: HTTP {status} {class}"
            )),
            "{err}"
        );
        assert_eq!(err.is_retryable(), matches!(status, 429 | 500));
    }
}

#[tokio::test]
async fn a_plain_text_404_still_names_the_endpoint() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/image/{I1}"))
        .respond_with(ResponseTemplate::new(404).set_body_string("Not Found"))
        .mount(&server)
        .await;
    catch_all(&server, "one image read").await;
    let err = client(&server)
        .images()
        .get(&I1.parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        err.to_string(),
        format!("GET /psapi/v3/mem/image/{I1}: HTTP 404: Not Found")
    );
}

#[tokio::test]
async fn decode_errors_name_the_json_path() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(ok_json(fx!("gallery_bad_flag.json")))
        .mount(&server)
        .await;
    catch_all(&server, "one gallery read").await;
    let err = client(&server).galleries().get(&g1()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    match &err {
        Error::Decode { path, endpoint, .. } => {
            assert_eq!(path, "data.Gallery.f_list");
            assert_eq!(endpoint, &format!("GET /psapi/v3/mem/gallery/{G1}"));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("maybe"), "{err}");
}

#[tokio::test]
async fn a_200_with_an_error_status_is_an_error() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(ok_json(fx!("error_not_found.json")))
        .mount(&server)
        .await;
    catch_all(&server, "one gallery read").await;
    let err = client(&server).galleries().get(&g1()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

// ------------------------------------------------------------------------------------
// Retries (tokio's paused clock: no real waiting)
// ------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_for_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(
            status_json(429, fx!("error_rate_limit.json")).insert_header("Retry-After", "7"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(ok_json(fx!("gallery.json")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server, "a 429, then the gallery").await;

    let client = paused_client(&server, fast_retry(3));
    client.login().await.unwrap();
    let started = tokio::time::Instant::now();
    client.galleries().get(&g1()).await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(7),
        "waited {waited:?}, Retry-After said 7 s"
    );
    assert!(waited < Duration::from_secs(8), "waited {waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_beyond_the_budget_returns_the_rate_limit_at_once() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(
            status_json(429, fx!("error_rate_limit.json")).insert_header("Retry-After", "3600"),
        )
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "one 429").await;
    let client = paused_client(&server, fast_retry(5).max_elapsed(Duration::from_secs(60)));
    let err = client.galleries().get(&g1()).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(3600))
        }
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
}

#[tokio::test(start_paused = true)]
async fn a_503_burst_on_a_read_is_retried_until_the_policy_gives_up() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(status_json(503, fx!("error_server.json")))
        .expect(4)
        .mount(&server)
        .await;
    catch_all(&server, "four gallery reads").await;
    let err = paused_client(&server, fast_retry(4))
        .galleries()
        .get(&g1())
        .await
        .unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(503)));
}

#[tokio::test(start_paused = true)]
async fn a_500_on_a_create_is_not_repeated_but_a_503_is() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/gallery/insert")
        .and(form(&[("name", "A")]))
        .respond_with(status_json(500, fx!("error_server.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed("mem/gallery/insert")
        .and(form(&[("name", "B")]))
        .respond_with(status_json(503, fx!("error_server.json")))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    authed("mem/gallery/insert")
        .and(form(&[("name", "B")]))
        .respond_with(ok_json(fx!("gallery_insert.json")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server, "one create of A; three of B").await;
    let client = paused_client(&server, fast_retry(4));
    assert_eq!(
        client
            .galleries()
            .create("A")
            .send()
            .await
            .unwrap_err()
            .status(),
        Some(500)
    );
    client.galleries().create("B").send().await.unwrap();
}

#[tokio::test]
async fn a_connect_error_is_a_retryable_transport_error() {
    // Bind, learn the port, close: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let err = client.session().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_retryable());
    assert!(
        err.to_string()
            .starts_with("POST /psapi/v3/mem/authenticate: connection failed"),
        "{err}"
    );
}
