//! The provisional v4 writes.

use reqwest::Method;
use serde_json::json;

use crate::common::{Api, assert_v3_error, assert_v4_error, iim, jpeg, send};

#[tokio::test]
async fn patch_iptc_overwrites_clears_and_keeps_the_rest() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    let block = [iim(2, 5, b"Old title"), iim(2, 110, b"Old credit")].concat();
    let id = api
        .emu
        .seed_image(&g, "a.jpg", jpeg(2, 2, Some(&block), None))
        .await
        .unwrap();
    let body = json!({"data": {"type": "iptc", "attributes": {
        "title": "New title", "credit": null, "keyword": "a, b", "custom_field": "kept"
    }}});
    let (s, b) = send(
        api.req(Method::PATCH, api.v4_url(&format!("media/{id}/iptc")))
            .json(&body),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["id"], id.as_str());
    assert_eq!(b["data"]["type"], "iptc");
    let a = &b["data"]["attributes"];
    assert_eq!(a["title"], "New title");
    assert!(a["credit"].is_null());
    assert_eq!(a["custom_field"], "kept");
    let (_, b) = api.get(&format!("mem/image/{id}/iptc")).await;
    assert_eq!(b["data"]["Iptc"]["title"], "New title");
    assert_eq!(b["data"]["Iptc"]["keyword"], "a, b");
    assert!(b["data"]["Iptc"]["credit"].is_null());
    let (s, b) = send(api.req(Method::GET, api.v4_url(&format!("media/{id}/iptc")))).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["attributes"]["custom_field"], "kept");

    let url = api.v4_url(&format!("media/{id}/iptc"));
    for bad in [
        json!({"data": {"type": "image", "attributes": {}}}),
        json!({"data": {"type": "iptc", "attributes": {"title": 5}}}),
        json!({"data": {"type": "iptc"}}),
        json!({"nope": 1}),
    ] {
        let (s, b) = send(api.req(Method::PATCH, url.clone()).json(&bad)).await;
        assert_v4_error(s, &b, 400, "InvalidInputErr");
    }
    let (s, b) = send(api.req(Method::PATCH, url.clone()).body("{not json")).await;
    assert_v4_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = send(
        api.req(Method::PATCH, api.v4_url("media/I0000abcdefghijk/iptc"))
            .json(&body),
    )
    .await;
    assert_v4_error(s, &b, 404, "NotFoundErr");
    let (s, b) = send(
        api.req(Method::PATCH, api.v4_url("media/bad/iptc"))
            .json(&body),
    )
    .await;
    assert_v4_error(s, &b, 400, "InvalidInputErr");
    // v4 errors for auth problems too.
    let (s, b) = send(api.http.patch(url.clone()).json(&body)).await;
    assert_v4_error(s, &b, 401, "ApiKeyErr");
    let (s, b) = send(
        api.http
            .patch(url)
            .header("X-PS-Api-Key", api.emu.api_key())
            .json(&body),
    )
    .await;
    assert_v4_error(s, &b, 401, "SessionRequiredErr");
}

