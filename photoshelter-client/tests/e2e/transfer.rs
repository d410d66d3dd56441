use std::time::Duration;

use futures::TryStreamExt;
use photoshelter_client::UploadSource;
use sha2::{Digest, Sha256};

use crate::common::{client, count, data, emulator, gallery};

#[tokio::test]
async fn a_file_goes_up_and_comes_back_byte_identical() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Round trip").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("IMG_0420.JPG");
    let original = data(3 * 1024 * 1024 + 17, 7);
    std::fs::write(&path, &original).unwrap();

    let image = client
        .images()
        .upload(&g.id, UploadSource::path(&path).await.unwrap())
        .searchable(false)
        .send()
        .await
        .unwrap();
    assert_eq!(image.file_name.as_deref(), Some("IMG_0420.JPG"));
    assert_eq!(image.file_size, Some(original.len() as u64));
    assert_eq!(
        emu.image_bytes(image.id.as_str()).await.unwrap(),
        original,
        "stored as sent"
    );

    let download = client.images().download(&image.id).send().await.unwrap();
    assert_eq!(download.file_name(), Some("IMG_0420.JPG"));
    assert_eq!(download.total_size(), Some(original.len() as u64));
    let mut hasher = Sha256::new();
    let mut n = 0;
    let mut chunks = Box::pin(download);
    while let Some(chunk) = chunks.try_next().await.unwrap() {
        n += chunk.len();
        hasher.update(&chunk);
    }
    assert_eq!(n, original.len());
    assert_eq!(
        hex::encode(hasher.finalize()),
        hex::encode(Sha256::digest(&original))
    );

    // Resuming from an offset with Range.
    let rest: Vec<u8> = client
        .images()
        .download(&image.id)
        .offset(1_000_000)
        .send()
        .await
        .unwrap()
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .concat();
    assert_eq!(rest, &original[1_000_000..]);
}

#[tokio::test]
async fn an_open_file_and_a_replayable_stream_upload_too() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Sources").await;
    let bytes = data(200_000, 3);
    let file = tempfile::tempfile().unwrap();
    let mut file = tokio::fs::File::from_std(file);
    tokio::io::AsyncWriteExt::write_all(&mut file, &bytes)
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::flush(&mut file).await.unwrap();
    let from_file = client
        .images()
        .upload(
            &g.id,
            UploadSource::file(file, "from_file.jpg").await.unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(emu.image_bytes(from_file.id.as_str()).await.unwrap(), bytes);

    let shared = bytes::Bytes::from(bytes.clone());
    let source = UploadSource::from_fn("from_fn.jpg", shared.len() as u64, move || {
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = shared
            .chunks(7000)
            .map(|c| Ok(shared.slice_ref(c)))
            .collect();
        futures::stream::iter(chunks)
    })
    .unwrap();
    let from_fn = client.images().upload(&g.id, source).send().await.unwrap();
    assert_eq!(emu.image_bytes(from_fn.id.as_str()).await.unwrap(), bytes);
    assert_eq!(count(&emu, "POST", "/psapi/v3/mem/image/upload"), 2);
}

/// An open file cut short after its length was taken: the upload fails (the server gets
/// fewer bytes than announced) rather than storing a short image.
#[tokio::test]
async fn a_file_cut_short_during_upload_is_an_error_not_a_short_image() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Cut short").await;
    let std_file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut &std_file, &data(3 * 1024 * 1024, 5)).unwrap();
    let cutter = std_file.try_clone().unwrap();
    let source = UploadSource::file(tokio::fs::File::from_std(std_file), "cut.jpg")
        .await
        .unwrap();
    cutter.set_len(1024 * 1024 + 1).unwrap();

    let err = client
        .images()
        .upload(&g.id, source)
        .send()
        .await
        .unwrap_err();
    let mut chain = Vec::new();
    let mut cause: Option<&dyn std::error::Error> = Some(&err);
    while let Some(e) = cause {
        chain.push(e.to_string());
        cause = e.source();
    }
    assert!(
        chain
            .iter()
            .any(|m| m.contains("ended") && m.contains("before its announced length")),
        "the cause says the file ended early: {chain:?}"
    );
    assert_eq!(emu.image_count(), 0, "nothing stored");
}

#[tokio::test]
async fn an_upload_to_a_collection_lands_in_it() {
    let emu = emulator().await;
    let client = client(&emu);
    let c = client.collections().create("Inbox").send().await.unwrap();
    let image = client
        .images()
        .upload_to_collection(
            &c.id,
            UploadSource::bytes("loose.jpg", vec![9u8; 64]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    let galleries = client.images().galleries(&image.id).await.unwrap();
    assert_eq!(galleries.len(), 1, "filed in one gallery: {galleries:?}");
    let children: Vec<_> = client
        .collections()
        .children(&c.id)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(
        children.iter().any(
            |ch| matches!(ch, photoshelter_client::Child::Gallery(g) if g.id == galleries[0].id)
        ),
        "{children:?}"
    );
}

#[tokio::test]
async fn an_upload_is_streamed_not_gathered_first() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Streamed").await;
    // The second half is only handed over once the emulator has written part of the first
    // to disk: a client that gathered the whole body before sending would wait forever.
    let tmp = emu.data_dir().join("tmp");
    let (first, second) = (data(1 << 20, 1), data(1 << 20, 2));
    let expected = [first.clone(), second.clone()].concat();
    let halves = futures::stream::unfold(0, move |step| {
        let (tmp, first, second) = (tmp.clone(), first.clone(), second.clone());
        async move {
            match step {
                0 => Some((Ok(bytes::Bytes::from(first)), 1)),
                1 => {
                    let arrived = tokio::time::timeout(Duration::from_secs(20), async {
                        while !has_bytes(&tmp) {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    });
                    let next = match arrived.await {
                        Ok(()) => Ok(bytes::Bytes::from(second)),
                        Err(_) => Err(std::io::Error::other("the first half never arrived")),
                    };
                    Some((next, 2))
                }
                _ => None,
            }
        }
    });
    let source = UploadSource::stream("streamed.jpg", 2 << 20, halves).unwrap();
    let image = client.images().upload(&g.id, source).send().await.unwrap();
    assert_eq!(emu.image_bytes(image.id.as_str()).await.unwrap(), expected);
}

/// Whether a file in `dir` holds any bytes.
fn has_bytes(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.metadata().is_ok_and(|m| m.len() > 0))
}
