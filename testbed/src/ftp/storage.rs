//! The storage back-end of the in-process FTP server: `unftp-sbe-fs` over the served
//! directory, opened once per session without ever panicking.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use unftp_core::auth::DefaultUser;
use unftp_core::storage::{Error, ErrorKind, Fileinfo, Result, StorageBackend};
use unftp_sbe_fs::{Filesystem, Meta};

/// `unftp_sbe_fs::Filesystem` over the served directory.
///
/// libunftp builds one back-end per session from an infallible generator, while opening the
/// directory can fail (it was deleted, or the process ran out of file descriptors). The
/// failure is kept and reported when the user logs in (`enter`), which libunftp answers
/// with a failed login instead of a crashed session.
#[derive(Debug)]
pub(crate) struct ServedFs {
    inner: std::result::Result<Filesystem, String>,
}

impl ServedFs {
    pub(crate) fn open(root: &Path) -> Self {
        let inner = Filesystem::new(root.to_path_buf())
            .map_err(|e| format!("cannot open served directory {}: {e}", root.display()));
        Self { inner }
    }

    fn fs(&self) -> Result<&Filesystem> {
        self.inner
            .as_ref()
            .map_err(|msg| Error::new(ErrorKind::LocalError, msg.clone()))
    }
}

#[async_trait]
impl StorageBackend<DefaultUser> for ServedFs {
    type Metadata = Meta;

    fn enter(&mut self, user_detail: &DefaultUser) -> std::io::Result<()> {
        match &mut self.inner {
            Ok(fs) => fs.enter(user_detail),
            Err(msg) => Err(std::io::Error::other(msg.clone())),
        }
    }

    fn supported_features(&self) -> u32 {
        match &self.inner {
            Ok(fs) => StorageBackend::<DefaultUser>::supported_features(fs),
            Err(_) => 0,
        }
    }

    async fn metadata<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> Result<Self::Metadata> {
        self.fs()?.metadata(user, path).await
    }

    async fn list<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
    ) -> Result<Vec<Fileinfo<PathBuf, Self::Metadata>>> {
        self.fs()?.list(user, path).await
    }

    async fn get<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        path: P,
        start_pos: u64,
    ) -> Result<Box<dyn tokio::io::AsyncRead + Send + Sync + Unpin>> {
        self.fs()?.get(user, path, start_pos).await
    }

    async fn put<
        P: AsRef<Path> + Send + Debug,
        R: tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    >(
        &self,
        user: &DefaultUser,
        input: R,
        path: P,
        start_pos: u64,
    ) -> Result<u64> {
        self.fs()?.put(user, input, path, start_pos).await
    }

    async fn del<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.fs()?.del(user, path).await
    }

    async fn mkd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.fs()?.mkd(user, path).await
    }

    async fn rename<P: AsRef<Path> + Send + Debug>(
        &self,
        user: &DefaultUser,
        from: P,
        to: P,
    ) -> Result<()> {
        self.fs()?.rename(user, from, to).await
    }

    async fn rmd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.fs()?.rmd(user, path).await
    }

    async fn cwd<P: AsRef<Path> + Send + Debug>(&self, user: &DefaultUser, path: P) -> Result<()> {
        self.fs()?.cwd(user, path).await
    }
}
