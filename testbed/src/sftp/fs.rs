//! The SFTP (version 3) file system of the in-process server, confined to its root.
//!
//! Conventions clients rely on (OpenSSH `sftp`, the russh-sftp client):
//! * `read` at or past the end answers `SSH_FX_EOF`; `readdir` hands out batches and then
//!   `SSH_FX_EOF`, never an empty `NAME`.
//! * `realpath` answers exactly one name.
//! * `rename` never replaces an existing target (SFTPv3); `posix-rename@openssh.com` does,
//!   and is advertised, as is `fsync@openssh.com`, as OpenSSH's `sftp-server` does.
//! * Writes and reads are positional (`pwrite`/`pread`) on a blocking thread, so every
//!   error is reported in the reply to the request that caused it.

use std::collections::{HashMap, VecDeque};
use std::fs::{File as StdFile, FileTimes, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{
    DirBuilderExt as _, FileExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use russh_sftp::protocol::{
    Attrs, Data, File, FileAttributes, Handle, Name, OpenFlags, Packet, Status, StatusCode, Version,
};
use russh_sftp::server::StatusReply;

use super::paths::{Follow, Jail, Resolved};

/// Largest read answered at once; what OpenSSH's sftp-server allows (256 KiB - 1 KiB), so a
/// reply always fits the 256 KiB packet limit of common clients.
const MAX_READ_LEN: u32 = 255 * 1024;
/// Entries per `readdir` reply.
const READDIR_BATCH: usize = 64;
/// Open handles per session; beyond this `open`/`opendir` fail instead of exhausting fds.
const MAX_HANDLES: usize = 1024;

const POSIX_RENAME: &str = "posix-rename@openssh.com";
const FSYNC: &str = "fsync@openssh.com";

type Reply<T> = Result<T, StatusReply>;

enum OpenHandle {
    File {
        file: Arc<StdFile>,
        virt: String,
    },
    Dir {
        dir: Resolved,
        /// Filled on the first `readdir`.
        pending: Option<VecDeque<File>>,
    },
}

/// One SFTP session's state: the jail and the open handles.
pub(crate) struct SftpFs {
    jail: Arc<Jail>,
    handles: HashMap<String, OpenHandle>,
    next_handle: u64,
}

impl SftpFs {
    pub(crate) fn new(jail: Arc<Jail>) -> Self {
        Self {
            jail,
            handles: HashMap::new(),
            next_handle: 0,
        }
    }

    fn insert(&mut self, handle: OpenHandle) -> Reply<String> {
        if self.handles.len() >= MAX_HANDLES {
            return Err(StatusCode::Failure.with_message("too many open handles"));
        }
        self.next_handle += 1;
        let id = format!("h{}", self.next_handle);
        self.handles.insert(id.clone(), handle);
        Ok(id)
    }

    fn file(&self, handle: &str) -> Reply<(Arc<StdFile>, String)> {
        match self.handles.get(handle) {
            Some(OpenHandle::File { file, virt }) => Ok((file.clone(), virt.clone())),
            _ => Err(bad_handle(handle)),
        }
    }

    fn resolve(&self, path: &str, follow: Follow) -> Reply<Resolved> {
        self.jail.resolve(path, follow)
    }
}

fn bad_handle(handle: &str) -> StatusReply {
    StatusCode::Failure.with_message(format!("invalid handle {handle:?}"))
}

fn ok(id: u32) -> Status {
    Status {
        id,
        status_code: StatusCode::Ok,
        error_message: "Ok".to_owned(),
        language_tag: "en-US".to_owned(),
    }
}

/// Maps an I/O error to an SFTP status naming the operation and the client path.
pub(crate) fn io_status(e: &io::Error, op: &str, virt: &str) -> StatusReply {
    let code = match e.kind() {
        io::ErrorKind::NotFound => StatusCode::NoSuchFile,
        io::ErrorKind::PermissionDenied => StatusCode::PermissionDenied,
        _ => StatusCode::Failure,
    };
    code.with_message(format!("{op} {virt}: {e}"))
}

/// Runs blocking file-system work off the async threads.
async fn blocking<T, F>(op: &'static str, virt: &str, f: F) -> Reply<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(io_status(&e, op, virt)),
        Err(e) => Err(StatusCode::Failure.with_message(format!("{op} {virt}: {e}"))),
    }
}

/// Attributes as OpenSSH reports them: size, uid/gid, full mode (type bits included),
/// atime and mtime.
fn attrs_of(md: &Metadata) -> FileAttributes {
    use std::os::unix::fs::MetadataExt as _;
    let mut attrs = FileAttributes::from(md);
    attrs.permissions = Some(md.mode());
    attrs
}

fn apply_attrs(
    path: &std::path::Path,
    file: Option<&StdFile>,
    attrs: &FileAttributes,
) -> io::Result<()> {
    let open = |write: bool| -> io::Result<StdFile> {
        match file {
            Some(f) => f.try_clone(),
            None if write => OpenOptions::new().write(true).open(path),
            None => StdFile::open(path),
        }
    };
    if let Some(size) = attrs.size {
        open(true)?.set_len(size)?;
    }
    if let Some(mode) = attrs.permissions {
        let perms = std::fs::Permissions::from_mode(mode & 0o7777);
        match file {
            Some(f) => f.set_permissions(perms)?,
            None => std::fs::set_permissions(path, perms)?,
        }
    }
    if attrs.uid.is_some() || attrs.gid.is_some() {
        match file {
            Some(f) => std::os::unix::fs::fchown(f, attrs.uid, attrs.gid)?,
            None => std::os::unix::fs::chown(path, attrs.uid, attrs.gid)?,
        }
    }
    if attrs.atime.is_some() || attrs.mtime.is_some() {
        let at = |secs: u32| UNIX_EPOCH + Duration::from_secs(u64::from(secs));
        let mut times = FileTimes::new();
        if let Some(a) = attrs.atime {
            times = times.set_accessed(at(a));
        }
        if let Some(m) = attrs.mtime {
            times = times.set_modified(at(m));
        }
        open(false)?.set_times(times)?;
    }
    Ok(())
}

fn read_dir_sorted(dir: PathBuf) -> io::Result<VecDeque<File>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        // Non-UTF-8 names are served lossily (SFTP strings are UTF-8 here).
        let name = entry.file_name().to_string_lossy().into_owned();
        match entry.path().symlink_metadata() {
            Ok(md) => files.push(File::new(name, attrs_of(&md))),
            // Removed since read_dir listed it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    Ok(files.into())
}

/// Reads up to `len` bytes at `offset`, looping over short reads; empty at EOF.
fn read_at(file: &StdFile, offset: u64, len: u32) -> io::Result<Vec<u8>> {
    let mut buf = vec![0; len.min(MAX_READ_LEN) as usize];
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

/// Renames without replacing an existing target. Files use link + unlink, which is atomic
/// and refuses an existing target like OpenSSH's sftp-server; anything else is checked first.
fn rename_no_replace(from: &std::path::Path, to: &std::path::Path) -> io::Result<()> {
    let is_file = from.symlink_metadata()?.is_file();
    if is_file {
        match std::fs::hard_link(from, to) {
            Ok(()) => return std::fs::remove_file(from),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
            Err(_) => {} // e.g. a file system without hard links: fall through
        }
    }
    if to.symlink_metadata().is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "target exists",
        ));
    }
    std::fs::rename(from, to)
}

