//! The conformance suite: one set of behaviours every [`RemoteFs`] backend must show,
//! run unchanged against `MemoryFs`, `LocalFs`, FTP, FTPS and SFTP (in-process servers
//! and real daemons).
//!
//! Available with the `testing` feature. A backend's test module is a few lines:
//!
//! ```
//! # #[cfg(any())] mod doc {
//! use ftp_connector::conformance::Fixture;
//! use ftp_connector::MemoryFs;
//!
//! async fn fixture() -> Fixture {
//!     let fs = MemoryFs::new();
//!     Fixture::new(fs.clone()).with_raw(fs)
//! }
//!
//! ftp_connector::conformance_tests!(fixture);
//! # }
//! ```
//!
//! [`conformance_tests!`](crate::conformance_tests) expands to one `#[tokio::test]` per
//! case (the calling crate needs `tokio` with the `macros` and `rt-multi-thread`
//! features among its dev-dependencies). The fixture function is `async fn() -> Fixture`
//! or `async fn() -> Option<Fixture>`; `None` skips every case (for daemons that are not
//! configured on this machine).
//!
//! Each case is also a plain `pub async fn case(&Fixture)` that panics on failure, so a
//! backend can call a single case from its own test. Every case works in its own new
//! folder `<case>-<random>` under the fixture's root, so fixtures may share one root and
//! cases may run in parallel.
//!
//! A case that needs a capability the backend lacks, or a fixture part it was not given,
//! skips itself and says so on stderr (written with `std::io::Write`, so plain
//! `cargo test` shows it):
//!
//! ```text
//! conformance[ftp] set_modified: SKIPPED: the backend cannot set modification times
//! ```
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
// This module *is* a test suite: its job is to panic with a clear message when a backend
// misbehaves, so the workspace's no-panic lints do not apply here.

mod basic;
mod faults;
mod names;
mod ops;
mod transfer;
mod tree;
mod write;

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Result};
use crate::ext::RemoteFsExt as _;
use crate::fs::{RemoteFs, WriteOptions};
use crate::memory::MemoryFs;
use crate::path::RemotePath;

pub use basic::{
    create_dir_all, empty_file, exists_and_read_to_bytes, list_kinds_and_sizes, not_found,
    read_from_offset, secrets_stay_hidden, stat_root, write_read_roundtrip,
};
pub use faults::{cut_read, cut_write};
pub use names::{hostile_names, unicode_and_spaces};
pub use ops::{remove, rename, set_modified};
pub use transfer::{
    atomic_write_is_never_seen_partial, checksum, concurrent_transfers, copy_between_backends,
    large_file,
};
pub use tree::{deep_tree, walk_filters};
pub use write::{
    failed_write_leaves_no_trace, in_place_write, overwrite, resumed_write, write_needs_parent,
    wrong_length_is_refused,
};

/// The default size of the [`large_file`] case: 100 MiB.
pub const LARGE_FILE_SIZE: u64 = 100 * 1024 * 1024;

/// Every case, by name, in the order [`conformance_tests!`](crate::conformance_tests)
/// declares them.
pub const CASES: &[&str] = &[
    "stat_root",
    "create_dir_all",
    "write_read_roundtrip",
    "empty_file",
    "unicode_and_spaces",
    "read_from_offset",
    "not_found",
    "write_needs_parent",
    "overwrite",
    "wrong_length_is_refused",
    "failed_write_leaves_no_trace",
    "atomic_write_is_never_seen_partial",
    "in_place_write",
    "resumed_write",
    "rename",
    "remove",
    "list_kinds_and_sizes",
    "set_modified",
    "checksum",
    "large_file",
    "deep_tree",
    "walk_filters",
    "concurrent_transfers",
    "hostile_names",
    "cut_read",
    "cut_write",
    "copy_between_backends",
    "exists_and_read_to_bytes",
    "secrets_stay_hidden",
];

