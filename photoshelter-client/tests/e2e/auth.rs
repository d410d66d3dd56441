use photoshelter_client::{Client, ErrorKind, OrganizationId};
use photoshelter_emulator::Emulator;

use crate::common::{builder, client, count, emulator};

#[tokio::test]
async fn login_session_and_logout() {
    let emu = emulator().await;
    let client = client(&emu);
    let session = client.session().await.unwrap();
    assert_eq!(session.user_id.unwrap().as_str(), emu.user_id());
    assert_eq!(session.email.as_deref(), Some(emu.email()));
    assert!(session.tz.is_some());
    client.logout().await.unwrap();
    client.session().await.unwrap();
    assert_eq!(
        count(&emu, "POST", "/psapi/v3/mem/authenticate"),
        2,
        "logged in again after logout"
    );
    assert_eq!(count(&emu, "GET", "/psapi/v3/mem/authenticate/logout"), 1);
}

#[tokio::test]
async fn organisation_context_is_entered_after_login() {
    let emu = Emulator::builder()
        .organization(true)
        .start()
        .await
        .unwrap();
    let org: OrganizationId = emu.org_id().unwrap().parse().unwrap();
    let client = builder(&emu).organization(org.clone()).build().unwrap();
    let orgs = client.login().await.unwrap();
    assert!(orgs.iter().any(|o| o.id == org), "{orgs:?}");
    let session = client.session().await.unwrap();
    assert_eq!(session.organization_id, Some(org));
    let gallery = client
        .galleries()
        .create("Brand assets")
        .send()
        .await
        .unwrap();
    assert_eq!(
        client
            .galleries()
            .get(&gallery.id)
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Brand assets")
    );
}

#[tokio::test]
async fn an_oauth_token_works_without_a_login() {
    let emu = emulator().await;
    let client = Client::builder()
        .base_url(emu.base_url())
        .api_key(emu.api_key())
        .access_token(emu.oauth_token())
        .build()
        .unwrap();
    let session = client.session().await.unwrap();
    assert_eq!(session.user_id.unwrap().as_str(), emu.user_id());
    assert_eq!(count(&emu, "POST", "/psapi/v3/mem/authenticate"), 0);
}

#[tokio::test]
async fn wrong_password_and_wrong_key_are_auth_errors() {
    let emu = emulator().await;
    let bad_password = Client::builder()
        .base_url(emu.base_url())
        .api_key(emu.api_key())
        .credentials(emu.email(), "not-the-password")
        .build()
        .unwrap();
    let err = bad_password.session().await.unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Auth, Some(401)));
    assert_eq!(err.api().unwrap().class(), Some("AuthenticationErr"));

    let bad_key = Client::builder()
        .base_url(emu.base_url())
        .api_key("Wr0ngKey.123")
        .credentials(emu.email(), emu.password())
        .build()
        .unwrap();
    let err = bad_key.session().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.api().unwrap().class(), Some("ApiKeyErr"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_calls_share_one_login() {
    let emu = emulator().await;
    let client = client(&emu);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.session().await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(count(&emu, "POST", "/psapi/v3/mem/authenticate"), 1);
}
