//! SFTP: the in-process russh server and the OpenSSH daemon, through the russh-sftp client.

use std::path::Path;
use std::sync::Arc;

use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::{TestResult, payload, refuses_connections};

// ---------------------------------------------------------------- SFTP helpers

/// A russh client that trusts exactly one host key fingerprint.
struct Pinned {
    fingerprint: String,
}

impl russh::client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(matches!(key, PublicKeyOrCertificate::PublicKey { key, .. }
            if key.fingerprint(HashAlg::Sha256).to_string() == self.fingerprint))
    }
}

enum Login<'a> {
    Password(&'a str),
    Key(Arc<PrivateKey>),
}

/// Connects with a pinned host key and logs in; keeps the SSH handle alive with the session.
async fn sftp_login(
    addr: std::net::SocketAddr,
    fingerprint: &str,
    user: &str,
    login: Login<'_>,
) -> Result<(russh::client::Handle<Pinned>, SftpSession), Box<dyn std::error::Error + Send + Sync>>
{
    let config = Arc::new(russh::client::Config::default());
    let pinned = Pinned {
        fingerprint: fingerprint.to_owned(),
    };
    let mut ssh = russh::client::connect(config, addr, pinned).await?;
    let accepted = match login {
        Login::Password(p) => ssh.authenticate_password(user, p).await?.success(),
        Login::Key(k) => ssh
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(k, None))
            .await?
            .success(),
    };
    if !accepted {
        return Err("authentication refused".into());
    }
    let channel = ssh.channel_open_session().await?;
    channel.request_subsystem(true, "sftp").await?;
    let sftp = SftpSession::new(channel.into_stream()).await?;
    Ok((ssh, sftp))
}

fn status_of(e: &russh_sftp::client::error::Error) -> Option<StatusCode> {
    match e {
        russh_sftp::client::error::Error::Status(s) => Some(s.status_code),
        _ => None,
    }
}

/// mkdir, upload 700 kB (several packets), check the disk, download, list, stat, rename,
/// remove, rmdir.
async fn sftp_round_trip(sftp: &SftpSession, root: Option<&Path>, dir: &str) -> TestResult {
    sftp.create_dir(dir).await?;
    let path = format!("{dir}/photo.bin");
    let data = payload(700_000);

    let mut file = sftp.create(path.as_str()).await?;
    file.write_all(&data).await?;
    file.sync_all().await?; // fsync@openssh.com: both servers advertise it
    file.shutdown().await?;
    if let Some(root) = root {
        assert!(
            std::fs::read(root.join(&path))? == data,
            "bytes on the server's disk"
        );
    }

    let mut file = sftp.open(path.as_str()).await?;
    let mut back = Vec::new();
    file.read_to_end(&mut back).await?;
    assert_eq!(back.len(), data.len());
    assert!(back == data, "downloaded bytes differ");

    let listed: Vec<(String, Option<u64>)> = sftp
        .read_dir(dir)
        .await?
        .map(|e| (e.file_name(), e.metadata().size))
        .collect();
    assert_eq!(listed, [("photo.bin".to_owned(), Some(data.len() as u64))]);
    assert_eq!(
        sftp.metadata(path.as_str()).await?.size,
        Some(data.len() as u64)
    );

    let renamed = format!("{dir}/renamed.bin");
    sftp.rename(path.as_str(), renamed.as_str()).await?;
    assert!(!sftp.try_exists(path.as_str()).await?);
    sftp.remove_file(renamed.as_str()).await?;
    sftp.remove_dir(dir).await?;
    assert!(!sftp.try_exists(dir).await?);
    Ok(())
}

async fn inprocess_sftp_login(
    server: &testbed::SftpServer,
    login: Login<'_>,
) -> (russh::client::Handle<Pinned>, SftpSession) {
    sftp_login(
        server.addr(),
        server.host_key_fingerprint(),
        server.user(),
        login,
    )
    .await
    .unwrap()
}

// ---------------------------------------------------------------- in-process SFTP

#[tokio::test]
async fn inprocess_sftp_round_trip_with_password() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    sftp_round_trip(&sftp, Some(server.root()), "pw").await
}

#[tokio::test]
async fn inprocess_sftp_round_trip_with_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(server.client_key_path())?.permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "ssh refuses keys readable by others");
    let key = russh::keys::load_secret_key(server.client_key_path(), None)?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Key(Arc::new(key))).await;
    sftp_round_trip(&sftp, Some(server.root()), "key").await
}

