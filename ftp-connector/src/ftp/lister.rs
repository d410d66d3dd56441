//! `list`: `MLSD <dir>` where the server offers it, else `CWD <dir>` + `LIST -a` (no
//! argument: some servers expand wildcards in `LIST` arguments).
//!
//! The listing's bytes are read whole, then the connection goes back to the pool before
//! the first entry is yielded: a caller may use the backend while it walks through the
//! entries (holding the connection instead would deadlock a caller that reads each file
//! as it is listed, once the pool is exhausted). Lines are parsed as they are yielded.
//! A listing above 128 MiB (about a million entries) is refused.
//!
//! Bad lines do not end the listing: a name that is not a valid [`RemotePath`] segment
//! (`..`, `a/b`, control characters, invalid UTF-8) is yielded as [`Error::InvalidName`],
//! a line that cannot be parsed as a [`Error::Protocol`] error quoting it; the stream then
//! goes on. Such entries are never followed.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::io::AsyncReadExt;

use super::core::{Conn, DataCmd, Fail, Transfer};
use super::parse::{self, Line, Listed};
use super::pool::{Pooled, Server};
use crate::entry::Entry;
use crate::error::{Error, ErrorKind, Operation, Result};
use crate::fs::EntryStream;
use crate::path::RemotePath;

/// The largest listing accepted, in bytes.
const MAX_LISTING: usize = 128 * 1024 * 1024;
/// The longest listing line accepted.
const MAX_LINE: usize = 16 * 1024;

/// The entries of `dir`, lazily: nothing is sent until the stream is polled.
pub(super) fn list(server: Arc<Server>, dir: RemotePath) -> EntryStream {
    futures::stream::once(async move {
        let raw = fetch(&server, &dir).await;
        (server.features.mlst, dir, raw)
    })
    .flat_map(|(mlsd, dir, raw)| match raw {
        Ok(raw) => futures::stream::iter(Lines {
            raw,
            pos: 0,
            dir,
            mlsd,
            now: Utc::now(),
        })
        .boxed(),
        Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
    })
    .boxed()
}

/// The whole listing; the connection is released (or closed, on failure) before it returns.
async fn fetch(server: &Server, dir: &RemotePath) -> Result<Vec<u8>> {
    let (mut pooled, mut transfer) = open(server, dir).await?;
    let idle = server.cfg.timeouts.data_idle;
    let op = Operation::List;
    let mut raw = Vec::with_capacity(16 * 1024);
    loop {
        if raw.len() > MAX_LISTING {
            return Err(bad_line(dir, "listing larger than 128 MiB", b""));
        }
        raw.reserve(64 * 1024);
        match tokio::time::timeout(idle, transfer.read_buf(&mut raw)).await {
            Err(_) => {
                return Err(Error::Timeout {
                    op,
                    path: dir.as_str().to_owned(),
                    after: idle,
                });
            }
            Ok(Ok(0)) => break,
            // A TLS peer that closes without `close_notify` (libunftp does, before a
            // `550`): the end of the data; the final reply decides.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Ok(Err(e)) => return Err(Error::io(op, dir.as_str(), e)),
            Ok(Ok(_)) => {}
        }
    }
    let reply = pooled.conn.finish(transfer).await;
    server.release(pooled);
    reply.map_err(|f| f.at(op, dir.as_str()))?;
    Ok(raw)
}

/// The items of a listing, one line at a time.
struct Lines {
    raw: Vec<u8>,
    pos: usize,
    dir: RemotePath,
    mlsd: bool,
    now: DateTime<Utc>,
}

impl Iterator for Lines {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        while self.pos < self.raw.len() {
            let rest = &self.raw[self.pos..];
            let len = rest
                .iter()
                .position(|b| *b == b'\n')
                .map_or(rest.len(), |i| i + 1);
            let line = &rest[..len];
            self.pos += len;
            if line.len() > MAX_LINE {
                return Some(Err(bad_line(&self.dir, "line longer than 16 KiB", line)));
            }
            if let Some(item) = entry_from_line(&self.dir, self.mlsd, line, self.now) {
                return Some(item);
            }
        }
        None
    }
}

/// Opens the listing; retried once on a fresh connection when that fails with a
/// retryable error.
async fn open(server: &Server, dir: &RemotePath) -> Result<(Pooled, Transfer)> {
    let sp = server.path(dir);
    let mut pooled = server.get().await?;
    let mut opened = open_on(server, &mut pooled.conn, &sp, dir).await;
    if let Err(e) = &opened
        && e.is_retryable()
    {
        tracing::debug!(error = %e, "list: retrying once on a fresh connection");
        if server.reconnect(&mut pooled).await.is_ok() {
            opened = open_on(server, &mut pooled.conn, &sp, dir).await;
        }
    }
    match opened {
        Ok(t) => Ok((pooled, t)),
        Err(e) => {
            server.release(pooled);
            Err(e)
        }
    }
}

