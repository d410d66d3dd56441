//! Unit tests of the fault decorators.

use super::*;
use crate::entry::Entry;
use crate::error::Result;
use crate::fs::{RemoteFs, WriteOptions};
use crate::memory::MemoryFs;
use crate::stream;
use bytes::Bytes;
use futures::StreamExt;
use futures::TryStreamExt;
use std::time::Duration;

#[tokio::test]
async fn cut_read_yields_exactly_the_prefix_then_a_retryable_error() {
    let mem = MemoryFs::new();
    let f = RemotePath::parse("f").unwrap();
    mem.write(&f, stream::generated(3, 50_000), &WriteOptions::new())
        .await
        .unwrap();
    let cut = CutStream::new(mem.clone(), 12_345).reads_only().times(1);
    let mut s = cut.read(&f, 0).await.unwrap();
    let mut got = 0u64;
    let err = loop {
        match s.next().await {
            Some(Ok(c)) => got += c.len() as u64,
            Some(Err(e)) => break e,
            None => panic!("stream ended without the cut error"),
        }
    };
    assert_eq!(got, 12_345);
    assert!(err.is_retryable(), "{err}");
    assert!(s.next().await.is_none());
    // The budget is spent: the next read is whole.
    let all: Vec<Bytes> = cut.read(&f, 0).await.unwrap().try_collect().await.unwrap();
    assert_eq!(all.concat().len(), 50_000);
    assert_eq!(cut.cuts(), 1);
}

#[tokio::test]
async fn a_stream_shorter_than_the_cut_point_passes_whole() {
    let mem = MemoryFs::new();
    let f = RemotePath::parse("f").unwrap();
    let cut = CutStream::new(mem, 100);
    cut.write(&f, stream::generated(1, 100), &WriteOptions::new())
        .await
        .unwrap();
    assert_eq!(cut.cuts(), 0);
}

#[tokio::test]
async fn fail_nth_counts_only_the_chosen_operations() {
    let fs = FailNth::new(MemoryFs::new(), 1).only(&[Operation::List]);
    assert!(fs.stat(&RemotePath::ROOT).await.is_ok());
    let items: Vec<Result<Entry>> = fs.list(&RemotePath::ROOT).collect().await;
    assert!(items[0].as_ref().is_err_and(|e| e.is_retryable()));
    let items: Vec<Result<Entry>> = fs.list(&RemotePath::ROOT).collect().await;
    assert!(items.is_empty());
    assert_eq!((fs.calls(), fs.failures()), (2, 1));
}

#[tokio::test(start_paused = true)]
async fn latency_applies_per_chunk() {
    let mem = MemoryFs::new();
    let f = RemotePath::parse("f").unwrap();
    mem.write(
        &f,
        stream::generated_with_chunk(1, 40, 10),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    let fs = Latency::new(mem, Duration::ZERO).per_chunk(Duration::from_secs(1));
    let t = tokio::time::Instant::now();
    let _: Vec<Bytes> = fs.read(&f, 0).await.unwrap().try_collect().await.unwrap();
    // MemoryFs keeps the 4 written chunks; each waits one second.
    assert_eq!(t.elapsed().as_secs(), 4);
}