/// What a case runs against.
///
/// Build it with [`Fixture::new`] and the `with_*` methods.
#[non_exhaustive]
pub struct Fixture {
    /// The backend, rooted in a scratch folder (cases create their own sub-folders).
    pub fs: Arc<dyn RemoteFs>,
    /// An independent second connection to the same root, to watch the first one's
    /// writes from outside. Cases fall back to `fs` when there is none.
    pub second: Option<Arc<dyn RemoteFs>>,
    /// Plants names the API refuses, for [`hostile_names`]; that case skips without it.
    pub raw: Option<Arc<dyn RawAccess>>,
    /// The size of the [`large_file`] case (default [`LARGE_FILE_SIZE`]).
    pub large_file_size: u64,
    /// Labels of hostile names (see [`HOSTILE_NAMES`]) that this server cannot list
    /// faithfully, e.g. an FTP server whose listing lines break at a `\n` in a name.
    /// [`hostile_names`] skips them, saying so.
    pub unrepresentable: Vec<&'static str>,
    /// Passwords, passphrases or keys the backend was given, which must never show in its
    /// `Debug` output or its errors ([`secrets_stay_hidden`]).
    secrets: Vec<String>,
    /// Whatever must live as long as the fixture (a server, a temporary directory).
    guard: Option<Box<dyn Any + Send + Sync>>,
    /// The case folders created so far, removed when a case passes.
    case_dirs: std::sync::Mutex<Vec<RemotePath>>,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("fs", &self.fs)
            .field("second", &self.second)
            .field("raw", &self.raw)
            .field("large_file_size", &self.large_file_size)
            .field("unrepresentable", &self.unrepresentable)
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.secrets.len()),
            )
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// A fixture over `fs` (a backend or an `Arc<dyn RemoteFs>`), with no second
    /// connection and no raw access.
    pub fn new(fs: impl RemoteFs) -> Self {
        Fixture {
            fs: Arc::new(fs),
            second: None,
            raw: None,
            large_file_size: LARGE_FILE_SIZE,
            unrepresentable: Vec::new(),
            secrets: Vec::new(),
            guard: None,
            case_dirs: std::sync::Mutex::default(),
        }
    }

    /// Adds an independent second connection to the same root.
    pub fn with_second(mut self, fs: impl RemoteFs) -> Self {
        self.second = Some(Arc::new(fs));
        self
    }

    /// Adds raw access to the store behind `fs` (for hostile names).
    pub fn with_raw(mut self, raw: impl RawAccess + 'static) -> Self {
        self.raw = Some(Arc::new(raw));
        self
    }

    /// Keeps `guard` alive as long as the fixture (a server handle, a `TempDir`).
    pub fn keep_alive(mut self, guard: impl Any + Send + Sync) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// Sets the size of the [`large_file`] case.
    pub fn with_large_file_size(mut self, bytes: u64) -> Self {
        self.large_file_size = bytes;
        self
    }

    /// Declares hostile-name labels this server cannot list faithfully.
    pub fn with_unrepresentable(mut self, labels: &[&'static str]) -> Self {
        self.unrepresentable.extend_from_slice(labels);
        self
    }

    /// Declares the secrets the backend was built with (a password, a key passphrase), so
    /// that [`secrets_stay_hidden`] can check they never show.
    pub fn with_secrets(mut self, secrets: &[&str]) -> Self {
        self.secrets.extend(
            secrets
                .iter()
                .filter(|s| !s.is_empty())
                .map(|s| (*s).to_owned()),
        );
        self
    }

    /// The second connection, or `fs` when there is none.
    pub fn observer(&self) -> &Arc<dyn RemoteFs> {
        self.second.as_ref().unwrap_or(&self.fs)
    }
}

/// What a fixture function may return: a [`Fixture`], or `None` to skip.
pub trait IntoFixture {
    /// The fixture, or `None` to skip the case.
    fn into_fixture(self) -> Option<Fixture>;
}

impl IntoFixture for Fixture {
    fn into_fixture(self) -> Option<Fixture> {
        Some(self)
    }
}

impl IntoFixture for Option<Fixture> {
    fn into_fixture(self) -> Option<Fixture> {
        self
    }
}

/// Plants files whose names the API refuses, straight into the store behind a backend:
/// the way a hostile or broken server would present them.
#[async_trait]
pub trait RawAccess: fmt::Debug + Send + Sync {
    /// Creates a file named `name` (raw bytes) with `contents` in `dir`, relative to the
    /// fixture's root. Returns `Ok(false)` when the store cannot hold such a name at all
    /// (a NUL or `/` on a disk, `..`), so the case skips that name.
    async fn create_raw_file(&self, dir: &RemotePath, name: &[u8], contents: &[u8])
    -> Result<bool>;
}

#[async_trait]
impl RawAccess for MemoryFs {
    async fn create_raw_file(
        &self,
        dir: &RemotePath,
        name: &[u8],
        contents: &[u8],
    ) -> Result<bool> {
        self.insert_raw_name(dir, name, contents)?;
        Ok(true)
    }
}

/// [`RawAccess`] for a folder on this machine: the folder a local server (the in-process
/// FTP and SFTP servers, pure-ftpd, OpenSSH) serves as the fixture's root.
#[derive(Debug, Clone)]
pub struct LocalRaw {
    root: PathBuf,
}

impl LocalRaw {
    /// Raw access to the folder `root`, which the fixture's backend serves as its root.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalRaw { root: root.into() }
    }
}

