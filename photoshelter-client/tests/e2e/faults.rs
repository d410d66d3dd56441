//! Every fault mode of the emulator, and how the SDK rides it out.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use photoshelter_client::{ErrorKind, RetryPolicy, UploadSource};
use photoshelter_emulator::FaultRule;

use crate::common::{builder, client, count, data, emulator, gallery};

const UPLOAD: &str = "/psapi/v3/mem/image/upload";

#[tokio::test]
async fn rate_limits_are_waited_out() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Busy").await;
    emu.faults().rate_limit_every(3, 1).unwrap();
    for _ in 0..5 {
        client.galleries().get(&g.id).await.unwrap();
    }
    let limited = emu
        .request_log()
        .iter()
        .filter(|r| r.status == Some(429))
        .count();
    assert!(limited >= 1, "the emulator did rate-limit");
    // An upload hit by a 429 is repeated (the server did not act) and stored once.
    let image = client
        .images()
        .upload(
            &g.id,
            UploadSource::bytes("busy.jpg", vec![1u8; 100]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        emu.gallery_images(g.id.as_str()).unwrap(),
        [image.id.to_string()]
    );
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_budget_is_reported_with_its_retry_after() {
    let emu = emulator().await;
    let client = builder(&emu)
        .retry(RetryPolicy::default().max_elapsed(Duration::from_secs(5)))
        .build()
        .unwrap();
    client.login().await.unwrap();
    emu.faults().add(FaultRule::rate_limit(120)).unwrap();
    let err = client.session().await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_rate_limit_on_an_upload_still_on_its_way_is_waited_out() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Big").await;
    emu.faults()
        .add(FaultRule::rate_limit(1).path_prefix(UPLOAD).count(1))
        .unwrap();
    // The first attempt's body stalls after its first chunk, like a large file on a slow
    // line: the 429 must arrive anyway, and the second attempt sends everything.
    let len = 300_000usize;
    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = attempts.clone();
    let source = UploadSource::from_fn("big.jpg", len as u64, move || {
        let first = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        let bytes = bytes::Bytes::from(data(len, 5));
        let head = futures::stream::iter([Ok::<_, std::io::Error>(bytes.slice(..65_536))]);
        if first {
            head.chain(futures::stream::pending()).boxed()
        } else {
            head.chain(futures::stream::iter([Ok(bytes.slice(65_536..))]))
                .boxed()
        }
    })
    .unwrap();
    let upload = client.images().upload(&g.id, source).send();
    let image = tokio::time::timeout(Duration::from_secs(20), upload)
        .await
        .expect("the 429 is not held back until the body has arrived")
        .unwrap();
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        emu.image_bytes(image.id.as_str()).await.unwrap(),
        data(len, 5)
    );
    assert_eq!(emu.gallery_images(g.id.as_str()).unwrap().len(), 1);
}

#[tokio::test]
async fn bursts_of_500_and_503_are_retried_for_reads() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Flaky").await;
    emu.faults().fail_next(503, 3).unwrap();
    assert_eq!(client.galleries().get(&g.id).await.unwrap().id, g.id);
    emu.faults().fail_next(500, 2).unwrap();
    let items: Vec<_> = client
        .galleries()
        .images(&g.id)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert!(items.is_empty());
}

#[tokio::test]
async fn a_500_on_a_create_is_not_repeated() {
    let emu = emulator().await;
    let client = client(&emu);
    client.login().await.unwrap();
    emu.faults().fail_next(500, 1).unwrap();
    let err = client.galleries().create("Once").send().await.unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(500)));
    assert_eq!(count(&emu, "POST", "/psapi/v3/mem/gallery/insert"), 1);
    // A 503 says the server did not act: that one is repeated.
    emu.faults().fail_next(503, 2).unwrap();
    client.galleries().create("Twice").send().await.unwrap();
    assert_eq!(count(&emu, "POST", "/psapi/v3/mem/gallery/insert"), 4);
}

#[tokio::test]
async fn latency_within_the_timeout_is_fine_beyond_it_is_a_transport_error() {
    let emu = emulator().await;
    let slow_ok = builder(&emu)
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    slow_ok.login().await.unwrap();
    emu.faults().latency_ms(300).unwrap();
    slow_ok.session().await.unwrap();

    let impatient = builder(&emu)
        .request_timeout(Duration::from_millis(100))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = impatient.session().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_connection_dropped_after_the_upload_body_gives_exactly_one_image() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Dropped").await;
    emu.faults().drop_next_uploads(1).unwrap();
    let bytes = data(500_000, 11);
    let image = client
        .images()
        .upload(
            &g.id,
            UploadSource::bytes("drop.jpg", bytes.clone()).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        emu.gallery_images(g.id.as_str()).unwrap(),
        [image.id.to_string()],
        "found, not uploaded twice"
    );
    assert_eq!(count(&emu, "POST", UPLOAD), 1);
    assert_eq!(emu.image_bytes(image.id.as_str()).await.unwrap(), bytes);
}

