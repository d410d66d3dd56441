//! `SftpFs` against the in-process SFTP server (always) and OpenSSH `sshd` (when
//! `scripts/testbed start` runs it): the conformance suite, then what only SSH has
//! (logins, host keys, cut connections).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use ftp_connector::conformance::{Fixture, LocalRaw};
use ftp_connector::{
    Error, ErrorKind, RemoteFs, RemoteFsExt, RemoteOptions, RemotePath, RemoteUrl, SftpFs,
    WriteMode, WriteOptions, stream,
};
use futures::StreamExt;
use testbed::SftpServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Connects to `url` (a password in it is used when the options have none).
async fn connect(url: &str, mut options: RemoteOptions) -> ftp_connector::Result<SftpFs> {
    let (url, password) = RemoteUrl::parse(url)?;
    if options.password.is_none() {
        options.password = password;
    }
    SftpFs::connect(url, options).await
}

/// Password login, host key checked against the server's known_hosts file.
fn password_options(server: &SftpServer) -> RemoteOptions {
    RemoteOptions::new()
        .password(server.password())
        .known_hosts(server.known_hosts_path())
}

async fn start() -> SftpServer {
    SftpServer::start().await.expect("in-process SFTP server")
}

mod in_process {
    use super::*;

    async fn fixture() -> Fixture {
        let server = start().await;
        let fs = connect(&server.url(), password_options(&server))
            .await
            .unwrap();
        // The second connection logs in with the encrypted key, pinning the host key.
        let key = RemoteOptions::new()
            .private_key(server.encrypted_client_key_path())
            .private_key_passphrase(server.client_key_passphrase())
            .host_key_fingerprint(server.host_key_fingerprint());
        let second = connect(&server.url(), key).await.unwrap();
        Fixture::new(fs)
            .with_second(second)
            .with_raw(LocalRaw::new(server.root()))
            .with_secrets(&[server.password(), server.client_key_passphrase()])
            .keep_alive(server)
    }

    ftp_connector::conformance_tests!(fixture);
}

mod openssh {
    use super::*;

    async fn fixture() -> Option<Fixture> {
        let daemon = testbed::daemon_sftp("sftp openssh conformance")?;
        let (fs, second) = daemon_pair(&daemon).await;
        let mut fixture = Fixture::new(fs)
            .with_second(second)
            .with_secrets(&[&daemon.password]);
        if let Some(root) = &daemon.root {
            fixture = fixture.with_raw(LocalRaw::new(root));
        }
        Some(fixture)
    }

    ftp_connector::conformance_tests!(fixture);
}

/// Two connections to the daemon's home: key + known_hosts, and password + pinned host
/// key (key + pin when the daemon refuses passwords).
async fn daemon_pair(daemon: &testbed::DaemonSftp) -> (SftpFs, SftpFs) {
    let url = format!("sftp://{}@{}/~/", daemon.user, daemon.addr);
    let by_key = RemoteOptions::new()
        .private_key(&daemon.key_path)
        .known_hosts(&daemon.known_hosts_path);
    let fs = connect(&url, by_key.clone()).await.unwrap();
    let by_password = RemoteOptions::new()
        .password(&daemon.password)
        .host_key_fingerprint(&daemon.host_key_fingerprint);
    let second = match connect(&url, by_password).await {
        Ok(second) => second,
        Err(e) if e.kind() == ErrorKind::Auth => {
            let pinned = by_key.host_key_fingerprint(&daemon.host_key_fingerprint);
            connect(&url, pinned).await.unwrap()
        }
        Err(e) => panic!("{e}"),
    };
    (fs, second)
}

// ---------------------------------------------------------------------------------------
// Logins and host keys.

