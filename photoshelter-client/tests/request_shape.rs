//! Request-shape tests: the SDK against a wiremock server answering with JSON fixtures that
//! follow the PhotoShelter reference and `docs/wire-format.md`. Each test has its own
//! server; a catch-all mounted last answers 500 naming the request that was expected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use photoshelter_client::{
    Child, Client, CollectionId, Error, ErrorKind, GalleryId, ImageId, IptcPatch, Mode,
    OrganizationId, RetryPolicy, UploadSource,
};
use wiremock::matchers::{any, body_json, header, header_exists, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "K3yabc_1234";
const EMAIL: &str = "me@example.com";
const PASSWORD: &str = "pa55-w0rd!";
const TOKEN: &str = "Tk0aBcDeFgHiJkLmNoPq";
const RENEWED: &str = "Tk1RenewedTokenXyZ01";
const BEARER: &str = "oauth-access-token-42";
const G1: &str = "G0000gal.lery_01";
const C1: &str = "C0000coll_top.01";
const I1: &str = "I0000img_00001.a";
const I2: &str = "I0000img_00002.b";
const I3: &str = "I0000img_00003.c";
const ORG: &str = "O0000org_acme.01";

macro_rules! fx {
    ($name:literal) => {
        include_str!(concat!("fixtures/", $name))
    };
}

fn ok_json(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn status_json(status: u16, body: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.as_bytes().to_vec(), "application/json")
}

fn v3(p: &str) -> String {
    format!("/psapi/v3/{p}")
}

/// Retries fast and without jitter, so tests that retry do not wait.
fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(attempts)
        .min_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .jitter(false)
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

/// A client with no timers of its own, for tests on tokio's paused clock (which would
/// otherwise jump to a timeout while waiting for the mock server's reply).
fn paused_client(server: &MockServer, retry: RetryPolicy) -> Client {
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
async fn catch_all(server: &MockServer, expected: &'static str) {
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
struct Form(Vec<(&'static str, String)>);

impl Match for Form {
    fn matches(&self, req: &Request) -> bool {
        let got: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        self.0.iter().all(|(k, v)| got.get(*k) == Some(v))
    }
}

fn form(pairs: &[(&'static str, &str)]) -> Form {
    Form(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

async fn mount_login(server: &MockServer, expect: u64) {
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

fn authed(p: &str) -> wiremock::MockBuilder {
    Mock::given(path(v3(p)))
        .and(header("X-PS-Api-Key", KEY))
        .and(header("X-PS-Auth-Token", TOKEN))
}

fn g1() -> GalleryId {
    G1.parse().unwrap()
}

// ------------------------------------------------------------------------------------
// Auth
// ------------------------------------------------------------------------------------

#[tokio::test]
async fn login_is_lazy_and_calls_carry_key_and_token() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/gallery/{G1}"))
        .and(method("GET"))
        .respond_with(ok_json(fx!("gallery.json")))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "login, then GET mem/gallery/{id} with X-PS-Api-Key and X-PS-Auth-Token",
    )
    .await;

    let client = client(&server);
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "building a client sends nothing"
    );
    let gallery = client.galleries().get(&g1()).await.unwrap();
    assert_eq!(gallery.id.as_str(), G1);
    assert_eq!(gallery.name.as_deref(), Some("Deliveries"));
    assert_eq!(gallery.listed, Some(false));
    assert_eq!(gallery.mode, Some(Mode::Private));
    assert_eq!(gallery.extra["access_inherit"], "t");
    // The session is reused by clones.
    client.clone().galleries().get(&g1()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_concurrent_first_calls_log_in_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(v3("mem/authenticate")))
        .respond_with(ok_json(fx!("login_no_org.json")).set_delay(Duration::from_millis(150)))
        .expect(1)
        .mount(&server)
        .await;
    authed(&format!("mem/gallery/{G1}"))
        .respond_with(ok_json(fx!("gallery.json")))
        .expect(8)
        .mount(&server)
        .await;
    catch_all(&server, "one login and eight gallery reads").await;

    let client = client(&server);
    let calls = (0..8).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.galleries().get(&g1()).await })
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap().unwrap();
    }
}

#[tokio::test]
async fn oauth_token_is_sent_as_bearer_without_login() {
    let server = MockServer::start().await;
    Mock::given(path(v3("mem/user/session")))
        .and(header("X-PS-Api-Key", KEY))
        .and(header("Authorization", format!("Bearer {BEARER}").as_str()))
        .respond_with(ok_json(fx!("session.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "GET mem/user/session with Authorization: Bearer and no login",
    )
    .await;

    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .access_token(BEARER)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let session = client.session().await.unwrap();
    assert_eq!(session.user_id.unwrap().as_str(), "U0000user_me.001");
    assert_eq!(session.tz.as_deref(), Some("UTC"));
    assert_eq!(session.organization_id, None);
}

#[tokio::test]
async fn organisation_is_entered_after_login_and_before_the_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(v3("mem/authenticate")))
        .respond_with(ok_json(fx!("login.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed(&format!("mem/organization/{ORG}/authenticate"))
        .and(method("POST"))
        .respond_with(ok_json(fx!("empty_ok.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed(&format!("mem/collection/{C1}"))
        .respond_with(ok_json(fx!("collection.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "login, org authenticate, then the collection").await;

    let org: OrganizationId = ORG.parse().unwrap();
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .organization(org.clone())
        .build()
        .unwrap();
    let orgs = client.login().await.unwrap();
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0].id, org);
    assert_eq!(orgs[0].member, Some(true));
    let collection = client
        .collections()
        .get(&C1.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(collection.name.as_deref(), Some("Archive"));

    let order: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_owned())
        .collect();
    assert_eq!(
        order,
        [
            v3("mem/authenticate"),
            v3(&format!("mem/organization/{ORG}/authenticate")),
            v3(&format!("mem/collection/{C1}"))
        ]
    );
}

#[tokio::test]
async fn expired_session_is_renewed_once_and_the_call_repeated() {
    let server = MockServer::start().await;
    Mock::given(path(v3("mem/authenticate")))
        .respond_with(ok_json(fx!("login_no_org.json")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path(v3("mem/authenticate")))
        .respond_with(ok_json(fx!("login_renewed.json")))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    authed(&format!("mem/image/{I1}"))
        .respond_with(status_json(401, fx!("error_session_required.json")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(v3(&format!("mem/image/{I1}"))))
        .and(header("X-PS-Auth-Token", RENEWED))
        .respond_with(ok_json(fx!("image.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "login, 401, login again, the image with the new token",
    )
    .await;

    let image = client(&server)
        .images()
        .get(&I1.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(image.file_size, Some(2_048_000));
}

#[tokio::test]
async fn a_session_refused_twice_is_an_auth_error_not_a_loop() {
    let server = MockServer::start().await;
    mount_login(&server, 2).await;
    Mock::given(path(v3(&format!("mem/image/{I1}"))))
        .respond_with(status_json(401, fx!("error_session_required.json")))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server, "two logins, two refusals").await;

    let err = client(&server)
        .images()
        .get(&I1.parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.api().unwrap().class(), Some("SessionRequiredErr"));
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(v3("mem/authenticate")))
        .respond_with(status_json(401, fx!("error_authentication.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "one login").await;

    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(4))
        .build()
        .unwrap();
    let err = client.galleries().get(&g1()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.api().unwrap().message(), "Invalid email or password");
    assert!(
        err.to_string()
            .starts_with("POST /psapi/v3/mem/authenticate: HTTP 401 AuthenticationErr"),
        "{err}"
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_the_next_call_logs_in_again() {
    let server = MockServer::start().await;
    mount_login(&server, 2).await;
    authed("mem/authenticate/logout")
        .and(method("GET"))
        .respond_with(ok_json(fx!("empty_ok.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed("mem/user/session")
        .respond_with(ok_json(fx!("session.json")))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server, "login, session, logout, login, session").await;

    let client = client(&server);
    client.session().await.unwrap();
    client.logout().await.unwrap();
    client.session().await.unwrap();
}

// ------------------------------------------------------------------------------------
// Browse and paging
// ------------------------------------------------------------------------------------

/// Matches `extend` when it parses to exactly this JSON.
struct ExtendIs(serde_json::Value);

impl Match for ExtendIs {
    fn matches(&self, req: &Request) -> bool {
        req.url
            .query_pairs()
            .find(|(k, _)| k == "extend")
            .and_then(|(_, v)| serde_json::from_str::<serde_json::Value>(&v).ok())
            == Some(self.0.clone())
    }
}

#[tokio::test]
async fn gallery_images_are_paged_lazily_with_iptc_in_one_call_per_page() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    let extend = ExtendIs(serde_json::json!({
        "Image": {"fields": "*"},
        "Iptc": {"fields": "*"},
        "ImageLink": {"params": {"image_size": "500x500", "f_https_link": "t"}}
    }));
    let list = || {
        authed(&format!("mem/gallery/{G1}/images"))
            .and(method("GET"))
            .and(query_param("per_page", "2"))
    };
    list()
        .and(query_param("page", "1"))
        .and(extend)
        .respond_with(ok_json(fx!("gallery_images_p1.json")))
        .expect(1)
        .mount(&server)
        .await;
    list()
        .and(query_param("page", "2"))
        .respond_with(ok_json(fx!("gallery_images_p2.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "pages 1 and 2 of the gallery's images, and no page 3",
    )
    .await;

    let client = client(&server);
    let stream = client
        .galleries()
        .images(&g1())
        .per_page(2)
        .extend_iptc()
        .extend_link("500x500")
        .items();
    tokio::task::yield_now().await;
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "a stream sends nothing until polled"
    );
    drop(client); // the stream owns what it needs

    let items: Vec<_> = stream.try_collect().await.unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.image_id.as_str()).collect();
    assert_eq!(ids, [I1, I2, I3]);
    let first = &items[0];
    assert_eq!(first.visible, Some(true));
    assert_eq!(items[1].visible, Some(false));
    let image = first.image.as_ref().unwrap();
    assert_eq!(
        (image.file_size, image.width, image.height, image.rating),
        (Some(2_048_000), Some(6000), Some(4000), Some(3))
    );
    assert_eq!(image.searchable, Some(true));
    let iptc = first.iptc().unwrap();
    assert_eq!(iptc.title.as_deref(), Some("Harbour at dawn"));
    assert_eq!(iptc.keywords(), ["harbour", "boats", "dawn"]);
    assert_eq!(iptc.country_code.as_deref(), Some("NO"));
    assert_eq!(iptc.other["scene_code"], "011200");
    assert!(
        first
            .link
            .as_ref()
            .unwrap()
            .link
            .as_deref()
            .unwrap()
            .contains(&format!("/img-get2/{I1}/fit=500x500/"))
    );
}

#[tokio::test]
async fn pages_report_their_number_and_next() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/image/search")
        .and(query_param("terms", "boats quay"))
        .and(query_param("gallery_id", G1))
        .and(query_param("page", "1"))
        .respond_with(ok_json(fx!("image_search.json")))
        .mount(&server)
        .await;
    authed("mem/image/search")
        .and(query_param("page", "2"))
        .respond_with(ok_json(fx!("image_search_p2.json")))
        .mount(&server)
        .await;
    catch_all(&server, "two search pages").await;

    let pages: Vec<_> = client(&server)
        .images()
        .search("boats quay")
        .gallery(&g1())
        .per_page(1)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        pages
            .iter()
            .map(|p| (p.number, p.next, p.items.len()))
            .collect::<Vec<_>>(),
        [(1, Some(2), 1), (2, None, 1)]
    );
    assert_eq!(pages[1].items[0].file_name.as_deref(), Some("quay.jpg"));
}

#[tokio::test]
async fn collection_children_of_root_list_collections_then_galleries() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/collection/root/children")
        .and(query_param("page", "1"))
        .respond_with(ok_json(fx!("collection_children_p1.json")))
        .mount(&server)
        .await;
    authed("mem/collection/root/children")
        .and(query_param("page", "2"))
        .respond_with(ok_json(fx!("collection_children_p2.json")))
        .mount(&server)
        .await;
    catch_all(&server, "root children pages 1 and 2").await;

    let children: Vec<Child> = client(&server)
        .collections()
        .children(&CollectionId::root())
        .per_page(2)
        .items()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = children
        .iter()
        .map(|c| (matches!(c, Child::Gallery(_)), c.name().unwrap().to_owned()))
        .collect();
    assert_eq!(
        names,
        [
            (false, "2024".to_owned()),
            (true, "Deliveries".to_owned()),
            (true, "Staging".to_owned())
        ]
    );
}

#[tokio::test]
async fn gallery_query_filters_by_parent() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/gallery/query")
        .and(query_param("parent", C1))
        .and(query_param("per_page", "100"))
        .respond_with(ok_json(fx!("gallery_query.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "GET mem/gallery/query?parent=…").await;

    let galleries: Vec<_> = client(&server)
        .galleries()
        .list()
        .parent(&C1.parse().unwrap())
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(galleries.len(), 2);
    assert_eq!(galleries[1].mode, Some(Mode::Permission));
}

#[tokio::test]
async fn image_reads_iptc_galleries_and_link() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed(&format!("mem/image/{I1}/iptc"))
        .respond_with(ok_json(fx!("image_iptc.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed(&format!("mem/image/{I1}/galleries"))
        .respond_with(ok_json(fx!("image_galleries.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed(&format!("mem/image/{I1}/link"))
        .and(query_param("image_size", "x700"))
        .and(query_param("image_mode", "fill"))
        .and(query_param("f_https_link", "t"))
        .respond_with(ok_json(fx!("image_link.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "iptc, galleries and link of one image").await;

    let client = client(&server);
    let id: ImageId = I1.parse().unwrap();
    let iptc = client.images().iptc(&id).await.unwrap();
    assert_eq!(iptc.city.as_deref(), Some("Bergen"));
    let galleries = client.images().galleries(&id).await.unwrap();
    assert_eq!(
        galleries.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        [G1, "G0000gal.lery_02"]
    );
    let link = client
        .images()
        .link(&id)
        .size("x700")
        .mode("fill")
        .send()
        .await
        .unwrap();
    assert!(link.auth_link.unwrap().contains("sec="));
    let bad = client
        .images()
        .link(&id)
        .size("big")
        .send()
        .await
        .unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::InvalidInput);
}

// ------------------------------------------------------------------------------------
// Create and visibility
// ------------------------------------------------------------------------------------

#[tokio::test]
async fn create_gallery_and_collection_send_the_documented_form() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/gallery/insert")
        .and(method("POST"))
        .and(form(&[
            ("name", "Staging"),
            ("parent", C1),
            ("description", "Review first"),
            ("f_list", "f"),
            ("mode", "private"),
        ]))
        .respond_with(ok_json(fx!("gallery_insert.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed("mem/collection/insert")
        .and(method("POST"))
        .and(form(&[("name", "2024")]))
        .and(|req: &Request| !String::from_utf8_lossy(&req.body).contains("parent="))
        .respond_with(ok_json(fx!("collection_insert.json")))
        .expect(1)
        .mount(&server)
        .await;
    authed(&format!("mem/gallery/{G1}/visibility/update"))
        .and(method("POST"))
        .and(form(&[("mode", "private")]))
        .respond_with(ok_json(fx!("visibility.json")))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "gallery insert, collection insert, visibility update",
    )
    .await;

    let client = client(&server);
    let gallery = client
        .galleries()
        .create("Staging")
        .parent(&C1.parse().unwrap())
        .description("Review first")
        .listed(false)
        .mode(Mode::Private)
        .send()
        .await
        .unwrap();
    assert_eq!(gallery.id.as_str(), "G0000gal.lery_02");
    let collection = client
        .collections()
        .create("2024")
        .parent(&CollectionId::root())
        .send()
        .await
        .unwrap();
    assert_eq!(collection.id.as_str(), "C0000coll_sub.02");
    assert_eq!(
        client
            .galleries()
            .set_visibility(&g1(), Mode::Private)
            .await
            .unwrap(),
        Mode::Private
    );
    assert_eq!(
        client
            .galleries()
            .create("  ")
            .send()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

// ------------------------------------------------------------------------------------
// Upload and download
// ------------------------------------------------------------------------------------

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
    // The gateway failed, but the image arrived.
    let listing = listing_with("quay.jpg", 10, &now_utc());
    authed(&format!("mem/gallery/{G1}/images"))
        .respond_with(move |_: &Request| ok_json(&listing))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "one upload, then a look at the gallery").await;

    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let source = UploadSource::bytes("quay.jpg", vec![7u8; 10]).unwrap();
    let image = client.images().upload(&g1(), source).send().await.unwrap();
    assert_eq!(image.id.as_str(), I3);
}

#[tokio::test]
async fn an_upload_with_unknown_outcome_is_repeated_when_absent() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    authed("mem/user/session")
        .respond_with(ok_json(fx!("session.json")))
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
    // Same name and size, but uploaded an hour before: an older image, not ours.
    let old = (chrono::Utc::now() - chrono::Duration::hours(1))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let listing = listing_with("quay.jpg", 10, &old);
    authed(&format!("mem/gallery/{G1}/images"))
        .respond_with(move |_: &Request| ok_json(&listing))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server, "upload, look, upload again").await;

    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let image = client
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
        "the second upload's reply"
    );
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
    let client = Client::builder()
        .base_url(server.uri())
        .api_key(KEY)
        .credentials(EMAIL, PASSWORD)
        .retry(fast_retry(3))
        .build()
        .unwrap();
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

/// A tiny HTTP server that cuts its first download after `cut` bytes and answers the
/// `Range` request that follows. wiremock cannot break a body halfway.
async fn cutting_server(
    original: Arc<Vec<u8>>,
    cut: usize,
    seen: Arc<Mutex<Vec<String>>>,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for n in 0..3 {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 8192];
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let k = sock.read(&mut buf).await.unwrap();
                if k == 0 {
                    break;
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
                have += sock.read(&mut buf).await.unwrap();
            }
            seen.lock()
                .unwrap()
                .push(text.lines().next().unwrap_or("").to_owned());
            let range = text.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("range: bytes=")
                    .map(|r| r.trim_end_matches('-').parse::<usize>().unwrap())
            });
            let total = original.len();
            if text.contains("/mem/authenticate") {
                let body = fx!("login_no_org.json");
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                sock.write_all(reply.as_bytes()).await.unwrap();
            } else if let Some(from) = range {
                let reply = format!(
                    "HTTP/1.1 206 Partial Content\r\ncontent-length: {}\r\ncontent-range: bytes {from}-{}/{total}\r\netag: \"v1\"\r\nconnection: close\r\n\r\n",
                    total - from,
                    total - 1
                );
                sock.write_all(reply.as_bytes()).await.unwrap();
                sock.write_all(&original[from..]).await.unwrap();
            } else {
                let reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {total}\r\netag: \"v1\"\r\nconnection: close\r\n\r\n"
                );
                sock.write_all(reply.as_bytes()).await.unwrap();
                sock.write_all(&original[..cut]).await.unwrap();
                // Drop the connection halfway through the body.
            }
            let _ = sock.shutdown().await;
            let _ = n;
        }
    });
    format!("http://{addr}")
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

// ------------------------------------------------------------------------------------
// Provisional v4 writes
// ------------------------------------------------------------------------------------

fn v4_authed(p: &str) -> wiremock::MockBuilder {
    Mock::given(path(format!("/psapi/v4.0/{p}")))
        .and(header("X-PS-Api-Key", KEY))
        .and(header("X-PS-Auth-Token", TOKEN))
}

#[tokio::test]
async fn provisional_writes_use_v4_paths_and_json_bodies() {
    let server = MockServer::start().await;
    mount_login(&server, 1).await;
    v4_authed(&format!("media/{I1}/iptc"))
        .and(method("PATCH"))
        .and(body_json(serde_json::json!({"data": {"type": "iptc", "attributes": {"caption": "New caption", "city": null}}})))
        .respond_with(ok_json(fx!("v4_iptc.json")))
        .expect(1)
        .mount(&server)
        .await;
    v4_authed(&format!("galleries/{G1}/children"))
        .and(method("POST"))
        .and(body_json(
            serde_json::json!({"data": [{"type": "image", "id": I2}, {"type": "image", "id": I3}]}),
        ))
        .respond_with(ok_json(fx!("v4_children.json")))
        .expect(1)
        .mount(&server)
        .await;
    v4_authed(&format!("galleries/{G1}/children/{I2}"))
        .and(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    v4_authed(&format!("media/{I3}"))
        .and(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    v4_authed(&format!("galleries/{G1}"))
        .and(method("PATCH"))
        .and(body_json(serde_json::json!({"data": {"type": "gallery", "attributes": {"name": "Published", "f_list": "t"}}})))
        .respond_with(ok_json(fx!("v4_gallery.json")))
        .expect(1)
        .mount(&server)
        .await;
    v4_authed("media/I0000missing_img")
        .respond_with(status_json(404, fx!("v4_error_not_found.json")))
        .mount(&server)
        .await;
    catch_all(&server, "the five v4 writes").await;

    let client = client(&server);
    let p = client.provisional();
    let iptc = p
        .update_iptc(
            &I1.parse().unwrap(),
            &IptcPatch::new().caption("New caption").clear("city"),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            iptc.caption.as_deref(),
            iptc.city.as_deref(),
            iptc.title.as_deref()
        ),
        (Some("New caption"), None, Some("Harbour at dawn"))
    );
    p.add_to_gallery(&g1(), &[I2.parse().unwrap(), I3.parse().unwrap()])
        .await
        .unwrap();
    p.remove_from_gallery(&g1(), &I2.parse().unwrap())
        .await
        .unwrap();
    p.delete_image(&I3.parse().unwrap()).await.unwrap();
    let gallery = p
        .update_gallery(&g1())
        .name("Published")
        .listed(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (gallery.id.as_str(), gallery.name.as_deref(), gallery.listed),
        (G1, Some("Published"), Some(true))
    );

    let err = p
        .delete_image(&"I0000missing_img".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(
        (err.api().unwrap().class(), err.api().unwrap().message()),
        (Some("NotFoundErr"), "Media not found")
    );
    assert!(
        err.to_string()
            .starts_with("DELETE /psapi/v4.0/media/I0000missing_img: HTTP 404"),
        "{err}"
    );
}

// ------------------------------------------------------------------------------------
// Errors and decoding
// ------------------------------------------------------------------------------------

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
