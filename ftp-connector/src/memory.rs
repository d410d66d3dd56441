//! [`MemoryFs`]: an in-memory tree.

/// An in-memory tree.
#[derive(Debug, Clone, Default)]
pub struct MemoryFs {}

impl MemoryFs {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }
}

// Placeholder until the backend lands: every call is unsupported.
#[async_trait::async_trait]
impl crate::RemoteFs for MemoryFs {
    fn capabilities(&self) -> crate::Capabilities {
        crate::Capabilities::default()
    }
    fn backend(&self) -> &'static str {
        "memory"
    }
    async fn stat(&self, _: &crate::RemotePath) -> crate::Result<crate::Entry> {
        Err(crate::Error::unsupported(crate::Operation::Stat, "memory"))
    }
    fn list(&self, _: &crate::RemotePath) -> crate::EntryStream {
        Box::pin(futures::stream::empty())
    }
    async fn read(&self, _: &crate::RemotePath, _: u64) -> crate::Result<crate::ByteStream> {
        Err(crate::Error::unsupported(crate::Operation::Read, "memory"))
    }
    async fn write(
        &self,
        _: &crate::RemotePath,
        _: crate::ByteStream,
        _: &crate::WriteOptions,
    ) -> crate::Result<crate::WriteOutcome> {
        Err(crate::Error::unsupported(crate::Operation::Write, "memory"))
    }
    async fn rename(&self, _: &crate::RemotePath, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::Rename,
            "memory",
        ))
    }
    async fn create_dir_all(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::CreateDir,
            "memory",
        ))
    }
    async fn remove_file(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveFile,
            "memory",
        ))
    }
    async fn remove_dir(&self, _: &crate::RemotePath) -> crate::Result<()> {
        Err(crate::Error::unsupported(
            crate::Operation::RemoveDir,
            "memory",
        ))
    }
}