#[tokio::test]
async fn a_connection_dropped_before_storing_is_uploaded_again_once() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Lost").await;
    // An older image with the same name and size must not be mistaken for the new one.
    let old = client
        .images()
        .upload(
            &g.id,
            UploadSource::bytes("same.jpg", vec![5u8; 1000]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Past the window's margin: 2 s of slack plus the one-second steps of `Date` and `uploaded_at`.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    emu.faults()
        .add(
            FaultRule::drop_before_handler()
                .path_prefix(UPLOAD)
                .count(1),
        )
        .unwrap();
    let new = client
        .images()
        .upload(
            &g.id,
            UploadSource::bytes("same.jpg", vec![6u8; 1000]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_ne!(new.id, old.id);
    let mut stored = emu.gallery_images(g.id.as_str()).unwrap();
    stored.sort();
    let mut expected = vec![old.id.to_string(), new.id.to_string()];
    expected.sort();
    assert_eq!(stored, expected, "exactly one new image");
    assert_eq!(
        emu.image_bytes(new.id.as_str()).await.unwrap(),
        vec![6u8; 1000]
    );
}

#[tokio::test]
async fn a_one_shot_stream_is_not_replayed_but_still_looked_for() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Once").await;
    emu.faults().drop_next_uploads(1).unwrap();
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        vec![Ok(bytes::Bytes::from(vec![3u8; 4000]))];
    let source = UploadSource::stream("stream.jpg", 4000, futures::stream::iter(chunks)).unwrap();
    let image = client.images().upload(&g.id, source).send().await.unwrap();
    assert_eq!(
        emu.gallery_images(g.id.as_str()).unwrap(),
        [image.id.to_string()]
    );
}

/// A TCP relay to `target` on `listen` (port 0: any), with address reuse so that it can be
/// started again on the same port. Aborting the returned task closes every relayed
/// connection: until it is started again, connections to its port are refused.
async fn relay(
    listen: std::net::SocketAddr,
    target: String,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket.bind(listen).unwrap();
    let listener = socket.listen(64).unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        // Owns the connection tasks: aborting the relay drops them, closing their sockets.
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut inbound, _)) = listener.accept().await {
            let target = target.clone();
            conns.spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_one_shot_stream_is_sent_again_when_no_byte_of_it_left() {
    let emu = emulator().await;
    let target = emu.base_url().trim_start_matches("http://").to_owned();
    let (addr, first) = relay("127.0.0.1:0".parse().unwrap(), target.clone()).await;
    let client = photoshelter_client::Client::builder()
        .base_url(format!("http://{addr}"))
        .api_key(emu.api_key())
        .credentials(emu.email(), emu.password())
        .retry(
            RetryPolicy::default()
                .max_attempts(6)
                .min_delay(Duration::from_millis(200))
                .max_delay(Duration::from_secs(1))
                .jitter(false),
        )
        .build()
        .unwrap();
    let g = gallery(&client, "Outage").await;
    // The service goes away for a moment: connections are refused, then accepted again.
    first.abort();
    let _ = first.await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let back = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        relay(addr, target).await
    });
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> =
        vec![Ok(bytes::Bytes::from(vec![4u8; 3000]))];
    let source = UploadSource::stream("outage.jpg", 3000, futures::stream::iter(chunks)).unwrap();
    let image = client.images().upload(&g.id, source).send().await.unwrap();
    assert_eq!(
        emu.gallery_images(g.id.as_str()).unwrap(),
        [image.id.to_string()]
    );
    assert_eq!(
        emu.image_bytes(image.id.as_str()).await.unwrap(),
        vec![4u8; 3000]
    );
    back.await.unwrap().1.abort();
}

#[tokio::test]
async fn an_expired_session_is_renewed_and_the_call_repeated() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Renew").await;
    assert_eq!(emu.faults().expire_sessions_now(), 1);
    assert_eq!(client.galleries().get(&g.id).await.unwrap().id, g.id);
    assert_eq!(count(&emu, "POST", "/psapi/v3/mem/authenticate"), 2);

    // Tokens that die every few calls: each death costs one login, nothing fails.
    emu.faults().add(FaultRule::session_lifetime(3)).unwrap();
    for i in 0..7 {
        let source = UploadSource::bytes(format!("r{i}.jpg"), vec![i as u8; 10]).unwrap();
        client.images().upload(&g.id, source).send().await.unwrap();
    }
    assert_eq!(emu.gallery_images(g.id.as_str()).unwrap().len(), 7);
    assert!(count(&emu, "POST", "/psapi/v3/mem/authenticate") >= 4);
}

#[tokio::test]
async fn a_read_whose_connection_drops_is_simply_repeated() {
    let emu = emulator().await;
    let client = client(&emu);
    let g = gallery(&client, "Reset").await;
    emu.faults()
        .add(
            FaultRule::drop_connection()
                .path_prefix(format!("/psapi/v3/mem/gallery/{}", g.id))
                .count(2),
        )
        .unwrap();
    assert_eq!(client.galleries().get(&g.id).await.unwrap().id, g.id);
    let dropped = emu.request_log().iter().filter(|r| r.dropped).count();
    assert_eq!(dropped, 2);
}
