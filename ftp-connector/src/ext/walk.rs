//! The tree walk behind [`RemoteFsExt::walk`](crate::RemoteFsExt::walk).

use std::collections::VecDeque;

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use crate::capabilities::Capabilities;
use crate::entry::{Entry, EntryKind};
use crate::error::{Error, Result};
use crate::fs::EntryStream;
use crate::path::RemotePath;

/// Directories listed at once when neither the options nor the backend say otherwise.
const DEFAULT_CONCURRENCY: usize = 8;

/// Options of [`RemoteFsExt::walk`](crate::RemoteFsExt::walk).
///
/// Patterns are [globset](https://docs.rs/globset) globs matched against the path
/// relative to the walk root (`2026/a.jpg`). A pattern without `/` is matched against the
/// entry's name only, at any depth, so `*.jpg` finds every JPEG and `.cache` prunes every
/// `.cache` folder. In patterns with `/`, `*` stays within one segment and `**` crosses
/// segments.
///
/// - **exclude**: a matching entry is skipped; a matching directory is not descended
///   into. `raw/**` also prunes the directory `raw` itself.
/// - **include**: when any is given, only matching entries are yielded. Directories are
///   still descended into (unless excluded), so `*.jpg` finds JPEGs in subfolders.
///
/// An invalid pattern is reported as the walk's only item, an
/// [`Error::InvalidConfig`] naming `walk.include` or `walk.exclude`.
///
/// ```
/// use ftp_connector::WalkOptions;
/// let opts = WalkOptions::new()
///     .include("*.{jpg,jpeg,JPG}")
///     .exclude("**/.thumbnails/**")
///     .max_depth(4)
///     .concurrency(16);
/// assert!(opts.validate().is_ok());
/// assert!(WalkOptions::new().include("a[").validate().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkOptions {
    /// Patterns an entry must match to be yielded (none: everything).
    pub include: Vec<String>,
    /// Patterns of entries to skip and directories to prune.
    pub exclude: Vec<String>,
    /// Deepest level listed: `Some(1)` lists only the root's own entries. `None`: no limit.
    pub max_depth: Option<usize>,
    /// Directories listed at once. `None`: the backend's
    /// [`Capabilities::max_concurrency`], or 8.
    pub concurrency: Option<usize>,
    /// Match patterns without regard to case.
    pub case_insensitive: bool,
}

impl WalkOptions {
    /// Everything, at any depth.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an include pattern.
    pub fn include(mut self, pattern: impl Into<String>) -> Self {
        self.include.push(pattern.into());
        self
    }

    /// Adds an exclude pattern.
    pub fn exclude(mut self, pattern: impl Into<String>) -> Self {
        self.exclude.push(pattern.into());
        self
    }

    /// Sets the deepest level listed (1 = the root's own entries).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = Some(depth);
        self
    }

    /// Sets how many directories are listed at once (at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Matches patterns without regard to case.
    pub fn case_insensitive(mut self, yes: bool) -> Self {
        self.case_insensitive = yes;
        self
    }

    /// Checks the patterns.
    pub fn validate(&self) -> Result<()> {
        Filter::new(self).map(|_| ())
    }
}

/// Compiled patterns, split into whole-path and name-only sets.
#[derive(Debug)]
struct Filter {
    include_path: GlobSet,
    include_name: GlobSet,
    has_include: bool,
    exclude_path: GlobSet,
    exclude_name: GlobSet,
    /// `x/**` excludes also prune `x` itself.
    prune_dir: GlobSet,
}

