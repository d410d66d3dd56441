use photoshelter_client::{ErrorKind, IptcPatch, UploadSource};

use crate::common::{app13_iptc, client, emulator, gallery, jpeg};

#[tokio::test]
async fn iptc_is_updated_and_cleared_keeping_other_fields() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Edit").await;
    let photo = jpeg(&[app13_iptc(&[(5, "Old title"), (90, "Oslo"), (110, "Desk")])]);
    let image = client
        .images()
        .upload(&g.id, UploadSource::bytes("e.jpg", photo).unwrap())
        .send()
        .await
        .unwrap();

    let patch = IptcPatch::new()
        .title("New title")
        .keywords(["a", "b"])
        .clear("city");
    let after = client
        .provisional()
        .update_iptc(&image.id, &patch)
        .await
        .unwrap();
    assert_eq!(
        (
            after.title.as_deref(),
            after.keyword.as_deref(),
            after.city.as_deref(),
            after.credit.as_deref()
        ),
        (Some("New title"), Some("a, b"), None, Some("Desk"))
    );
    let read = client.images().iptc(&image.id).await.unwrap();
    assert_eq!(read.title.as_deref(), Some("New title"));
    assert_eq!(read.city, None);
    assert_eq!(
        emu.image_iptc(image.id.as_str())
            .unwrap()
            .get("credit")
            .map(String::as_str),
        Some("Desk")
    );

    // Read-modify-write loses nothing.
    let mut whole = read.clone();
    whole.headline = Some("Added".into());
    let after = client
        .provisional()
        .update_iptc(&image.id, &IptcPatch::from_iptc(&whole))
        .await
        .unwrap();
    assert_eq!(after.headline.as_deref(), Some("Added"));
    assert_eq!(after.credit.as_deref(), Some("Desk"));
}

#[tokio::test]
async fn images_join_and_leave_galleries_and_are_deleted() {
    let emu = emulator().await;
    let client = client(&emu);
    let a = gallery(&client, "A").await;
    let b = gallery(&client, "B").await;
    let image = client
        .images()
        .upload(&a.id, UploadSource::bytes("m.jpg", vec![1u8; 10]).unwrap())
        .send()
        .await
        .unwrap();
    client
        .provisional()
        .add_to_gallery(&b.id, std::slice::from_ref(&image.id))
        .await
        .unwrap();
    let mut holding: Vec<_> = client
        .images()
        .galleries(&image.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    holding.sort();
    let mut expected = vec![a.id.clone(), b.id.clone()];
    expected.sort();
    assert_eq!(holding, expected);

    client
        .provisional()
        .remove_from_gallery(&a.id, &image.id)
        .await
        .unwrap();
    let holding: Vec<_> = client
        .images()
        .galleries(&image.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.id)
        .collect();
    assert_eq!(holding, std::slice::from_ref(&b.id));

    client.provisional().delete_image(&image.id).await.unwrap();
    assert_eq!(
        client.images().get(&image.id).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        client
            .provisional()
            .delete_image(&image.id)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn a_gallery_is_renamed_and_listed() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Draft").await;
    let updated = client
        .provisional()
        .update_gallery(&g.id)
        .name("Published")
        .description("Final")
        .listed(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        (updated.id.clone(), updated.name.as_deref(), updated.listed),
        (g.id.clone(), Some("Published"), Some(true))
    );
    let read = client.galleries().get(&g.id).await.unwrap();
    assert_eq!(
        (
            read.name.as_deref(),
            read.description.as_deref(),
            read.listed
        ),
        (Some("Published"), Some("Final"), Some(true))
    );
}
