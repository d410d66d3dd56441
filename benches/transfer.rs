//! The Rust side of the whole-transfer benchmark: one operation per run, through
//! `ftp_connector::open` and `RemoteFsExt::copy_to` / `copy_entry_to`, exactly as a user of
//! the library would move files (`tree-down`: `walk`, then each file copied in a tokio task
//! of its own, `--concurrency` at a time). `benches/transfer/run` starts the servers, runs
//! this binary alternately with curl, lftp, rclone and OpenSSH `sftp`, and prints the table
//! of ratios (see `benches/README.md`).
//!
//! ```text
//! transfer up        <url> <local-file>  <remote-path>  [options]
//! transfer down      <url> <remote-path> <local-file>   [options]
//! transfer tree-down <url> <remote-dir>  <local-dir>    [options]
//!
//! options:
//!   --concurrency N    files in flight and directories listed at once (tree-down; default 4)
//!   --connections N    pooled connections (default: the concurrency)
//!   --key PATH         SSH private key (OpenSSH format)
//!   --known-hosts PATH known_hosts file for the SSH host key
//!   --host-fp SHA256:… pinned SSH host key fingerprint
//!   --ca PATH          extra CA certificate (PEM) for FTPS
//!   --tls-name NAME    name to verify the FTPS certificate against
//!   --via entry|copy|read
//!                      tree-down: `copy_entry_to` with the walk's entries (default), or
//!                      `copy_to` (a diagnostic: a `stat` and a size query per file), or
//!                      `read` + `write` with the sizes the listing gave
//!   --inline-copies    tree-down: poll every copy from one future (`try_buffer_unordered`)
//!                      instead of a task per file (a diagnostic: with tokio's multi-thread
//!                      runtime every I/O event then hops to the thread that polls it)
//!   --walk-inline      tree-down: poll the walk from the copy pipeline itself instead of
//!                      its own task (a diagnostic: with FTP and a pool as large as the
//!                      concurrency, this could stall; see benches/README.md)
//!   --sink-memory      tree-down: copy into a `MemoryFs` instead of the local folder (a
//!                      diagnostic: the remote side's cost alone)
//!   --current-thread   run on tokio's current-thread runtime (default: multi-thread)
//!   --thread-io        up/down: the local file is read or written by a plain thread and
//!                      the remote side is driven by `RemoteFs::read`/`write` directly, not
//!                      `LocalFs` + `copy_to` (a diagnostic: what `LocalFs`'s per-chunk
//!                      blocking-pool hops cost); `--chunk` sets the read size of `up`
//! ```
//!
//! The password comes from the `TRANSFER_PASSWORD` environment variable (never from the
//! command line, where `ps` would show it). The binary prints one line,
//! `ok op=… files=… bytes=… connect_s=… transfer_s=… seconds=… mb_per_s=…`, and exits 1
//! with the error on failure. `cargo bench --bench transfer -- …` runs it too (the
//! `--bench` flag cargo appends is ignored).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};

use ftp_connector::{
    CopyOptions, EntryKind, Error, LocalFs, MemoryFs, RemoteFs, RemoteFsExt, RemoteOptions,
    RemotePath, WalkOptions, WriteOptions,
};

/// How `tree-down` moves each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `RemoteFsExt::copy_entry_to` with the walk's entry (what users call for a tree).
    Entry,
    /// `RemoteFsExt::copy_to`, which looks each file up again.
    Copy,
    /// `RemoteFs::read` + `RemoteFs::write`, sized from the listing.
    Read,
}

#[derive(Debug)]
struct Args {
    op: String,
    url: String,
    a: String,
    b: String,
    concurrency: usize,
    connections: Option<usize>,
    key: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    host_fp: Option<String>,
    ca: Option<PathBuf>,
    tls_name: Option<String>,
    via: Via,
    walk_inline: bool,
    inline_copies: bool,
    sink_memory: bool,
    current_thread: bool,
    thread_io: bool,
    chunk: usize,
    sftp_chunk: Option<u32>,
    sftp_in_flight: Option<usize>,
}