impl Filter {
    fn new(o: &WalkOptions) -> Result<Self> {
        let glob = |key: &str, pattern: &str| -> Result<Glob> {
            GlobBuilder::new(pattern)
                .literal_separator(true)
                .case_insensitive(o.case_insensitive)
                .build()
                .map_err(|e| Error::config(key, format!("{pattern:?}: {e}")))
        };
        let build = |key: &str, b: GlobSetBuilder| -> Result<GlobSet> {
            b.build().map_err(|e| Error::config(key, e.to_string()))
        };
        let (mut ip, mut inm) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for p in &o.include {
            let g = glob("walk.include", p)?;
            if p.contains('/') {
                ip.add(g)
            } else {
                inm.add(g)
            };
        }
        let (mut ep, mut enm, mut pd) = (
            GlobSetBuilder::new(),
            GlobSetBuilder::new(),
            GlobSetBuilder::new(),
        );
        for p in &o.exclude {
            let g = glob("walk.exclude", p)?;
            if p.contains('/') {
                ep.add(g);
                if let Some(dir) = p.strip_suffix("/**").filter(|d| !d.is_empty()) {
                    pd.add(glob("walk.exclude", dir)?);
                }
            } else {
                enm.add(g);
            }
        }
        Ok(Filter {
            include_path: build("walk.include", ip)?,
            include_name: build("walk.include", inm)?,
            has_include: !o.include.is_empty(),
            exclude_path: build("walk.exclude", ep)?,
            exclude_name: build("walk.exclude", enm)?,
            prune_dir: build("walk.exclude", pd)?,
        })
    }

    fn excluded(&self, rel: &str, name: &str, is_dir: bool) -> bool {
        self.exclude_name.is_match(name)
            || self.exclude_path.is_match(rel)
            || (is_dir && self.prune_dir.is_match(rel))
    }

    fn included(&self, rel: &str, name: &str) -> bool {
        !self.has_include || self.include_name.is_match(name) || self.include_path.is_match(rel)
    }
}

/// One item of an active listing: an entry at some depth, or the end of that listing.
enum Item {
    Entry(usize, Result<Entry>),
    Done,
}

struct State<'a, L> {
    lister: L,
    root: RemotePath,
    filter: Filter,
    max_depth: Option<usize>,
    limit: usize,
    /// Directories found but not yet listed, with their depth. Only paths are queued, so
    /// memory grows with the tree's width, not with the number of files.
    pending: VecDeque<(RemotePath, usize)>,
    /// The listings in progress, at most `limit`; each ends with `Item::Done` so that the
    /// next directory starts as soon as a slot frees.
    active: SelectAll<BoxStream<'a, Item>>,
}

impl<'a, L> State<'a, L>
where
    L: Fn(&RemotePath) -> EntryStream + Send + 'a,
{
    fn top_up(&mut self) {
        while self.active.len() < self.limit {
            let Some((dir, depth)) = self.pending.pop_front() else {
                break;
            };
            let s = (self.lister)(&dir)
                .map(move |r| Item::Entry(depth + 1, r))
                .chain(futures::stream::once(async { Item::Done }))
                .boxed();
            self.active.push(s);
        }
    }

    /// Applies the filters; queues directories. Returns whether to yield the entry.
    fn accept(&mut self, entry: &Entry, depth: usize) -> bool {
        let rel = entry
            .path
            .strip_prefix(&self.root)
            .unwrap_or_else(|| entry.path.clone());
        let name = entry.name();
        let is_dir = entry.kind == EntryKind::Dir;
        if self.filter.excluded(rel.as_str(), name, is_dir) {
            return false;
        }
        if is_dir && self.max_depth.is_none_or(|m| depth < m) {
            self.pending.push_back((entry.path.clone(), depth));
        }
        self.filter.included(rel.as_str(), name)
    }
}

