//! API key, login, sessions, organisation context, secrets.

use photoshelter_emulator::Emulator;
use reqwest::Method;

use crate::common::{Api, assert_v3_error, send};

#[tokio::test]
async fn api_key_is_required_on_every_call() {
    let api = Api::start().await;
    let url = api.url("mem/authenticate");
    let (s, b) = send(api.http.post(&url).form(&[("email", "x")])).await;
    assert_v3_error(s, &b, 401, "ApiKeyErr");
    let (s, b) = send(
        api.http
            .get(api.url("mem/user/session"))
            .header("X-PS-Api-Key", "WrongKey123"),
    )
    .await;
    assert_v3_error(s, &b, 401, "ApiKeyErr");
    // The key as a query parameter works as well as the header.
    let (s, b) = send(
        api.http
            .post(format!("{url}?api_key={}", api.emu.api_key()))
            .form(&[
                ("email", api.emu.email()),
                ("password", api.emu.password()),
                ("mode", "token"),
            ]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    // Even unknown paths check the key first.
    let (s, b) = send(api.http.get(api.url("nope"))).await;
    assert_v3_error(s, &b, 401, "ApiKeyErr");
    let (s, b) = send(api.req(Method::GET, api.url("nope"))).await;
    assert_v3_error(s, &b, 404, "NotFoundErr");
}

#[tokio::test]
async fn login_success_shape_and_failures() {
    let api = Api::start().await;
    let login = |email: &str, password: &str, mode: Option<&str>| {
        let mut form = vec![
            ("email", email.to_owned()),
            ("password", password.to_owned()),
        ];
        if let Some(m) = mode {
            form.push(("mode", m.to_owned()));
        }
        send(
            api.req(Method::POST, api.url("mem/authenticate"))
                .form(&form),
        )
    };
    let (s, b) = login(api.emu.email(), api.emu.password(), Some("token")).await;
    assert_eq!(s, 200);
    assert_eq!(b["status"], "ok");
    let token = b["data"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 20);
    assert!(token.bytes().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(b["data"]["two_factor"], "f");
    assert!(
        b["data"].get("org").is_none(),
        "no org key for a personal account: {b}"
    );

    let (s, b) = login(api.emu.email(), "wrong-password", Some("token")).await;
    assert_v3_error(s, &b, 401, "AuthenticationErr");
    let (s, b) = login("someone@else.example", api.emu.password(), Some("token")).await;
    assert_v3_error(s, &b, 401, "AuthenticationErr");
    let (s, b) = login(api.emu.email(), api.emu.password(), None).await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = send(
        api.req(Method::POST, api.url("mem/authenticate"))
            .form(&[("mode", "token")]),
    )
    .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    // GET with query parameters is accepted too (older clients).
    let q = format!(
        "mem/authenticate?email={}&password={}&mode=token",
        api.emu.email(),
        api.emu.password()
    );
    let (s, _) = api.get(&q).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn member_calls_need_a_live_session() {
    let mut api = Api::start().await;
    let (s, b) = api.get("mem/user/session").await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");
    api.token = Some("NotARealTokenAtAll00".into());
    let (s, b) = api.get("mem/user/session").await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");

    api.login().await;
    let (s, b) = api.get("mem/user/session").await;
    assert_eq!(s, 200, "{b}");
    let sess = &b["data"]["Session"];
    assert_eq!(sess["user_id"], api.emu.user_id());
    assert_eq!(sess["tz"], "UTC");
    assert_eq!(sess["email"], api.emu.email());
    assert!(sess["organization_id"].is_null());

    // The token also works as the auth_token query parameter.
    let token = api.token.clone().unwrap();
    let (s, _) = send(
        api.http
            .get(api.url(&format!("mem/user/session?auth_token={token}")))
            .header("X-PS-Api-Key", api.emu.api_key()),
    )
    .await;
    assert_eq!(s, 200);

    // Logout ends the session.
    let (s, b) = api.get("mem/authenticate/logout").await;
    assert_eq!((s.as_u16(), &b["status"]), (200, &serde_json::json!("ok")));
    let (s, b) = api.get("mem/user/session").await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");
}

#[tokio::test]
async fn oauth_bearer_token_is_accepted() {
    let api = Api::start().await;
    let (s, b) = send(
        api.http
            .get(api.url("mem/user/session"))
            .header("X-PS-Api-Key", api.emu.api_key())
            .bearer_auth(api.emu.oauth_token()),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = send(
        api.http
            .get(api.url("mem/user/session"))
            .header("X-PS-Api-Key", api.emu.api_key())
            .bearer_auth("not-the-token"),
    )
    .await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");
}

#[tokio::test]
async fn expired_sessions_now_and_after_n_calls() {
    let mut api = Api::logged_in().await;
    assert_eq!(api.get("mem/user/session").await.0, 200);
    assert_eq!(api.emu.faults().expire_sessions_now(), 1);
    let (s, b) = api.get("mem/user/session").await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");
    api.login().await;
    assert_eq!(api.get("mem/user/session").await.0, 200);

    api.emu.faults().expire_sessions_after(2).unwrap();
    assert_eq!(api.get("mem/user/session").await.0, 200);
    assert_eq!(api.get("mem/user/session").await.0, 200);
    let (s, b) = api.get("mem/user/session").await;
    assert_v3_error(s, &b, 401, "SessionRequiredErr");
    api.login().await;
    assert_eq!(
        api.get("mem/user/session").await.0,
        200,
        "a fresh token gets its own allowance"
    );
}

#[tokio::test]
async fn organisation_context_is_required_for_org_objects() {
    let mut api = Api::with(Emulator::builder().organization(true)).await;
    let org = api.emu.org_id().unwrap().to_owned();
    let gallery = api.emu.seed_gallery("Brand assets", None).unwrap();

    let (s, b) = send(api.req(Method::POST, api.url("mem/authenticate")).form(&[
        ("email", api.emu.email()),
        ("password", api.emu.password()),
        ("mode", "token"),
    ]))
    .await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["org"][0]["id"], org.as_str());
    assert_eq!(b["data"]["org"][0]["member"], "t");
    api.token = Some(b["data"]["token"].as_str().unwrap().to_owned());

    let (s, b) = api.get(&format!("mem/gallery/{gallery}")).await;
    assert_v3_error(s, &b, 403, "PermissionErr");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("organization context required")
    );
    let (_, b) = api.get("mem/collection/root/children").await;
    assert_eq!(
        b["data"]["Children"]["Gallery"].as_array().unwrap().len(),
        0,
        "personal library is empty"
    );

    let (s, b) = api
        .post_form("mem/organization/O0000bad.id_____/authenticate", &[])
        .await;
    assert_v3_error(s, &b, 404, "NotFoundErr");
    let (s, b) = api
        .post_form("mem/organization/nope/authenticate", &[])
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form(&format!("mem/organization/{org}/authenticate"), &[])
        .await;
    assert_eq!(s, 200, "{b}");

    let (s, b) = api.get(&format!("mem/gallery/{gallery}")).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = api.get("mem/user/session").await;
    assert_eq!(b["data"]["Session"]["organization_id"], org.as_str());
    let (_, b) = api.get("mem/collection/root/children").await;
    assert_eq!(
        b["data"]["Children"]["Gallery"][0]["gallery_id"],
        gallery.as_str()
    );

    // Objects created in org context belong to the organisation.
    let (_, b) = api
        .post_form("mem/gallery/insert", &[("name", "Made in org")])
        .await;
    let made = b["data"]["Gallery"]["gallery_id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.get("mem/organization/logout").await;
    let (s, b) = api.get(&format!("mem/gallery/{made}")).await;
    assert_v3_error(s, &b, 403, "PermissionErr");
}

#[tokio::test]
async fn secrets_stay_out_of_debug_and_the_request_log() {
    let api = Api::start().await;
    let debug = format!("{:?}", api.emu);
    assert!(!debug.contains(api.emu.api_key()), "{debug}");
    assert!(!debug.contains(api.emu.password()), "{debug}");
    assert!(!debug.contains(api.emu.oauth_token()), "{debug}");
    let q = format!(
        "mem/authenticate?api_key={}&email={}&password={}&mode=token",
        api.emu.api_key(),
        api.emu.email(),
        api.emu.password()
    );
    let (s, b) = send(api.http.get(api.url(&q))).await;
    assert_eq!(s, 200, "{b}");
    let token = b["data"]["token"].as_str().unwrap().to_owned();
    send(api.http.get(api.url(&format!(
        "mem/user/session?api_key={}&auth_token={token}",
        api.emu.api_key()
    ))))
    .await;
    let log = format!("{:?}", api.emu.request_log());
    for secret in [api.emu.api_key(), api.emu.password(), token.as_str()] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
    assert!(log.contains("REDACTED"));
}