#[tokio::test]
async fn gallery_membership_add_remove_and_delete_media() {
    let api = Api::logged_in().await;
    let g1 = api.emu.seed_gallery("One", None).unwrap();
    let g2 = api.emu.seed_gallery("Two", None).unwrap();
    let a = api.emu.seed_image(&g1, "a.jpg", b"aaaa").await.unwrap();
    let b_id = api.emu.seed_image(&g1, "b.jpg", b"bbbb").await.unwrap();

    let body = json!({"data": [{"type": "image", "id": a}, {"type": "image", "id": b_id}]});
    let url = api.v4_url(&format!("galleries/{g2}/children"));
    let (s, b) = send(api.req(Method::POST, url.clone()).json(&body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"][1]["id"], b_id.as_str());
    let (s, _) = send(api.req(Method::POST, url.clone()).json(&body)).await;
    assert_eq!(s, 200, "adding again is a no-op");
    assert_eq!(
        api.emu.gallery_images(&g2).unwrap(),
        vec![a.clone(), b_id.clone()]
    );
    let (_, b) = api.get(&format!("mem/image/{a}/galleries")).await;
    assert_eq!(b["data"]["ImageGallery"].as_array().unwrap().len(), 2);

    let bad =
        json!({"data": [{"type": "image", "id": a}, {"type": "image", "id": "I0000abcdefghijk"}]});
    let (s, b) = send(
        api.req(
            Method::POST,
            api.v4_url(&format!("galleries/{g1}/children")),
        )
        .json(&bad),
    )
    .await;
    assert_v4_error(s, &b, 404, "NotFoundErr");
    let (s, b) = send(
        api.req(Method::POST, url.clone())
            .json(&json!({"data": []})),
    )
    .await;
    assert_v4_error(s, &b, 400, "InvalidInputErr");

    let del = api.v4_url(&format!("galleries/{g2}/children/{a}"));
    let resp = api.req(Method::DELETE, del.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 204);
    let (s, b) = send(api.req(Method::DELETE, del)).await;
    assert_v4_error(s, &b, 404, "NotFoundErr");
    assert_eq!(api.emu.gallery_images(&g2).unwrap(), vec![b_id.clone()]);

    let resp = api
        .req(Method::DELETE, api.v4_url(&format!("media/{b_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (s, b) = api.get(&format!("mem/image/{b_id}")).await;
    assert_v3_error(s, &b, 404, "NotFoundErr");
    assert!(api.emu.gallery_images(&g1).unwrap() == vec![a.clone()]);
    assert!(api.emu.gallery_images(&g2).unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(api.emu.data_dir().join("originals"))
            .unwrap()
            .count(),
        1,
        "original removed"
    );
}

#[tokio::test]
async fn patch_gallery_attributes() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("Before", None).unwrap();
    api.emu.seed_gallery("Taken", None).unwrap();
    let url = api.v4_url(&format!("galleries/{g}"));
    let body = json!({"data": {"type": "gallery", "attributes": {"name": "After", "description": "d", "f_list": true}}});
    let (s, b) = send(api.req(Method::PATCH, url.clone()).json(&body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["id"], g.as_str());
    assert_eq!(b["data"]["type"], "gallery");
    assert_eq!(b["data"]["attributes"]["name"], "After");
    assert_eq!(
        b["data"]["attributes"]["f_list"], true,
        "v4 uses JSON booleans"
    );
    let (_, b) = api.get(&format!("mem/gallery/{g}")).await;
    assert_eq!(b["data"]["Gallery"]["name"], "After");
    assert_eq!(b["data"]["Gallery"]["f_list"], "t");

    let clash = json!({"data": {"type": "gallery", "attributes": {"name": "Taken"}}});
    let (s, b) = send(api.req(Method::PATCH, url.clone()).json(&clash)).await;
    assert_v4_error(s, &b, 409, "ConflictErr");
    let unknown = json!({"data": {"type": "gallery", "attributes": {"owner": "me"}}});
    let (s, b) = send(api.req(Method::PATCH, url.clone()).json(&unknown)).await;
    assert_v4_error(s, &b, 400, "InvalidInputErr");
    // v4 attributes are JSON booleans: the v3 "t"/"f" strings are refused.
    let v3_flag = json!({"data": {"type": "gallery", "attributes": {"f_list": "t"}}});
    let (s, b) = send(api.req(Method::PATCH, url).json(&v3_flag)).await;
    assert_v4_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = send(
        api.req(Method::PATCH, api.v4_url("galleries/G0000abcdefghijk"))
            .json(&body),
    )
    .await;
    assert_v4_error(s, &b, 404, "NotFoundErr");
    let (s, b) = send(api.req(Method::GET, api.v4_url("nothing/here"))).await;
    assert_v4_error(s, &b, 404, "NotFoundErr");
}