/// The error, with checks that no secret leaked into it.
fn refused(r: ftp_connector::Result<SftpFs>, secrets: &[&str]) -> Error {
    let e = r.expect_err("the connection should have been refused");
    let shown = format!("{e} {e:?}");
    for s in secrets {
        assert!(!shown.contains(s), "a secret leaked into {shown}");
    }
    e
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_that_never_shows_the_password() {
    let server = start().await;
    let bad = "not-the-password-3141";
    let e = refused(
        connect(&server.url(), password_options(&server).password(bad)).await,
        &[bad, server.password()],
    );
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("alice"), "{e}");
    // A password in the URL is as secret as one in the options.
    let url = server.url().replace("alice@", &format!("alice:{bad}@"));
    let options = RemoteOptions::new().known_hosts(server.known_hosts_path());
    let e = refused(connect(&url, options).await, &[bad]);
    assert_eq!(e.kind(), ErrorKind::Auth);
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_refused() {
    let server = start().await;
    let dir = tempfile::tempdir().unwrap();
    let stranger = dir.path().join("stranger");
    let key =
        russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
    key.write_openssh_file(&stranger, russh::keys::ssh_key::LineEnding::LF)
        .unwrap();
    let options = RemoteOptions::new()
        .private_key(&stranger)
        .known_hosts(server.known_hosts_path());
    let e = refused(connect(&server.url(), options).await, &[]);
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("public key"), "{e}");
}

#[tokio::test]
async fn keys_log_in_and_encrypted_keys_need_their_passphrase() {
    let server = start().await;
    let base = RemoteOptions::new().known_hosts(server.known_hosts_path());
    let plain = base.clone().private_key(server.client_key_path());
    let fs = connect(&server.url(), plain).await.unwrap();
    assert!(fs.stat(&RemotePath::ROOT).await.unwrap().is_dir());

    let encrypted = base.clone().private_key(server.encrypted_client_key_path());
    let pass = server.client_key_passphrase();
    let fs = connect(
        &server.url(),
        encrypted.clone().private_key_passphrase(pass),
    )
    .await
    .unwrap();
    assert!(!format!("{fs:?}").contains(pass));
    fs.write(
        &path("k.txt"),
        stream::once(&b"by key"[..]),
        &WriteOptions::new(),
    )
    .await
    .unwrap();

    let e = refused(connect(&server.url(), encrypted.clone()).await, &[pass]);
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("encrypted"), "{e}");

    let wrong = "wrong-passphrase-2718";
    let e = refused(
        connect(&server.url(), encrypted.private_key_passphrase(wrong)).await,
        &[wrong, pass],
    );
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(e.to_string().contains("passphrase"), "{e}");
}

#[tokio::test]
async fn host_keys_are_checked_and_unknown_ones_refused_unless_accepted_by_name() {
    let server = start().await;
    let pw = RemoteOptions::new().password(server.password());
    let fp = server.host_key_fingerprint();
    let empty = tempfile::NamedTempFile::new().unwrap();

    // Unknown: refused, saying which key was seen and how to trust it.
    let e = refused(
        connect(&server.url(), pw.clone().known_hosts(empty.path())).await,
        &[],
    );
    assert!(matches!(e, Error::Untrusted { .. }), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Auth);
    let msg = e.to_string();
    assert!(
        msg.contains(fp) && msg.contains("insecure_accept_unknown_host_key"),
        "{msg}"
    );

    // Opting in by name accepts it.
    let mut accept = pw.clone().known_hosts(empty.path());
    accept.ssh.insecure_accept_unknown_host_key = true;
    connect(&server.url(), accept).await.unwrap();

    // A pinned fingerprint that differs: refused, even with the opt-in.
    let other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let mut pinned_wrong = pw.clone().host_key_fingerprint(other);
    pinned_wrong.ssh.insecure_accept_unknown_host_key = true;
    let e = refused(connect(&server.url(), pinned_wrong).await, &[]);
    assert!(matches!(e, Error::Untrusted { .. }), "{e:?}");
    assert!(e.to_string().contains("pinned"), "{e}");

    // The right pin, and a matching known_hosts line, are accepted.
    connect(&server.url(), pw.clone().host_key_fingerprint(fp))
        .await
        .unwrap();
    connect(
        &server.url(),
        pw.clone().known_hosts(server.known_hosts_path()),
    )
    .await
    .unwrap();

    // A known_hosts line with another key for this host: refused as a changed key.
    let changed = tempfile::NamedTempFile::new().unwrap();
    let impostor =
        russh::keys::PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519).unwrap();
    let line = format!(
        "[127.0.0.1]:{} {}\n",
        server.addr().port(),
        impostor.public_key().to_openssh().unwrap()
    );
    std::fs::write(changed.path(), line).unwrap();
    let mut changed_opts = pw.known_hosts(changed.path());
    changed_opts.ssh.insecure_accept_unknown_host_key = true;
    let e = refused(connect(&server.url(), changed_opts).await, &[]);
    assert!(e.to_string().contains("differs"), "{e}");
}

