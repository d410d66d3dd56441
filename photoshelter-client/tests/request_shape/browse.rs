//! Browsing and paging, creation and visibility.

use futures::TryStreamExt;
use photoshelter_client::{Child, CollectionId, ErrorKind, ImageId, Mode};
use wiremock::matchers::{method, query_param};
use wiremock::{MockServer, Request};

use crate::common::*;

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