async fn open_on(server: &Server, conn: &mut Conn, sp: &str, dir: &RemotePath) -> Result<Transfer> {
    let at = |f: Fail| f.at(Operation::List, dir.as_str());
    let mut epsv_refused = false;
    let transfer = if server.features.mlst {
        conn.open_transfer(DataCmd::Mlsd, sp, &mut epsv_refused)
            .await
    } else {
        conn.cwd(sp).await.map_err(at)?;
        match conn
            .open_transfer(DataCmd::ListAll, sp, &mut epsv_refused)
            .await
        {
            Err(f) if matches!(f.code(), Some(500 | 501 | 550)) => {
                conn.open_transfer(DataCmd::List, sp, &mut epsv_refused)
                    .await
            }
            r => r,
        }
    };
    if epsv_refused {
        server.epsv_refused();
    }
    transfer.map_err(at)
}

/// One raw line → an entry, an error, or nothing (skipped lines).
fn entry_from_line(
    dir: &RemotePath,
    mlsd: bool,
    raw: &[u8],
    now: chrono::DateTime<Utc>,
) -> Option<Result<Entry>> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let (text, utf8) = match std::str::from_utf8(raw) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), true),
        Err(_) => (String::from_utf8_lossy(raw), false),
    };
    let parsed = if mlsd {
        parse::parse_mlsx(&text)
    } else {
        parse::parse_list(&text, now)
    };
    let listed = match parsed {
        Ok(Line::Skip) => return None,
        Ok(Line::Entry(l)) => l,
        Err(reason) => return Some(Err(bad_line(dir, reason, raw))),
    };
    let invalid = |reason: &'static str| Error::InvalidName {
        dir: dir.as_str().to_owned(),
        name: listed.name.clone(),
        reason,
    };
    if !utf8 {
        return Some(Err(invalid("not valid UTF-8")));
    }
    if listed.name.contains('\u{FFFD}') {
        // A server that decoded a non-UTF-8 name lossily: the name cannot address the file.
        return Some(Err(invalid(
            "contains U+FFFD (a name the server could not encode)",
        )));
    }
    if let Err(reason) = RemotePath::check_name(&listed.name) {
        return Some(Err(invalid(reason)));
    }
    Some(dir.join(&listed.name).map(|path| to_entry(path, listed)))
}

fn to_entry(path: RemotePath, l: Listed) -> Entry {
    Entry {
        path,
        kind: l.kind,
        size: l.size,
        modified: l.modified,
        permissions: l.permissions,
    }
}

fn bad_line(dir: &RemotePath, reason: &str, raw: &[u8]) -> Error {
    let shown: String = String::from_utf8_lossy(raw).chars().take(200).collect();
    Error::Protocol {
        op: Operation::List,
        path: dir.as_str().to_owned(),
        code: None,
        message: format!("unparsable listing line ({reason}): {shown:?}"),
        kind: ErrorKind::Unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::EntryKind;

    fn dir() -> RemotePath {
        RemotePath::parse("in").unwrap()
    }

    fn one(mlsd: bool, line: &[u8]) -> Option<Result<Entry>> {
        entry_from_line(&dir(), mlsd, line, Utc::now())
    }

    #[test]
    fn good_lines_become_entries_under_the_listed_dir() {
        let e = one(true, b"type=file;size=3; a b.jpg\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(e.path.as_str(), "in/a b.jpg");
        assert_eq!((e.kind, e.size), (EntryKind::File, Some(3)));
        assert!(one(true, b"type=cdir; .\r\n").is_none());
    }

    #[test]
    fn hostile_names_are_reported_as_invalid_names_never_as_entries() {
        for line in [
            &b"type=file;size=1; ..\r\n"[..],
            b"type=file;size=1; a/b\r\n",
            b"type=dir; ../../etc\r\n",
            b"type=file;size=1; a\rDELE x\r\n",
            b"type=file;size=1; caf\xe9.jpg\r\n",
            b"type=file;size=1; back\\slash\r\n",
        ] {
            match one(true, line) {
                Some(Err(Error::InvalidName { dir, .. })) => assert_eq!(dir, "in"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(line)),
            }
        }
        match one(false, b"-rw-r--r-- 1 u g 1 Nov 27 15:05 ..\r\n") {
            Some(Err(Error::InvalidName { name, .. })) => assert_eq!(name, ".."),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unparsable_lines_are_errors_that_quote_the_line() {
        match one(false, b"garbage here\r\n") {
            Some(Err(e @ Error::Protocol { .. })) => {
                assert!(e.to_string().contains("garbage here"), "{e}");
                assert_eq!(e.path(), Some("in"));
            }
            other => panic!("{other:?}"),
        }
    }
}
