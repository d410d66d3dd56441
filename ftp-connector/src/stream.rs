//! Building [`ByteStream`](crate::ByteStream)s from bytes, readers and files.

use bytes::Bytes;
use futures::StreamExt;

use crate::fs::ByteStream;

/// A stream of one chunk.
pub fn once(bytes: Bytes) -> ByteStream {
    futures::stream::once(async move { Ok(bytes) }).boxed()
}

/// An empty stream.
pub fn empty() -> ByteStream {
    futures::stream::empty().boxed()
}