const USAGE: &str = "usage: transfer up|down|tree-down <url> <from> <to> [--concurrency N] \
[--connections N] [--key PATH] [--known-hosts PATH] [--host-fp FP] [--ca PATH] \
[--tls-name NAME] [--via entry|copy|read] [--walk-inline] [--sink-memory] [--current-thread] [--thread-io [--chunk BYTES]]   (password: $TRANSFER_PASSWORD)";

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut args = Args {
        op: String::new(),
        url: String::new(),
        a: String::new(),
        b: String::new(),
        concurrency: 4,
        connections: None,
        key: None,
        known_hosts: None,
        host_fp: None,
        ca: None,
        tls_name: None,
        via: Via::Entry,
        walk_inline: false,
        inline_copies: false,
        sink_memory: false,
        current_thread: false,
        thread_io: false,
        chunk: 256 * 1024,
        sftp_chunk: None,
        sftp_in_flight: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            // Appended by `cargo bench`.
            "--bench" => {}
            "--concurrency" => {
                args.concurrency = value(&arg)?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--connections" => {
                args.connections = Some(
                    value(&arg)?
                        .parse()
                        .map_err(|e| format!("--connections: {e}"))?,
                )
            }
            "--key" => args.key = Some(value(&arg)?.into()),
            "--known-hosts" => args.known_hosts = Some(value(&arg)?.into()),
            "--host-fp" => args.host_fp = Some(value(&arg)?),
            "--ca" => args.ca = Some(value(&arg)?.into()),
            "--tls-name" => args.tls_name = Some(value(&arg)?),
            "--via" => {
                args.via = match value(&arg)?.as_str() {
                    "entry" => Via::Entry,
                    "copy" => Via::Copy,
                    "read" => Via::Read,
                    other => return Err(format!("--via: `{other}` is not entry, copy or read")),
                }
            }
            "--walk-inline" => args.walk_inline = true,
            "--inline-copies" => args.inline_copies = true,
            "--sink-memory" => args.sink_memory = true,
            "--current-thread" => args.current_thread = true,
            "--thread-io" => args.thread_io = true,
            "--chunk" => args.chunk = value(&arg)?.parse().map_err(|e| format!("--chunk: {e}"))?,
            "--sftp-chunk" => {
                args.sftp_chunk = Some(
                    value(&arg)?
                        .parse()
                        .map_err(|e| format!("--sftp-chunk: {e}"))?,
                )
            }
            "--sftp-in-flight" => {
                args.sftp_in_flight = Some(
                    value(&arg)?
                        .parse()
                        .map_err(|e| format!("--sftp-in-flight: {e}"))?,
                )
            }
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => positional.push(arg),
        }
    }
    let [op, url, a, b]: [String; 4] = positional
        .try_into()
        .map_err(|p: Vec<String>| format!("expected 4 arguments, got {}", p.len()))?;
    if args.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    (args.op, args.url, args.a, args.b) = (op, url, a, b);
    Ok(args)
}

fn options(args: &Args) -> RemoteOptions {
    let mut o = RemoteOptions::new().max_connections(args.connections.unwrap_or(args.concurrency));
    if let Ok(pw) = std::env::var("TRANSFER_PASSWORD") {
        o = o.password(pw);
    }
    if let Some(k) = &args.key {
        o = o.private_key(k);
    }
    if let Some(k) = &args.known_hosts {
        o = o.known_hosts(k);
    }
    if let Some(fp) = &args.host_fp {
        o = o.host_key_fingerprint(fp);
    }
    if let Some(ca) = &args.ca {
        o = o.ca_certificate(ca);
        o.tls.use_system_roots = false;
    }
    o.tls.server_name = args.tls_name.clone();
    if let Some(n) = args.sftp_chunk {
        o.ssh.chunk_size = n;
    }
    if let Some(n) = args.sftp_in_flight {
        o.ssh.max_in_flight = n;
    }
    o
}

