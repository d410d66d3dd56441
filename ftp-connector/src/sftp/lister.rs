//! Listing one directory as a lazy stream of [`Entry`]s, batch by batch (READDIR).

use chrono::DateTime;
use futures::stream::{self, StreamExt};
use russh_sftp::client::error::Error as SftpError;
use russh_sftp::protocol::{FileAttributes, StatusCode};

use super::pool::{Lease, Pool};
use super::reader::OpenHandle;
use crate::entry::{Entry, EntryKind, Modified, TimePrecision};
use crate::error::{Error, Operation, Result};
use crate::fs::EntryStream;
use crate::path::RemotePath;

const OP: Operation = Operation::List;

/// What an SFTP mode says an entry is; `None` for sockets, FIFOs and devices.
pub(super) fn kind_of(attrs: &FileAttributes) -> Option<EntryKind> {
    match attrs.permissions.map(|p| p & 0o170000) {
        Some(0o040000) => Some(EntryKind::Dir),
        Some(0o120000) => Some(EntryKind::Symlink),
        Some(0o100000) => Some(EntryKind::File),
        // A server that sends no mode: call it a file, as its size says.
        None | Some(0) => Some(EntryKind::File),
        Some(_) => None,
    }
}

/// The entry SFTP attributes describe, or `None` for special files.
pub(super) fn entry(path: RemotePath, attrs: &FileAttributes) -> Option<Entry> {
    let mut entry = match kind_of(attrs)? {
        EntryKind::Dir => Entry::dir(path),
        EntryKind::Symlink => Entry::symlink(path),
        _ => Entry::file(path, attrs.size.unwrap_or(0)),
    };
    if let Some(t) = attrs
        .mtime
        .and_then(|s| DateTime::from_timestamp(i64::from(s), 0))
    {
        entry = entry.with_modified(Modified::new(t, TimePrecision::Second));
    }
    if let Some(p) = attrs.permissions {
        entry = entry.with_permissions(p & 0o7777);
    }
    Some(entry)
}

/// One listed name checked and turned into an entry: `None` for `.`, `..` and special
/// files, an [`Error::InvalidName`] for a name no [`RemotePath`] may hold.
fn listed(dir: &RemotePath, name: &str, attrs: &FileAttributes) -> Option<Result<Entry>> {
    if name == "." || name == ".." {
        return None;
    }
    let invalid = |reason| {
        Some(Err(Error::InvalidName {
            dir: dir.as_str().to_owned(),
            name: name.to_owned(),
            reason,
        }))
    };
    // russh-sftp decodes names lossily: U+FFFD marks bytes that were not UTF-8, and such a
    // name could never be asked for again.
    if name.contains('\u{FFFD}') {
        return invalid("not valid UTF-8");
    }
    if let Err(reason) = RemotePath::check_name(name) {
        return invalid(reason);
    }
    let path = match dir.join(name) {
        Ok(p) => p,
        Err(_) => return invalid("unusable name"),
    };
    match entry(path, attrs) {
        Some(e) => Some(Ok(e)),
        None => {
            tracing::debug!(
                dir = dir.as_str(),
                name,
                "skipping a special file (socket, FIFO or device)"
            );
            None
        }
    }
}

enum State {
    Start,
    Open { lease: Lease, handle: OpenHandle },
    Done,
}

/// Lists `server_dir` (the server-side path of `dir`). Nothing is sent until polled; the
/// directory handle is closed at the end, or when the stream is dropped.
pub(super) fn list(pool: Pool, server_dir: String, dir: RemotePath) -> EntryStream {
    stream::unfold(State::Start, move |state| {
        let pool = pool.clone();
        let server_dir = server_dir.clone();
        let dir = dir.clone();
        async move {
            let (lease, handle) = match state {
                State::Done => return None,
                State::Open { lease, handle } => (lease, handle),
                State::Start => {
                    let lease = match pool.get().await {
                        Ok(l) => l,
                        Err(e) => return Some((vec![Err(e)], State::Done)),
                    };
                    match lease.sftp.opendir(server_dir).await {
                        Ok(h) => {
                            let handle = OpenHandle {
                                sftp: lease.sftp.clone(),
                                handle: Some(h.handle),
                            };
                            (lease, handle)
                        }
                        Err(e) => {
                            let e = lease.error(OP, dir.as_str(), e);
                            return Some((vec![Err(e)], State::Done));
                        }
                    }
                }
            };
            match lease.sftp.readdir(handle.name()).await {
                Ok(batch) => {
                    let items = batch
                        .files
                        .iter()
                        .filter_map(|f| listed(&dir, &f.filename, &f.attrs))
                        .collect::<Vec<_>>();
                    Some((items, State::Open { lease, handle }))
                }
                Err(SftpError::Status(s)) if s.status_code == StatusCode::Eof => None,
                Err(e) => Some((vec![Err(lease.error(OP, dir.as_str(), e))], State::Done)),
            }
        }
    })
    .flat_map(stream::iter)
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn attrs(mode: u32, size: u64, mtime: u32) -> FileAttributes {
        let mut a = FileAttributes::empty();
        a.permissions = Some(mode);
        a.size = Some(size);
        a.mtime = Some(mtime);
        a.atime = Some(mtime);
        a
    }

    #[test]
    fn modes_give_kinds_and_special_files_are_skipped() {
        let dir = RemotePath::parse("in").unwrap();
        let e = listed(&dir, "a.jpg", &attrs(0o100640, 5, 1_800_000_000))
            .unwrap()
            .unwrap();
        assert_eq!(
            (e.kind, e.size, e.permissions),
            (EntryKind::File, Some(5), Some(0o640))
        );
        assert_eq!(e.path.as_str(), "in/a.jpg");
        let m = e.modified.unwrap();
        assert_eq!(
            (m.time.timestamp(), m.precision),
            (1_800_000_000, TimePrecision::Second)
        );
        let d = listed(&dir, "sub", &attrs(0o040755, 4096, 0))
            .unwrap()
            .unwrap();
        assert_eq!((d.kind, d.size), (EntryKind::Dir, None));
        let l = listed(&dir, "link", &attrs(0o120777, 7, 0))
            .unwrap()
            .unwrap();
        assert_eq!(l.kind, EntryKind::Symlink);
        assert!(listed(&dir, "fifo", &attrs(0o010644, 0, 0)).is_none());
        assert!(listed(&dir, ".", &attrs(0o040755, 0, 0)).is_none());
        assert!(listed(&dir, "..", &attrs(0o040755, 0, 0)).is_none());
    }

    #[test]
    fn hostile_names_are_reported_not_followed() {
        let dir = RemotePath::parse("in").unwrap();
        for name in ["a/b", "../x", "a\nb", "a\\b", "bad\u{FFFD}name", "nul\0"] {
            match listed(&dir, name, &attrs(0o100644, 1, 0)) {
                Some(Err(e @ Error::InvalidName { .. })) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidInput);
                    assert_eq!(e.path(), Some("in"));
                }
                other => panic!("{name:?}: {other:?}"),
            }
        }
    }
}