fn path(p: &str) -> RemotePath {
    RemotePath::parse(p).unwrap()
}

// ---------------------------------------------------------------------------------------
// Behaviour specific to this backend.

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let server = start().await;
    let fs = connect(&server.url(), password_options(&server))
        .await
        .unwrap();
    let shown = format!("{fs:?}");
    assert!(!shown.contains(server.password()), "{shown}");
    assert!(shown.contains("SftpFs"), "{shown}");
}

#[tokio::test]
async fn capabilities_follow_the_server() {
    let server = start().await;
    let fs = connect(&server.url(), password_options(&server))
        .await
        .unwrap();
    let caps = fs.capabilities();
    // The in-process server offers posix-rename@openssh.com, as OpenSSH does.
    assert!(caps.rename_is_atomic && caps.rename_can_overwrite);
    assert!(caps.write_can_set_mtime && caps.read_can_resume && caps.write_can_resume);
    assert_eq!(
        caps.mtime_precision,
        Some(ftp_connector::TimePrecision::Second)
    );
    assert_eq!(fs.backend(), "sftp");
}

#[tokio::test]
async fn a_missing_root_fails_at_connect() {
    let server = start().await;
    let url = format!("{}no/such/dir", server.url());
    let e = connect(&url, password_options(&server)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}

#[tokio::test]
async fn the_url_path_is_the_root() {
    let server = start().await;
    std::fs::create_dir_all(server.root().join("drop/in")).unwrap();
    std::fs::write(server.root().join("drop/in/a.jpg"), b"jpeg").unwrap();
    let fs = connect(&format!("{}drop", server.url()), password_options(&server))
        .await
        .unwrap();
    assert_eq!(
        &fs.read_to_bytes(&path("in/a.jpg")).await.unwrap()[..],
        b"jpeg"
    );
    fs.write(
        &path("in/b.jpg"),
        stream::once(&b"b"[..]),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    assert!(server.root().join("drop/in/b.jpg").is_file());
}

#[tokio::test]
async fn in_place_mode_from_the_options_writes_no_temporary_file() {
    let server = start().await;
    let fs = connect(
        &server.url(),
        password_options(&server).write_mode(WriteMode::InPlace),
    )
    .await
    .unwrap();
    let data = Bytes::from(vec![7u8; 300_000]);
    fs.write(
        &path("big.bin"),
        stream::once(data.clone()),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    assert_eq!(std::fs::read(server.root().join("big.bin")).unwrap(), data);
    let names: Vec<_> = std::fs::read_dir(server.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["big.bin"]);
}

#[tokio::test]
async fn resumed_uploads_continue_where_the_file_ends() {
    let server = start().await;
    let fs = connect(&server.url(), password_options(&server))
        .await
        .unwrap();
    let whole: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    // A partial file with junk past the resume point, longer than the whole: the junk goes.
    let mut partial = whole[..120_000].to_vec();
    partial.extend_from_slice(&[0xAA; 100_000]);
    std::fs::write(server.root().join("r.bin"), &partial).unwrap();
    let rest = Bytes::copy_from_slice(&whole[120_000..]);
    let out = fs
        .write(
            &path("r.bin"),
            stream::once(rest),
            &WriteOptions::new().resume_from(120_000),
        )
        .await
        .unwrap();
    assert_eq!(out.bytes, 80_000);
    assert_eq!(std::fs::read(server.root().join("r.bin")).unwrap(), whole);
}

#[tokio::test]
async fn many_files_in_flight_on_one_connection() {
    let server = start().await;
    let proxy = cut_proxy(server.addr(), Way::Down, u64::MAX).await;
    let options = via_proxy(&server).max_connections(1);
    let fs = connect(&format!("sftp://alice@{}/", proxy.addr), options)
        .await
        .unwrap();
    let files: Vec<(RemotePath, Bytes)> = (0..12u8)
        .map(|i| {
            let data: Vec<u8> = (0..300_000u32).map(|j| (j as u8) ^ i).collect();
            (path(&format!("f{i}.bin")), Bytes::from(data))
        })
        .collect();
    let writes = files.iter().map(|(p, d)| {
        let fs = fs.clone();
        async move {
            fs.write(p, stream::once(d.clone()), &WriteOptions::new())
                .await
                .map(|_| ())
        }
    });
    for r in futures::future::join_all(writes).await {
        r.unwrap();
    }
    let reads = files.iter().map(|(p, _)| fs.read_to_bytes(p));
    for (got, (p, want)) in futures::future::join_all(reads)
        .await
        .into_iter()
        .zip(&files)
    {
        assert_eq!(got.unwrap(), *want, "{p}");
    }
    assert_eq!(
        proxy.accepted.load(Ordering::SeqCst),
        1,
        "one SSH connection"
    );
}

#[tokio::test]
async fn symlinks_are_listed_as_links_and_not_followed() {
    let server = start().await;
    std::fs::write(server.root().join("target.jpg"), b"x").unwrap();
    std::os::unix::fs::symlink("target.jpg", server.root().join("link.jpg")).unwrap();
    let fs = connect(&server.url(), password_options(&server))
        .await
        .unwrap();
    let kinds: std::collections::BTreeMap<String, ftp_connector::EntryKind> = fs
        .list(&RemotePath::ROOT)
        .map(|e| {
            let e = e.unwrap();
            (e.name().to_owned(), e.kind)
        })
        .collect()
        .await;
    assert_eq!(kinds["link.jpg"], ftp_connector::EntryKind::Symlink);
    assert_eq!(kinds["target.jpg"], ftp_connector::EntryKind::File);
    assert_eq!(
        fs.stat(&path("link.jpg")).await.unwrap().kind,
        ftp_connector::EntryKind::Symlink
    );
}

// ---------------------------------------------------------------------------------------
// Cut connections: a TCP proxy in front of the server drops the connection mid-transfer.

/// Which way the proxy counts bytes before cutting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Way {
    Down,
    Up,
}

/// A TCP proxy in front of a server; stops when dropped.
struct Proxy {
    addr: SocketAddr,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
    /// Connections numbered below this stop forwarding, silently (a dead NAT entry).
    frozen: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Every connection accepted so far goes silent; later ones work.
    fn freeze_existing(&self) {
        self.frozen
            .store(self.accepted.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Forwards connections to `target` and cuts each one after `limit` bytes went `way`.
async fn cut_proxy(target: SocketAddr, way: Way, limit: u64) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let frozen = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let freeze = frozen.clone();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let gate = Gate {
                index: counter.fetch_add(1, Ordering::SeqCst),
                frozen: freeze.clone(),
            };
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(target).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let (up, down) = match way {
                    Way::Up => (limit, u64::MAX),
                    Way::Down => (u64::MAX, limit),
                };
                // Whichever direction ends first (the cut) drops both sockets.
                tokio::select! {
                    _ = copy_at_most(cr, sw, up, gate.clone()) => {}
                    _ = copy_at_most(sr, cw, down, gate) => {}
                }
            });
        }
    });
    Proxy {
        addr,
        accepted,
        frozen,
        task,
    }
}