/// A local file's folder as a `LocalFs`, and the file's name in it.
async fn local_side(file: &str) -> Result<(LocalFs, RemotePath), Error> {
    let file = Path::new(file);
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::config("local-file", "no UTF-8 file name"))?;
    Ok((LocalFs::new(&dir).await?, RemotePath::parse(name)?))
}

/// Files and bytes moved.
#[derive(Debug, Default)]
struct Moved {
    files: u64,
    bytes: u64,
}

async fn up(remote: &dyn RemoteFs, local_file: &str, remote_path: &str) -> Result<Moved, Error> {
    let (local, name) = local_side(local_file).await?;
    let to = RemotePath::parse(remote_path)?;
    let out = local
        .copy_to(&name, remote, &to, &CopyOptions::new())
        .await?;
    Ok(Moved {
        files: 1,
        bytes: out.bytes,
    })
}

async fn down(remote: &dyn RemoteFs, remote_path: &str, local_file: &str) -> Result<Moved, Error> {
    let (local, name) = local_side(local_file).await?;
    let from = RemotePath::parse(remote_path)?;
    let out = remote
        .copy_to(&from, &local, &name, &CopyOptions::new())
        .await?;
    Ok(Moved {
        files: 1,
        bytes: out.bytes,
    })
}

/// `up` with the local file read by a plain thread in `chunk`-byte pieces (diagnostic: the
/// cost of `LocalFs`'s per-chunk blocking-pool hops).
async fn up_thread(
    remote: &dyn RemoteFs,
    local_file: &str,
    remote_path: &str,
    chunk: usize,
) -> Result<Moved, Error> {
    use std::io::Read;
    let op = ftp_connector::Operation::Read;
    let mut file = std::fs::File::open(local_file).map_err(|e| Error::io(op, local_file, e))?;
    let size = file
        .metadata()
        .map_err(|e| Error::io(op, local_file, e))?
        .len();
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let reader = std::thread::spawn(move || {
        loop {
            let mut buf = vec![0u8; chunk];
            let r = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(buf)
                }
                Err(e) => Err(e),
            };
            let failed = r.is_err();
            if tx.blocking_send(r).is_err() || failed {
                break;
            }
        }
    });
    let shown = local_file.to_owned();
    let data =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) })
            .map(move |r| match r {
                Ok(v) => ftp_connector::stream::once(v),
                Err(e) => ftp_connector::stream::failing(Error::io(op, shown.clone(), e)),
            })
            .flatten()
            .boxed();
    let to = RemotePath::parse(remote_path)?;
    let out = remote
        .write(&to, data, &WriteOptions::new().expected_len(size))
        .await?;
    let _ = reader.join();
    Ok(Moved {
        files: 1,
        bytes: out.bytes,
    })
}

/// The chunk type of a byte stream (`bytes::Bytes`, without depending on `bytes`).
type ChunkOf<S> = <S as futures::TryStream>::Ok;

/// `down` with the local file written by a plain thread (diagnostic, like `up_thread`).
async fn down_thread(
    remote: &dyn RemoteFs,
    remote_path: &str,
    local_file: &str,
) -> Result<Moved, Error> {
    use std::io::Write;
    let op = ftp_connector::Operation::Write;
    let from = RemotePath::parse(remote_path)?;
    let mut data = remote.read(&from, 0).await?;
    let mut file = std::fs::File::create(local_file).map_err(|e| Error::io(op, local_file, e))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ChunkOf<ftp_connector::ByteStream>>(4);
    let writer = std::thread::spawn(move || -> std::io::Result<u64> {
        let mut n = 0u64;
        while let Some(chunk) = rx.blocking_recv() {
            let chunk: &[u8] = std::ops::Deref::deref(&chunk);
            file.write_all(chunk)?;
            n += chunk.len() as u64;
        }
        Ok(n)
    });
    while let Some(chunk) = data.next().await {
        if tx.send(chunk?).await.is_err() {
            break;
        }
    }
    drop(tx);
    let bytes = writer
        .join()
        .map_err(|_| Error::io(op, local_file, std::io::Error::other("writer panicked")))?
        .map_err(|e| Error::io(op, local_file, e))?;
    Ok(Moved { files: 1, bytes })
}

