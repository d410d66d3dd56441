use futures::TryStreamExt;
use photoshelter_client::{Child, CollectionId, ErrorKind, GalleryId, ImageId, Mode, UploadSource};

use crate::common::{client, emulator, gallery};

#[tokio::test]
async fn the_collection_tree_is_walked_and_created() {
    let emu = emulator().await;
    let client = client(&emu);
    let archive = client
        .collections()
        .create("Archive")
        .description("Old work")
        .send()
        .await
        .unwrap();
    let year = client
        .collections()
        .create("2024")
        .parent(&archive.id)
        .send()
        .await
        .unwrap();
    let events = client
        .galleries()
        .create("Events")
        .parent(&archive.id)
        .listed(true)
        .mode(Mode::Permission)
        .send()
        .await
        .unwrap();
    let top = client
        .galleries()
        .create("Top gallery")
        .send()
        .await
        .unwrap();

    let root: Vec<Child> = client
        .collections()
        .children(&CollectionId::root())
        .items()
        .try_collect()
        .await
        .unwrap();
    let names: Vec<_> = root.iter().filter_map(Child::name).collect();
    assert!(
        names.contains(&"Archive") && names.contains(&"Top gallery"),
        "{names:?}"
    );

    let inside: Vec<Child> = client
        .collections()
        .children(&archive.id)
        .items()
        .try_collect()
        .await
        .unwrap();
    match inside.as_slice() {
        [Child::Collection(c), Child::Gallery(g)] => {
            assert_eq!((&c.id, &g.id), (&year.id, &events.id));
            assert_eq!(
                (g.listed, g.mode.as_ref()),
                (Some(true), Some(&Mode::Permission))
            );
        }
        other => panic!("{other:?}"),
    }

    let under: Vec<_> = client
        .galleries()
        .list()
        .parent(&archive.id)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        under.iter().map(|g| &g.id).collect::<Vec<_>>(),
        [&events.id]
    );
    let all: Vec<_> = client
        .galleries()
        .list()
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(all.iter().any(|g| g.id == top.id));

    assert_eq!(
        client
            .collections()
            .get(&archive.id)
            .await
            .unwrap()
            .description
            .as_deref(),
        Some("Old work")
    );
    assert_eq!(
        client
            .collections()
            .set_visibility(&archive.id, Mode::Private)
            .await
            .unwrap(),
        Mode::Private
    );
    assert_eq!(
        client.collections().get(&archive.id).await.unwrap().mode,
        Some(Mode::Private)
    );
    assert_eq!(
        client
            .galleries()
            .set_visibility(&events.id, Mode::Everyone)
            .await
            .unwrap(),
        Mode::Everyone
    );
    assert_eq!(
        client.galleries().get(&events.id).await.unwrap().mode,
        Some(Mode::Everyone)
    );
}

#[tokio::test]
async fn gallery_images_come_in_pages_until_paging_disappears() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Paged").await;
    for i in 0..5 {
        let source = UploadSource::bytes(format!("img_{i}.jpg"), vec![i as u8; 100 + i]).unwrap();
        client.images().upload(&g.id, source).send().await.unwrap();
    }
    let pages: Vec<_> = client
        .galleries()
        .images(&g.id)
        .per_page(2)
        .extend_image()
        .pages()
        .try_collect()
        .await
        .unwrap();
    let shape: Vec<_> = pages
        .iter()
        .map(|p| (p.number, p.items.len(), p.next))
        .collect();
    assert_eq!(shape, [(1, 2, Some(2)), (2, 2, Some(3)), (3, 1, None)]);
    let mut names: Vec<_> = pages
        .iter()
        .flat_map(|p| p.items.iter())
        .map(|i| i.file_name().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "img_0.jpg",
            "img_1.jpg",
            "img_2.jpg",
            "img_3.jpg",
            "img_4.jpg"
        ]
    );
    let sizes: Vec<_> = pages
        .iter()
        .flat_map(|p| p.items.iter())
        .map(|i| i.image.as_ref().unwrap().file_size.unwrap())
        .collect();
    assert!(sizes.iter().all(|s| (100..105).contains(s)), "{sizes:?}");
}

#[tokio::test]
async fn search_finds_by_file_name_within_a_gallery() {
    let emu = emulator().await;
    let client = client(&emu);
    let a = gallery(&client, "A").await;
    let b = gallery(&client, "B").await;
    client
        .images()
        .upload(
            &a.id,
            UploadSource::bytes("sunset_pier.jpg", vec![1u8; 10]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .images()
        .upload(
            &b.id,
            UploadSource::bytes("sunset_pier.jpg", vec![2u8; 10]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    client
        .images()
        .upload(
            &a.id,
            UploadSource::bytes("harbour.jpg", vec![3u8; 10]).unwrap(),
        )
        .send()
        .await
        .unwrap();

    let everywhere: Vec<_> = client
        .images()
        .search("sunset_pier.jpg")
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(everywhere.len(), 2);
    let in_a: Vec<_> = client
        .images()
        .search("sunset_pier.jpg")
        .gallery(&a.id)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(in_a.len(), 1);
    assert_eq!(in_a[0].file_name.as_deref(), Some("sunset_pier.jpg"));
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let emu = emulator().await;
    let client = client(&emu);
    let g: GalleryId = "G0000doesnot.xst".parse().unwrap();
    let err = client.galleries().get(&g).await.unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::NotFound, Some(404)));
    let i: ImageId = "I0000doesnot.xst".parse().unwrap();
    assert_eq!(
        client.images().get(&i).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let err = client.images().download(&i).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}