/// Whether one proxied connection may forward.
#[derive(Clone, Default)]
struct Gate {
    index: usize,
    frozen: Arc<AtomicUsize>,
}

async fn copy_at_most(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    limit: u64,
    gate: Gate,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut sent = 0u64;
    while sent < limit {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if gate.index < gate.frozen.load(Ordering::SeqCst) {
            // Silent from now on: no byte, no FIN, no RST.
            std::future::pending::<()>().await;
        }
        let n = n.min(usize::try_from(limit - sent).unwrap_or(usize::MAX));
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
        sent += n as u64;
    }
}

/// Options for a connection through a proxy: the host key is pinned (the known_hosts
/// line names the server's own port).
fn via_proxy(server: &SftpServer) -> RemoteOptions {
    RemoteOptions::new()
        .password(server.password())
        .host_key_fingerprint(server.host_key_fingerprint())
}

#[tokio::test]
async fn a_connection_cut_mid_download_is_a_retryable_error_not_a_short_file() {
    let server = start().await;
    let size = 4 * 1024 * 1024;
    std::fs::write(server.root().join("big.bin"), vec![5u8; size]).unwrap();
    let proxy = cut_proxy(server.addr(), Way::Down, 1024 * 1024).await;
    let fs = connect(&format!("sftp://alice@{}/", proxy.addr), via_proxy(&server))
        .await
        .unwrap();
    let mut s = fs.read(&path("big.bin"), 0).await.unwrap();
    let mut got = 0usize;
    let end = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => got += b.len(),
                Err(e) => return Some(e),
            }
        }
        None
    })
    .await
    .expect("a cut connection must not hang the read");
    let e = end.unwrap_or_else(|| panic!("the stream ended quietly after {got} bytes"));
    assert!(e.is_retryable(), "{e:?}");
    assert!(got < size, "{got}");
    assert_eq!(e.path(), Some("big.bin"), "{e}");
}

