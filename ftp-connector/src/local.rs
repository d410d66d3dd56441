//! [`LocalFs`]: a local folder.

use crate::error::{Error, Operation, Result};

/// A local folder, confined to its root.
#[derive(Debug)]
pub struct LocalFs {}

impl LocalFs {
    /// A backend over an existing folder.
    pub async fn new(root: impl AsRef<std::path::Path>) -> Result<Self> {
        let _ = root;
        Err(Error::unsupported(Operation::Connect, "local"))
    }
}

// Placeholder until the backend lands: every call is unsupported.
#[async_trait::async_trait]
impl crate::RemoteFs for LocalFs {
    fn capabilities(&self) -> crate::Capabilities {
        crate::Capabilities::default()
    }
    fn backend(&self) -> &'static str {
        "local"
    }
    async fn stat(&self, _: &crate::RemotePath) -> crate::Result<crate::Entry> {
        Err(crate::Error::unsupported(crate::Operation::Stat, "local"))
    }
    fn list(&self, _: &crate::RemotePath) -> crate::EntryStream {
        Box::pin(futures::stream::empty())
    }
    async fn read(&self, _: &crate::RemotePath, _: u64) -> crate::Result<crate::ByteStream> {
        Err(crate::Error::unsupported(crate::Operation::Read, "local"))
    }
    async fn write(
        &self,
        _: &crate::RemotePath,
        _: crate::ByteStream,
        _: &crate::WriteOptions,
    ) -> crate::Result<crate::WriteOutcome> {
        Err(crate::Error::unsupported(crate::Operation::Write, "local"))
    }
    async fn rename(&self, _: &crate::RemotePath, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(crate::Operation::Rename, "local"))
    }
    async fn create_dir_all(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::CreateDir,
            "local",
        ))
    }
    async fn remove_file(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveFile,
            "local",
        ))
    }
    async fn remove_dir(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveDir,
            "local",
        ))
    }
}