/// One file of the tree, the way `--via` says.
async fn copy_one(
    remote: &dyn RemoteFs,
    local: &dyn RemoteFs,
    entry: &ftp_connector::Entry,
    rel: &RemotePath,
    via: Via,
    copy_opts: &CopyOptions,
) -> Result<u64, Error> {
    Ok(match via {
        Via::Entry => {
            remote
                .copy_entry_to(entry, local, rel, copy_opts)
                .await?
                .bytes
        }
        Via::Copy => {
            remote
                .copy_to(&entry.path, local, rel, copy_opts)
                .await?
                .bytes
        }
        Via::Read => {
            let data = remote.read(&entry.path, 0).await?;
            let mut w = WriteOptions::new();
            if let Some(size) = entry.size {
                w = w.expected_len(size);
            }
            if let Some(m) = entry.modified {
                w = w.modified(m.time);
            }
            local.write(rel, data, &w).await?.bytes
        }
    })
}

/// The path of `entry` below `root`.
fn relative(entry: &ftp_connector::Entry, root: &RemotePath) -> RemotePath {
    entry
        .path
        .strip_prefix(root)
        .unwrap_or_else(|| entry.path.clone())
}

/// Each file copied in a task of its own (`tokio::spawn`), at most `concurrency` at once:
/// how a tokio program runs concurrent work. Folders are created in walk order, before
/// any file in them is handed on. Returns the files and bytes copied.
///
/// This loop is itself spawned as a task (see `tree_down`): run directly by `block_on`
/// (the body of `#[tokio::main]`), it would run on the main thread, outside the runtime's
/// workers, and every copy that ends or starts would cost a wake-up across threads.
async fn copy_tasks(
    remote: Arc<dyn RemoteFs>,
    local: Arc<dyn RemoteFs>,
    root: RemotePath,
    mut entries: ftp_connector::EntryStream,
    concurrency: usize,
    via: Via,
) -> Result<(u64, u64), Error> {
    let copy_opts = Arc::new(CopyOptions::new());
    let mut running = tokio::task::JoinSet::new();
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut landed = |r: Result<Result<u64, Error>, tokio::task::JoinError>| -> Result<(), Error> {
        let n = r.map_err(|e| {
            Error::io(ftp_connector::Operation::Copy, "", std::io::Error::other(e))
        })??;
        files += 1;
        bytes += n;
        Ok(())
    };
    while let Some(entry) = entries.next().await {
        let entry = entry?;
        let rel = relative(&entry, &root);
        match entry.kind {
            EntryKind::Dir => local.create_dir_all(&rel).await?,
            EntryKind::File => {
                while running.len() >= concurrency {
                    if let Some(r) = running.join_next().await {
                        landed(r)?;
                    }
                }
                let (remote, local, copy_opts) = (remote.clone(), local.clone(), copy_opts.clone());
                running.spawn(async move {
                    copy_one(&*remote, &*local, &entry, &rel, via, &copy_opts).await
                });
            }
            _ => {}
        }
    }
    while let Some(r) = running.join_next().await {
        landed(r)?;
    }
    Ok((files, bytes))
}