#[tokio::test]
async fn a_connection_cut_mid_upload_leaves_neither_target_nor_temporary_file() {
    let server = start().await;
    std::fs::write(server.root().join("old.bin"), b"old").unwrap();
    let proxy = cut_proxy(server.addr(), Way::Up, 1024 * 1024).await;
    let fs = connect(&format!("sftp://alice@{}/", proxy.addr), via_proxy(&server))
        .await
        .unwrap();
    for name in ["new.bin", "old.bin"] {
        let data = Bytes::from(vec![9u8; 4 * 1024 * 1024]);
        let r = tokio::time::timeout(
            Duration::from_secs(60),
            fs.write(&path(name), stream::once(data), &WriteOptions::new()),
        )
        .await
        .expect("a cut connection must not hang the write");
        let e = r.expect_err("the upload should have failed");
        assert!(e.is_retryable(), "{e:?}");
    }
    assert!(!server.root().join("new.bin").exists());
    assert_eq!(
        std::fs::read(server.root().join("old.bin")).unwrap(),
        b"old"
    );
    // The temporary files are removed over a fresh connection, in the background.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = std::fs::read_dir(server.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "old.bin")
            .collect();
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn a_stalled_server_times_out_and_the_backend_recovers() {
    let server = start().await;
    std::fs::write(server.root().join("a.bin"), vec![1u8; 2 * 1024 * 1024]).unwrap();
    // The proxy stops forwarding (without closing) after 256 KiB downstream.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    let target = server.addr();
    let stall = tokio::spawn(async move {
        let mut first = true;
        while let Ok((client, _)) = listener.accept().await {
            let limit = if first { 256 * 1024 } else { u64::MAX };
            first = false;
            tokio::spawn(async move {
                let Ok(server) = TcpStream::connect(target).await else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let up = tokio::spawn(copy_at_most(cr, sw, u64::MAX, Gate::default()));
                copy_at_most(sr, cw, limit, Gate::default()).await;
                // Hold the connection open, silent, until the test ends.
                let _ = up.await;
            });
        }
    });
    let mut options = via_proxy(&server);
    options.timeouts.reply = Duration::from_secs(1);
    options.timeouts.data_idle = Duration::from_secs(1);
    let fs = connect(&format!("sftp://alice@{proxy}/"), options)
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(30), fs.read_to_bytes(&path("a.bin")))
        .await
        .expect("the request timeout must end the read");
    let e = r.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    // The hung session is retired; the next call opens a fresh connection.
    let back = fs.read_to_bytes(&path("a.bin")).await.unwrap();
    assert_eq!(back.len(), 2 * 1024 * 1024);
    stall.abort();
}

#[tokio::test]
async fn a_pooled_connection_that_died_silently_is_replaced_before_use() {
    let server = start().await;
    let proxy = cut_proxy(server.addr(), Way::Down, u64::MAX).await;
    let mut options = via_proxy(&server);
    options.pool.health_check_after = Duration::from_millis(300);
    options.timeouts.reply = Duration::from_secs(1);
    options.timeouts.data_idle = Duration::from_secs(1);
    let fs = connect(&format!("sftp://alice@{}/", proxy.addr), options)
        .await
        .unwrap();
    fs.write(
        &path("a.txt"),
        stream::once(&b"a"[..]),
        &WriteOptions::new(),
    )
    .await
    .unwrap();
    proxy.freeze_existing();
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The idle connection is checked, found silent, and replaced: the call succeeds.
    let e = fs.stat(&path("a.txt")).await.unwrap();
    assert_eq!(e.size, Some(1));
    assert_eq!(proxy.accepted.load(Ordering::SeqCst), 2);
}