#[async_trait]
impl RawAccess for LocalRaw {
    async fn create_raw_file(
        &self,
        dir: &RemotePath,
        name: &[u8],
        contents: &[u8],
    ) -> Result<bool> {
        if name.is_empty()
            || name == b"."
            || name == b".."
            || name.contains(&0)
            || name.contains(&b'/')
        {
            return Ok(false);
        }
        #[cfg(unix)]
        let name = {
            use std::os::unix::ffi::OsStrExt;
            std::ffi::OsStr::from_bytes(name).to_owned()
        };
        #[cfg(not(unix))]
        let name = match std::str::from_utf8(name) {
            Ok(s) => std::ffi::OsString::from(s),
            Err(_) => return Ok(false),
        };
        let mut path = self.root.clone();
        path.extend(dir.segments());
        path.push(name);
        match std::fs::write(&path, contents) {
            Ok(()) => Ok(true),
            // Some file systems refuse some bytes in names (e.g. invalid UTF-8 on a
            // Unicode-only one): the name cannot be planted here.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => Ok(false),
            Err(e) => Err(Error::io(crate::Operation::Write, dir.as_str(), e)),
        }
    }
}

/// Hostile names planted by [`hostile_names`], with the labels that
/// [`Fixture::with_unrepresentable`] uses.
pub const HOSTILE_NAMES: &[(&str, &[u8])] = &[
    ("dot-dot", b".."),
    ("dot", b"."),
    ("slash", b"a/b.jpg"),
    ("newline", b"bad\nname.jpg"),
    ("carriage-return", b"bad\rname.jpg"),
    ("nul", b"bad\0name.jpg"),
    ("escape-sequence", b"bad\x1b[31mname.jpg"),
    ("backslash", b"..\\..\\escape.jpg"),
    ("non-utf8", b"bad\xff\xfename.jpg"),
];

/// Writes a visible "skipped" line to stderr (not captured by the test harness).
pub fn skip(fx: &Fixture, case: &str, reason: &str) {
    let line = format!(
        "conformance[{}] {case}: SKIPPED: {reason}\n",
        fx.fs.backend()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Writes a visible note to stderr (not captured by the test harness).
fn note(fx: &Fixture, case: &str, what: &str) {
    let line = format!("conformance[{}] {case}: {what}\n", fx.fs.backend());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Panics with the backend and the case named.
#[track_caller]
fn ok<T>(fx: &Fixture, case: &str, what: &str, r: Result<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!(
            "conformance[{}] {case}: {what} failed: {e} (kind {:?})",
            fx.fs.backend(),
            e.kind()
        ),
    }
}

#[track_caller]
fn expect_kind<T: std::fmt::Debug>(
    fx: &Fixture,
    case: &str,
    what: &str,
    r: crate::Result<T>,
    kind: ErrorKind,
) {
    match r {
        Err(e) if e.kind() == kind => {}
        Err(e) => panic!(
            "conformance[{}] {case}: {what}: expected {kind:?}, got {:?}: {e}",
            fx.fs.backend(),
            e.kind()
        ),
        Ok(v) => panic!(
            "conformance[{}] {case}: {what}: expected {kind:?}, got Ok({v:?})",
            fx.fs.backend()
        ),
    }
}

#[track_caller]
fn expect_err<T: std::fmt::Debug>(fx: &Fixture, case: &str, what: &str, r: crate::Result<T>) {
    if let Ok(v) = r {
        panic!(
            "conformance[{}] {case}: {what}: expected an error, got Ok({v:?})",
            fx.fs.backend()
        );
    }
}

/// A fresh folder for one case: `<case>-<random>` under the fixture's root.
async fn case_dir(fx: &Fixture, case: &str) -> RemotePath {
    let name = format!("{case}-{:08x}", rand::random::<u32>());
    let dir = RemotePath::ROOT.join(&name).expect("case names are valid");
    ok(
        fx,
        case,
        "create_dir_all of the case folder",
        fx.fs.create_dir_all(&dir).await,
    );
    if let Ok(mut dirs) = fx.case_dirs.lock() {
        dirs.push(dir.clone());
    }
    dir
}

/// Removes the folders the cases made (what is in them first, deepest first), so that a
/// run against a real server leaves nothing behind; `conformance_tests!` calls it after a
/// case passes (a failed case keeps its folder, to be looked at). Best effort: what cannot
/// be removed (a name planted raw that the API cannot address) stays.
#[doc(hidden)]
pub async fn remove_case_folders(fx: &Fixture) {
    let dirs = match fx.case_dirs.lock() {
        Ok(mut dirs) => std::mem::take(&mut *dirs),
        Err(_) => return,
    };
    for dir in dirs {
        let mut folders = vec![dir.clone()];
        let mut entries = fx.fs.walk(&dir, crate::WalkOptions::new());
        while let Some(entry) = entries.next().await {
            let Ok(entry) = entry else { continue };
            if entry.kind == crate::EntryKind::Dir {
                folders.push(entry.path);
            } else {
                let _ = fx.fs.remove_file(&entry.path).await;
            }
        }
        // Children before parents: a deeper path has more segments.
        folders.sort_by_key(|f| std::cmp::Reverse(f.as_str().matches('/').count()));
        for folder in folders {
            let _ = fx.fs.remove_dir(&folder).await;
        }
    }
}

fn path(dir: &RemotePath, rel: &str) -> RemotePath {
    dir.join_path(&RemotePath::parse(rel).expect("case paths are valid"))
}

/// Writes `data` to `p` in one chunk with default options.
async fn put(fs: &dyn RemoteFs, p: &RemotePath, data: &[u8]) -> Result<()> {
    fs.write(
        p,
        crate::stream::once(Bytes::copy_from_slice(data)),
        &WriteOptions::new(),
    )
    .await
    .map(|_| ())
}

/// The whole content of `p`.
async fn get(fs: &dyn RemoteFs, p: &RemotePath) -> Result<Vec<u8>> {
    let mut s = fs.read(p, 0).await?;
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c?);
    }
    Ok(out)
}