/// Every copy polled from this one future (`try_buffer_unordered`), none spawned.
async fn copy_inline(
    remote: Arc<dyn RemoteFs>,
    local: Box<dyn RemoteFs>,
    root: RemotePath,
    entries: ftp_connector::EntryStream,
    args: &Args,
    (files, bytes): (&AtomicU64, &AtomicU64),
) -> Result<(), Error> {
    let copy_opts = CopyOptions::new();
    let via = args.via;
    let (remote, local, root, copy_opts) = (&*remote, &*local, &root, &copy_opts);
    entries
        // Sequential: a folder is created before any file in it is handed on (the walk
        // yields a folder before its contents).
        .and_then(|entry| async move {
            let rel = relative(&entry, root);
            match entry.kind {
                EntryKind::Dir => {
                    local.create_dir_all(&rel).await?;
                    Ok(None)
                }
                EntryKind::File => Ok(Some((entry, rel))),
                _ => Ok(None),
            }
        })
        .try_filter_map(|x| async move { Ok(x) })
        .map_ok(|(entry, rel)| async move {
            let n = copy_one(remote, local, &entry, &rel, via, copy_opts).await?;
            files.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(n, Ordering::Relaxed);
            Ok::<(), Error>(())
        })
        .try_buffer_unordered(args.concurrency)
        .try_collect::<()>()
        .await
}

async fn tree_down(
    remote: Arc<dyn RemoteFs>,
    remote_dir: &str,
    local_dir: &str,
    args: &Args,
) -> Result<Moved, Error> {
    let concurrency = args.concurrency;
    tokio::fs::create_dir_all(local_dir)
        .await
        .map_err(|e| Error::io(ftp_connector::Operation::Write, local_dir, e))?;
    let local: Box<dyn RemoteFs> = if args.sink_memory {
        Box::new(MemoryFs::new())
    } else {
        Box::new(LocalFs::new(local_dir).await?)
    };
    let root = RemotePath::parse(remote_dir)?;
    let walk_opts = WalkOptions::new().concurrency(concurrency);
    let entries = if args.walk_inline {
        remote.clone().walk_owned(&root, walk_opts)
    } else {
        // The walk runs in its own task, so that its listings are always driven to their
        // end and give their connections back to the pool, even while every copy slot is
        // busy (see `--walk-inline`). The queue holds entries, not data.
        let mut walk = remote.clone().walk_owned(&root, walk_opts);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(item) = walk.next().await {
                if tx.send(item).is_err() {
                    break;
                }
            }
        });
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) })
            .boxed()
    };
    if args.inline_copies {
        let files = AtomicU64::new(0);
        let bytes = AtomicU64::new(0);
        copy_inline(remote, local, root, entries, args, (&files, &bytes)).await?;
        return Ok(Moved {
            files: files.into_inner(),
            bytes: bytes.into_inner(),
        });
    }
    let copies = copy_tasks(
        remote,
        local.into(),
        root,
        entries,
        args.concurrency,
        args.via,
    );
    let (files, bytes) = tokio::spawn(copies)
        .await
        .map_err(|e| Error::io(ftp_connector::Operation::Copy, "", std::io::Error::other(e)))??;
    Ok(Moved { files, bytes })
}

async fn run(args: Args) -> Result<(), Error> {
    let start = Instant::now();
    let remote: Arc<dyn RemoteFs> = ftp_connector::open(&args.url, options(&args)).await?;
    let connected = start.elapsed();
    let moved = match args.op.as_str() {
        "up" if args.thread_io => up_thread(&*remote, &args.a, &args.b, args.chunk).await?,
        "down" if args.thread_io => down_thread(&*remote, &args.a, &args.b).await?,
        "up" => up(&*remote, &args.a, &args.b).await?,
        "down" => down(&*remote, &args.a, &args.b).await?,
        "tree-down" => tree_down(remote.clone(), &args.a, &args.b, &args).await?,
        other => return Err(Error::config("op", format!("unknown operation `{other}`"))),
    };
    let total = start.elapsed();
    let transfer = total - connected;
    let secs = total.as_secs_f64();
    println!(
        "ok op={} files={} bytes={} connect_s={:.3} transfer_s={:.3} seconds={:.3} mb_per_s={:.1}",
        args.op,
        moved.files,
        moved.bytes,
        connected.as_secs_f64(),
        transfer.as_secs_f64(),
        secs,
        moved.bytes as f64 / 1e6 / secs.max(1e-9),
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("transfer: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = if args.current_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("transfer: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("transfer: {e}");
            ExitCode::FAILURE
        }
    }
}
