//! Resolving a [`RemotePath`] to a real path that stays under the root.

use std::fs::Metadata;
use std::io;
use std::path::{Path, PathBuf};

use super::LocalFs;
use crate::error::{Error, Operation, Result};
use crate::path::RemotePath;

/// Why a path cannot be used.
enum Refusal {
    /// It would leave the root (or cannot be checked: a dangling link).
    Escape(&'static str),
    Io(io::Error),
}

impl LocalFs {
    /// The real path of `path`: the root joined with its segments, where every existing
    /// folder on the way that is a symbolic link is followed and must stay under the root.
    /// With `follow_last`, a link at the last segment is followed (and checked) too.
    pub(super) async fn resolve(
        &self,
        op: Operation,
        path: &RemotePath,
        follow_last: bool,
    ) -> Result<PathBuf> {
        if path.is_root() {
            return Ok(self.root_dir().to_path_buf());
        }
        let root = self.inner.clone();
        let owned = path.clone();
        // A handful of lstat calls: one blocking task rather than one per call.
        tokio::task::spawn_blocking(move || resolve_blocking(&root.root, op, &owned, follow_last))
            .await
            .map_err(|e| Error::io(op, path.as_str(), io::Error::other(e)))?
    }
}

/// [`LocalFs::resolve`] for code that already runs on a blocking thread.
pub(super) fn resolve_blocking(
    root: &Path,
    op: Operation,
    path: &RemotePath,
    follow_last: bool,
) -> Result<PathBuf> {
    let segments: Vec<&str> = path.segments().collect();
    confine(root, &segments, follow_last).map_err(|r| match r {
        Refusal::Escape(why) => Error::PermissionDenied {
            op,
            path: path.as_str().to_owned(),
            message: why.to_owned(),
        },
        Refusal::Io(e) => Error::io(op, path.as_str(), e),
    })
}

/// Follows `link` and checks that it lands under `root`.
fn follow(root: &Path, link: &Path) -> Result<PathBuf, Refusal> {
    match std::fs::canonicalize(link) {
        Ok(target) if target.starts_with(root) => Ok(target),
        Ok(_) => Err(Refusal::Escape("a symbolic link leads outside the root")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(Refusal::Escape("a symbolic link leads nowhere (dangling)"))
        }
        Err(e) => Err(Refusal::Io(e)),
    }
}

fn confine(root: &Path, segments: &[&str], follow_last: bool) -> Result<PathBuf, Refusal> {
    let Some((last, parents)) = segments.split_last() else {
        return Ok(root.to_path_buf());
    };
    let real = match parents_of(root, parents, last)? {
        Parents::Missing(real) => return Ok(real),
        Parents::At(real) => real,
    };
    let target = real.join(last);
    if follow_last
        && let Ok(m) = std::fs::symlink_metadata(&target)
        && m.file_type().is_symlink()
    {
        return follow(root, &target);
    }
    Ok(target)
}

/// Where the folders above the last segment lead.
enum Parents {
    /// The real folder that holds the last segment.
    At(PathBuf),
    /// A folder on the way does not exist (or a file is in the way): the whole path, as
    /// nothing below a missing folder can be a link.
    Missing(PathBuf),
}

/// Follows `parents` from `root`, checking every link on the way (one `lstat` each).
fn parents_of(root: &Path, parents: &[&str], last: &str) -> Result<Parents, Refusal> {
    let mut real = root.to_path_buf();
    for (i, seg) in parents.iter().enumerate() {
        let next = real.join(seg);
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => real = follow(root, &next)?,
            Ok(_) => real = next,
            Err(e) if is_missing(&e) => {
                // Nothing exists from here on (or a file is in the way), so nothing below
                // can be a link; the operation itself reports what is missing.
                real = next;
                real.extend(&parents[i + 1..]);
                real.push(last);
                return Ok(Parents::Missing(real));
            }
            Err(e) => return Err(Refusal::Io(e)),
        }
    }
    Ok(Parents::At(real))
}

fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// [`resolve_blocking`] for a folder that a write goes into, with what the path is once
/// links are followed (as `std::fs::metadata` would say): the `lstat` made for the
/// confinement check serves as that answer unless the folder is a link, so that no
/// segment is looked up twice.
pub(super) fn resolve_dir_blocking(
    root: &Path,
    op: Operation,
    dir: &RemotePath,
) -> Result<(PathBuf, io::Result<Metadata>)> {
    let refused = |r: Refusal| match r {
        Refusal::Escape(why) => Error::PermissionDenied {
            op,
            path: dir.as_str().to_owned(),
            message: why.to_owned(),
        },
        Refusal::Io(e) => Error::io(op, dir.as_str(), e),
    };
    let segments: Vec<&str> = dir.segments().collect();
    let Some((last, parents)) = segments.split_last() else {
        return Ok((root.to_path_buf(), std::fs::metadata(root)));
    };
    let real = match parents_of(root, parents, last).map_err(refused)? {
        Parents::At(real) => real.join(last),
        Parents::Missing(real) => {
            let meta = std::fs::metadata(&real);
            return Ok((real, meta));
        }
    };
    match std::fs::symlink_metadata(&real) {
        Ok(m) if m.file_type().is_symlink() => {
            let target = follow(root, &real).map_err(refused)?;
            let meta = std::fs::metadata(&target);
            Ok((target, meta))
        }
        found => Ok((real, found)),
    }
}