/// Reads one SSH `string` (u32 length + bytes) from `data`.
fn take_string(data: &mut &[u8]) -> Option<String> {
    let (len, rest) = data.split_first_chunk::<4>()?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return None;
    }
    let (s, rest) = rest.split_at(len);
    *data = rest;
    String::from_utf8(s.to_vec()).ok()
}

impl russh_sftp::server::Handler for SftpFs {
    type Error = StatusReply;

    fn unimplemented(&self) -> Self::Error {
        StatusCode::OpUnsupported.into()
    }

    async fn init(
        &mut self,
        _version: u32,
        _extensions: HashMap<String, String>,
    ) -> Reply<Version> {
        let mut version = Version::new();
        version
            .extensions
            .insert(POSIX_RENAME.to_owned(), "1".to_owned());
        version.extensions.insert(FSYNC.to_owned(), "1".to_owned());
        Ok(version)
    }

    async fn open(
        &mut self,
        id: u32,
        filename: String,
        pflags: OpenFlags,
        attrs: FileAttributes,
    ) -> Reply<Handle> {
        let target = self.resolve(&filename, Follow::Yes)?;
        let mut options = OpenOptions::new();
        let read = pflags.contains(OpenFlags::READ);
        let write = pflags.contains(OpenFlags::WRITE) || pflags.contains(OpenFlags::APPEND);
        options
            .read(read || !write)
            .write(write)
            .append(pflags.contains(OpenFlags::APPEND))
            .truncate(pflags.contains(OpenFlags::TRUNCATE))
            .mode(attrs.permissions.map_or(0o666, |p| p & 0o7777));
        if pflags.contains(OpenFlags::CREATE) {
            if pflags.contains(OpenFlags::EXCLUDE) {
                options.create_new(true);
            } else {
                options.create(true);
            }
        }
        let real = target.real.clone();
        let file = blocking("open", &target.virt, move || options.open(real)).await?;
        let handle = self.insert(OpenHandle::File {
            file: Arc::new(file),
            virt: target.virt,
        })?;
        Ok(Handle { id, handle })
    }