/// Walks the tree under `root` with `lister` listing one directory.
pub(super) fn walk<'a, L>(
    lister: L,
    root: &RemotePath,
    options: WalkOptions,
    caps: Capabilities,
) -> BoxStream<'a, Result<Entry>>
where
    L: Fn(&RemotePath) -> EntryStream + Send + 'a,
{
    let filter = match Filter::new(&options) {
        Ok(f) => f,
        Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
    };
    let limit = options
        .concurrency
        .or(caps.max_concurrency)
        .unwrap_or(DEFAULT_CONCURRENCY)
        .max(1);
    let mut pending = VecDeque::new();
    if options.max_depth != Some(0) {
        pending.push_back((root.clone(), 0));
    }
    let state = State {
        lister,
        root: root.clone(),
        filter,
        max_depth: options.max_depth,
        limit,
        pending,
        active: SelectAll::new(),
    };
    futures::stream::unfold(state, |mut st| async move {
        loop {
            st.top_up();
            match st.active.next().await {
                Some(Item::Done) => continue,
                Some(Item::Entry(depth, Ok(entry))) => {
                    if st.accept(&entry, depth) {
                        return Some((Ok(entry), st));
                    }
                }
                Some(Item::Entry(_, Err(e))) => return Some((Err(e), st)),
                None if st.pending.is_empty() => return None,
                None => continue,
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(o: WalkOptions) -> Filter {
        Filter::new(&o).unwrap()
    }

    #[test]
    fn name_patterns_match_at_any_depth_and_path_patterns_stay_in_segments() {
        let f = filter(WalkOptions::new().include("*.jpg").include("raw/*.cr2"));
        assert!(f.included("a/b/c.jpg", "c.jpg"));
        assert!(f.included("raw/x.cr2", "x.cr2"));
        assert!(!f.included("raw/sub/x.cr2", "x.cr2"));
        assert!(!f.included("a/b.png", "b.png"));
    }

    #[test]
    fn trailing_double_star_prunes_the_directory_itself() {
        let f = filter(WalkOptions::new().exclude("**/cache/**").exclude("tmp/**"));
        assert!(f.excluded("a/cache", "cache", true));
        assert!(f.excluded("tmp", "tmp", true));
        assert!(!f.excluded("tmp", "tmp", false));
        assert!(f.excluded("tmp/x.jpg", "x.jpg", false));
        assert!(!f.excluded("a/b.jpg", "b.jpg", false));
    }

    #[test]
    fn bad_patterns_name_the_option() {
        let e = WalkOptions::new().exclude("a[").validate().unwrap_err();
        assert!(
            matches!(e, Error::InvalidConfig { ref key, .. } if key == "walk.exclude"),
            "{e}"
        );
    }

    #[test]
    fn case_insensitive_matching_is_optional() {
        assert!(!filter(WalkOptions::new().include("*.jpg")).included("A.JPG", "A.JPG"));
        let f = filter(WalkOptions::new().include("*.jpg").case_insensitive(true));
        assert!(f.included("A.JPG", "A.JPG"));
    }
}

#[cfg(test)]
mod concurrency_tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures::{StreamExt, TryStreamExt};

    use super::*;
    use crate::fs::RemoteFs;
    use crate::memory::MemoryFs;

    /// Counts listings in flight; the count drops when a listing stream is dropped.
    struct InFlight(Arc<AtomicUsize>);
    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }

    async fn walk_wide_tree(concurrency: usize) -> (usize, usize) {
        let fs = MemoryFs::new();
        for i in 0..30 {
            let d = RemotePath::parse(format!("d{i:02}/sub")).unwrap();
            fs.create_dir_all(&d).await.unwrap();
        }
        let active = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (a, pk, mem) = (active.clone(), peak.clone(), fs.clone());
        let lister = move |dir: &RemotePath| -> EntryStream {
            let now = a.fetch_add(1, Ordering::SeqCst) + 1;
            pk.fetch_max(now, Ordering::SeqCst);
            let guard = InFlight(a.clone());
            let inner = mem.list(dir);
            // Each listing takes a while, as over a network.
            futures::stream::once(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                inner
            })
            .flatten()
            .map(move |item| {
                let _keep = &guard;
                item
            })
            .boxed()
        };
        let opts = WalkOptions::new().concurrency(concurrency);
        let found: Vec<Entry> = walk(lister, &RemotePath::ROOT, opts, Capabilities::default())
            .try_collect()
            .await
            .unwrap();
        (found.len(), peak.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn listings_in_flight_never_exceed_the_limit_and_do_reach_it() {
        let (found, peak) = walk_wide_tree(4).await;
        assert_eq!(found, 60);
        assert_eq!(peak, 4, "peak listings in flight");
        let (found, peak) = walk_wide_tree(1).await;
        assert_eq!((found, peak), (60, 1));
    }

    #[tokio::test]
    async fn errors_are_items_and_the_walk_goes_on() {
        let fs = MemoryFs::new();
        fs.create_dir_all(&RemotePath::parse("a/b").unwrap())
            .await
            .unwrap();
        fs.insert_raw_name(&RemotePath::parse("a").unwrap(), b"bad\nname", b"x")
            .unwrap();
        let items: Vec<_> = crate::RemoteFsExt::walk(&fs, &RemotePath::ROOT, WalkOptions::new())
            .collect()
            .await;
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(items.iter().filter(|r| r.is_err()).count(), 1);
    }
}