// ---------------------------------------------------------------------------------------
// OpenSSH specifics.

#[tokio::test]
async fn openssh_home_root_fsync_and_atomic_rename() {
    let Some(daemon) = testbed::daemon_sftp("openssh_home_root_fsync_and_atomic_rename") else {
        return;
    };
    let url = format!("sftp://{}@{}/~/", daemon.user, daemon.addr);
    let mut options = RemoteOptions::new()
        .private_key(&daemon.key_path)
        .known_hosts(&daemon.known_hosts_path);
    options.ssh.fsync = true;
    let fs = connect(&url, options).await.unwrap();
    assert!(
        fs.capabilities().rename_is_atomic,
        "OpenSSH offers posix-rename"
    );
    let name = format!("fsync-{:08x}.txt", rand::random::<u32>());
    let p = path(&name);
    fs.write(&p, stream::once(&b"synced"[..]), &WriteOptions::new())
        .await
        .unwrap();
    if let Some(root) = &daemon.root {
        assert_eq!(std::fs::read(root.join(&name)).unwrap(), b"synced");
    }
    fs.remove_file(&p).await.unwrap();

    // Password login works too, when the daemon allows it.
    let by_password = RemoteOptions::new()
        .password(&daemon.password)
        .host_key_fingerprint(&daemon.host_key_fingerprint);
    match connect(&url, by_password).await {
        Ok(fs) => assert!(fs.stat(&RemotePath::ROOT).await.unwrap().is_dir()),
        Err(e) => assert_eq!(e.kind(), ErrorKind::Auth, "{e}"),
    }
}

// ---------------------------------------------------------------------------------------
// Throughput figures (no assertion on time): `cargo test -p ftp-connector --test backends
// sftp::throughput -- --ignored --nocapture`. SFTP_BENCH_MB sets the size (default 100),
// SFTP_BENCH_CHUNK_KIB and SFTP_BENCH_IN_FLIGHT override `ssh.chunk_size` and
// `ssh.max_in_flight`.