    async fn close(&mut self, id: u32, handle: String) -> Reply<Status> {
        match self.handles.remove(&handle) {
            Some(_) => Ok(ok(id)),
            None => Err(bad_handle(&handle)),
        }
    }

    async fn read(&mut self, id: u32, handle: String, offset: u64, len: u32) -> Reply<Data> {
        let (file, virt) = self.file(&handle)?;
        let data = blocking("read", &virt, move || read_at(&file, offset, len)).await?;
        if data.is_empty() && len > 0 {
            return Err(StatusCode::Eof.into());
        }
        Ok(Data { id, data })
    }

    async fn write(
        &mut self,
        id: u32,
        handle: String,
        offset: u64,
        data: Vec<u8>,
    ) -> Reply<Status> {
        let (file, virt) = self.file(&handle)?;
        blocking("write", &virt, move || file.write_all_at(&data, offset)).await?;
        Ok(ok(id))
    }

    async fn lstat(&mut self, id: u32, path: String) -> Reply<Attrs> {
        let target = self.resolve(&path, Follow::No)?;
        let md = blocking("lstat", &target.virt, move || {
            target.real.symlink_metadata()
        })
        .await?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&md),
        })
    }

    async fn stat(&mut self, id: u32, path: String) -> Reply<Attrs> {
        let target = self.resolve(&path, Follow::Yes)?;
        let md = blocking("stat", &target.virt, move || target.real.metadata()).await?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&md),
        })
    }

    async fn fstat(&mut self, id: u32, handle: String) -> Reply<Attrs> {
        let (file, virt) = self.file(&handle)?;
        let md = blocking("fstat", &virt, move || file.metadata()).await?;
        Ok(Attrs {
            id,
            attrs: attrs_of(&md),
        })
    }

    async fn setstat(&mut self, id: u32, path: String, attrs: FileAttributes) -> Reply<Status> {
        let target = self.resolve(&path, Follow::Yes)?;
        blocking("setstat", &target.virt, move || {
            apply_attrs(&target.real, None, &attrs)
        })
        .await?;
        Ok(ok(id))
    }

    async fn fsetstat(&mut self, id: u32, handle: String, attrs: FileAttributes) -> Reply<Status> {
        let (file, virt) = self.file(&handle)?;
        blocking("fsetstat", &virt, move || {
            apply_attrs(std::path::Path::new(""), Some(&file), &attrs)
        })
        .await?;
        Ok(ok(id))
    }

    async fn opendir(&mut self, id: u32, path: String) -> Reply<Handle> {
        let dir = self.resolve(&path, Follow::Yes)?;
        let real = dir.real.clone();
        let md = blocking("opendir", &dir.virt, move || real.metadata()).await?;
        if !md.is_dir() {
            return Err(
                StatusCode::Failure.with_message(format!("opendir {}: not a directory", dir.virt))
            );
        }
        let handle = self.insert(OpenHandle::Dir { dir, pending: None })?;
        Ok(Handle { id, handle })
    }

    async fn readdir(&mut self, id: u32, handle: String) -> Reply<Name> {
        let Some(OpenHandle::Dir { dir, pending }) = self.handles.get_mut(&handle) else {
            return Err(bad_handle(&handle));
        };
        if pending.is_none() {
            let real = dir.real.clone();
            *pending = Some(blocking("readdir", &dir.virt, move || read_dir_sorted(real)).await?);
        }
        let Some(entries) = pending.as_mut() else {
            return Err(bad_handle(&handle));
        };
        if entries.is_empty() {
            return Err(StatusCode::Eof.into());
        }
        let take = entries.len().min(READDIR_BATCH);
        Ok(Name {
            id,
            files: entries.drain(..take).collect(),
        })
    }

    async fn remove(&mut self, id: u32, filename: String) -> Reply<Status> {
        let target = self.resolve(&filename, Follow::No)?;
        blocking("remove", &target.virt, move || {
            std::fs::remove_file(&target.real)
        })
        .await?;
        Ok(ok(id))
    }

    async fn mkdir(&mut self, id: u32, path: String, attrs: FileAttributes) -> Reply<Status> {
        let target = self.resolve(&path, Follow::No)?;
        let mode = attrs.permissions.map_or(0o777, |p| p & 0o7777);
        blocking("mkdir", &target.virt, move || {
            std::fs::DirBuilder::new().mode(mode).create(&target.real)
        })
        .await?;
        Ok(ok(id))
    }

    async fn rmdir(&mut self, id: u32, path: String) -> Reply<Status> {
        let target = self.resolve(&path, Follow::No)?;
        blocking("rmdir", &target.virt, move || {
            std::fs::remove_dir(&target.real)
        })
        .await?;
        Ok(ok(id))
    }

    async fn realpath(&mut self, id: u32, path: String) -> Reply<Name> {
        Ok(Name {
            id,
            files: vec![File::dummy(Jail::normalize(&path)?)],
        })
    }

    async fn rename(&mut self, id: u32, oldpath: String, newpath: String) -> Reply<Status> {
        let from = self.resolve(&oldpath, Follow::No)?;
        let to = self.resolve(&newpath, Follow::No)?;
        let what = format!("{} -> {}", from.virt, to.virt);
        blocking("rename", &what, move || {
            rename_no_replace(&from.real, &to.real)
        })
        .await?;
        Ok(ok(id))
    }

    async fn readlink(&mut self, id: u32, path: String) -> Reply<Name> {
        let link = self.resolve(&path, Follow::No)?;
        let target = blocking("readlink", &link.virt, move || {
            std::fs::read_link(&link.real)
        })
        .await?;
        Ok(Name {
            id,
            files: vec![File::dummy(self.jail.to_virtual(&target))],
        })
    }

    async fn extended(&mut self, id: u32, request: String, data: Vec<u8>) -> Reply<Packet> {
        let mut rest = data.as_slice();
        match request.as_str() {
            POSIX_RENAME => {
                let (Some(old), Some(new)) = (take_string(&mut rest), take_string(&mut rest))
                else {
                    return Err(StatusCode::BadMessage.with_message("posix-rename: bad arguments"));
                };
                let from = self.resolve(&old, Follow::No)?;
                let to = self.resolve(&new, Follow::No)?;
                let what = format!("{} -> {}", from.virt, to.virt);
                blocking("posix-rename", &what, move || {
                    std::fs::rename(&from.real, &to.real)
                })
                .await?;
                Ok(Packet::Status(ok(id)))
            }
            FSYNC => {
                let Some(handle) = take_string(&mut rest) else {
                    return Err(StatusCode::BadMessage.with_message("fsync: bad arguments"));
                };
                let (file, virt) = self.file(&handle)?;
                blocking("fsync", &virt, move || file.sync_all()).await?;
                Ok(Packet::Status(ok(id)))
            }
            _ => Err(StatusCode::OpUnsupported
                .with_message(format!("extension {request} not supported"))),
        }
    }
}
