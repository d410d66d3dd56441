//! The provisional v4 writes.

use photoshelter_client::{ErrorKind, IptcPatch};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

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
        .and(body_json(serde_json::json!({"data": {"type": "gallery", "attributes": {"name": "Published", "f_list": true}}})))
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
