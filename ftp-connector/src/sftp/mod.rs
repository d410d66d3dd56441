//! SFTP.

use crate::config::{RemoteOptions, RemoteUrl};
use crate::error::{Error, Operation, Result};

/// SFTP.
#[derive(Debug)]
pub struct SftpFs {}

impl SftpFs {
    /// Connects and logs in.
    pub async fn connect(url: RemoteUrl, options: RemoteOptions) -> Result<Self> {
        let _ = (url, options);
        Err(Error::unsupported(Operation::Connect, "sftp"))
    }
}

// Placeholder until the backend lands: every call is unsupported.
#[async_trait::async_trait]
impl crate::RemoteFs for SftpFs {
    fn capabilities(&self) -> crate::Capabilities {
        crate::Capabilities::default()
    }
    fn backend(&self) -> &'static str {
        "sftp"
    }
    async fn stat(&self, _: &crate::RemotePath) -> crate::Result<crate::Entry> {
        Err(crate::Error::unsupported(crate::Operation::Stat, "sftp"))
    }
    fn list(&self, _: &crate::RemotePath) -> crate::EntryStream {
        Box::pin(futures::stream::empty())
    }
    async fn read(&self, _: &crate::RemotePath, _: u64) -> crate::Result<crate::ByteStream> {
        Err(crate::Error::unsupported(crate::Operation::Read, "sftp"))
    }
    async fn write(
        &self,
        _: &crate::RemotePath,
        _: crate::ByteStream,
        _: &crate::WriteOptions,
    ) -> crate::Result<crate::WriteOutcome> {
        Err(crate::Error::unsupported(crate::Operation::Write, "sftp"))
    }
    async fn rename(&self, _: &crate::RemotePath, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(crate::Operation::Rename, "sftp"))
    }
    async fn create_dir_all(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::CreateDir,
            "sftp",
        ))
    }
    async fn remove_file(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveFile,
            "sftp",
        ))
    }
    async fn remove_dir(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveDir,
            "sftp",
        ))
    }
}
