//! Shared by the request-shape tests (and by `tests/secrets.rs`): the test account, the
//! fixtures, and mock helpers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use photoshelter_client::{Client, GalleryId, RetryPolicy};
use wiremock::matchers::{any, header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

pub(crate) const KEY: &str = "K3yabc_1234";
pub(crate) const EMAIL: &str = "me@example.com";
pub(crate) const PASSWORD: &str = "pa55-w0rd!";
pub(crate) const TOKEN: &str = "Tk0aBcDeFgHiJkLmNoPq";
pub(crate) const RENEWED: &str = "Tk1RenewedTokenXyZ01";
pub(crate) const BEARER: &str = "oauth-access-token-42";
pub(crate) const G1: &str = "G0000gal.lery_01";
pub(crate) const C1: &str = "C0000coll_top.01";
pub(crate) const I1: &str = "I0000img_00001.a";
pub(crate) const I2: &str = "I0000img_00002.b";
pub(crate) const I3: &str = "I0000img_00003.c";
pub(crate) const ORG: &str = "O0000org_acme.01";

macro_rules! fx {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/",
            $name
        ))
    };
}

pub(crate) fn ok_json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

pub(crate) fn status_json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

pub(crate) fn v3(p: &str) -> String {
    format!("/psapi/v3/{p}")
}

/// Retries fast and without jitter, so tests that retry do not wait.
pub(crate) fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .min_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .jitter(false)
}

pub(crate) fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A client that retries `attempts` times, fast.
pub(crate) fn retrying_client(server: &MockServer, attempts: u32) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(attempts))
        .build()
        .unwrap()
}

/// A client with no timers of its own, for tests on tokio's paused clock (which would
/// otherwise jump to a timeout while waiting for the mock server's reply).
pub(crate) fn paused_client(server: &MockServer, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .connect_timeout(None)
        .request_timeout(None)
        .read_timeout(None)
        .pool_idle_timeout(None)
        .retry(retry)
        .build()
        .unwrap()
}

/// Mounted last: any request no other mock took gets a 500 naming what was expected.
pub(crate) async fn catch_all(server: &MockServer, expected: &'static str) {
    Mock::given(any())
        .respond_with(move |req: &Request| {
            ResponseTemplate::new(500).set_body_string(format!(
                "unexpected {} {}; expected {expected}",
                req.method, req.url
            ))
        })
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// Matches a urlencoded body holding all these pairs.
pub(crate) struct Form(Vec<(&'static str, String)>);

impl Match for Form {
    fn matches(&self, req: &Request) -> bool {
        let got: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        self.0.iter().all(|(k, v)| got.get(*k) == Some(v))
    }
}

pub(crate) fn form(pairs: &[(&'static str, &str)]) -> Form {
    Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

pub(crate) async fn mount_login(server: &MockServer, expect: u64) {
    Mock::given(method("POST"))
        .and(path(v3("mem/authenticate")))
        .and(header("X-PS-Api-Key", KEY))
        .and(form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("mode", "token"),
        ]))
        .respond_with(ok_json(fx!("login_no_org.json")))
        .expect(expect)
        .named("login")
        .mount(server)
        .await;
}

pub(crate) fn authed(p: &str) -> wiremock::MockBuilder {
    Mock::given(path(v3(p)))
        .and(header("X-PS-Api-Key", KEY))
        .and(header("X-PS-Auth-Token", TOKEN))
}

pub(crate) fn g1() -> GalleryId {
    G1.parse().unwrap()
}

/// A bare HTTP/1.1 server for replies wiremock cannot give (a body that breaks off).
/// Each connection carries one request: `reply` gets its head (request line and headers)
/// and returns the bytes to write, after which the connection is closed.
pub(crate) async fn scripted_server<F>(reply: F) -> String
where
    F: Fn(&str) -> Vec<u8> + Send + Sync + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let reply = Arc::clone(&reply);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut head = Vec::new();
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    let k = sock.read(&mut buf).await.unwrap();
                    if k == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..k]);
                }
                let text = String::from_utf8_lossy(&head).to_string();
                // Read the request body too: closing with unread bytes would reset the connection.
                let header_end = head.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                let body_len = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                let mut have = head.len() - header_end;
                while have < body_len {
                    let k = sock.read(&mut buf).await.unwrap();
                    if k == 0 {
                        return;
                    }
                    have += k;
                }
                let _ = sock.write_all(&reply(&text[..header_end])).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// A complete `200 OK` JSON reply for [`scripted_server`].
pub(crate) fn reply_json(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Matches `extend` when it parses to exactly this JSON.
pub(crate) struct ExtendIs(pub(crate) serde_json::Value);

impl Match for ExtendIs {
    fn matches(&self, req: &Request) -> bool {
        req.url
            .query_pairs()
            .find(|(k, _)| k == "extend")
            .and_then(|(_, v)| serde_json::from_str::<serde_json::Value>(&v).ok())
            == Some(self.0.clone())
    }
}