#[tokio::test]
async fn inprocess_sftp_round_trip_with_encrypted_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let path = server.encrypted_client_key_path();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path)?.permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        russh::keys::load_secret_key(path, None).is_err(),
        "key must be encrypted"
    );
    assert!(russh::keys::load_secret_key(path, Some("wrong")).is_err());
    let key = russh::keys::load_secret_key(path, Some(server.client_key_passphrase()))?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Key(Arc::new(key))).await;
    sftp_round_trip(&sftp, Some(server.root()), "enc").await
}

#[tokio::test]
async fn inprocess_sftp_refuses_wrong_password_user_and_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let (addr, fp) = (server.addr(), server.host_key_fingerprint());
    let wrong = sftp_login(addr, fp, server.user(), Login::Password("wrong")).await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    let wrong = sftp_login(addr, fp, "mallory", Login::Password(server.password())).await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    let stranger = PrivateKey::random(&mut rand::rng(), russh::keys::Algorithm::Ed25519)?;
    let wrong = sftp_login(addr, fp, server.user(), Login::Key(Arc::new(stranger))).await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_client_pinning_another_host_key_is_refused() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let other = testbed::SftpServer::start().await?;
    assert_ne!(server.host_key_fingerprint(), other.host_key_fingerprint());
    let result = sftp_login(
        server.addr(),
        other.host_key_fingerprint(),
        server.user(),
        Login::Password(server.password()),
    )
    .await;
    assert!(result.is_err(), "connected despite an unknown host key");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_known_hosts_and_fingerprint_match_the_host_key() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let line = std::fs::read_to_string(server.known_hosts_path())?;
    let prefix = format!("[127.0.0.1]:{} ", server.addr().port());
    let key = russh::keys::PublicKey::from_openssh(line.trim().strip_prefix(&prefix).unwrap())?;
    assert_eq!(
        key.fingerprint(HashAlg::Sha256).to_string(),
        server.host_key_fingerprint()
    );
    // russh's own known_hosts checker accepts it for this host and port.
    assert!(russh::keys::check_known_hosts_path(
        "127.0.0.1",
        server.addr().port(),
        &key,
        server.known_hosts_path()
    )?);
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_debug_hides_secrets() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let shown = format!("{server:?}");
    assert!(shown.contains(server.host_key_fingerprint()), "{shown}");
    assert!(!shown.contains(server.password()), "{shown}");
    assert!(!shown.contains(server.client_key_passphrase()), "{shown}");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_confines_paths_to_the_root() -> TestResult {
    let outside = tempfile::tempdir()?;
    std::fs::write(outside.path().join("secret.txt"), b"outside")?;
    let server = testbed::SftpServer::start().await?;
    std::os::unix::fs::symlink(outside.path(), server.root().join("escape"))?;
    std::os::unix::fs::symlink(
        outside.path().join("new.txt"),
        server.root().join("dangling"),
    )?;
    std::fs::write(server.root().join("inside.txt"), b"inside")?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;

    fn denied<T>(r: Result<T, russh_sftp::client::error::Error>) -> bool {
        status_of(&r.err().expect("must fail")) == Some(StatusCode::PermissionDenied)
    }
    assert!(denied(sftp.open("../inside.txt").await.map(drop)));
    assert!(denied(sftp.open("/../etc/passwd").await.map(drop)));
    assert!(denied(sftp.open("a/../../x").await.map(drop)));
    assert!(denied(sftp.canonicalize("..").await));
    assert!(denied(sftp.read_dir("/..").await.map(drop)));
    assert!(denied(sftp.rename("inside.txt", "../inside.txt").await));
    // A symlink out of the root: neither read, listed, nor written through.
    assert!(denied(sftp.open("escape/secret.txt").await.map(drop)));
    assert!(denied(sftp.read_dir("escape").await.map(drop)));
    assert!(denied(sftp.create("escape/planted.txt").await.map(drop)));
    assert!(denied(sftp.create("dangling").await.map(drop)));
    assert!(!outside.path().join("planted.txt").exists());
    assert!(!outside.path().join("new.txt").exists());

    // Absolute paths are inside the root: /etc/passwd is not the host's file.
    let r = sftp.open("/etc/passwd").await.map(drop);
    assert_eq!(status_of(&r.err().unwrap()), Some(StatusCode::NoSuchFile));
    assert_eq!(sftp.read("/inside.txt").await?, b"inside");
    assert_eq!(sftp.canonicalize("a/b/../c/.").await?, "/a/c");
    assert_eq!(sftp.canonicalize(".").await?, "/");
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_rename_does_not_replace_and_attrs_are_kept() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    std::fs::write(server.root().join("a.txt"), b"a")?;
    std::fs::write(server.root().join("b.txt"), b"bb")?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;

    let r = sftp.rename("a.txt", "b.txt").await;
    assert_eq!(status_of(&r.err().unwrap()), Some(StatusCode::Failure));
    assert_eq!(std::fs::read(server.root().join("b.txt"))?, b"bb");

    // setstat: mtime and permissions are applied on disk and reported back by stat.
    let mut attrs = russh_sftp::protocol::FileAttributes::empty();
    attrs.mtime = Some(1_000_000_000);
    attrs.atime = Some(1_000_000_000);
    attrs.permissions = Some(0o640);
    sftp.set_metadata("a.txt", attrs).await?;
    let on_disk = std::fs::metadata(server.root().join("a.txt"))?;
    assert_eq!(
        on_disk.modified()?,
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000)
    );
    let md = sftp.metadata("a.txt").await?;
    assert_eq!(md.mtime, Some(1_000_000_000));
    assert_eq!(md.size, Some(1));
    assert_eq!(md.permissions.map(|p| p & 0o777), Some(0o640));
    assert!(md.is_regular());
    assert!(sftp.metadata("/").await?.is_dir());
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_lists_large_directories_in_batches() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    for i in 0..150 {
        std::fs::write(server.root().join(format!("f{i:03}")), b"x")?;
    }
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    let mut names: Vec<String> = sftp.read_dir("/").await?.map(|e| e.file_name()).collect();
    names.sort();
    let expected: Vec<String> = (0..150).map(|i| format!("f{i:03}")).collect();
    assert_eq!(names, expected);
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_serves_non_utf8_names_lossily() -> TestResult {
    use std::os::unix::ffi::OsStrExt as _;
    let server = testbed::SftpServer::start().await?;
    let raw = std::ffi::OsStr::from_bytes(b"caf\xe9.jpg");
    std::fs::write(server.root().join(raw), b"x")?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    let names: Vec<String> = sftp.read_dir("/").await?.map(|e| e.file_name()).collect();
    assert_eq!(names, ["caf\u{fffd}.jpg"]);
    Ok(())
}

