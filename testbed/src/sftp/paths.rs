//! Confinement of client paths inside the served directory.
//!
//! A client path is read as a virtual absolute path whose `/` is the served directory
//! (relative paths start from `/`, the session's only working directory). Components are
//! split on `/`; empty ones and `.` are skipped and `..` drops the previous one. A `..` with
//! nothing left to drop is refused (not clamped), like a chroot that reports the escape.
//!
//! The lexical check is not enough: a symlink inside the root may point anywhere. So the
//! deepest existing ancestor of the real path is canonicalised (the path itself for
//! operations that follow links; its parent for those that act on a link itself) and must
//! still lie under the canonical root. A dangling symlink on the way is refused too,
//! because creating through it would land wherever it points. Races between this check and
//! the operation (TOCTOU) are accepted: this is a test server.

use std::io;
use std::path::{Path, PathBuf};

use russh_sftp::protocol::StatusCode;
use russh_sftp::server::StatusReply;

/// Whether an operation follows a symlink in the last component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Follow {
    /// open, stat, setstat, opendir, realpath targets.
    Yes,
    /// lstat, remove, rename, mkdir, rmdir, readlink: act on the link itself.
    No,
}

/// The served directory.
#[derive(Debug)]
pub(crate) struct Jail {
    root: PathBuf,
}

/// A client path after normalisation and confinement.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The path on disk.
    pub(crate) real: PathBuf,
    /// The normalised virtual path (`/a/b`), for replies and messages.
    pub(crate) virt: String,
}

impl Jail {
    /// A jail over `root`, which must exist.
    pub(crate) fn new(root: &Path) -> io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
        })
    }

    /// The canonical root.
    #[cfg(test)]
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Normalises `path` to a virtual absolute path without touching the disk.
    pub(crate) fn normalize(path: &str) -> Result<String, StatusReply> {
        Ok(virtual_path(&components(path)?))
    }

    /// Maps a client path to a path on disk, refusing anything that leaves the root.
    pub(crate) fn resolve(&self, path: &str, follow: Follow) -> Result<Resolved, StatusReply> {
        let parts = components(path)?;
        let virt = virtual_path(&parts);
        let mut real = self.root.clone();
        real.extend(&parts);
        let probe = match follow {
            Follow::Yes => real.as_path(),
            Follow::No if parts.is_empty() => real.as_path(),
            Follow::No => real.parent().unwrap_or(&self.root),
        };
        self.check_inside(probe, &virt)?;
        Ok(Resolved { real, virt })
    }

    /// Maps a symlink target read from disk back to a client path where possible.
    pub(crate) fn to_virtual(&self, target: &Path) -> String {
        match target.strip_prefix(&self.root) {
            Ok(rest) if target.is_absolute() => format!("/{}", rest.to_string_lossy()),
            _ => target.to_string_lossy().into_owned(),
        }
    }

    fn check_inside(&self, probe: &Path, virt: &str) -> Result<(), StatusReply> {
        let mut probe = probe;
        loop {
            match std::fs::canonicalize(probe) {
                Ok(canonical) if canonical.starts_with(&self.root) => return Ok(()),
                Ok(_) => return Err(escapes(virt)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if probe.symlink_metadata().is_ok() {
                        // It exists but does not resolve: a dangling symlink.
                        return Err(StatusCode::PermissionDenied
                            .with_message(format!("{virt}: dangling symbolic link")));
                    }
                    match probe.parent() {
                        Some(parent) => probe = parent,
                        None => return Err(escapes(virt)),
                    }
                }
                Err(e) => return Err(crate::sftp::fs::io_status(&e, "resolve", virt)),
            }
        }
    }
}

fn escapes(virt: &str) -> StatusReply {
    StatusCode::PermissionDenied.with_message(format!("{virt}: path escapes root"))
}

fn components(path: &str) -> Result<Vec<&str>, StatusReply> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(StatusCode::PermissionDenied
                        .with_message(format!("{path}: path escapes root")));
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts)
}

fn virtual_path(parts: &[&str]) -> String {
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn denied(r: Result<Resolved, StatusReply>) -> bool {
        matches!(r, Err(e) if e.status_code == StatusCode::PermissionDenied)
    }

    #[test]
    fn normalizes_dots_and_slashes() {
        assert_eq!(Jail::normalize("").unwrap(), "/");
        assert_eq!(Jail::normalize(".").unwrap(), "/");
        assert_eq!(Jail::normalize("a/b/../c/./").unwrap(), "/a/c");
        assert_eq!(Jail::normalize("//a//b").unwrap(), "/a/b");
        assert!(Jail::normalize("..").is_err());
        assert!(Jail::normalize("/a/../../etc").is_err());
    }

    #[test]
    fn absolute_paths_are_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let jail = Jail::new(dir.path()).unwrap();
        let r = jail.resolve("/etc/passwd", Follow::Yes).unwrap();
        assert_eq!(r.real, jail.root().join("etc/passwd"));
        assert_eq!(r.virt, "/etc/passwd");
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let jail = Jail::new(dir.path()).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("/nonexistent-testbed/x", dir.path().join("dangling")).unwrap();
        std::fs::create_dir(dir.path().join("in")).unwrap();
        std::os::unix::fs::symlink("in", dir.path().join("inlink")).unwrap();

        assert!(denied(jail.resolve("out", Follow::Yes)));
        assert!(denied(jail.resolve("out/new.txt", Follow::Yes)));
        assert!(denied(jail.resolve("out/new.txt", Follow::No)));
        assert!(denied(jail.resolve("dangling", Follow::Yes)));
        // Acting on the link itself (lstat, remove) is allowed.
        assert!(jail.resolve("out", Follow::No).is_ok());
        // Links that stay inside work.
        assert!(jail.resolve("inlink/file", Follow::Yes).is_ok());
        assert_eq!(jail.to_virtual(&jail.root().join("in/x")), "/in/x");
        assert_eq!(jail.to_virtual(Path::new("rel")), "rel");
    }
}