/// A listing split into entries by name and error items.
async fn listing(fs: &dyn RemoteFs, dir: &RemotePath) -> (BTreeMap<String, Entry>, Vec<Error>) {
    let mut entries = BTreeMap::new();
    let mut errors = Vec::new();
    let mut s = fs.list(dir);
    while let Some(item) = s.next().await {
        match item {
            Ok(e) => {
                entries.insert(e.name().to_owned(), e);
            }
            Err(e) => errors.push(e),
        }
    }
    (entries, errors)
}

/// A listing that must have no error items (a clean folder lists cleanly: no `.`/`..`).
async fn clean_listing(fx: &Fixture, case: &str, dir: &RemotePath) -> BTreeMap<String, Entry> {
    let (entries, errors) = listing(fx.fs.as_ref(), dir).await;
    if let Some(e) = errors.first() {
        panic!(
            "conformance[{}] {case}: listing {dir} yielded an error item: {e}",
            fx.fs.backend()
        );
    }
    entries
}

/// Expands to one `#[tokio::test]` per conformance case, each building its fixture with
/// `$fixture().await` (an `async fn() -> Fixture` or `-> Option<Fixture>`).
///
/// ```
/// # #[cfg(any())] mod doc {
/// async fn fixture() -> ftp_connector::conformance::Fixture {
///     ftp_connector::conformance::Fixture::new(ftp_connector::MemoryFs::new())
/// }
/// ftp_connector::conformance_tests!(fixture);
/// # }
/// ```
///
/// Each test has a ten-minute timeout, so a hung transfer fails instead of blocking CI.
#[macro_export]
macro_rules! conformance_tests {
    ($fixture:path) => {
        $crate::conformance_tests!(@cases $fixture;
            stat_root, create_dir_all, write_read_roundtrip, empty_file, unicode_and_spaces,
            read_from_offset, not_found, write_needs_parent, overwrite,
            wrong_length_is_refused, failed_write_leaves_no_trace,
            atomic_write_is_never_seen_partial, in_place_write, resumed_write, rename, remove,
            list_kinds_and_sizes, set_modified, checksum, large_file, deep_tree,
            walk_filters, concurrent_transfers, hostile_names, cut_read, cut_write,
            copy_between_backends, exists_and_read_to_bytes, secrets_stay_hidden
        );
    };
    (@cases $fixture:path; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $crate::conformance::IntoFixture::into_fixture($fixture().await);
                let Some(fixture) = fixture else {
                    $crate::conformance::skip_unconfigured(module_path!(), stringify!($case));
                    return;
                };
                let run = $crate::conformance::$case(&fixture);
                if ::tokio::time::timeout(::std::time::Duration::from_secs(600), run)
                    .await
                    .is_err()
                {
                    panic!(
                        "conformance[{}] {}: timed out after 600 s",
                        fixture.fs.backend(),
                        stringify!($case)
                    );
                }
                $crate::conformance::remove_case_folders(&fixture).await;
            }
        )*
    };
}

/// Says on stderr that a case was skipped because its fixture function returned `None`.
#[doc(hidden)]
pub fn skip_unconfigured(module: &str, case: &str) {
    let line =
        format!("conformance[{module}] {case}: SKIPPED: no fixture (server not configured)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}
