//! Secrets (API key, password, session token, OAuth token) appear in no `Debug` output,
//! no error and no log line, even at TRACE level with the HTTP stack's own events.
//!
//! Its own test binary: the log is captured with a thread-local subscriber, and tracing's
//! callsite cache is process-wide, so other tests running beside it could hide events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use photoshelter_client::{Client, ErrorKind, RetryPolicy};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

// The request-shape tests' account, fixtures and mock helpers (this binary uses some).
#[path = "request_shape/common.rs"]
#[macro_use]
#[allow(dead_code)]
mod common;

use common::*;

// ------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_appear_in_no_debug_output_error_or_log_line() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(path(v3("mem/authenticate")))
        .respond_with(ok_json(fx!("login_no_org.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(v3("mem/authenticate")))
        .respond_with(status_json(401, fx!("error_authentication.json")))
        .with_priority(2)
        .mount(&server)
        .await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(ok_json(fx!("gallery.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(status_json(401, fx!("error_session_required.json")))
        .with_priority(2)
        .mount(&server)
        .await;
    catch_all(&server, "login, read, expired, failed re-login").await;

    let builder = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(RetryPolicy::none());
    let client = builder.clone().build().unwrap();
    client.galleries().get(&g1()).await.unwrap();
    let err = client.galleries().get(&g1()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bearer = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .api_key(KEY)
        .access_token(BEARER)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let transport = bearer.session().await.unwrap_err();

    let texts = [
        format!("{builder:?}"),
        format!("{client:?}"),
        format!("{bearer:?}"),
        format!("{err:?}"),
        format!("{err}"),
        format!("{transport:?}"),
        format!("{transport}"),
        String::from_utf8(log.0.lock().unwrap().clone()).unwrap(),
    ];
    let log_text = texts.last().unwrap();
    assert!(
        log_text.contains("mem/authenticate") && log_text.contains("session expired"),
        "the log was captured: {log_text}"
    );
    for text in &texts {
        for secret in [KEY, PASSWORD, TOKEN, BEARER] {
            assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
        }
    }
    // Nothing put a secret into a URL either.
    for req in server.received_requests().await.unwrap() {
        for secret in [KEY, PASSWORD, TOKEN] {
            assert!(!req.url.as_str().contains(secret), "{}", req.url);
        }
    }
}
