//! [`RemoteFsExt`]: conveniences over any [`RemoteFs`].

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;

use crate::error::Result;
use crate::fs::RemoteFs;
use crate::path::RemotePath;

/// Options of [`RemoteFsExt::walk`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct WalkOptions {}

/// Conveniences over any [`RemoteFs`], by a blanket impl.
#[async_trait]
pub trait RemoteFsExt: RemoteFs {
    /// The whole file in memory. For small files only.
    async fn read_to_bytes(&self, path: &RemotePath) -> Result<Bytes> {
        let chunks: Vec<Bytes> = self.read(path, 0).await?.try_collect().await?;
        Ok(chunks.concat().into())
    }
}

impl<T: RemoteFs + ?Sized> RemoteFsExt for T {}
