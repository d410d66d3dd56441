//! Login, bearer tokens, organisation context, session renewal and logout.

use std::time::Duration;

use photoshelter_client::{Client, ErrorKind, Mode, OrganizationId, RetryPolicy};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

use crate::common::*;

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

    let client = retrying_client(&server, 4);
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
async fn concurrent_first_calls_share_one_refused_login() {
    let server = MockServer::start().await;
    Mock::given(path(v3("mem/authenticate")))
        .respond_with(
            status_json(401, fx!("error_authentication.json"))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(2)
        .mount(&server)
        .await;
    catch_all(
        &server,
        "one login for the eight calls, one for the later call",
    )
    .await;

    let client = client(&server);
    let calls = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.galleries().get(&g1()).await })
    });
    for call in futures::future::join_all(calls).await {
        let err = call.unwrap().unwrap_err();
        assert_eq!((err.kind(), err.status()), (ErrorKind::Auth, Some(401)));
    }
    // A later call tries again (the password may have been fixed on the account).
    assert!(client.galleries().get(&g1()).await.is_err());
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