#[tokio::test]
async fn inprocess_sftp_stops_on_drop() -> TestResult {
    let server = testbed::SftpServer::start().await?;
    let (_ssh, sftp) = inprocess_sftp_login(&server, Login::Password(server.password())).await;
    let (addr, root) = (server.addr(), server.root().to_path_buf());
    drop(server);
    assert!(!root.exists(), "served directory removed");
    assert!(
        refuses_connections(addr).await,
        "listener still accepting after drop"
    );
    // The open session was disconnected too.
    sftp.set_timeout(2);
    assert!(sftp.metadata("/").await.is_err());
    Ok(())
}

// ---------------------------------------------------------------- OpenSSH daemon

#[tokio::test]
async fn daemon_sftp_round_trip_with_key() -> TestResult {
    let Some(d) = testbed::daemon_sftp("daemon_sftp_round_trip_with_key") else {
        return Ok(());
    };
    let key = russh::keys::load_secret_key(&d.key_path, None)?;
    let (_ssh, sftp) = sftp_login(
        d.addr,
        &d.host_key_fingerprint,
        &d.user,
        Login::Key(Arc::new(key)),
    )
    .await?;
    sftp_round_trip(
        &sftp,
        d.root.as_deref(),
        &format!("key-{}", std::process::id()),
    )
    .await
}

#[tokio::test]
async fn daemon_sftp_round_trip_with_password() -> TestResult {
    let Some(d) = testbed::daemon_sftp("daemon_sftp_round_trip_with_password") else {
        return Ok(());
    };
    let (_ssh, sftp) = sftp_login(
        d.addr,
        &d.host_key_fingerprint,
        &d.user,
        Login::Password(&d.password),
    )
    .await?;
    sftp_round_trip(
        &sftp,
        d.root.as_deref(),
        &format!("pw-{}", std::process::id()),
    )
    .await
}

#[tokio::test]
async fn daemon_sftp_refuses_wrong_password_and_wrong_host_key() -> TestResult {
    let Some(d) = testbed::daemon_sftp("daemon_sftp_refuses_wrong_password_and_wrong_host_key")
    else {
        return Ok(());
    };
    let wrong = sftp_login(
        d.addr,
        &d.host_key_fingerprint,
        &d.user,
        Login::Password("wrong"),
    )
    .await;
    assert_eq!(wrong.err().unwrap().to_string(), "authentication refused");
    let bogus = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert!(
        sftp_login(d.addr, bogus, &d.user, Login::Password(&d.password))
            .await
            .is_err()
    );
    Ok(())
}
