//! Creating collections and galleries; visibility.

use crate::common::{Api, assert_v3_error};

#[tokio::test]
async fn insert_collection_and_gallery() {
    let api = Api::logged_in().await;
    let (s, b) = api
        .post_form(
            "mem/collection/insert",
            &[
                ("name", "Clients"),
                ("description", "All clients"),
                ("f_list", "t"),
                ("mode", "everyone"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let c = &b["data"]["Collection"];
    let col = c["collection_id"].as_str().unwrap().to_owned();
    assert!(col.starts_with("C0000") && col.len() == 16, "{col}");
    assert_eq!(
        (c["name"].as_str(), c["f_list"].as_str(), c["mode"].as_str()),
        (Some("Clients"), Some("t"), Some("everyone"))
    );

    let (s, b) = api
        .post_form("mem/gallery/insert", &[("name", "ACME"), ("parent", &col)])
        .await;
    assert_eq!(s, 200, "{b}");
    let g = &b["data"]["Gallery"];
    let gid = g["gallery_id"].as_str().unwrap().to_owned();
    assert!(gid.starts_with("G0000"));
    assert_eq!(
        (g["f_list"].as_str(), g["mode"].as_str()),
        (Some("f"), Some("private")),
        "defaults"
    );
    assert_eq!(api.emu.gallery_images(&gid).unwrap().len(), 0);

    let (_, b) = api.get(&format!("mem/collection/{col}/children")).await;
    assert_eq!(
        b["data"]["Children"]["Gallery"][0]["gallery_id"],
        gid.as_str()
    );

    // A nested collection, then a gallery at the top level with parent=root.
    let (s, _) = api
        .post_form(
            "mem/collection/insert",
            &[("name", "2024"), ("parent", &col)],
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = api
        .post_form(
            "mem/gallery/insert",
            &[("name", "Loose"), ("parent", "root")],
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn insert_errors() {
    let api = Api::logged_in().await;
    let (s, b) = api
        .post_form("mem/gallery/insert", &[("description", "no name")])
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form("mem/gallery/insert", &[("name", "x"), ("mode", "public")])
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form("mem/gallery/insert", &[("name", "x"), ("f_list", "yes")])
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form(
            "mem/gallery/insert",
            &[("name", "x"), ("parent", "C0000nope")],
        )
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form(
            "mem/gallery/insert",
            &[("name", "x"), ("parent", "C0000abcdefghijk")],
        )
        .await;
    assert_v3_error(s, &b, 404, "NotFoundErr");
    let (s, _) = api
        .post_form("mem/gallery/insert", &[("name", "Dup")])
        .await;
    assert_eq!(s, 200);
    let (s, b) = api
        .post_form("mem/gallery/insert", &[("name", "Dup")])
        .await;
    assert_v3_error(s, &b, 409, "ConflictErr");
    let (s, _) = api
        .post_form("mem/collection/insert", &[("name", "Dup")])
        .await;
    assert_eq!(s, 200, "a collection may share a gallery's name");
    let (s, b) = api.get("mem/gallery/insert").await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
}

#[tokio::test]
async fn visibility_update_and_effective_mode() {
    let api = Api::logged_in().await;
    let col = api.emu.seed_collection("Parent", None).unwrap();
    let g = api.emu.seed_gallery("Child", Some(&col)).unwrap();
    let (s, b) = api
        .post_form(
            &format!("mem/gallery/{g}/visibility/update"),
            &[("mode", "everyone")],
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["Visibility"]["mode"], "everyone");
    let (_, b) = api.get(&format!("mem/gallery/{g}")).await;
    assert_eq!(b["data"]["Gallery"]["mode"], "everyone");
    assert_eq!(
        b["data"]["Gallery"]["effective_mode"], "private",
        "parent collection is private"
    );

    let (s, _) = api
        .post_form(
            &format!("mem/collection/{col}/visibility/update"),
            &[("mode", "everyone")],
        )
        .await;
    assert_eq!(s, 200);
    let (_, b) = api.get(&format!("mem/gallery/{g}")).await;
    assert_eq!(b["data"]["Gallery"]["effective_mode"], "everyone");

    let (s, b) = api
        .post_form(&format!("mem/gallery/{g}/visibility/update"), &[])
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form(
            &format!("mem/gallery/{g}/visibility/update"),
            &[("mode", "secret")],
        )
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api
        .post_form(
            "mem/collection/C0000abcdefghijk/visibility/update",
            &[("mode", "private")],
        )
        .await;
    assert_v3_error(s, &b, 404, "NotFoundErr");
    let (s, b) = api
        .get(&format!("mem/gallery/{g}/visibility/update?mode=private"))
        .await;
    assert_v3_error(s, &b, 405, "InvalidInputErr");
}