/// One upload and one download through `SftpFs` and through OpenSSH's `sftp`, alternating,
/// three rounds; prints the medians in MB/s (10^6 bytes per second) and our/peer ratios.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints throughput figures; run with --ignored --nocapture"]
async fn throughput() {
    let mb = env_u64("SFTP_BENCH_MB").unwrap_or(100);
    let size = mb * 1_000_000;
    let scratch = tempfile::tempdir().unwrap();
    let local = scratch.path().join("bench.bin");
    let mut file = tokio::fs::File::create(&local).await.unwrap();
    let mut data = stream::generated(42, size);
    while let Some(chunk) = data.next().await {
        file.write_all(&chunk.unwrap()).await.unwrap();
    }
    file.sync_all().await.unwrap();
    drop(file);

    let server = start().await;
    let in_process = Target {
        name: "in-process server",
        url: server.url(),
        user: server.user().to_owned(),
        addr: server.addr(),
        key: server.client_key_path().to_owned(),
        known_hosts: server.known_hosts_path().to_owned(),
    };
    let mut targets = vec![in_process];
    if let Some(d) = testbed::daemon_sftp("throughput (OpenSSH)") {
        targets.push(Target {
            name: "OpenSSH sshd",
            url: format!("sftp://{}@{}/~/", d.user, d.addr),
            user: d.user.clone(),
            addr: d.addr,
            key: d.key_path.clone(),
            known_hosts: d.known_hosts_path.clone(),
        });
    }
    for t in &targets {
        let mut options = RemoteOptions::new()
            .private_key(&t.key)
            .known_hosts(&t.known_hosts);
        if let Some(kib) = env_u64("SFTP_BENCH_CHUNK_KIB") {
            options.ssh.chunk_size = u32::try_from(kib * 1024).unwrap();
        }
        if let Some(n) = env_u64("SFTP_BENCH_IN_FLIGHT") {
            options.ssh.max_in_flight = usize::try_from(n).unwrap();
        }
        let fs = connect(&t.url, options).await.unwrap();
        let remote = path(&format!("bench-{:08x}.bin", rand::random::<u32>()));
        let mut rows: [Vec<f64>; 4] = Default::default();
        for _ in 0..3 {
            let t0 = std::time::Instant::now();
            let source = stream::from_file(&local).await.unwrap();
            fs.write(&remote, source, &WriteOptions::new().expected_len(size))
                .await
                .unwrap();
            rows[0].push(mb_per_s(size, t0));
            let t0 = std::time::Instant::now();
            openssh_sftp(t, &format!("put {} {}", local.display(), remote.as_str())).await;
            rows[1].push(mb_per_s(size, t0));
            let t0 = std::time::Instant::now();
            let mut s = fs.read(&remote, 0).await.unwrap();
            let mut got = 0u64;
            while let Some(c) = s.next().await {
                got += c.unwrap().len() as u64;
            }
            assert_eq!(got, size);
            rows[2].push(mb_per_s(size, t0));
            let t0 = std::time::Instant::now();
            openssh_sftp(t, &format!("get {} /dev/null", remote.as_str())).await;
            rows[3].push(mb_per_s(size, t0));
        }
        fs.remove_file(&remote).await.unwrap();
        let [up, peer_up, down, peer_down] = rows.map(median);
        println!(
            "{} ({mb} MB, median of 3): SftpFs up {up:.0} MB/s, sftp put {peer_up:.0} MB/s \
             (ratio {:.2}); SftpFs down {down:.0} MB/s, sftp get {peer_down:.0} MB/s (ratio {:.2})",
            t.name,
            up / peer_up,
            down / peer_down
        );
    }
    // The in-process server lives in this process too, so this bounds both together.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ?");
    println!("peak RSS of this process (client and in-process server): {peak}");
}

