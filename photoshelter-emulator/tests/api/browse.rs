//! Collections, galleries, gallery images with extensions, images, links, search, paging.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::Value;

use crate::common::{Api, assert_v3_error, iim, jpeg, send};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

const CONTAINER: &[&str] = &[
    "name",
    "description",
    "f_list",
    "mode",
    "effective_mode",
    "created_at",
    "modified_at",
];

#[tokio::test]
async fn tree_records_have_the_documented_fields() {
    let api = Api::logged_in().await;
    let col = api.emu.seed_collection("Archive", None).unwrap();
    let sub = api.emu.seed_gallery("2019", Some(&col)).unwrap();
    let top = api.emu.seed_gallery("Top gallery", None).unwrap();

    let (s, b) = api.get("mem/collection/root/children").await;
    assert_eq!(s, 200, "{b}");
    let ch = &b["data"]["Children"];
    assert_eq!(ch["Collection"][0]["collection_id"], col.as_str());
    assert_eq!(ch["Gallery"][0]["gallery_id"], top.as_str());
    assert_eq!(
        ch["Gallery"].as_array().unwrap().len(),
        1,
        "only top-level galleries"
    );
    let mut want = set(CONTAINER);
    want.insert("collection_id".into());
    assert_eq!(keys(&ch["Collection"][0]), want);
    assert_eq!(
        ch["Collection"][0]["f_list"], "f",
        "booleans are t/f strings"
    );
    assert!(
        b["data"].get("Paging").is_none(),
        "no Paging on the only page"
    );

    let (_, b) = api.get(&format!("mem/collection/{col}/children")).await;
    assert_eq!(
        b["data"]["Children"]["Gallery"][0]["gallery_id"],
        sub.as_str()
    );
    assert_eq!(
        b["data"]["Children"]["Collection"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let (_, b) = api.get(&format!("mem/collection/{col}")).await;
    assert_eq!(b["data"]["Collection"]["name"], "Archive");
    let (_, b) = api.get("mem/collection/root").await;
    assert_eq!(b["data"]["Collection"]["collection_id"], "root");
    let (_, b) = api.get(&format!("mem/gallery/{sub}")).await;
    let mut want = set(CONTAINER);
    want.insert("gallery_id".into());
    assert_eq!(keys(&b["data"]["Gallery"]), want);
    let (_, b) = api
        .get(&format!("mem/gallery/{sub}?fields=gallery_id,name"))
        .await;
    assert_eq!(keys(&b["data"]["Gallery"]), set(&["gallery_id", "name"]));

    let (_, b) = api.get(&format!("mem/gallery/query?parent={col}")).await;
    let ids: Vec<&str> = b["data"]["Gallery"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["gallery_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![sub.as_str()]);
    let (_, b) = api.get("mem/gallery/query").await;
    assert_eq!(
        b["data"]["Gallery"].as_array().unwrap().len(),
        2,
        "all galleries without parent"
    );
}

#[tokio::test]
async fn malformed_ids_are_400_and_unknown_ids_are_404() {
    let api = Api::logged_in().await;
    for path in [
        "mem/gallery/G0000short",
        "mem/gallery/I0000abcdefghijk",
        "mem/gallery/G0000abcdefghij!",
        "mem/collection/C0000abc/children",
        "mem/image/G0000abcdefghijk",
        "mem/image/I0000abcdefghijk0/iptc",
    ] {
        let (s, b) = api.get(path).await;
        assert_v3_error(s, &b, 400, "InvalidInputErr");
    }
    for path in [
        "mem/gallery/G0000abcdefghijk",
        "mem/gallery/G0000abc.efg_ijk/images",
        "mem/collection/C0000abcdefghijk",
        "mem/image/I0000abcdefghijk",
        "mem/image/I0000abcdefghijk/link",
        "mem/image/I0000abcdefghijk/download",
    ] {
        let (s, b) = api.get(path).await;
        assert_v3_error(s, &b, 404, "NotFoundErr");
    }
}

async fn gallery_with(api: &Api, n: usize) -> (String, Vec<String>) {
    let g = api.emu.seed_gallery(&format!("Paged {n}"), None).unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            api.emu
                .seed_image(&g, &format!("img{i}.jpg"), vec![i as u8; 10])
                .await
                .unwrap(),
        );
    }
    (g, ids)
}

#[tokio::test]
async fn paging_is_present_only_while_more_pages_follow() {
    let api = Api::logged_in().await;
    let (g, ids) = gallery_with(&api, 5).await;
    let api_ref = &api;
    let page = |p: usize, per: usize| {
        let path = format!("mem/gallery/{g}/images?page={p}&per_page={per}");
        async move { api_ref.get(&path).await }
    };
    let mut seen = Vec::new();
    for p in 1..=3 {
        let (s, b) = page(p, 2).await;
        assert_eq!(s, 200);
        for row in b["data"]["GalleryImage"].as_array().unwrap() {
            seen.push(row["image_id"].as_str().unwrap().to_owned());
        }
        if p < 3 {
            assert_eq!(b["data"]["Paging"]["next"], p + 1, "{b}");
            assert_eq!(b["data"]["Paging"]["page"], p);
            assert_eq!(b["data"]["Paging"]["per_page"], 2);
        } else {
            assert!(
                b["data"].get("Paging").is_none(),
                "last page has no Paging: {b}"
            );
        }
    }
    assert_eq!(seen, ids, "every image once, in order");
    let (_, b) = page(4, 2).await;
    assert_eq!(b["data"]["GalleryImage"].as_array().unwrap().len(), 0);
    assert!(b["data"].get("Paging").is_none());
    let (_, b) = page(1, 5).await;
    assert!(b["data"].get("Paging").is_none(), "exact fit: no next page");
    let (_, b) = page(1, 1000).await;
    assert_eq!(b["data"]["GalleryImage"].as_array().unwrap().len(), 5);
    for bad in [
        "page=0",
        "per_page=0",
        "per_page=1001",
        "page=abc",
        "per_page=-1",
    ] {
        let (s, b) = api.get(&format!("mem/gallery/{g}/images?{bad}")).await;
        assert_v3_error(s, &b, 400, "InvalidInputErr");
        assert!(
            b["error"]["message"]
                .as_str()
                .unwrap()
                .contains(bad.split('=').next().unwrap())
        );
    }
    // Collection children page over collections then galleries.
    for i in 0..3 {
        api.emu.seed_collection(&format!("c{i}"), None).unwrap();
    }
    let (_, b) = api
        .get("mem/collection/root/children?per_page=2&page=2")
        .await;
    assert_eq!(
        b["data"]["Children"]["Collection"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        b["data"]["Children"]["Gallery"].as_array().unwrap().len(),
        1
    );
    assert!(b["data"].get("Paging").is_none());
}

#[tokio::test]
async fn gallery_images_extend_nests_image_iptc_and_link() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("Ext", None).unwrap();
    let block = [
        iim(2, 5, b"A title"),
        iim(2, 25, b"red"),
        iim(2, 25, b"blue"),
    ]
    .concat();
    let id = api
        .emu
        .seed_image(&g, "Sunset Beach.jpg", jpeg(640, 480, Some(&block), None))
        .await
        .unwrap();

    let (_, b) = api.get(&format!("mem/gallery/{g}/images")).await;
    let row = &b["data"]["GalleryImage"][0];
    assert_eq!(keys(row), set(&["image_id", "f_visible"]));
    assert_eq!(row["f_visible"], "t");

    let extend = r#"{"Image":{"fields":"*"},"Iptc":{"fields":"*"},"ImageLink":{"params":{"image_size":"500x500"}}}"#;
    let (s, b) = send(
        api.req(Method::GET, api.url(&format!("mem/gallery/{g}/images")))
            .query(&[("extend", extend)]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let row = &b["data"]["GalleryImage"][0];
    let img = &row["Image"];
    assert_eq!(img["image_id"], id.as_str());
    assert_eq!(img["file_name"], "Sunset Beach.jpg");
    assert_eq!(
        (img["width"].as_str(), img["height"].as_str()),
        (Some("640"), Some("480")),
        "numbers as strings"
    );
    assert_eq!(img["Iptc"]["title"], "A title");
    assert_eq!(img["Iptc"]["keyword"], "red, blue");
    assert!(
        img["Iptc"]["city"].is_null(),
        "known fields are present, null when unset"
    );
    let link = row["ImageLink"]["link"].as_str().unwrap();
    assert_eq!(
        link,
        format!(
            "{}/img-get2/{id}/fit=500x500/sunset-beach.jpg",
            api.emu.base_url()
        )
    );

    let extend = r#"{"Image":{"fields":"image_id,file_size"}}"#;
    let (_, b) = send(
        api.req(Method::GET, api.url(&format!("mem/gallery/{g}/images")))
            .query(&[("extend", extend)]),
    )
    .await;
    assert_eq!(
        keys(&b["data"]["GalleryImage"][0]["Image"]),
        set(&["image_id", "file_size"])
    );

    for bad in [
        "{oops",
        "[]",
        r#"{"ImageLink":{"params":{"image_size":"huge"}}}"#,
    ] {
        let (s, b) = send(
            api.req(Method::GET, api.url(&format!("mem/gallery/{g}/images")))
                .query(&[("extend", bad)]),
        )
        .await;
        assert_v3_error(s, &b, 400, "InvalidInputErr");
    }
}

#[tokio::test]
async fn image_record_iptc_galleries_and_served_links() {
    let api = Api::logged_in().await;
    let g = api.emu.seed_gallery("G", None).unwrap();
    let bytes = jpeg(10, 20, Some(&iim(2, 120, b"Caption here")), None);
    let id = api
        .emu
        .seed_image(&g, "pic.jpg", bytes.clone())
        .await
        .unwrap();

    let (_, b) = api.get(&format!("mem/image/{id}")).await;
    let want = set(&[
        "image_id",
        "file_name",
        "file_size",
        "width",
        "height",
        "f_searchable",
        "model_released",
        "property_released",
        "rating",
        "uploaded_at",
        "updated_at",
    ]);
    assert_eq!(keys(&b["data"]["Image"]), want);
    assert_eq!(b["data"]["Image"]["file_size"], bytes.len().to_string());
    let ts = b["data"]["Image"]["uploaded_at"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(ts, "%Y-%m-%d %H:%M:%S").is_ok(),
        "{ts}"
    );

    let (_, b) = api.get(&format!("mem/image/{id}/iptc")).await;
    assert_eq!(b["data"]["Iptc"]["caption"], "Caption here");
    assert_eq!(b["data"]["Iptc"]["image_id"], id.as_str());

    let (_, b) = api.get(&format!("mem/image/{id}/galleries")).await;
    assert_eq!(b["data"]["ImageGallery"][0]["gallery_id"], g.as_str());

    let (s, b) = api
        .get(&format!(
            "mem/image/{id}/link?image_size=x700&image_mode=fill&f_https_link=t"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    let link = b["data"]["ImageLink"]["link"].as_str().unwrap().to_owned();
    assert!(
        link.ends_with(&format!("/img-get2/{id}/fill=x700/pic.jpg")),
        "{link}"
    );
    let auth_link = b["data"]["ImageLink"]["auth_link"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(auth_link.contains("/sec="), "{auth_link}");
    assert!(
        b["data"]["ImageLink"]["base"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/img-get2/{id}/"))
    );

    // The links are served (no API key needed), with the original's bytes.
    for url in [&link, &auth_link] {
        let resp = api.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
    let forged = auth_link.replace("/sec=", "/sec=0");
    assert_eq!(api.http.get(forged).send().await.unwrap().status(), 403);
    let no_size = format!("{}/img-get2/{id}/pic.jpg", api.emu.base_url());
    assert_eq!(api.http.get(no_size).send().await.unwrap().status(), 404);

    let (s, b) = api
        .get(&format!("mem/image/{id}/link?image_size=0x0"))
        .await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
}

#[tokio::test]
async fn search_matches_all_terms_in_name_title_caption_keywords() {
    let api = Api::logged_in().await;
    let g1 = api.emu.seed_gallery("One", None).unwrap();
    let g2 = api.emu.seed_gallery("Two", None).unwrap();
    let kw = [
        iim(2, 25, b"Harbour"),
        iim(2, 25, b"boats"),
        iim(2, 5, b"Evening light"),
    ]
    .concat();
    let a = api
        .emu
        .seed_image(&g1, "dock.jpg", jpeg(1, 1, Some(&kw), None))
        .await
        .unwrap();
    let b_id = api
        .emu
        .seed_image(&g2, "harbour-view.jpg", jpeg(1, 1, None, None))
        .await
        .unwrap();
    api.emu
        .seed_image(&g2, "forest.jpg", jpeg(1, 1, None, None))
        .await
        .unwrap();

    let ids = |v: &Value| -> Vec<String> {
        v["data"]["Results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["image_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, b) = api.get("mem/image/search?terms=harbour").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(ids(&b), vec![a.clone(), b_id.clone()]);
    let (_, b) = api.get("mem/image/search?terms=harbour%20evening").await;
    assert_eq!(ids(&b), vec![a.clone()], "every term must match");
    let (_, b) = api
        .get(&format!("mem/image/search?terms=harbour&gallery_id={g2}"))
        .await;
    assert_eq!(ids(&b), vec![b_id.clone()]);
    let (_, b) = send(
        api.req(Method::GET, api.url("mem/image/search"))
            .query(&[("terms", r#"["BOATS"]"#)]),
    )
    .await;
    assert_eq!(ids(&b), vec![a.clone()], "JSON array, case-insensitive");
    let (_, b) = api.get("mem/image/search?terms=harbour&per_page=1").await;
    assert_eq!(b["data"]["Paging"]["next"], 2);
    let (_, b) = api.get("mem/image/search?terms=nothing-matches").await;
    assert_eq!(ids(&b), Vec::<String>::new());
    let (s, b) = api.get("mem/image/search").await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
    let (s, b) = api.get("mem/image/search?terms=x&gallery_id=bad").await;
    assert_v3_error(s, &b, 400, "InvalidInputErr");
}
