//! FTP and FTPS.

use crate::config::{RemoteOptions, RemoteUrl};
use crate::error::{Error, Operation, Result};

/// FTP and FTPS.
#[derive(Debug)]
pub struct FtpFs {}

impl FtpFs {
    /// Connects and logs in.
    pub async fn connect(url: RemoteUrl, options: RemoteOptions) -> Result<Self> {
        let _ = (url, options);
        Err(Error::unsupported(Operation::Connect, "ftp"))
    }
}

// Placeholder until the backend lands: every call is unsupported.
#[async_trait::async_trait]
impl crate::RemoteFs for FtpFs {
    fn capabilities(&self) -> crate::Capabilities {
        crate::Capabilities::default()
    }
    fn backend(&self) -> &'static str {
        "ftp"
    }
    async fn stat(&self, _: &crate::RemotePath) -> crate::Result<crate::Entry> {
        Err(crate::Error::unsupported(crate::Operation::Stat, "ftp"))
    }
    fn list(&self, _: &crate::RemotePath) -> crate::EntryStream {
        Box::pin(futures::stream::empty())
    }
    async fn read(&self, _: &crate::RemotePath, _: u64) -> crate::Result<crate::ByteStream> {
        Err(crate::Error::unsupported(crate::Operation::Read, "ftp"))
    }
    async fn write(
        &self,
        _: &crate::RemotePath,
        _: crate::ByteStream,
        _: &crate::WriteOptions,
    ) -> crate::Result<crate::WriteOutcome> {
        Err(crate::Error::unsupported(crate::Operation::Write, "ftp"))
    }
    async fn rename(&self, _: &crate::RemotePath, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(crate::Operation::Rename, "ftp"))
    }
    async fn create_dir_all(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::CreateDir,
            "ftp",
        ))
    }
    async fn remove_file(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveFile,
            "ftp",
        ))
    }
    async fn remove_dir(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveDir,
            "ftp",
        ))
    }
}
