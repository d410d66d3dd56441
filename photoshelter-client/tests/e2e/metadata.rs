use futures::TryStreamExt;
use photoshelter_client::UploadSource;

use crate::common::{XMP, app1_xmp, app13_iptc, client, emulator, gallery, jpeg};

#[tokio::test]
async fn iptc_embedded_in_an_upload_is_read_back_two_ways() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Metadata").await;
    let photo = jpeg(&[app13_iptc(&[
        (5, "Dock at dawn"),
        (120, "Boats leave the harbour"),
        (25, "harbour"),
        (25, "boats"),
        (80, "A. Photographer"),
        (110, "Acme Wire"),
        (116, "(c) 2026 Acme"),
        (90, "Bergen"),
        (95, "Vestland"),
        (101, "Norway"),
    ])]);
    let image = client
        .images()
        .upload(&g.id, UploadSource::bytes("dock.jpg", photo).unwrap())
        .send()
        .await
        .unwrap();

    let iptc = client.images().iptc(&image.id).await.unwrap();
    assert_eq!(iptc.title.as_deref(), Some("Dock at dawn"));
    assert_eq!(iptc.caption.as_deref(), Some("Boats leave the harbour"));
    assert_eq!(iptc.keywords(), ["harbour", "boats"]);
    assert_eq!(iptc.author.as_deref(), Some("A. Photographer"));
    assert_eq!(iptc.credit.as_deref(), Some("Acme Wire"));
    assert_eq!(iptc.copyright.as_deref(), Some("(c) 2026 Acme"));
    assert_eq!(
        (
            iptc.city.as_deref(),
            iptc.state.as_deref(),
            iptc.country.as_deref()
        ),
        (Some("Bergen"), Some("Vestland"), Some("Norway"))
    );

    let listed: Vec<_> = client
        .galleries()
        .images(&g.id)
        .extend_iptc()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].iptc(),
        Some(&iptc),
        "one call per page gives the same IPTC"
    );
}

#[tokio::test]
async fn xmp_embedded_in_an_upload_is_read_back() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "XMP").await;
    let image = client
        .images()
        .upload(
            &g.id,
            UploadSource::bytes("tram.jpg", jpeg(&[app1_xmp(XMP)])).unwrap(),
        )
        .send()
        .await
        .unwrap();
    let iptc = client.images().iptc(&image.id).await.unwrap();
    assert_eq!(iptc.title.as_deref(), Some("Tram 28"));
    assert_eq!(
        iptc.caption.as_deref(),
        Some("A yellow tram climbs the hill")
    );
    assert_eq!(iptc.keywords(), ["tram", "lisbon", "yellow"]);
    assert_eq!(iptc.author.as_deref(), Some("Rita Lens"));
    assert_eq!(iptc.credit.as_deref(), Some("Tram Desk"));
    assert_eq!(iptc.copyright.as_deref(), Some("(c) 2026 Rita Lens"));
    assert_eq!(iptc.city.as_deref(), Some("Lisbon"));

    let found: Vec<_> = client
        .images()
        .search("tram lisbon")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&image.id],
        "search matches keywords"
    );
}

#[tokio::test]
async fn image_links_are_img_get2_urls_that_the_emulator_serves() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Links").await;
    let image = client
        .images()
        .upload(&g.id, UploadSource::bytes("x.jpg", jpeg(&[])).unwrap())
        .send()
        .await
        .unwrap();
    let link = client
        .images()
        .link(&image.id)
        .size("500x500")
        .https(false)
        .send()
        .await
        .unwrap();
    let url = link.link.unwrap();
    assert!(
        url.contains(&format!("/img-get2/{}/fit=500x500", image.id)),
        "{url}"
    );
    let served = reqwest::get(&url).await.unwrap();
    assert!(served.status().is_success(), "{url}: {}", served.status());

    let listed: Vec<_> = client
        .galleries()
        .images(&g.id)
        .extend_link("x300")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(
        listed[0]
            .link
            .as_ref()
            .and_then(|l| l.link.as_deref())
            .unwrap()
            .contains("/img-get2/")
    );
}