struct Target {
    name: &'static str,
    url: String,
    user: String,
    addr: SocketAddr,
    key: std::path::PathBuf,
    known_hosts: std::path::PathBuf,
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn mb_per_s(bytes: u64, since: std::time::Instant) -> f64 {
    bytes as f64 / 1e6 / since.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs one batch command with OpenSSH's `sftp` client (key login, host key checked).
async fn openssh_sftp(t: &Target, command: &str) {
    let mut child = tokio::process::Command::new("sftp")
        .args(["-q", "-b", "-", "-P", &t.addr.port().to_string(), "-i"])
        .arg(&t.key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", t.known_hosts.display()))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "IdentitiesOnly=yes",
        ])
        .args(["-o", "LogLevel=ERROR"])
        .arg(format!("{}@127.0.0.1", t.user))
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("OpenSSH sftp client");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{command}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let status = child.wait().await.unwrap();
    assert!(status.success(), "sftp {command}: {status}");
}

/// A tree of small files down through `walk` + `copy_to` (16 at once) and through
/// `rclone copy` (16 transfers; OpenSSH only) and OpenSSH `sftp get -r`, alternating,
/// three rounds;
/// prints the median seconds and our/peer ratios. SFTP_BENCH_FILES sets the count
/// (default 2000 files of 50 KB), SFTP_BENCH_AT_ONCE the copies at once (default 16) and
/// SFTP_BENCH_CONNECTIONS `pool.max_connections`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "prints throughput figures; run with --ignored --nocapture"]
async fn small_files() {
    use ftp_connector::{CopyOptions, LocalFs, WalkOptions};
    let count = env_u64("SFTP_BENCH_FILES").unwrap_or(2000);
    let server = start().await;
    let mut targets = vec![Target {
        name: "in-process server",
        url: server.url(),
        user: server.user().to_owned(),
        addr: server.addr(),
        key: server.client_key_path().to_owned(),
        known_hosts: server.known_hosts_path().to_owned(),
    }];
    if let Some(d) = testbed::daemon_sftp("small_files (OpenSSH)") {
        targets.push(Target {
            name: "OpenSSH sshd",
            url: format!("sftp://{}@{}/~/", d.user, d.addr),
            user: d.user.clone(),
            addr: d.addr,
            key: d.key_path.clone(),
            known_hosts: d.known_hosts_path.clone(),
        });
    }
    for t in &targets {
        let mut options = RemoteOptions::new()
            .private_key(&t.key)
            .known_hosts(&t.known_hosts);
        if let Some(n) = env_u64("SFTP_BENCH_CONNECTIONS") {
            options.pool.max_connections = usize::try_from(n).unwrap();
        }
        let fs = Arc::new(connect(&t.url, options).await.unwrap());
        let at_once = usize::try_from(env_u64("SFTP_BENCH_AT_ONCE").unwrap_or(16)).unwrap();
        let tree = path(&format!("tree-{:08x}", rand::random::<u32>()));
        for d in 0..10 {
            fs.create_dir_all(&tree.join(&format!("d{d}")).unwrap())
                .await
                .unwrap();
        }
        let uploads = (0..count).map(|i| {
            let fs = fs.clone();
            let p = tree
                .join(&format!("d{}", i % 10))
                .unwrap()
                .join(&format!("f{i}.jpg"))
                .unwrap();
            async move {
                fs.write(&p, stream::generated(i, 50_000), &WriteOptions::new())
                    .await
                    .map(|_| ())
            }
        });
        let results: Vec<_> = futures::stream::iter(uploads)
            .buffer_unordered(16)
            .collect()
            .await;
        assert!(results.iter().all(Result::is_ok));
        let mut rows: [Vec<f64>; 3] = Default::default();
        for _ in 0..3 {
            let out = tempfile::tempdir().unwrap();
            let local = LocalFs::new(out.path()).await.unwrap();
            let t0 = std::time::Instant::now();
            let entries: Vec<_> = fs
                .walk(&tree, WalkOptions::new())
                .filter_map(|e| async move { e.ok().filter(|e| e.is_file()) })
                .collect()
                .await;
            let copies = entries.iter().map(|e| {
                let (fs, local, tree) = (fs.clone(), &local, &tree);
                async move {
                    let rel = e.path.strip_prefix(tree).unwrap();
                    local.create_dir_all(&rel.parent().unwrap()).await?;
                    fs.copy_to(&e.path, local, &rel, &CopyOptions::new()).await
                }
            });
            let done: Vec<_> = futures::stream::iter(copies)
                .buffer_unordered(at_once)
                .collect()
                .await;
            assert!(done.iter().all(Result::is_ok) && done.len() as u64 == count);
            rows[0].push(t0.elapsed().as_secs_f64());

            // rclone needs a shell-capable server for its probes; the in-process server
            // has none and stalls it for minutes, so rclone runs against OpenSSH only.
            if t.name != "OpenSSH sshd" {
                rows[1].push(f64::NAN);
            } else {
                let out = tempfile::tempdir().unwrap();
                let t0 = std::time::Instant::now();
                let remote = tree.as_str();
                let status = tokio::process::Command::new("rclone")
                .args(["copy", "--transfers", "16", "--checkers", "16"])
                .args(["--sftp-disable-hashcheck", "--config", "/dev/null"])
                .arg(format!(
                    ":sftp,host=127.0.0.1,port={},user={},key_file={},known_hosts_file={}:{remote}",
                    t.addr.port(),
                    t.user,
                    t.key.display(),
                    t.known_hosts.display()
                ))
                .arg(out.path())
                .status()
                .await
                .expect("rclone");
                assert!(status.success());
                rows[1].push(t0.elapsed().as_secs_f64());
            }

            let out = tempfile::tempdir().unwrap();
            let t0 = std::time::Instant::now();
            openssh_sftp(
                t,
                &format!("get -r {} {}", tree.as_str(), out.path().display()),
            )
            .await;
            rows[2].push(t0.elapsed().as_secs_f64());
        }
        let [ours, rclone, sftp] = rows.map(median);
        println!(
            "{} ({count} × 50 KB down, median of 3): walk+copy_to {ours:.2} s, rclone copy \
             {rclone:.2} s (speed-up {:.2}), sftp get -r {sftp:.2} s (speed-up {:.2})",
            t.name,
            rclone / ours,
            sftp / ours
        );
    }
}
